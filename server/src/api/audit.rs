//! The audit log: `GET /audit-logs` (system administrators: every entry) and
//! `GET /projects/{project_name}/logs` (the project's entries, for its project admins and system
//! administrators, as Harbor's role matrix gives the `log` resource to ProjectAdmin only).
//!
//! `q` and `sort` take the keys of [`list::AUDIT_LOGS`] (`username`, `resource`, `resource_type`,
//! `operation`, `op_time`, …), e.g. `q=operation=create,op_time=[2024-01-01 00:00:00~2024-12-31 23:59:59]`.
//! Entries are listed newest first unless sorted.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use berth_api::audit::AuditLog;
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
    respond(&state, &query, None, format!("{BASE}/audit-logs"), page).await
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
    respond(&state, &query, Some(project.id), path, page).await
}

async fn respond(
    state: &AppState,
    query: &ListQuery,
    project_id: Option<i64>,
    path: String,
    page: Page,
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
    let body: Vec<AuditLog> = rows.into_iter().map(to_wire).collect();
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
