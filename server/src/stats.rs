//! Pull statistics, counted off the request path.
//!
//! Rule: a pull never waits for the database. [`PullStats::record`] puts the pull on a bounded in-memory
//! queue (dropping it, with a warning, when the queue is full); one background task drains the queue and
//! writes the pulls in batches — one transaction per second at most, or per [`BATCH`] pulls — summed per
//! artifact, repository, tag and day. [`PullStats::flush`] writes what is pending; the server calls it on
//! graceful shutdown, after the last request and before closing the database.
//!
//! Each batch also writes one audit log entry per pull (see [`crate::events::audit`]), so pulls are audited
//! off the request path too, and hands each pull to the project's webhook policies (`PULL_ARTIFACT`, see
//! [`crate::webhooks`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::db::{Db, NewAuditEntry, PullBatch};
use crate::events::audit;
use crate::webhooks::{EventType, Notifier};

/// How many pulls may wait to be written before new ones are dropped.
const QUEUE: usize = 10_000;
/// A batch is written once it holds this many pulls, even before the interval is up.
pub const BATCH: usize = 500;

/// One manifest `GET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    /// The full repository name, `project/repo`.
    pub repository: String,
    pub digest: String,
    /// The tag, when the manifest was pulled by tag.
    pub tag: Option<String>,
    pub at: DateTime<Utc>,
    /// Who pulled (a user or robot name; "" for anonymous), for the audit log.
    pub username: String,
    /// From which address, for the audit log.
    pub client_ip: String,
}

impl Pull {
    /// The project of the repository pulled.
    fn project(&self) -> &str {
        self.repository
            .split_once('/')
            .map_or(self.repository.as_str(), |(project, _)| project)
    }
}

enum Command {
    Pull(Pull),
    Flush(oneshot::Sender<()>),
}

/// The handle request handlers record pulls with. Cheap to clone.
#[derive(Clone, Debug)]
pub struct PullStats {
    queue: mpsc::Sender<Command>,
    /// Pulls dropped because the queue was full, reported (and reset) by the writer once per batch, so an
    /// overload produces one log line per batch rather than one per pull.
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Pull(pull) => f.debug_tuple("Pull").field(pull).finish(),
            Command::Flush(_) => f.write_str("Flush"),
        }
    }
}

impl PullStats {
    /// Starts the background writer on the current Tokio runtime. Pulls are written at most `interval`
    /// after they were recorded.
    pub fn start(db: Db, interval: Duration, webhooks: Option<Arc<Notifier>>) -> PullStats {
        let (queue, commands) = mpsc::channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let writer = Writer {
            db,
            webhooks,
            dropped: dropped.clone(),
        };
        tokio::spawn(write_batches(writer, commands, interval));
        PullStats { queue, dropped }
    }

    /// Queues a pull; never waits. A full queue drops the pull with a warning.
    pub fn record(&self, pull: Pull) {
        match self.queue.try_send(Command::Pull(pull)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::warn!("pull statistics writer stopped; a pull is not counted");
            }
        }
    }

    /// Writes every pull recorded before this call, and waits until they are committed (or failed).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Command::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

/// What the background writer writes to.
struct Writer {
    db: Db,
    webhooks: Option<Arc<Notifier>>,
    dropped: Arc<AtomicU64>,
}

/// The background writer: collects pulls until the interval since the first pending one is up, the batch is
/// full, or a flush is asked for, then writes them in one transaction.
async fn write_batches(writer: Writer, mut commands: mpsc::Receiver<Command>, interval: Duration) {
    let mut pending: Vec<Pull> = Vec::new();
    let mut deadline: Option<Instant> = None;
    loop {
        let command = match deadline {
            Some(at) => match tokio::time::timeout_at(at, commands.recv()).await {
                Ok(command) => command,
                Err(_elapsed) => {
                    writer.write(&mut pending).await;
                    deadline = None;
                    continue;
                }
            },
            None => commands.recv().await,
        };
        match command {
            Some(Command::Pull(pull)) => {
                if pending.is_empty() {
                    deadline = Some(Instant::now() + interval);
                }
                pending.push(pull);
                if pending.len() >= BATCH {
                    writer.write(&mut pending).await;
                    deadline = None;
                }
            }
            Some(Command::Flush(done)) => {
                writer.write(&mut pending).await;
                deadline = None;
                let _ = done.send(());
            }
            None => {
                writer.write(&mut pending).await;
                return;
            }
        }
    }
}

impl Writer {
    /// Writes and clears `pending`. A failed batch is logged and dropped: statistics are not worth retrying
    /// without bound.
    async fn write(&self, pending: &mut Vec<Pull>) {
        let db = &self.db;
        let lost = self.dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            tracing::warn!(
                lost,
                "pull statistics queue was full; these pulls are not counted"
            );
        }
        if pending.is_empty() {
            return;
        }
        let batch = summarize(pending);
        let pulls = std::mem::take(pending);
        let count = pulls.len();
        let notified = self.wanted_by_webhooks(&pulls).await;
        let audit: Vec<NewAuditEntry> = pulls.into_iter().map(audit_entry).collect();
        match db.record_pulls(&batch).await {
            Ok(()) => tracing::debug!(pulls = count, "pull statistics written"),
            Err(e) => {
                tracing::error!(error = %e, pulls = count, "writing pull statistics failed; these pulls are lost")
            }
        }
        if let Err(e) = db.record_audit_batch(&audit).await {
            tracing::error!(error = %e, pulls = count, "writing pull audit entries failed; these are lost");
        }
        if let Some(webhooks) = &self.webhooks {
            for pull in &notified {
                self.notify(webhooks, pull).await;
            }
        }
    }

    /// The pulls of `pulls` whose project has a webhook policy that wants pulls, asked once per project:
    /// most projects have none, and a batch holds up to [`BATCH`] pulls.
    async fn wanted_by_webhooks(&self, pulls: &[Pull]) -> Vec<Pull> {
        let Some(webhooks) = &self.webhooks else {
            return Vec::new();
        };
        let mut wanted: HashMap<&str, bool> = HashMap::new();
        let mut notified = Vec::new();
        for pull in pulls {
            let project = pull.project();
            let wants = match wanted.get(project) {
                Some(&wants) => wants,
                None => {
                    let wants = webhooks.wants(project, EventType::PullArtifact).await;
                    wanted.insert(project, wants);
                    wants
                }
            };
            if wants {
                notified.push(pull.clone());
            }
        }
        notified
    }

    /// Sends `pull` to its project's webhook policies that want pulls.
    async fn notify(&self, webhooks: &Notifier, pull: &Pull) {
        let at = pull.at.timestamp();
        webhooks
            .notify_artifact(
                EventType::PullArtifact,
                &pull.repository,
                &pull.digest,
                pull.tag.as_deref(),
                &pull.username,
                |event| event.payload.occur_at = at,
            )
            .await;
    }
}

/// The audit log entry of one pull, stamped with the time of the pull.
fn audit_entry(pull: Pull) -> NewAuditEntry {
    let reference = pull.tag.as_deref().unwrap_or(&pull.digest);
    audit::pull(
        &pull.repository,
        reference,
        pull.username,
        pull.client_ip,
        pull.at,
    )
}

/// Sums pulls per artifact, repository, tag and day, keeping the latest time of each. Times are compared as
/// they are and formatted once per row written, not once per pull.
fn summarize(pulls: &[Pull]) -> PullBatch {
    type Time = chrono::DateTime<chrono::Utc>;
    let mut artifacts: BTreeMap<(&str, &str), (i64, Time)> = BTreeMap::new();
    let mut repositories: BTreeMap<&str, i64> = BTreeMap::new();
    let mut tags: BTreeMap<(&str, &str), Time> = BTreeMap::new();
    let mut days: BTreeMap<(&str, chrono::NaiveDate), i64> = BTreeMap::new();
    for pull in pulls {
        let artifact = artifacts
            .entry((&pull.repository, &pull.digest))
            .or_insert((0, pull.at));
        artifact.0 += 1;
        artifact.1 = artifact.1.max(pull.at);
        *repositories.entry(&pull.repository).or_insert(0) += 1;
        if let Some(tag) = &pull.tag {
            let latest = tags.entry((&pull.repository, tag)).or_insert(pull.at);
            *latest = (*latest).max(pull.at);
        }
        *days
            .entry((&pull.repository, pull.at.date_naive()))
            .or_insert(0) += 1;
    }
    let time = crate::db::timestamp;
    PullBatch {
        artifacts: artifacts
            .into_iter()
            .map(|((repo, digest), (count, at))| {
                (repo.to_owned(), digest.to_owned(), count, time(at))
            })
            .collect(),
        repositories: repositories
            .into_iter()
            .map(|(repo, count)| (repo.to_owned(), count))
            .collect(),
        tags: tags
            .into_iter()
            .map(|((repo, tag), at)| (repo.to_owned(), tag.to_owned(), time(at)))
            .collect(),
        days: days
            .into_iter()
            .map(|((repo, day), count)| (repo.to_owned(), day.to_string(), count))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn pull(repository: &str, digest: &str, tag: Option<&str>, hour: u32) -> Pull {
        Pull {
            repository: repository.to_owned(),
            digest: digest.to_owned(),
            tag: tag.map(str::to_owned),
            at: Utc
                .with_ymd_and_hms(2025, 3, 1 + hour / 24, hour % 24, 0, 0)
                .single()
                .unwrap_or_default(),
            username: String::new(),
            client_ip: String::new(),
        }
    }

    #[test]
    fn a_full_queue_drops_pulls_without_waiting() {
        let (queue, mut commands) = mpsc::channel(1);
        let stats = PullStats {
            queue,
            dropped: Arc::new(AtomicU64::new(0)),
        };
        stats.record(pull("p/a", "sha256:1", None, 1));
        stats.record(pull("p/a", "sha256:2", None, 1)); // dropped, not awaited
        assert!(matches!(commands.try_recv(), Ok(Command::Pull(p)) if p.digest == "sha256:1"));
        assert!(commands.try_recv().is_err());
        assert_eq!(
            stats.dropped.load(Ordering::Relaxed),
            1,
            "counted for one log line per batch"
        );
        drop(commands);
        stats.record(pull("p/a", "sha256:3", None, 1)); // the writer is gone: dropped too
    }

    #[test]
    fn pulls_are_summed_per_artifact_repository_tag_and_day() {
        let batch = summarize(&[
            pull("p/a", "sha256:1", Some("v1"), 1),
            pull("p/a", "sha256:1", None, 3),
            pull("p/a", "sha256:1", Some("v1"), 2),
            pull("p/a", "sha256:2", Some("v2"), 25),
            pull("p/b", "sha256:1", None, 4),
        ]);
        assert_eq!(
            batch.artifacts,
            [
                (
                    "p/a".to_owned(),
                    "sha256:1".to_owned(),
                    3,
                    "2025-03-01T03:00:00.000000Z".to_owned()
                ),
                (
                    "p/a".to_owned(),
                    "sha256:2".to_owned(),
                    1,
                    "2025-03-02T01:00:00.000000Z".to_owned()
                ),
                (
                    "p/b".to_owned(),
                    "sha256:1".to_owned(),
                    1,
                    "2025-03-01T04:00:00.000000Z".to_owned()
                ),
            ]
        );
        assert_eq!(
            batch.repositories,
            [("p/a".to_owned(), 4), ("p/b".to_owned(), 1)]
        );
        assert_eq!(
            batch.tags,
            [
                (
                    "p/a".to_owned(),
                    "v1".to_owned(),
                    "2025-03-01T02:00:00.000000Z".to_owned()
                ),
                (
                    "p/a".to_owned(),
                    "v2".to_owned(),
                    "2025-03-02T01:00:00.000000Z".to_owned()
                ),
            ]
        );
        assert_eq!(
            batch.days,
            [
                ("p/a".to_owned(), "2025-03-01".to_owned(), 3),
                ("p/a".to_owned(), "2025-03-02".to_owned(), 1),
                ("p/b".to_owned(), "2025-03-01".to_owned(), 1),
            ]
        );
        assert!(summarize(&[]).is_empty());
    }
}
