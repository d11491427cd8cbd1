//! Background jobs: a durable queue in the database, a worker pool on every node, and schedules.
//!
//! Rule: the database is the only shared state. A job is a row (`db::jobs`); any node claims a pending row
//! with one conditional UPDATE and holds it by a lease it renews while the job runs; a job whose node died is
//! taken back by any node when the lease runs out (retried with backoff when its kind is idempotent and
//! attempts remain, else ended `error` with the reason). Schedules are rows fired by a compare-and-set of
//! their next run. What a node keeps in memory ([`Jobs`]) only speeds things up: the flags of the jobs it
//! runs, and a wake-up for its own enqueues.
//!
//! The engine knows nothing of what a kind does: a kind registers a handler ([`Kind`]) that gets a
//! [`JobContext`] (parameters, log, stop check, app state). `upload_purge` is not a job kind yet: it is a
//! per-node sweep of this node's staging directory (see its module).

pub mod context;
pub mod purge_audit;
mod runner;
pub mod schedule;
pub mod upload_purge;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

pub use context::{JobContext, JobError, JobLog, RunFlags};
pub use runner::{NodeHandle, start};

use crate::config::JobsConfig;
use crate::db::jobs::{NewJob, StopOutcome};
use crate::db::{Db, timestamp};

/// How a job came to be (Harbor's execution triggers).
pub const MANUAL: &str = "MANUAL";
pub const SCHEDULE: &str = "SCHEDULE";
pub const EVENT: &str = "EVENT";

/// The operator of scheduled jobs.
pub const SCHEDULE_OPERATOR: &str = "schedule";

/// The most pending jobs one kind may hold from manual or event triggers (a schedule holds at most one),
/// unless the kind says otherwise ([`Kind::max_pending`]).
pub const MAX_PENDING_PER_KIND: i64 = 16;

/// What a kind's handler returns.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;

/// A job kind: its Harbor name, whether a failed or interrupted run may simply run again, and its handler.
#[derive(Clone, Copy)]
pub struct Kind {
    /// Harbor's job type name, e.g. `PURGE_AUDIT_LOG`.
    pub name: &'static str,
    /// Whether running it again after a failure or a crash is safe. Non-idempotent kinds run at most once.
    pub idempotent: bool,
    /// Attempts in all, for an idempotent kind.
    pub max_attempts: i64,
    /// The most jobs of this kind that may wait at once: [`MAX_PENDING_PER_KIND`] for operator-started kinds;
    /// more for per-artifact kinds that pushes enqueue (a scan on push per artifact).
    pub max_pending: i64,
    pub handler: fn(JobContext) -> JobFuture,
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kind")
            .field("name", &self.name)
            .field("idempotent", &self.idempotent)
            .finish_non_exhaustive()
    }
}

impl Kind {
    fn attempts(&self) -> i64 {
        if self.idempotent {
            self.max_attempts.max(1)
        } else {
            1
        }
    }
}

/// Every kind this build runs.
pub const KINDS: &[Kind] = &[
    purge_audit::KIND,
    crate::retention::run::KIND,
    crate::gc::KIND,
    crate::scan::run::KIND,
    crate::scan::scan_all::KIND,
    crate::scan::scan_all::REMATCH_KIND,
    crate::scan::sbom_job::KIND,
    crate::scan::adapter::job::KIND,
    crate::scan::adapter::client::KIND,
    crate::scan::export::job::KIND,
    crate::scan::vulndb::online::job::KIND,
    crate::webhooks::deliver::KIND,
    crate::replication::run::KIND,
];

/// Kinds of which at most one job runs at a time across all nodes: a pending one waits while another
/// runs (Harbor's GC queue has one worker). Names only; the claim query spells them out.
pub const EXCLUSIVE_KINDS: &[&str] = &[
    crate::gc::NAME,
    crate::scan::scan_all::NAME,
    crate::scan::scan_all::REMATCH,
    crate::scan::vulndb::online::job::NAME,
];

/// The kind named `name`.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// A job running on this node.
#[derive(Debug)]
pub(crate) struct Running {
    pub flags: Arc<RunFlags>,
    pub worker: usize,
    pub kind: &'static str,
    pub started_at: String,
    pub task: Option<tokio::task::JoinHandle<()>>,
}

/// This node's part of the job system. Cheap to share; lives in the app state.
#[derive(Debug)]
pub struct Jobs {
    /// This node's random id, chosen at start (its worker pool's id).
    pub node: String,
    pub started_at: String,
    pub config: JobsConfig,
    wake: Notify,
    running: Mutex<HashMap<i64, Running>>,
}

/// Why a job could not be enqueued.
#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("no job kind {0}")]
    UnknownKind(String),
    #[error("{1} {0} jobs are already waiting; stop some or wait for them")]
    QueueFull(String, i64),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl Jobs {
    pub fn new(config: &JobsConfig) -> Jobs {
        Jobs {
            node: uuid::Uuid::new_v4().simple().to_string(),
            started_at: timestamp(chrono::Utc::now()),
            config: config.clone(),
            wake: Notify::new(),
            running: Mutex::new(HashMap::new()),
        }
    }

    /// Enqueues a job of `kind` with `parameters`, to run as soon as a worker is free; returns its id.
    pub async fn enqueue(
        &self,
        db: &Db,
        kind: &str,
        parameters: &serde_json::Value,
        triggered_by: &str,
        operator: &str,
    ) -> Result<i64, EnqueueError> {
        let known = self::kind(kind).ok_or_else(|| EnqueueError::UnknownKind(kind.to_owned()))?;
        let parameters = parameters.to_string();
        let now = timestamp(chrono::Utc::now());
        let job = NewJob {
            kind: known.name,
            parameters: &parameters,
            max_attempts: known.attempts(),
            triggered_by,
            operator,
            schedule_id: None,
            run_after: &now,
        };
        let id = db
            .enqueue_job(&job, known.max_pending)
            .await?
            .ok_or_else(|| EnqueueError::QueueFull(known.name.to_owned(), known.max_pending))?;
        tracing::info!(job = id, kind = known.name, operator, "job enqueued");
        self.wake.notify_one();
        Ok(id)
    }

    /// Stops job `id`: a pending one at once, a running one at its next step (here at once if it runs on
    /// this node, elsewhere at that node's next poll).
    pub async fn stop(&self, db: &Db, id: i64) -> Result<StopOutcome, sqlx::Error> {
        let outcome = db
            .request_job_stop(id, &timestamp(chrono::Utc::now()))
            .await?;
        if outcome == StopOutcome::Requested {
            self.flag_stop(&[id]);
        }
        Ok(outcome)
    }

    /// Stops every pending and running job of `kinds`; returns how many running ones were asked.
    pub async fn stop_kinds(&self, db: &Db, kinds: &[&str]) -> Result<usize, sqlx::Error> {
        let running = db
            .stop_jobs_of(kinds, &timestamp(chrono::Utc::now()))
            .await?;
        self.flag_stop(&running);
        Ok(running.len())
    }

    /// Wakes this node's loop (after resuming a queue, for example).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The jobs running on this node, as `(job id, worker slot, kind, started at)`.
    pub fn running_here(&self) -> Vec<(i64, usize, &'static str, String)> {
        self.lock()
            .iter()
            .map(|(id, r)| (*id, r.worker, r.kind, r.started_at.clone()))
            .collect()
    }

    fn flag_stop(&self, ids: &[i64]) {
        let running = self.lock();
        for id in ids {
            if let Some(r) = running.get(id) {
                r.flags.stop.store(true, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Running>> {
        // A panic while holding this lock cannot leave the map inconsistent (every change is one insert
        // or remove), so a poisoned lock is used as is.
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The wait before retry `attempt` (from 1): the configured delay, doubled for each earlier attempt, at
    /// most an hour.
    pub fn backoff(&self, attempt: i64) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 12)).unwrap_or(12);
        (self.config.retry_delay() * 2u32.pow(doublings)).min(Duration::from_secs(3600))
    }
}
