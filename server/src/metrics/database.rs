//! Gauges read from the database at scrape time: the job queue, open upload sessions and storage per
//! project are the whole cluster's (every node sharing the database reports the same values); the
//! connection pools are this node's. The queries run at most once per [`CACHE_FOR`]: a scrape within that
//! time (or waiting on one in progress) reuses the last result.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::db::Db;
use crate::db::metrics::{PoolUse, QueueDepth};

/// How long a read of the database gauges is reused.
pub const CACHE_FOR: Duration = Duration::from_secs(5);

/// Projects reported in `berth_project_storage_*`, the largest first.
pub const MAX_PROJECTS: i64 = 10_000;

/// What the last read found.
#[derive(Debug, Default)]
struct Snapshot {
    queue: Vec<QueueDepth>,
    upload_sessions: i64,
    /// `(project, used, limit)`; limit -1 for none.
    projects: Vec<(String, i64, i64)>,
}

/// The collector of the database gauges.
#[derive(Debug)]
pub struct DatabaseGauges {
    db: Db,
    snapshot: Mutex<Arc<Snapshot>>,
    /// When the snapshot was read; held while reading, so concurrent scrapes wait for one read.
    read_at: tokio::sync::Mutex<Option<Instant>>,
}

impl DatabaseGauges {
    pub fn new(db: Db) -> DatabaseGauges {
        DatabaseGauges {
            db,
            snapshot: Mutex::default(),
            read_at: tokio::sync::Mutex::new(None),
        }
    }

    /// Reads the database again if the last read is older than [`CACHE_FOR`]. A failed read keeps the
    /// previous values (and is logged).
    pub async fn refresh(&self) {
        let mut read_at = self.read_at.lock().await;
        if read_at.is_some_and(|at| at.elapsed() < CACHE_FOR) {
            return;
        }
        let read = async {
            Ok::<_, sqlx::Error>(Snapshot {
                queue: self.db.job_queue_depths().await?,
                upload_sessions: self.db.upload_session_count().await?,
                projects: self.db.project_storage(MAX_PROJECTS).await?,
            })
        };
        match read.await {
            Ok(snapshot) => {
                if let Ok(mut current) = self.snapshot.lock() {
                    *current = Arc::new(snapshot);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: could not read the database gauges; serving the last values");
            }
        }
        *read_at = Some(Instant::now());
    }

    fn current(&self) -> Arc<Snapshot> {
        self.snapshot
            .lock()
            .map(|s| Arc::clone(&s))
            .unwrap_or_default()
    }
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: &mut dyn Iterator<Item = (&[(&str, &str)], i64)>,
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in samples {
        ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for DatabaseGauges {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snapshot = self.current();
        // Every known kind in both states, so an empty queue reads 0 rather than nothing.
        let mut queue = Vec::new();
        for kind in crate::jobs::KINDS {
            for state in ["pending", "running"] {
                let n = snapshot
                    .queue
                    .iter()
                    .filter(|q| q.kind == kind.name && q.state == state)
                    .map(|q| q.count)
                    .sum();
                queue.push(([("kind", kind.name), ("state", state)], n));
            }
        }
        gauge(
            &mut encoder,
            "berth_jobs",
            "Background jobs waiting or running, by kind and state (cluster-wide: read from the database).",
            &mut queue.iter().map(|(l, n)| (&l[..], *n)),
        )?;
        gauge(
            &mut encoder,
            "berth_upload_sessions",
            "Blob upload sessions open (cluster-wide: read from the database).",
            &mut std::iter::once((&[][..], snapshot.upload_sessions)),
        )?;
        gauge(
            &mut encoder,
            "berth_project_storage_used_bytes",
            "Storage a project is charged for, by project (cluster-wide: read from the database).",
            &mut snapshot
                .projects
                .iter()
                .map(|(p, used, _)| ([("project", p.as_str())], *used))
                .collect::<Vec<_>>()
                .iter()
                .map(|(l, n)| (&l[..], *n)),
        )?;
        gauge(
            &mut encoder,
            "berth_project_storage_limit_bytes",
            "Storage limit of a project, by project; projects without a limit are left out (cluster-wide: read from the database).",
            &mut snapshot
                .projects
                .iter()
                .filter(|(_, _, limit)| *limit >= 0)
                .map(|(p, _, limit)| ([("project", p.as_str())], *limit))
                .collect::<Vec<_>>()
                .iter()
                .map(|(l, n)| (&l[..], *n)),
        )?;
        let pools = self.db.pool_use();
        let samples: Vec<([(&str, &str); 2], i64)> = pools
            .iter()
            .flat_map(|PoolUse { pool, size, idle }| {
                [
                    ([("pool", *pool), ("state", "idle")], *idle),
                    ([("pool", *pool), ("state", "in_use")], size - idle),
                ]
            })
            .collect();
        gauge(
            &mut encoder,
            "berth_database_connections",
            "Connections this node's database pools hold, by pool (read, write) and state (idle, in_use).",
            &mut samples.iter().map(|(l, n)| (&l[..], *n)),
        )
    }
}
