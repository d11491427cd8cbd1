//! Harbor's garbage collection (Administration → Clean Up → Garbage Collection): `GET /system/gc` (history),
//! `GET`/`PUT` (stop) `/system/gc/{gc_id}`, `GET /system/gc/{gc_id}/log`, and `GET`/`POST`/`PUT
//! /system/gc/schedule` with Harbor's parameters `delete_untagged`, `dry_run` and `workers` (1–5). A
//! schedule of type `Manual` runs a collection now; one asked for while another runs waits for it (at most one
//! runs at a time across all nodes). Bodies are Harbor's `GCHistory`, whose fields are `ExecHistory`'s. System
//! administrators, and robots given Harbor's `garbage-collection` permissions. The job is [`crate::gc`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_api::jobs::{ExecHistory, Schedule};

use super::Caller;
use super::error::ApiError;
use super::extract::{Json, Path};
use super::jobservice::{log_text, stop};
use super::pagination::Page;
use super::purgeaudit::{SystemJob, apply, find_run, history, list_runs, schedule_of};
use crate::app::AppState;
use crate::events::audit::ClientIp;
use crate::gc::{self, NAME};

const RESOURCE: &str = "garbage-collection";

const GC: SystemJob = SystemJob {
    name: NAME,
    path: "/system/gc",
    parameters: |p| gc::parse(p).map(gc::GcParameters::to_json),
};

/// `GET /system/gc`: one page of collections, newest first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    page: Page,
) -> Result<Response, ApiError> {
    caller.system(RESOURCE, "list")?;
    list_runs(&state, &page, &GC).await
}

/// `GET /system/gc/{gc_id}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ExecHistory>, ApiError> {
    caller.system(RESOURCE, "read")?;
    Ok(Json(history(find_run(&state, &id, &GC, "gc_id").await?)))
}

/// `PUT /system/gc/{gc_id}`: stops the collection (between two batches).
pub async fn stop_run(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let subject = caller.system(RESOURCE, "stop")?;
    let job = find_run(&state, &id, &GC, "gc_id").await?;
    stop(&state, job.id, subject, &client).await?;
    Ok(().into_response())
}

/// `GET /system/gc/{gc_id}/log`: the collection's log as text.
pub async fn log(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.system(RESOURCE, "read")?;
    let job = find_run(&state, &id, &GC, "gc_id").await?;
    log_text(&state, &job).await
}

/// `GET /system/gc/schedule`.
pub async fn get_schedule(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ExecHistory>, ApiError> {
    caller.system(RESOURCE, "read")?;
    schedule_of(&state, NAME).await.map(Json)
}

/// `POST /system/gc/schedule`: runs a collection now (`Manual`: 201 with its `Location`) or sets the
/// schedule.
pub async fn create_schedule(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Json(body): Json<Schedule>,
) -> Result<Response, ApiError> {
    let subject = caller.system(RESOURCE, "create")?;
    apply(&state, subject, &client, body, StatusCode::CREATED, &GC).await
}

/// `PUT /system/gc/schedule`: as `POST`, answering 200.
pub async fn update_schedule(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Json(body): Json<Schedule>,
) -> Result<Response, ApiError> {
    let subject = caller.system(RESOURCE, "update")?;
    apply(&state, subject, &client, body, StatusCode::OK, &GC).await
}
