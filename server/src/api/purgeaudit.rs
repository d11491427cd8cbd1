//! Harbor's audit-log purge (Administration → Clean Up → Log Rotation): `GET /system/purgeaudit` (history),
//! `GET`/`PUT` (stop) `/system/purgeaudit/{purge_id}`, `GET /system/purgeaudit/{purge_id}/log`, and
//! `GET`/`POST`/`PUT /system/purgeaudit/schedule`. A schedule of type `Manual` runs a purge now; `None`
//! removes the schedule; `Hourly`, `Daily`, `Weekly` and `Custom` set it. System administrators, and robots
//! given Harbor's `purge-audit` permissions. The job itself is [`crate::jobs::purge_audit`].

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::jobs::{ExecHistory, Schedule, ScheduleObj};
use chrono::Utc;

use super::error::ApiError;
use super::extract::{Json, Path};
use super::jobservice::{log_text, stop};
use super::pagination::Page;
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::Subject;
use crate::db::jobs::{JobRow, NewSchedule};
use crate::db::timestamp;
use crate::events::audit::{Audit, ClientIp, Operation as Op, clip};
use crate::jobs::purge_audit::{self, NAME};
use crate::jobs::schedule::{self, ScheduleRequest};
use crate::jobs::{EnqueueError, MANUAL};

const RESOURCE: &str = "purge-audit";

/// Harbor's spelling of a job state.
pub fn status(state: &str) -> String {
    match state {
        "pending" => "Pending",
        "running" => "Running",
        "success" => "Success",
        "error" => "Error",
        "stopped" => "Stopped",
        other => other,
    }
    .to_owned()
}

/// A job as Harbor's `ExecHistory`.
pub fn history(job: JobRow) -> ExecHistory {
    ExecHistory {
        id: job.id,
        job_name: job.kind,
        job_kind: job.triggered_by.clone(),
        job_parameters: job.parameters,
        schedule: Some(ScheduleObj {
            kind: job.triggered_by,
            cron: None,
            next_scheduled_time: None,
        }),
        job_status: status(&job.state),
        deleted: false,
        creation_time: job.created_at,
        update_time: job.updated_at,
    }
}

/// `GET /system/purgeaudit`: one page of purge runs, newest first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    page: Page,
) -> Result<Response, ApiError> {
    caller.system(RESOURCE, "list")?;
    list_runs(&state, &page, &PURGE).await
}

/// One page of `job`'s runs, newest first, with Harbor's pagination headers.
pub(super) async fn list_runs(
    state: &AppState,
    page: &Page,
    job: &SystemJob,
) -> Result<Response, ApiError> {
    let (rows, total) = state
        .db
        .list_jobs(job.name, page.limit(), page.offset())
        .await?;
    let body: Vec<ExecHistory> = rows.into_iter().map(history).collect();
    Ok((
        page.headers(total, &format!("{BASE}{}", job.path), &[]),
        Json(body),
    )
        .into_response())
}

async fn find(state: &AppState, id: &str) -> Result<JobRow, ApiError> {
    find_run(state, id, &PURGE, "purge_id").await
}

/// Run `id` (the path parameter named `param`) of `job`.
pub(super) async fn find_run(
    state: &AppState,
    id: &str,
    job: &SystemJob,
    param: &str,
) -> Result<JobRow, ApiError> {
    let id: i64 = id.parse().map_err(|_| {
        ApiError::BadRequest(format!("{param} must be an integer, not {:?}", clip(id)))
    })?;
    state
        .db
        .job(id)
        .await?
        .filter(|row| row.kind == job.name)
        .ok_or_else(|| ApiError::NotFound(format!("no {} job {id}", job.name)))
}

/// `GET /system/purgeaudit/{purge_id}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ExecHistory>, ApiError> {
    caller.system(RESOURCE, "read")?;
    Ok(Json(history(find(&state, &id).await?)))
}

/// `PUT /system/purgeaudit/{purge_id}`: stops the run.
pub async fn stop_run(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let subject = caller.system(RESOURCE, "stop")?;
    let job = find(&state, &id).await?;
    stop(&state, job.id, subject, &client).await?;
    Ok(().into_response())
}

/// `GET /system/purgeaudit/{purge_id}/log`: the run's log as text.
pub async fn log(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.system(RESOURCE, "read")?;
    let job = find(&state, &id).await?;
    log_text(&state, &job).await
}

/// `GET /system/purgeaudit/schedule`: the schedule as Harbor's `ExecHistory` (its cron in `job_kind`, as
/// Harbor's), or one whose schedule type is `None` when there is none.
pub async fn get_schedule(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ExecHistory>, ApiError> {
    caller.system(RESOURCE, "read")?;
    schedule_of(&state, NAME).await.map(Json)
}

/// The schedule of job kind `name` as Harbor's `ExecHistory`, or one of type `None` when there is none.
pub(super) async fn schedule_of(state: &AppState, name: &str) -> Result<ExecHistory, ApiError> {
    let Some(row) = state.db.schedule(name, 0).await? else {
        return Ok(ExecHistory {
            id: 0,
            job_name: name.to_owned(),
            job_kind: String::new(),
            job_parameters: "{}".to_owned(),
            schedule: Some(ScheduleObj {
                kind: "None".to_owned(),
                cron: None,
                next_scheduled_time: None,
            }),
            job_status: String::new(),
            deleted: false,
            creation_time: String::new(),
            update_time: String::new(),
        });
    };
    Ok(ExecHistory {
        id: row.id,
        job_name: name.to_owned(),
        job_kind: row.cron.clone(),
        job_parameters: row.parameters,
        schedule: Some(ScheduleObj {
            kind: row.schedule_type,
            next_scheduled_time: Some(row.next_run),
            cron: Some(row.cron),
        }),
        job_status: "Scheduled".to_owned(),
        deleted: false,
        creation_time: row.created_at,
        update_time: row.updated_at,
    })
}

/// `POST /system/purgeaudit/schedule`: runs a purge now (`Manual`: 201 with the run's `Location`) or sets
/// the schedule.
pub async fn create_schedule(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Json(body): Json<Schedule>,
) -> Result<Response, ApiError> {
    let subject = caller.system(RESOURCE, "create")?;
    apply(&state, subject, &client, body, StatusCode::CREATED, &PURGE).await
}

/// `PUT /system/purgeaudit/schedule`: as `POST`, answering 200.
pub async fn update_schedule(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Json(body): Json<Schedule>,
) -> Result<Response, ApiError> {
    let subject = caller.system(RESOURCE, "update")?;
    apply(&state, subject, &client, body, StatusCode::OK, &PURGE).await
}

/// A system job run through a Harbor `…/schedule` endpoint: its kind, where its runs are, and how its
/// parameters are checked (into what the job is enqueued with).
pub(super) struct SystemJob {
    pub name: &'static str,
    /// The runs' path under the API, e.g. `/system/purgeaudit`.
    pub path: &'static str,
    pub parameters:
        fn(&serde_json::Map<String, serde_json::Value>) -> Result<serde_json::Value, String>,
}

const PURGE: SystemJob = SystemJob {
    name: NAME,
    path: "/system/purgeaudit",
    parameters: |p| purge_audit::parse(p).map(|p| p.to_json()),
};

/// `POST`/`PUT …/schedule` of a system job: `Manual` runs it now (answering `status` with the run's
/// `Location`), `None` removes the schedule, the others set it.
pub(super) async fn apply(
    state: &AppState,
    subject: &Subject,
    client: &ClientIp,
    body: Schedule,
    status: StatusCode,
    job: &SystemJob,
) -> Result<Response, ApiError> {
    let name = job.name;
    let Some(object) = body.schedule else {
        return Err(ApiError::BadRequest("schedule is required".to_owned()));
    };
    let request = schedule::parse_request(&object.kind, object.cron.as_deref())
        .map_err(ApiError::BadRequest)?;
    if request == ScheduleRequest::None {
        state.db.delete_schedule(name, 0).await?;
        Audit::new(Op::Delete, "schedule", name)
            .by_subject(subject, client)
            .record(&state.db)
            .await;
        return Ok(status.into_response());
    }
    let parameters = (job.parameters)(&body.parameters).map_err(ApiError::BadRequest)?;
    match request {
        ScheduleRequest::Manual => {
            let id = state
                .jobs
                .enqueue(&state.db, name, &parameters, MANUAL, subject.name())
                .await
                .map_err(|e| match e {
                    EnqueueError::QueueFull(..) => ApiError::Conflict(e.to_string()),
                    EnqueueError::Db(e) => e.into(),
                    EnqueueError::UnknownKind(_) => {
                        ApiError::internal("enqueueing a system job", e)
                    }
                })?;
            Audit::new(Op::Create, "job", format!("{name} {id}"))
                .by_subject(subject, client)
                .record(&state.db)
                .await;
            let location = HeaderValue::try_from(format!("{BASE}{}/{id}", job.path))
                .map_err(|e| ApiError::internal("location header", e))?;
            Ok((status, [(header::LOCATION, location)]).into_response())
        }
        ScheduleRequest::Periodic { kind, cron } => {
            let next = schedule::next_of(&cron, Utc::now()).ok_or_else(|| {
                ApiError::BadRequest("the cron expression never fires".to_owned())
            })?;
            let parameters = parameters.to_string();
            state
                .db
                .put_schedule(&NewSchedule {
                    vendor_type: name,
                    vendor_id: 0,
                    schedule_type: kind,
                    cron: &cron,
                    parameters: &parameters,
                    operator: subject.name(),
                    next_run: &timestamp(next),
                })
                .await?;
            Audit::new(Op::Update, "schedule", format!("{name} {kind} {cron}"))
                .by_subject(subject, client)
                .record(&state.db)
                .await;
            Ok(status.into_response())
        }
        ScheduleRequest::None => Ok(status.into_response()),
    }
}
