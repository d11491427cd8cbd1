//! The audit log: `GET /audit-logs` (system administrators: every entry) and
//! `GET /projects/{project_name}/logs` (the project's entries, for its project admins and system
//! administrators, as Harbor's role matrix gives the `log` resource to ProjectAdmin only); the same entries as
//! Harbor 2.13's extended audit log (`GET /auditlog-exts`, `GET /projects/{project_name}/auditlog-exts`, with
//! the same access), whose `AuditLogExt` adds a description and the result, and its event types
//! (`GET /auditlog-exts/events`).
//!
//! `q` and `sort` take the keys of [`list::AUDIT_LOGS`] (`username`, `resource`, `resource_type`,
//! `operation`, `op_time`, …), e.g. `q=operation=create,op_time=[2024-01-01 00:00:00~2024-12-31 23:59:59]`.
//! Entries are listed newest first unless sorted.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use berth_api::audit::{AuditLog, AuditLogEventType, AuditLogExt};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::pagination::Page;
use super::query::list_query;
use super::repositories::{authorize, project};
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::policy::{Operation, Resource};
use crate::db::{AuditEntry, list};
use crate::events::audit::{EVENT_TYPES, succeeded};

/// The query of both endpoints.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    sort: Option<String>,
}

/// `GET /audit-logs`: every entry, for system administrators (and robots given `audit-log:list`).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    caller.system("audit-log", "list")?;
    respond(
        &state,
        &query,
        None,
        format!("{BASE}/audit-logs"),
        page,
        to_wire,
    )
    .await
}

/// `GET /projects/{project_name}/logs`: the project's entries, for its project admins.
pub async fn list_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(project_name): Path<String>,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let (project, access) = project(&state, &caller, &project_name).await?;
    authorize(&caller, access, Resource::Log, Operation::List)?;
    let path = format!("{BASE}/projects/{}/logs", project.name);
    respond(&state, &query, Some(project.id), path, page, to_wire).await
}

/// `GET /auditlog-exts`: every entry as Harbor's `AuditLogExt`, for system administrators (and robots given
/// `audit-log:list`).
pub async fn list_ext(
    State(state): State<AppState>,
    caller: Caller,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    caller.system("audit-log", "list")?;
    let path = format!("{BASE}/auditlog-exts");
    respond(&state, &query, None, path, page, to_ext).await
}

/// `GET /projects/{project_name}/auditlog-exts`: the project's entries as `AuditLogExt`, for its project
/// admins.
pub async fn list_project_ext(
    State(state): State<AppState>,
    caller: Caller,
    Path(project_name): Path<String>,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let (project, access) = project(&state, &caller, &project_name).await?;
    authorize(&caller, access, Resource::Log, Operation::List)?;
    let path = format!("{BASE}/projects/{}/auditlog-exts", project.name);
    respond(&state, &query, Some(project.id), path, page, to_ext).await
}

/// `GET /auditlog-exts/events`: the event types Berth records, `operation_resourcetype` (`create_project`,
/// `login_failed_user`, …), for those who may read the whole log.
pub async fn event_types(caller: Caller) -> Result<Json<Vec<AuditLogEventType>>, ApiError> {
    caller.system("audit-log", "list")?;
    Ok(Json(
        EVENT_TYPES
            .iter()
            .map(|(operation, resource_type)| AuditLogEventType {
                event_type: format!("{}_{resource_type}", operation.as_str()),
            })
            .collect(),
    ))
}

async fn respond<T: serde::Serialize>(
    state: &AppState,
    query: &ListQuery,
    project_id: Option<i64>,
    path: String,
    page: Page,
    to_wire: fn(AuditEntry) -> T,
) -> Result<Response, ApiError> {
    let filters = list_query(query.q.as_deref(), query.sort.as_deref(), &list::AUDIT_LOGS)?;
    let (rows, total) = state
        .db
        .list_audit(&filters, project_id, page.limit(), page.offset())
        .await?;
    let kept: Vec<(&str, String)> = [("q", &query.q), ("sort", &query.sort)]
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
        .collect();
    let body: Vec<T> = rows.into_iter().map(to_wire).collect();
    Ok((page.headers(total, &path, &kept), Json(body)).into_response())
}

fn to_wire(row: AuditEntry) -> AuditLog {
    AuditLog {
        id: row.id,
        username: row.username,
        resource: row.resource,
        resource_type: row.resource_type,
        operation: row.operation,
        op_time: row.op_time,
        client_ip: row.client_ip,
    }
}

fn to_ext(row: AuditEntry) -> AuditLogExt {
    AuditLogExt {
        id: row.id,
        operation_description: format!("{} {}: {}", row.operation, row.resource_type, row.resource),
        operation_result: succeeded(&row.operation),
        username: row.username,
        resource: row.resource,
        resource_type: row.resource_type,
        operation: row.operation,
        op_time: row.op_time,
    }
}
