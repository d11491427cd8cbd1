//! The job system's tables (migration 0018): jobs, their logs, paused queues, schedules and the nodes' worker
//! pools. Rule: every change of a job's state is one conditional statement (or one transaction that starts
//! with one), so that several nodes sharing the table never both act on one row: the claim moves a row from
//! `pending` only if it is still pending, a lease renewal or outcome applies only while the row is still
//! this node's, and a schedule fires only for the node whose compare-and-set of `next_run` changed the row.
//! Under SQLite the writer lock serializes these statements; under PostgreSQL (READ COMMITTED) the loser's
//! UPDATE re-reads the row after the winner commits, finds its condition false and changes nothing.

use sqlx::{Any, Transaction};

use super::Db;

/// A job's state: `pending`, `running`, `success`, `error`, `stopped`.
pub const PENDING: &str = "pending";
pub const RUNNING: &str = "running";
pub const SUCCESS: &str = "success";
pub const ERROR: &str = "error";
pub const STOPPED: &str = "stopped";

pub(super) const JOB_COLUMNS: &str = "id, kind, parameters, state, attempts, max_attempts, triggered_by, operator,
    schedule_id, run_after, node, worker, lease_until, stop_requested, created_at, started_at, finished_at,
    updated_at";

/// A job row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    /// JSON text.
    pub parameters: String,
    pub state: String,
    pub attempts: i64,
    pub max_attempts: i64,
    /// `MANUAL`, `SCHEDULE` or `EVENT`.
    pub triggered_by: String,
    pub operator: String,
    pub schedule_id: Option<i64>,
    pub run_after: String,
    pub node: Option<String>,
    pub worker: Option<String>,
    pub lease_until: Option<String>,
    #[sqlx(try_from = "super::Flag")]
    pub stop_requested: bool,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub updated_at: String,
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub parameters: &'a str,
    pub max_attempts: i64,
    pub triggered_by: &'a str,
    pub operator: &'a str,
    pub schedule_id: Option<i64>,
    /// As produced by [`super::timestamp`].
    pub run_after: &'a str,
}

/// What asking a job to stop did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// It was pending and is now stopped.
    Stopped,
    /// It is running; its node sees the request at its next step.
    Requested,
    /// It had already ended.
    AlreadyEnded,
    NotFound,
}

/// What appending a line to a job's log did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogAppend {
    Written,
    /// The cap was reached: the "log truncated" line was written instead, and nothing more will be.
    Truncated,
    /// The log was already truncated.
    Full,
}

/// A job log's caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogCap {
    pub lines: i64,
    pub bytes: i64,
}

/// One line of a job's log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LogLine {
    pub at: String,
    pub level: String,
    pub line: String,
}

/// A running job whose lease ran out (its node stopped heartbeating).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExpiredJob {
    pub id: i64,
    pub kind: String,
    pub node: Option<String>,
    pub attempts: i64,
    pub max_attempts: i64,
    #[sqlx(try_from = "super::Flag")]
    pub stop_requested: bool,
}

/// The pending jobs of one kind.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueRow {
    pub kind: String,
    pub pending: i64,
    /// The earliest `run_after` among them.
    pub oldest: Option<String>,
}

/// A schedule row (Harbor's `ScheduleTask`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScheduleRow {
    pub id: i64,
    pub vendor_type: String,
    pub vendor_id: i64,
    pub schedule_type: String,
    pub cron: String,
    pub parameters: String,
    pub operator: String,
    pub next_run: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A schedule to create or replace.
#[derive(Debug, Clone)]
pub struct NewSchedule<'a> {
    pub vendor_type: &'a str,
    pub vendor_id: i64,
    pub schedule_type: &'a str,
    pub cron: &'a str,
    pub parameters: &'a str,
    pub operator: &'a str,
    pub next_run: &'a str,
}

/// A node's worker pool (Harbor's `WorkerPool`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NodeRow {
    pub id: String,
    pub pid: i64,
    pub host: String,
    pub concurrency: i64,
    pub started_at: String,
    pub heartbeat_at: String,
}

const SCHEDULE_COLUMNS: &str =
    "id, vendor_type, vendor_id, schedule_type, cron, parameters, operator,
    next_run, created_at, updated_at";

/// Inserts `job` unless its queue already holds `cap` pending jobs of its kind (of its schedule, for a
/// scheduled job); one statement, so concurrent enqueues cannot pass the cap.
pub(super) async fn insert_job(
    tx: &mut Transaction<'_, Any>,
    job: &NewJob<'_>,
    cap: i64,
    now: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO jobs (kind, parameters, state, max_attempts, triggered_by, operator, schedule_id,
                           run_after, created_at, updated_at)
         SELECT $1, $2, 'pending', $3, $4, $5, $6, $7, $8, $8
         WHERE (SELECT COUNT(*) FROM jobs WHERE kind = $1 AND state = 'pending'
                    AND ($6 IS NULL OR schedule_id = $6)) < $9
         RETURNING id",
    )
    .bind(job.kind)
    .bind(job.parameters)
    .bind(job.max_attempts)
    .bind(job.triggered_by)
    .bind(job.operator)
    .bind(job.schedule_id)
    .bind(job.run_after)
    .bind(now)
    .bind(cap)
    .fetch_optional(&mut **tx)
    .await
}

/// Whether pending job `j` may be claimed: its queue is not paused, and it is not of an exclusive kind
/// ([`crate::jobs::EXCLUSIVE_KINDS`]) while a job of that kind runs. The kinds are compile-time names, quoted
/// here: no caller input reaches this SQL.
fn claimable() -> String {
    let exclusive = crate::jobs::EXCLUSIVE_KINDS
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "NOT EXISTS (SELECT 1 FROM job_queues q WHERE q.kind = j.kind AND q.paused = TRUE)
         AND NOT (j.kind IN ({exclusive})
                  AND EXISTS (SELECT 1 FROM jobs r WHERE r.kind = j.kind AND r.state = 'running'))"
    )
}

/// Writes (or with `None` removes) the `Custom` schedule of `(vendor_type, vendor_id)` inside `conn`'s
/// transaction: `(cron, first firing, operator)`, enqueuing a job of kind `vendor_type` with `parameters`.
/// A policy and its schedule change together this way (retention, replication).
pub(super) async fn set_vendor_schedule(
    conn: &mut sqlx::AnyConnection,
    vendor_type: &str,
    vendor_id: i64,
    schedule: Option<(&str, &str, &str)>,
    parameters: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    let Some((cron, next_run, operator)) = schedule else {
        sqlx::query("DELETE FROM job_schedules WHERE vendor_type = $1 AND vendor_id = $2")
            .bind(vendor_type)
            .bind(vendor_id)
            .execute(&mut *conn)
            .await?;
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO job_schedules (vendor_type, vendor_id, schedule_type, cron, parameters, operator, next_run,
                                    created_at, updated_at)
         VALUES ($1, $2, 'Custom', $3, $4, $5, $6, $7, $7)
         ON CONFLICT (vendor_type, vendor_id) DO UPDATE SET cron = $3, parameters = $4, operator = $5,
             next_run = $6, updated_at = $7",
    )
    .bind(vendor_type)
    .bind(vendor_id)
    .bind(cron)
    .bind(parameters)
    .bind(operator)
    .bind(next_run)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Db {
    /// Adds a pending job unless `cap` jobs of its kind are pending already; returns its id.
    pub async fn enqueue_job(
        &self,
        job: &NewJob<'_>,
        cap: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let id = insert_job(&mut tx, job, cap, &super::now()).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn job(&self, id: i64) -> Result<Option<JobRow>, sqlx::Error> {
        sqlx::query_as(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    /// One page of the jobs of `kind`, newest first, and how many there are.
    pub async fn list_jobs(
        &self,
        kind: &str,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<JobRow>, i64), sqlx::Error> {
        let rows = sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(kind)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        let total = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = $1")
            .bind(kind)
            .fetch_one(&self.read)
            .await?;
        Ok((rows, total))
    }

    /// Whether a job could be claimed now: a cheap read before the claim's write.
    pub async fn claimable_job_exists(&self, now: &str) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar::<_, super::Flag>(&format!(
            "SELECT EXISTS (SELECT 1 FROM jobs j WHERE j.state = 'pending' AND j.run_after <= $1
                 AND {})",
            claimable()
        ))
        .bind(now)
        .fetch_one(&self.read)
        .await
        .map(bool::from)
    }

    /// Claims the oldest due pending job of a queue that is not paused for `node`'s `worker`, with a lease
    /// until `lease_until`, counting an attempt. `None` when there is none, or another node claimed it first
    /// (the caller simply tries again).
    pub async fn claim_job(
        &self,
        node: &str,
        worker: &str,
        now: &str,
        lease_until: &str,
    ) -> Result<Option<JobRow>, sqlx::Error> {
        let claimable = claimable();
        sqlx::query_as(&format!(
            "UPDATE jobs SET state = 'running', node = $1, worker = $2, lease_until = $4,
                 attempts = attempts + 1, started_at = $3, updated_at = $3
             WHERE id = (SELECT j.id FROM jobs j WHERE j.state = 'pending' AND j.run_after <= $3
                             AND {claimable}
                         ORDER BY j.run_after, j.id LIMIT 1)
               AND state = 'pending'
             RETURNING {JOB_COLUMNS}"
        ))
        .bind(node)
        .bind(worker)
        .bind(now)
        .bind(lease_until)
        .fetch_optional(&self.write)
        .await
    }

    /// Renews `node`'s lease on job `id`; `Some(stop_requested)` while the job is still this node's, `None`
    /// when it is not (its lease ran out and another node took it back).
    pub async fn renew_job_lease(
        &self,
        id: i64,
        node: &str,
        now: &str,
        lease_until: &str,
    ) -> Result<Option<bool>, sqlx::Error> {
        sqlx::query_scalar::<_, super::Flag>(
            "UPDATE jobs SET lease_until = $3, updated_at = $4
             WHERE id = $1 AND node = $2 AND state = 'running' RETURNING stop_requested",
        )
        .bind(id)
        .bind(node)
        .bind(lease_until)
        .bind(now)
        .fetch_optional(&self.write)
        .await
        .map(|flag| flag.map(bool::from))
    }

    /// Ends `node`'s run of job `id` in `state` (success, error or stopped); false if the job was no longer
    /// this node's.
    pub async fn finish_job(
        &self,
        id: i64,
        node: &str,
        state: &str,
        now: &str,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE jobs SET state = $3, node = NULL, worker = NULL, lease_until = NULL, finished_at = $4,
                 updated_at = $4
             WHERE id = $1 AND node = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(node)
        .bind(state)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Puts `node`'s running job `id` back in the queue, to run after `run_after`. With `refund`, the
    /// attempt does not count (the node let go of it on shutdown, the job did not fail).
    pub async fn requeue_job(
        &self,
        id: i64,
        node: &str,
        run_after: &str,
        refund: bool,
        now: &str,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'pending', node = NULL, worker = NULL, lease_until = NULL,
                 run_after = $3, attempts = attempts - $4, updated_at = $5
             WHERE id = $1 AND node = $2 AND state = 'running'",
        )
        .bind(id)
        .bind(node)
        .bind(run_after)
        .bind(i64::from(refund))
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Running jobs whose lease ran out before `now`.
    pub async fn expired_jobs(&self, now: &str) -> Result<Vec<ExpiredJob>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, kind, node, attempts, max_attempts, stop_requested FROM jobs
             WHERE state = 'running' AND lease_until < $1 ORDER BY id LIMIT 100",
        )
        .bind(now)
        .fetch_all(&self.read)
        .await
    }

    /// Takes back job `id` if it is still running with a lease that ran out before `now`: back to pending
    /// after `run_after` (`Some`), or ended in `state` (`None`). False if another node took it first or
    /// its node renewed the lease after all.
    pub async fn take_back_job(
        &self,
        id: i64,
        now: &str,
        outcome: Result<&str, &str>,
    ) -> Result<bool, sqlx::Error> {
        let done = match outcome {
            Ok(run_after) => sqlx::query(
                "UPDATE jobs SET state = 'pending', node = NULL, worker = NULL, lease_until = NULL,
                     run_after = $3, updated_at = $2
                 WHERE id = $1 AND state = 'running' AND lease_until < $2",
            )
            .bind(id)
            .bind(now)
            .bind(run_after)
            .execute(&self.write)
            .await?,
            Err(state) => {
                sqlx::query(
                    "UPDATE jobs SET state = $3, node = NULL, worker = NULL, lease_until = NULL,
                     finished_at = $2, updated_at = $2
                 WHERE id = $1 AND state = 'running' AND lease_until < $2",
                )
                .bind(id)
                .bind(now)
                .bind(state)
                .execute(&self.write)
                .await?
            }
        };
        Ok(done.rows_affected() > 0)
    }

    /// Stops job `id`: a pending job at once, a running one by setting its `stop_requested`.
    pub async fn request_job_stop(&self, id: i64, now: &str) -> Result<StopOutcome, sqlx::Error> {
        let stopped = sqlx::query(
            "UPDATE jobs SET state = 'stopped', stop_requested = TRUE, finished_at = $2, updated_at = $2
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(now)
        .execute(&self.write)
        .await?;
        if stopped.rows_affected() > 0 {
            return Ok(StopOutcome::Stopped);
        }
        let requested = sqlx::query(
            "UPDATE jobs SET stop_requested = TRUE, updated_at = $2 WHERE id = $1 AND state = 'running'",
        )
        .bind(id)
        .bind(now)
        .execute(&self.write)
        .await?;
        if requested.rows_affected() > 0 {
            return Ok(StopOutcome::Requested);
        }
        let exists: bool = sqlx::query_scalar::<_, super::Flag>(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE id = $1)",
        )
        .bind(id)
        .fetch_one(&self.write)
        .await?
        .0;
        Ok(if exists {
            StopOutcome::AlreadyEnded
        } else {
            StopOutcome::NotFound
        })
    }

    /// Stops every pending job of `kinds` and asks every running one to stop; returns the ids of the running
    /// ones asked.
    pub async fn stop_jobs_of(&self, kinds: &[&str], now: &str) -> Result<Vec<i64>, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let mut running = Vec::new();
        for kind in kinds {
            sqlx::query(
                "UPDATE jobs SET state = 'stopped', stop_requested = TRUE, finished_at = $2, updated_at = $2
                 WHERE kind = $1 AND state = 'pending'",
            )
            .bind(kind)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let ids: Vec<i64> = sqlx::query_scalar(
                "UPDATE jobs SET stop_requested = TRUE, updated_at = $2
                 WHERE kind = $1 AND state = 'running' RETURNING id",
            )
            .bind(kind)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
            running.extend(ids);
        }
        tx.commit().await?;
        Ok(running)
    }

    /// Whether job `id` has been asked to stop.
    pub async fn job_stop_requested(&self, id: i64) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar::<_, super::Flag>("SELECT stop_requested FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map(|v| v.is_none_or(bool::from))
    }

    /// Appends `line` to job `id`'s log unless that would pass `cap`; at the cap, writes one final
    /// "log truncated" line instead. One transaction that starts with the counting UPDATE, so concurrent
    /// writers cannot pass the cap either.
    pub async fn append_job_log(
        &self,
        id: i64,
        level: &str,
        line: &str,
        cap: LogCap,
        now: &str,
    ) -> Result<LogAppend, sqlx::Error> {
        let len = i64::try_from(line.len()).unwrap_or(i64::MAX);
        let mut tx = self.write.begin().await?;
        let counted = sqlx::query(
            "UPDATE jobs SET log_lines = log_lines + 1, log_bytes = log_bytes + $2
             WHERE id = $1 AND log_truncated = FALSE AND log_lines < $3 AND log_bytes + $2 <= $4",
        )
        .bind(id)
        .bind(len)
        .bind(cap.lines - 1)
        .bind(cap.bytes)
        .execute(&mut *tx)
        .await?;
        let (outcome, level, line) = if counted.rows_affected() > 0 {
            (LogAppend::Written, level, line)
        } else {
            let truncated = sqlx::query(
                "UPDATE jobs SET log_truncated = TRUE, log_lines = log_lines + 1
                 WHERE id = $1 AND log_truncated = FALSE",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if truncated.rows_affected() == 0 {
                return Ok(LogAppend::Full);
            }
            (
                LogAppend::Truncated,
                "WARNING",
                "log truncated: this job's log reached its limit; later lines were dropped",
            )
        };
        sqlx::query("INSERT INTO job_log (job_id, at, level, line) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(now)
            .bind(level)
            .bind(line)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Job `id`'s log, oldest line first (bounded by the log cap).
    pub async fn job_log(&self, id: i64) -> Result<Vec<LogLine>, sqlx::Error> {
        sqlx::query_as("SELECT at, level, line FROM job_log WHERE job_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&self.read)
            .await
    }

    /// Pending jobs per kind, with the earliest `run_after` of each.
    pub async fn job_queues(&self) -> Result<Vec<QueueRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT kind, COUNT(*) AS pending, MIN(run_after) AS oldest FROM jobs
             WHERE state = 'pending' GROUP BY kind ORDER BY kind",
        )
        .fetch_all(&self.read)
        .await
    }

    /// The kinds whose queue is paused.
    pub async fn paused_queues(&self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT kind FROM job_queues WHERE paused = TRUE ORDER BY kind")
            .fetch_all(&self.read)
            .await
    }

    /// Pauses or resumes the queues of `kinds`.
    pub async fn set_queues_paused(
        &self,
        kinds: &[&str],
        paused: bool,
        now: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write.begin().await?;
        for kind in kinds {
            sqlx::query(
                "INSERT INTO job_queues (kind, paused, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (kind) DO UPDATE SET paused = $2, updated_at = $3",
            )
            .bind(kind)
            .bind(paused)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Creates or replaces the schedule of `(vendor_type, vendor_id)`.
    pub async fn put_schedule(&self, schedule: &NewSchedule<'_>) -> Result<(), sqlx::Error> {
        let now = super::now();
        sqlx::query(
            "INSERT INTO job_schedules (vendor_type, vendor_id, schedule_type, cron, parameters, operator,
                                        next_run, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
             ON CONFLICT (vendor_type, vendor_id) DO UPDATE SET schedule_type = $3, cron = $4,
                 parameters = $5, operator = $6, next_run = $7, updated_at = $8",
        )
        .bind(schedule.vendor_type)
        .bind(schedule.vendor_id)
        .bind(schedule.schedule_type)
        .bind(schedule.cron)
        .bind(schedule.parameters)
        .bind(schedule.operator)
        .bind(schedule.next_run)
        .bind(now)
        .execute(&self.write)
        .await
        .map(|_| ())
    }

    /// Removes the schedule of `(vendor_type, vendor_id)`; false if there was none.
    pub async fn delete_schedule(
        &self,
        vendor_type: &str,
        vendor_id: i64,
    ) -> Result<bool, sqlx::Error> {
        let done =
            sqlx::query("DELETE FROM job_schedules WHERE vendor_type = $1 AND vendor_id = $2")
                .bind(vendor_type)
                .bind(vendor_id)
                .execute(&self.write)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn schedule(
        &self,
        vendor_type: &str,
        vendor_id: i64,
    ) -> Result<Option<ScheduleRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM job_schedules WHERE vendor_type = $1 AND vendor_id = $2"
        ))
        .bind(vendor_type)
        .bind(vendor_id)
        .fetch_optional(&self.read)
        .await
    }

    /// One page of every schedule, by id, and how many there are.
    pub async fn list_schedules(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ScheduleRow>, i64), sqlx::Error> {
        let rows = sqlx::query_as(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM job_schedules ORDER BY id LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        let total = sqlx::query_scalar("SELECT COUNT(*) FROM job_schedules")
            .fetch_one(&self.read)
            .await?;
        Ok((rows, total))
    }

    /// Schedules due at `now`.
    pub async fn due_schedules(&self, now: &str) -> Result<Vec<ScheduleRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM job_schedules WHERE next_run <= $1 ORDER BY next_run LIMIT 100"
        ))
        .bind(now)
        .fetch_all(&self.read)
        .await
    }

    /// Fires schedule `id` if its `next_run` is still `seen_next_run`: moves it to `next_run` and enqueues
    /// `job` in the same transaction, unless the schedule's previous job is still pending (a paused queue
    /// holds one job per schedule, not one per firing). `Err` when another node fired it first (or it
    /// changed), `Ok(None)` when it fired but its previous job was still waiting.
    pub async fn fire_schedule(
        &self,
        id: i64,
        seen_next_run: &str,
        next_run: &str,
        job: &NewJob<'_>,
    ) -> Result<Result<Option<i64>, ()>, sqlx::Error> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        let moved =
            sqlx::query("UPDATE job_schedules SET next_run = $3 WHERE id = $1 AND next_run = $2")
                .bind(id)
                .bind(seen_next_run)
                .bind(next_run)
                .execute(&mut *tx)
                .await?;
        if moved.rows_affected() == 0 {
            return Ok(Err(()));
        }
        let job_id = insert_job(&mut tx, job, 1, &now).await?;
        tx.commit().await?;
        Ok(Ok(job_id))
    }

    /// Records (or refreshes) node `node`'s worker pool.
    pub async fn heartbeat_node(&self, node: &NodeRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO job_nodes (id, pid, host, concurrency, started_at, heartbeat_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = $6",
        )
        .bind(&node.id)
        .bind(node.pid)
        .bind(&node.host)
        .bind(node.concurrency)
        .bind(&node.started_at)
        .bind(&node.heartbeat_at)
        .execute(&self.write)
        .await
        .map(|_| ())
    }

    /// Forgets node `id` (it shut down), and every node whose heartbeat is older than `stale_before`.
    pub async fn remove_nodes(&self, id: &str, stale_before: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM job_nodes WHERE id = $1 OR heartbeat_at < $2")
            .bind(id)
            .bind(stale_before)
            .execute(&self.write)
            .await
            .map(|_| ())
    }

    /// Nodes that heartbeat since `since`, oldest first.
    pub async fn live_nodes(&self, since: &str) -> Result<Vec<NodeRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, pid, host, concurrency, started_at, heartbeat_at FROM job_nodes
             WHERE heartbeat_at >= $1 ORDER BY started_at, id LIMIT 1000",
        )
        .bind(since)
        .fetch_all(&self.read)
        .await
    }

    /// The jobs running on node `node`.
    pub async fn running_jobs_on(&self, node: &str) -> Result<Vec<JobRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'running' AND node = $1 ORDER BY id LIMIT 1000"
        ))
        .bind(node)
        .fetch_all(&self.read)
        .await
    }
}
