//! Harbor's scan-all (Administration → Interrogation Services → Vulnerability): `GET`/`POST`/`PUT
//! /system/scanAll/schedule` with Harbor's `Schedule` (`Manual` runs one now, `None` removes the schedule,
//! `Hourly`, `Daily`, `Weekly` and `Custom` set it), `POST /system/scanAll/stop`, and the progress of the latest
//! run as Harbor's `Stats` (`/scans/all/metrics`; `/scans/schedule/metrics` for the latest scheduled one).
//! System administrators, and robots given Harbor's `scan-all` permissions. The job is
//! [`crate::scan::scan_all`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_api::jobs::{Schedule, ScheduleObj};
use berth_api::vulnerabilities::Stats;

use super::Caller;
use super::error::ApiError;
use super::extract::Json;
use super::purgeaudit::{SystemJob, apply};
use crate::app::AppState;
use crate::auth::Subject;
use crate::events::audit::{Audit, ClientIp, Operation as Op};
use crate::jobs::schedule::{self, ScheduleRequest};
use crate::jobs::{EnqueueError, MANUAL, SCHEDULE};
use crate::scan::scan_all::{self, NAME};

const RESOURCE: &str = "scan-all";

/// The most parameters a scan-all schedule body may carry (it takes none; Harbor's console sends none).
const MAX_PARAMETERS: usize = 16;

const SCAN_ALL: SystemJob = SystemJob {
    name: NAME,
    path: "/system/scanAll",
    parameters: |p| {
        if p.len() > MAX_PARAMETERS {
            return Err(format!(
                "scan-all takes no parameters (at most {MAX_PARAMETERS} are ignored)"
            ));
        }
        Ok(serde_json::json!({}))
    },
};

/// `GET /system/scanAll/schedule`: Harbor's `Schedule`, of type `None` when there is none.
pub async fn get_schedule(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Schedule>, ApiError> {
    caller.system(RESOURCE, "read")?;
    let Some(row) = state.db.schedule(NAME, 0).await? else {
        return Ok(Json(Schedule {
            id: None,
            status: None,
            creation_time: None,
            update_time: None,
            schedule: Some(ScheduleObj {
                kind: "None".to_owned(),
                cron: None,
                next_scheduled_time: None,
            }),
            parameters: serde_json::Map::new(),
        }));
    };
    Ok(Json(Schedule {
        id: Some(row.id),
        status: Some("Scheduled".to_owned()),
        creation_time: Some(row.created_at),
        update_time: Some(row.updated_at),
        schedule: Some(ScheduleObj {
            kind: row.schedule_type,
            cron: Some(row.cron),
            next_scheduled_time: Some(row.next_run),
        }),
        parameters: serde_json::Map::new(),
    }))
}

/// `POST /system/scanAll/schedule`: `Manual` runs a scan-all now (201; 409 while one is queued or running),
/// any other type sets or removes the schedule (201).
pub async fn create_schedule(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Json(body): Json<Schedule>,
) -> Result<Response, ApiError> {
    let subject = caller.system(RESOURCE, "create")?;
    let manual = body.schedule.as_ref().is_some_and(|s| {
        schedule::parse_request(&s.kind, s.cron.as_deref()) == Ok(ScheduleRequest::Manual)
    });
    if manual {
        (SCAN_ALL.parameters)(&body.parameters).map_err(ApiError::BadRequest)?;
        return run_now(&state, subject, &client).await;
    }
    apply(
        &state,
        subject,
        &client,
        body,
        StatusCode::CREATED,
        &SCAN_ALL,
    )
    .await
}

/// `PUT /system/scanAll/schedule`: sets or removes the schedule (200). `Manual` is for `POST`.
pub async fn update_schedule(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Json(body): Json<Schedule>,
) -> Result<Response, ApiError> {
    let subject = caller.system(RESOURCE, "update")?;
    if body.schedule.as_ref().is_some_and(|s| s.kind == "Manual") {
        return Err(ApiError::BadRequest(
            "a Manual scan-all is started with POST /system/scanAll/schedule; PUT sets or removes the schedule"
                .to_owned(),
        ));
    }
    apply(&state, subject, &client, body, StatusCode::OK, &SCAN_ALL).await
}

async fn run_now(
    state: &AppState,
    subject: &Subject,
    client: &ClientIp,
) -> Result<Response, ApiError> {
    if let Some(job) = state.db.latest_job(NAME, None).await?
        && matches!(job.state.as_str(), "pending" | "running")
    {
        return Err(ApiError::Conflict(format!(
            "a scan-all (job {}) is already {}; stop it or wait for it to end",
            job.id, job.state
        )));
    }
    let id = state
        .jobs
        .enqueue(
            &state.db,
            NAME,
            &serde_json::json!({}),
            MANUAL,
            subject.name(),
        )
        .await
        .map_err(|e| match e {
            EnqueueError::QueueFull(..) => {
                ApiError::Conflict("a scan-all is already queued".to_owned())
            }
            EnqueueError::Db(e) => e.into(),
            EnqueueError::UnknownKind(_) => ApiError::internal("enqueueing scan-all", e),
        })?;
    Audit::new(Op::Create, "job", format!("{NAME} {id}"))
        .by_subject(subject, client)
        .record(&state.db)
        .await;
    Ok(StatusCode::CREATED.into_response())
}

/// `POST /system/scanAll/stop`: stops the queued or running scan-all (between two artifacts); 400 when none is.
pub async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
) -> Result<Response, ApiError> {
    let subject = caller.system(RESOURCE, "stop")?;
    let Some(job) = state
        .db
        .latest_job(NAME, None)
        .await?
        .filter(|j| matches!(j.state.as_str(), "pending" | "running"))
    else {
        return Err(ApiError::BadRequest(
            "no scan-all is queued or running".to_owned(),
        ));
    };
    super::jobservice::stop(&state, job.id, subject, &client).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `GET /scans/all/metrics`: the latest scan-all's progress.
pub async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Stats>, ApiError> {
    caller.system(RESOURCE, "read")?;
    Ok(Json(scan_all::stats(&state, None).await?))
}

/// `GET /scans/schedule/metrics`: the latest scheduled scan-all's progress (deprecated in Harbor).
pub async fn schedule_metrics(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Stats>, ApiError> {
    caller.system(RESOURCE, "read")?;
    Ok(Json(scan_all::stats(&state, Some(SCHEDULE)).await?))
}
