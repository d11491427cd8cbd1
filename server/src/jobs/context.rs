//! What a job's handler gets: its parameters, a logger that writes the job's log, the stop check, and the app
//! state. A handler checks [`JobContext::check_stop`] between steps and returns [`JobError::Stopped`] when
//! asked to stop; it never needs to know why (a user's stop, its node shutting down, or its lease lost).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::app::AppState;
use crate::db::jobs::{LogAppend, LogCap};

/// The most lines a job's log keeps (the last one says the log was truncated).
pub const LOG_MAX_LINES: i64 = 10_000;
/// The most bytes of text a job's log keeps.
pub const LOG_MAX_BYTES: i64 = 4 * 1024 * 1024;
/// The most bytes of one log line; a longer one is cut.
pub const LOG_MAX_LINE: usize = 2048;

/// How a handler ends other than with success.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// It saw a stop request and stopped between steps.
    #[error("stopped")]
    Stopped,
    /// It failed; the message goes to the job's log. Retried when the kind is idempotent.
    #[error("{0}")]
    Failed(String),
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        JobError::Failed(format!("database error: {e}"))
    }
}

/// Why a running job is asked to stop; set by the node, read by the handler through its context.
#[derive(Debug, Default)]
pub struct RunFlags {
    /// A user asked (or its queue was stopped).
    pub stop: AtomicBool,
    /// The node is shutting down: the job goes back to the queue.
    pub shutdown: AtomicBool,
    /// Another node took the job back (this node's lease ran out): its outcome here no longer counts.
    pub lost: AtomicBool,
}

impl RunFlags {
    pub fn should_stop(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
            || self.shutdown.load(Ordering::Relaxed)
            || self.lost.load(Ordering::Relaxed)
    }
}

/// A job's context.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub id: i64,
    pub kind: String,
    /// The parameters, as enqueued.
    pub parameters: serde_json::Value,
    /// The user who asked for it, or "schedule".
    pub operator: String,
    /// This run's attempt, from 1.
    pub attempt: i64,
    pub log: JobLog,
    pub state: AppState,
    pub(super) flags: Arc<RunFlags>,
}

impl JobContext {
    /// Whether the job has been asked to stop.
    pub fn should_stop(&self) -> bool {
        self.flags.should_stop()
    }

    /// `Err(JobError::Stopped)` when the job has been asked to stop: `ctx.check_stop()?` between steps.
    pub fn check_stop(&self) -> Result<(), JobError> {
        if self.should_stop() {
            Err(JobError::Stopped)
        } else {
            Ok(())
        }
    }
}

/// Writes one job's log (the `job_log` table), within its cap. A failure to write is logged to the
/// server's log and otherwise ignored: a job never fails because its log could not be written.
#[derive(Debug, Clone)]
pub struct JobLog {
    pub(super) db: crate::db::Db,
    pub(super) id: i64,
    pub(super) full: Arc<AtomicBool>,
}

impl JobLog {
    pub fn new(db: crate::db::Db, id: i64) -> Self {
        JobLog {
            db,
            id,
            full: Arc::new(AtomicBool::new(false)),
        }
    }

    pub async fn info(&self, line: impl AsRef<str>) {
        self.write("INFO", line.as_ref()).await;
    }

    pub async fn warn(&self, line: impl AsRef<str>) {
        self.write("WARNING", line.as_ref()).await;
    }

    pub async fn error(&self, line: impl AsRef<str>) {
        self.write("ERROR", line.as_ref()).await;
    }

    async fn write(&self, level: &str, line: &str) {
        if self.full.load(Ordering::Relaxed) {
            return;
        }
        let mut end = line.len().min(LOG_MAX_LINE);
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        let cap = LogCap {
            lines: LOG_MAX_LINES,
            bytes: LOG_MAX_BYTES,
        };
        let now = crate::db::timestamp(chrono::Utc::now());
        match self
            .db
            .append_job_log(self.id, level, &line[..end], cap, &now)
            .await
        {
            Ok(LogAppend::Written) => {}
            Ok(LogAppend::Truncated | LogAppend::Full) => self.full.store(true, Ordering::Relaxed),
            Err(e) => tracing::warn!(job = self.id, error = %e, "could not write a job's log line"),
        }
    }
}
