//! One node's loop: heartbeat, take back jobs whose node died, fire due schedules, claim jobs for free
//! workers, and run each claimed job in its own task with its lease renewed. On shutdown, running jobs are
//! asked to stop and go back to the queue; whatever is still running after the grace is cut off and released
//! too.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::watch;

use super::context::{JobContext, JobError, JobLog, RunFlags};
use super::{Running, SCHEDULE, SCHEDULE_OPERATOR, kind, schedule};
use crate::app::AppState;
use crate::db::jobs::{ERROR, JobRow, NewJob, NodeRow, STOPPED, SUCCESS};
use crate::db::timestamp;

/// Stops this node's job loop: [`NodeHandle::shutdown`].
#[derive(Debug)]
pub struct NodeHandle {
    state: AppState,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// Starts this node's job loop.
pub fn start(state: AppState) -> NodeHandle {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(node_loop(state.clone(), stopped));
    NodeHandle { state, stop, task }
}

fn now() -> chrono::DateTime<Utc> {
    Utc::now()
}

fn later(d: Duration) -> String {
    timestamp(now() + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1)))
}

impl NodeHandle {
    /// Stops claiming, asks running jobs to stop and waits up to the shutdown grace for them to hand their
    /// rows back; then cuts off the rest and releases their rows itself.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let jobs = &self.state.jobs;
        let ids: Vec<i64> = {
            let running = jobs.lock();
            for r in running.values() {
                r.flags.shutdown.store(true, Ordering::Relaxed);
            }
            running.keys().copied().collect()
        };
        if !ids.is_empty() {
            tracing::info!(jobs = ?ids, "asking running jobs to stop for shutdown");
        }
        let deadline = Instant::now() + jobs.config.shutdown_grace();
        while !jobs.lock().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let left: Vec<(i64, &'static str)> = {
            let mut running = jobs.lock();
            running
                .drain()
                .map(|(id, r)| {
                    if let Some(task) = r.task {
                        task.abort();
                    }
                    (id, r.kind)
                })
                .collect()
        };
        for (id, kind) in left {
            tracing::warn!(
                job = id,
                kind,
                "job did not stop within the shutdown grace; cut off"
            );
            let log = JobLog::new(self.state.db.clone(), id);
            release(&self.state, id, kind, &log).await;
        }
        let stale = timestamp(now() - chrono::Duration::days(1));
        if let Err(e) = self.state.db.remove_nodes(&jobs.node, &stale).await {
            tracing::warn!(error = %e, "could not remove this node's worker pool row");
        }
    }
}

/// Hands job `id` back on shutdown: to the queue, without counting the attempt, when its kind is
/// idempotent; else ends it `error`, since running it again from the start might not be safe.
async fn release(state: &AppState, id: i64, kind_name: &str, log: &JobLog) {
    let node = &state.jobs.node;
    let stamp = timestamp(now());
    let result = if kind(kind_name).is_some_and(|k| k.idempotent) {
        log.warn("its node shut down; the job goes back to the queue and runs again")
            .await;
        state.db.requeue_job(id, node, &stamp, true, &stamp).await
    } else {
        log.error("its node shut down before the job ended; it cannot safely run again")
            .await;
        state.db.finish_job(id, node, ERROR, &stamp).await
    };
    if let Err(e) = result {
        tracing::error!(job = id, error = %e, "could not release a job on shutdown; its lease will");
    }
}

async fn node_loop(state: AppState, mut stopped: watch::Receiver<bool>) {
    let jobs = state.jobs.clone();
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".to_owned());
    let lease = jobs.config.lease();
    let mut last_heartbeat: Option<Instant> = None;
    tracing::info!(node = %jobs.node, workers = jobs.config.worker_count(), "job worker pool started");
    loop {
        if last_heartbeat.is_none_or(|t| t.elapsed() >= lease / 3) {
            heartbeat(&state, &host).await;
            last_heartbeat = Some(Instant::now());
        }
        if let Err(e) = tick(&state).await {
            tracing::error!(error = %e, "job loop: database error; retrying at the next poll");
        }
        tokio::select! {
            () = tokio::time::sleep(jobs.config.poll()) => {}
            () = jobs.wake.notified() => {}
            _ = stopped.changed() => return,
        }
        if *stopped.borrow() {
            return;
        }
    }
}

/// Refreshes this node's pool row and renews the leases of its running jobs, learning of stop requests and
/// of jobs another node took back.
async fn heartbeat(state: &AppState, host: &str) {
    let jobs = &state.jobs;
    let stamp = timestamp(now());
    let row = NodeRow {
        id: jobs.node.clone(),
        pid: i64::from(std::process::id()),
        host: host.to_owned(),
        concurrency: i64::try_from(jobs.config.worker_count()).unwrap_or(0),
        started_at: jobs.started_at.clone(),
        heartbeat_at: stamp.clone(),
    };
    if let Err(e) = state.db.heartbeat_node(&row).await {
        tracing::warn!(error = %e, "could not record this node's heartbeat");
    }
    let lease_until = later(jobs.config.lease());
    let running: Vec<(i64, Arc<RunFlags>)> = jobs
        .lock()
        .iter()
        .map(|(id, r)| (*id, r.flags.clone()))
        .collect();
    for (id, flags) in running {
        match state
            .db
            .renew_job_lease(id, &jobs.node, &stamp, &lease_until)
            .await
        {
            Ok(Some(stop)) => {
                if stop {
                    flags.stop.store(true, Ordering::Relaxed);
                }
            }
            Ok(None) => {
                tracing::warn!(
                    job = id,
                    "lost the lease of a running job (another node took it back); stopping it here"
                );
                flags.lost.store(true, Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(job = id, error = %e, "could not renew a job's lease"),
        }
    }
}

async fn tick(state: &AppState) -> Result<(), sqlx::Error> {
    take_back_expired(state).await?;
    fire_due_schedules(state).await?;
    watch_stop_requests(state).await?;
    claim_for_free_workers(state).await
}

/// Running jobs asked to stop from another node: a read per tick, so a stop is seen within a poll.
async fn watch_stop_requests(state: &AppState) -> Result<(), sqlx::Error> {
    let running: Vec<(i64, Arc<RunFlags>)> = state
        .jobs
        .lock()
        .iter()
        .filter(|(_, r)| !r.flags.stop.load(Ordering::Relaxed))
        .map(|(id, r)| (*id, r.flags.clone()))
        .collect();
    for (id, flags) in running {
        if state.db.job_stop_requested(id).await? {
            flags.stop.store(true, Ordering::Relaxed);
        }
    }
    Ok(())
}

/// Jobs whose node stopped renewing their lease: retried when attempts remain (with backoff), else ended.
async fn take_back_expired(state: &AppState) -> Result<(), sqlx::Error> {
    let stamp = timestamp(now());
    for job in state.db.expired_jobs(&stamp).await? {
        let node = job.node.as_deref().unwrap_or("?");
        let log = JobLog::new(state.db.clone(), job.id);
        let (outcome, line) = if job.stop_requested {
            (
                Err(STOPPED),
                format!(
                    "its node {node} stopped (lease expired) after a stop was requested; stopped"
                ),
            )
        } else if job.attempts < job.max_attempts {
            let wait = state.jobs.backoff(job.attempts);
            (
                Ok(later(wait)),
                format!(
                    "its node {node} stopped while running it (lease expired); retrying in {} s (attempt {} of {})",
                    wait.as_secs(),
                    job.attempts + 1,
                    job.max_attempts
                ),
            )
        } else {
            (
                Err(ERROR),
                format!(
                    "its node {node} stopped while running it (lease expired), and it cannot run again \
                     (attempt {} of {})",
                    job.attempts, job.max_attempts
                ),
            )
        };
        let run_after;
        let outcome = match outcome {
            Ok(t) => {
                run_after = t;
                Ok(run_after.as_str())
            }
            Err(s) => Err(s),
        };
        if state.db.take_back_job(job.id, &stamp, outcome).await? {
            tracing::warn!(job = job.id, kind = %job.kind, node, "took back a job whose node stopped");
            log.warn(line).await;
            state.jobs.wake.notify_one();
        }
    }
    Ok(())
}

/// Enqueues the job of every due schedule, once per firing whatever the number of nodes.
async fn fire_due_schedules(state: &AppState) -> Result<(), sqlx::Error> {
    let at = now();
    for due in state.db.due_schedules(&timestamp(at)).await? {
        let Some(kind) = kind(&due.vendor_type) else {
            continue;
        };
        // The next firing after now: firings missed while no node ran are not made up one by one.
        let next = schedule::next_of(&due.cron, at).map_or_else(
            || {
                tracing::error!(schedule = due.id, cron = %due.cron, "a schedule's cron no longer fires; disabling it");
                "9999-12-31T23:59:59.000000Z".to_owned()
            },
            timestamp,
        );
        let stamp = timestamp(at);
        let job = NewJob {
            kind: kind.name,
            parameters: &due.parameters,
            max_attempts: kind.attempts(),
            triggered_by: SCHEDULE,
            operator: SCHEDULE_OPERATOR,
            schedule_id: Some(due.id),
            run_after: &stamp,
        };
        match state
            .db
            .fire_schedule(due.id, &due.next_run, &next, &job)
            .await?
        {
            Ok(Some(id)) => {
                tracing::info!(
                    schedule = due.id,
                    job = id,
                    kind = kind.name,
                    "schedule fired"
                );
                state.jobs.wake.notify_one();
            }
            Ok(None) => {
                tracing::info!(
                    schedule = due.id,
                    kind = kind.name,
                    "schedule fired while its previous job still waits; not enqueued again"
                );
            }
            Err(()) => {}
        }
    }
    Ok(())
}

async fn claim_for_free_workers(state: &AppState) -> Result<(), sqlx::Error> {
    let jobs = &state.jobs;
    loop {
        let busy: Vec<usize> = jobs.lock().values().map(|r| r.worker).collect();
        let Some(worker) = (0..jobs.config.worker_count()).find(|w| !busy.contains(w)) else {
            return Ok(());
        };
        let stamp = timestamp(now());
        if !state.db.claimable_job_exists(&stamp).await? {
            return Ok(());
        }
        let worker_id = format!("{}-{worker}", jobs.node);
        let lease_until = later(jobs.config.lease());
        let Some(row) = state
            .db
            .claim_job(&jobs.node, &worker_id, &stamp, &lease_until)
            .await?
        else {
            // Another node won it, or it was stopped meanwhile: look again.
            continue;
        };
        spawn_job(state, row, worker);
    }
}

fn spawn_job(state: &AppState, row: JobRow, worker: usize) {
    let flags = Arc::new(RunFlags::default());
    if row.stop_requested {
        flags.stop.store(true, Ordering::Relaxed);
    }
    let id = row.id;
    let kind_name = kind(&row.kind).map_or("?", |k| k.name);
    let started_at = row.started_at.clone().unwrap_or_default();
    // Registered before the task starts, so the task's own removal at its end always finds it.
    let mut running = state.jobs.lock();
    running.insert(
        id,
        Running {
            flags: flags.clone(),
            worker,
            kind: kind_name,
            started_at,
            task: None,
        },
    );
    let task = tokio::spawn(run_job(state.clone(), row, flags));
    if let Some(r) = running.get_mut(&id) {
        r.task = Some(task);
    }
}

async fn run_job(state: AppState, row: JobRow, flags: Arc<RunFlags>) {
    let id = row.id;
    let node = state.jobs.node.clone();
    let log = JobLog::new(state.db.clone(), id);
    let Some(kind) = kind(&row.kind) else {
        log.error(format!("no handler for job kind {} on this node", row.kind))
            .await;
        finish(&state, id, ERROR).await;
        state.jobs.lock().remove(&id);
        return;
    };
    let parameters = serde_json::from_str(&row.parameters).unwrap_or(serde_json::Value::Null);
    tracing::info!(
        job = id,
        kind = kind.name,
        attempt = row.attempts,
        "job started"
    );
    log.info(format!(
        "{} started on node {node} (attempt {} of {}, triggered by {} for {})",
        kind.name, row.attempts, row.max_attempts, row.triggered_by, row.operator
    ))
    .await;
    let ctx = JobContext {
        id,
        kind: row.kind.clone(),
        parameters,
        operator: row.operator.clone(),
        attempt: row.attempts,
        log: log.clone(),
        state: state.clone(),
        flags: flags.clone(),
    };
    // The handler runs in a task of its own, so a panic in it ends the job, not this bookkeeping; the guard
    // aborts it when this task is cut off at shutdown.
    let started = Instant::now();
    let handler = AbortOnDrop(tokio::spawn((kind.handler)(ctx)));
    let result = match handler.await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(JobError::Failed("the job's handler panicked".to_owned())),
        Err(_) => Err(JobError::Stopped),
    };
    state.metrics.job_finished(
        kind.name,
        match &result {
            Ok(()) => SUCCESS,
            Err(JobError::Stopped) => STOPPED,
            Err(JobError::Failed(_)) => ERROR,
        },
        started.elapsed(),
    );
    if flags.lost.load(Ordering::Relaxed) {
        tracing::warn!(
            job = id,
            "a job whose lease was lost ended here; its outcome is dropped"
        );
    } else {
        match result {
            Ok(()) => {
                log.info(format!("{} finished successfully", kind.name))
                    .await;
                finish(&state, id, SUCCESS).await;
            }
            Err(JobError::Stopped) if flags.shutdown.load(Ordering::Relaxed) => {
                release(&state, id, kind.name, &log).await;
            }
            Err(JobError::Stopped) => {
                log.warn("stopped on request").await;
                finish(&state, id, STOPPED).await;
            }
            Err(JobError::Failed(message)) => {
                log.error(format!("failed: {message}")).await;
                if kind.idempotent && row.attempts < row.max_attempts {
                    let wait = state.jobs.backoff(row.attempts);
                    log.warn(format!(
                        "retrying in {} s (attempt {} of {})",
                        wait.as_secs(),
                        row.attempts + 1,
                        row.max_attempts
                    ))
                    .await;
                    let stamp = timestamp(now());
                    if let Err(e) = state
                        .db
                        .requeue_job(id, &node, &later(wait), false, &stamp)
                        .await
                    {
                        tracing::error!(job = id, error = %e, "could not requeue a failed job; its lease will");
                    }
                } else {
                    tracing::warn!(job = id, kind = kind.name, error = %message, "job failed");
                    finish(&state, id, ERROR).await;
                }
            }
        }
    }
    state.jobs.lock().remove(&id);
    state.jobs.wake.notify_one();
}

/// A task that is aborted when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> std::future::Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

async fn finish(state: &AppState, id: i64, outcome: &str) {
    let stamp = timestamp(now());
    match state
        .db
        .finish_job(id, &state.jobs.node, outcome, &stamp)
        .await
    {
        Ok(true) => tracing::info!(job = id, state = outcome, "job ended"),
        Ok(false) => {
            tracing::warn!(job = id, "a job ended here after another node took it back")
        }
        Err(e) => {
            tracing::error!(job = id, error = %e, "could not record a job's end; its lease will expire and it is taken back")
        }
    }
}
