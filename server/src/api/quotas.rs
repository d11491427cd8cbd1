//! Quotas: `/quotas` and `/quotas/{id}`. Each project has one quota, whose id is the project's id.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use berth_api::quotas::{Quota, QuotaRef, QuotaUpdateReq, ResourceList};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::pagination::Page;
use super::projects::{require, resolve};
use super::query::{Pattern, add, list_query};
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::policy::{self, Operation, Resource};
use crate::db::ProjectDetail;
use crate::db::list;

fn to_quota(p: ProjectDetail) -> Quota {
    Quota {
        id: p.id,
        reference: QuotaRef {
            id: p.id,
            name: p.name,
            owner_name: p.owner_name,
        },
        hard: ResourceList {
            storage: p.storage_limit,
        },
        used: ResourceList {
            storage: p.storage_used,
        },
        creation_time: p.created_at,
        update_time: p.updated_at,
    }
}

/// Query of `GET /quotas`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    reference: Option<String>,
    reference_id: Option<String>,
    q: Option<String>,
    sort: Option<String>,
}

/// `GET /quotas` (system admins, and robots given `quota:list`): every project's quota, by project name unless sorted. `reference` and
/// `reference_id` filter exactly; `q` and `sort` take the keys of [`list::QUOTAS`] (Harbor's sort keys are
/// `hard.storage` and `used.storage`).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
    page: Page,
) -> Result<Response, ApiError> {
    caller.system("quota", "list")?;
    let fields = list::QUOTAS.as_slice();
    let mut filters = list_query(query.q.as_deref(), query.sort.as_deref(), fields)?;
    for (key, value) in [
        ("reference", &query.reference),
        ("reference_id", &query.reference_id),
    ] {
        if let Some(value) = value.clone().filter(|v| !v.is_empty()) {
            add(&mut filters, fields, key, Pattern::Exact(value))?;
        }
    }
    let (rows, total) = state
        .db
        .list_projects(&filters, None, page.limit(), page.offset())
        .await?;
    let quotas: Vec<Quota> = rows.into_iter().map(to_quota).collect();
    let kept: Vec<(&str, String)> = [
        ("reference", &query.reference),
        ("reference_id", &query.reference_id),
        ("q", &query.q),
        ("sort", &query.sort),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
    .collect();
    Ok((
        page.headers(total, &format!("{BASE}/quotas"), &kept),
        Json(quotas),
    )
        .into_response())
}

/// `GET /quotas/{id}`: readable by system admins (and robots given `quota:read`) and the project's members.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Quota>, ApiError> {
    let project = if policy::system_permits(&caller.0, "quota", "read") {
        state
            .db
            .find_project_by_id(id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("quota {id} not found")))?
    } else {
        let (project, access) = resolve(&state, &caller, &headers, &id.to_string()).await?;
        require(access, Resource::Quota, Operation::Read)?;
        project
    };
    let detail = state
        .db
        .project_detail(project.id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("quota {id} not found")))?;
    Ok(Json(to_quota(detail)))
}

/// `PUT /quotas/{id}` (system admins): sets the storage limit in bytes, -1 for unlimited. A limit below the
/// current usage is allowed, as in Harbor: nothing is deleted, further pushes are refused.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(request): Json<QuotaUpdateReq>,
) -> Result<(), ApiError> {
    let admin = caller.sysadmin()?;
    let limit = request.hard.storage;
    if limit < -1 || limit == 0 {
        return Err(ApiError::BadRequest(format!(
            "hard.storage must be -1 (unlimited) or a positive number of bytes, not {limit}"
        )));
    }
    if !state.db.set_quota_limit(id, limit).await? {
        return Err(ApiError::NotFound(format!("quota {id} not found")));
    }
    tracing::info!(project_id = id, limit, by = admin.name(), "quota changed");
    Ok(())
}
