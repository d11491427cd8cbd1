//! Harbor's job service dashboard: `/jobservice/pools`, `/jobservice/pools/{pool_id}/workers`,
//! `PUT /jobservice/jobs/{job_id}` (stop), `/jobservice/jobs/{job_id}/log`, `/jobservice/queues` and
//! `PUT /jobservice/queues/{job_type}` (stop, pause, resume; `all` for every type), `/schedules` and
//! `/schedules/{job_type}/paused`. System administrators, and robots given Harbor's `jobservice-monitor`
//! permission (`list` to read, `stop` to act).
//!
//! A pool is a node: every Berth node sharing the database runs one, listed while its heartbeat is fresh.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use berth_api::jobs::{ActionRequest, JobQueue, ScheduleTask, SchedulerStatus, Worker, WorkerPool};
use chrono::{DateTime, Utc};

use super::error::ApiError;
use super::extract::{Json, Path};
use super::pagination::Page;
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::Subject;
use crate::db::jobs::{JobRow, StopOutcome};
use crate::db::timestamp;
use crate::events::audit::{Audit, ClientIp, Operation as Op, clip};
use crate::jobs::KINDS;

const RESOURCE: &str = "jobservice-monitor";

/// Nodes whose heartbeat is older than this many leases are not listed.
const STALE_LEASES: u32 = 3;

/// `GET /jobservice/pools`: the worker pool of every live node.
pub async fn pools(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<WorkerPool>>, ApiError> {
    caller.system(RESOURCE, "list")?;
    let nodes = state.db.live_nodes(&fresh_since(&state)).await?;
    Ok(Json(
        nodes
            .into_iter()
            .map(|n| WorkerPool {
                pid: n.pid,
                worker_pool_id: n.id,
                start_at: n.started_at,
                heartbeat_at: n.heartbeat_at,
                concurrency: n.concurrency,
                host: n.host,
            })
            .collect(),
    ))
}

fn fresh_since(state: &AppState) -> String {
    let window = state.jobs.config.lease() * STALE_LEASES;
    timestamp(Utc::now() - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::hours(1)))
}

/// `GET /jobservice/pools/{pool_id}/workers`: each worker slot of the pool (`all`: of every pool) and the job
/// it runs.
pub async fn workers(
    State(state): State<AppState>,
    caller: Caller,
    Path(pool_id): Path<String>,
) -> Result<Json<Vec<Worker>>, ApiError> {
    caller.system(RESOURCE, "list")?;
    let nodes = state.db.live_nodes(&fresh_since(&state)).await?;
    let nodes: Vec<_> = nodes
        .into_iter()
        .filter(|n| pool_id == "all" || n.id == pool_id)
        .collect();
    if nodes.is_empty() && pool_id != "all" {
        return Err(ApiError::NotFound(format!(
            "no worker pool {}",
            clip(&pool_id)
        )));
    }
    let mut workers = Vec::new();
    for node in nodes {
        let running = state.db.running_jobs_on(&node.id).await?;
        for slot in 0..node.concurrency.clamp(0, 64) {
            let id = format!("{}-{slot}", node.id);
            let job = running.iter().find(|j| j.worker.as_deref() == Some(&id));
            workers.push(Worker {
                pool_id: node.id.clone(),
                job_name: job.map(|j| j.kind.clone()),
                job_id: job.map(|j| j.id.to_string()),
                start_at: job.and_then(|j| j.started_at.clone()),
                checkin_at: job.map(|j| j.updated_at.clone()),
                id,
            });
        }
    }
    Ok(Json(workers))
}

/// A job id as Harbor's paths carry it (a string); an id that is not Berth's names no job.
fn job_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::NotFound(format!("no job {}", clip(text))))
}

/// `PUT /jobservice/jobs/{job_id}`: stops the job (a pending one at once, a running one at its next step).
pub async fn stop_job(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let subject = caller.system(RESOURCE, "stop")?;
    stop(&state, job_id(&id)?, subject, &client).await?;
    Ok(().into_response())
}

/// Stops job `id` (any kind) for `subject`, and records it; 404 if there is none. Stopping a job that
/// already ended changes nothing.
pub async fn stop(
    state: &AppState,
    id: i64,
    subject: &Subject,
    client: &ClientIp,
) -> Result<(), ApiError> {
    let outcome = state.jobs.stop(&state.db, id).await?;
    if outcome == StopOutcome::NotFound {
        return Err(ApiError::NotFound(format!("no job {id}")));
    }
    tracing::info!(
        job = id,
        ?outcome,
        by = subject.name(),
        "job stop requested"
    );
    Audit::new(Op::Update, "job", format!("stop job {id}"))
        .by_subject(subject, client)
        .record(&state.db)
        .await;
    Ok(())
}

/// `GET /jobservice/jobs/{job_id}/log`: the job's log as text.
pub async fn job_log(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.system(RESOURCE, "list")?;
    let id = job_id(&id)?;
    let job = state
        .db
        .job(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no job {id}")))?;
    log_text(&state, &job).await
}

/// A job's log as `text/plain`, one line per entry: `time [LEVEL] text`.
pub async fn log_text(state: &AppState, job: &JobRow) -> Result<Response, ApiError> {
    let lines = state.db.job_log(job.id).await?;
    let mut text = String::new();
    for line in lines {
        text.push_str(&line.at);
        text.push_str(" [");
        text.push_str(&line.level);
        text.push_str("] ");
        text.push_str(&line.line);
        text.push('\n');
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        text,
    )
        .into_response())
}

/// `GET /jobservice/queues`: every job type with its pending jobs, how long the oldest due one has waited,
/// and whether it is paused.
pub async fn queues(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<JobQueue>>, ApiError> {
    caller.system(RESOURCE, "list")?;
    let rows = state.db.job_queues().await?;
    let paused = state.db.paused_queues().await?;
    let now = Utc::now();
    let mut kinds: Vec<String> = KINDS.iter().map(|k| k.name.to_owned()).collect();
    for row in &rows {
        if !kinds.contains(&row.kind) {
            kinds.push(row.kind.clone());
        }
    }
    kinds.sort();
    Ok(Json(
        kinds
            .into_iter()
            .map(|kind| {
                let row = rows.iter().find(|r| r.kind == kind);
                let latency = row
                    .and_then(|r| r.oldest.as_deref())
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map_or(0, |t| (now - t.with_timezone(&Utc)).num_seconds().max(0));
                JobQueue {
                    count: row.map_or(0, |r| r.pending),
                    latency,
                    paused: paused.contains(&kind),
                    job_type: kind,
                }
            })
            .collect(),
    ))
}

/// The job types `job_type` names: `all` (any case) for every one, else the one type (upper case, as
/// Harbor's); 404 for a type Berth does not run.
fn job_types(job_type: &str) -> Result<Vec<&'static str>, ApiError> {
    if job_type.eq_ignore_ascii_case("all") {
        return Ok(KINDS.iter().map(|k| k.name).collect());
    }
    let upper = job_type.to_ascii_uppercase();
    crate::jobs::kind(&upper)
        .map(|k| vec![k.name])
        .ok_or_else(|| ApiError::NotFound(format!("no job type {}", clip(job_type))))
}

/// `PUT /jobservice/queues/{job_type}` with `{"action": "stop|pause|resume"}`: `stop` stops the type's
/// pending and running jobs; `pause` keeps its pending jobs from being claimed until `resume`.
pub async fn queue_action(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(job_type): Path<String>,
    Json(request): Json<ActionRequest>,
) -> Result<Response, ApiError> {
    let subject = caller.system(RESOURCE, "stop")?;
    let kinds = job_types(&job_type)?;
    let action = request.action.to_ascii_lowercase();
    let now = timestamp(Utc::now());
    match action.as_str() {
        "stop" => {
            let running = state.jobs.stop_kinds(&state.db, &kinds).await?;
            tracing::info!(queues = ?kinds, running, "job queues stopped");
        }
        "pause" => state.db.set_queues_paused(&kinds, true, &now).await?,
        "resume" => {
            state.db.set_queues_paused(&kinds, false, &now).await?;
            state.jobs.wake();
        }
        _ => {
            return Err(ApiError::BadRequest(format!(
                "action must be stop, pause or resume, not {:?}",
                clip(&request.action)
            )));
        }
    }
    Audit::new(
        Op::Update,
        "job_queue",
        format!("{action} {}", kinds.join(",")),
    )
    .by_subject(subject, &client)
    .record(&state.db)
    .await;
    Ok(().into_response())
}

/// `GET /schedules`: one page of every schedule.
pub async fn schedules(
    State(state): State<AppState>,
    caller: Caller,
    page: Page,
) -> Result<Response, ApiError> {
    caller.system(RESOURCE, "list")?;
    let (rows, total) = state.db.list_schedules(page.limit(), page.offset()).await?;
    let body: Vec<ScheduleTask> = rows
        .into_iter()
        .map(|s| ScheduleTask {
            id: s.id,
            vendor_type: s.vendor_type,
            vendor_id: s.vendor_id,
            cron: s.cron,
            update_time: s.updated_at,
        })
        .collect();
    Ok((
        page.headers(total, &format!("{BASE}/schedules"), &[]),
        Json(body),
    )
        .into_response())
}

/// `GET /schedules/{job_type}/paused`: whether the type's queue is paused (`all`: whether every one is).
pub async fn schedule_paused(
    State(state): State<AppState>,
    caller: Caller,
    Path(job_type): Path<String>,
) -> Result<Json<SchedulerStatus>, ApiError> {
    caller.system(RESOURCE, "list")?;
    let kinds = job_types(&job_type)?;
    let paused = state.db.paused_queues().await?;
    Ok(Json(SchedulerStatus {
        paused: kinds.iter().all(|k| paused.iter().any(|p| p == k)),
    }))
}
