//! The audit log: `GET /audit-logs` (system administrators: every entry) and
//! `GET /projects/{project_name}/logs` (the project's entries, for its project admins and system
//! administrators, as Harbor's role matrix gives the `log` resource to ProjectAdmin only).
//!
//! `q` may filter by `operation` (exactly), `resource` and `username` (exactly or, with `~`, by substring).
//! Entries are listed newest first.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use berth_api::audit::AuditLog;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::pagination::Page;
use super::query::{Match, parse_q};
use super::repositories::{authorize, project};
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::policy::{Operation, Resource};
use crate::db::{AuditEntry, AuditFilter};

/// The query of both endpoints.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
}

/// `GET /audit-logs`: every entry, for system administrators.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    caller.sysadmin()?;
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
    let terms = parse_q(query.q.as_deref(), &["operation", "resource", "username"])?;
    let mut filter = AuditFilter {
        project_id,
        ..AuditFilter::default()
    };
    for (key, value) in &terms {
        match (key.as_str(), value) {
            ("operation", Match::Exact(v)) => filter.operation = Some(v),
            ("operation", Match::Fuzzy(_)) => {
                return Err(ApiError::BadRequest(
                    "operation takes an exact value".to_owned(),
                ));
            }
            ("resource", Match::Exact(v)) => filter.resource = Some(v),
            ("resource", Match::Fuzzy(v)) => filter.resource_contains = Some(v),
            (_, Match::Exact(v)) => filter.username = Some(v),
            (_, Match::Fuzzy(v)) => filter.username_contains = Some(v),
        }
    }
    let (rows, total) = state
        .db
        .list_audit(&filter, page.limit(), page.offset())
        .await?;
    let kept: Vec<(&str, String)> = query.q.iter().map(|q| ("q", q.clone())).collect();
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
