//! Registry endpoints: `/registries`, `/registries/{id}`, `/registries/ping`, `/registries/{id}/info` and
//! `/replication/adapters`.
//!
//! A registry endpoint is a system-level resource, as in Harbor (`src/server/v2.0/handler/registry.go`): only
//! system administrators, and system robots given the `registry` (or `replication-adapter:list`) permission
//! the operation needs, may use these (401 anonymous, 403 otherwise). The access secret is stored sealed and
//! never returned: responses show `*****` in its place. An endpoint that a proxy-cache project uses cannot be
//! deleted (412); editing its URL or credential keeps its projects, which refer to it by id.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::registries::{
    MASKED_SECRET, REGISTRY_TYPES, Registry, RegistryCredential, RegistryInfo, RegistryPing,
    RegistryUpdate,
};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::pagination::Page;
use super::query::{Pattern, add, list_query};
use super::{BASE, Caller};
use crate::app::AppState;
use crate::db::{DeleteRegistry, REGISTRIES, RegistryRow};
use crate::events::audit::{Audit, ClientIp, Operation as Op};
use crate::proxy::EndpointKind;
use crate::service::registries::{self, Draft};

/// Query parameters of `GET /registries` besides the page.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    sort: Option<String>,
    /// Deprecated in Harbor in favour of `q`: a substring of the name.
    name: Option<String>,
}

/// `GET /registries`: one page of endpoints, by name. `q` and `sort` take `id`, `name`, `type`, `url`,
/// `description`, `status`, `creation_time` and `update_time`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    caller.system("registry", "list")?;
    let fields = REGISTRIES.as_slice();
    let mut filters = list_query(query.q.as_deref(), query.sort.as_deref(), fields)?;
    if let Some(name) = query.name.clone().filter(|n| !n.is_empty()) {
        add(&mut filters, fields, "name", Pattern::Fuzzy(name))?;
    }
    let (rows, total) = state
        .db
        .list_registries(&filters, page.limit(), page.offset())
        .await?;
    let mut kept = Vec::new();
    for (key, value) in [
        ("q", &query.q),
        ("sort", &query.sort),
        ("name", &query.name),
    ] {
        if let Some(value) = value {
            kept.push((key, value.clone()));
        }
    }
    let body: Vec<Registry> = rows.into_iter().map(|row| registry(&state, row)).collect();
    Ok((
        page.headers(total, &format!("{BASE}/registries"), &kept),
        Json(body),
    )
        .into_response())
}

/// `POST /registries`: stores an endpoint; 201 with its `Location`, 409 if the name is taken, 400 for an
/// unknown type, a bad URL or an unsupported credential type.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    body: Json<Registry>,
) -> Result<Response, ApiError> {
    let subject = caller.system("registry", "create")?;
    let Json(req) = body;
    if req.registry_type.is_empty() {
        return Err(ApiError::BadRequest("type is required".to_owned()));
    }
    let credential = req.credential.clone().unwrap_or_default();
    let draft = Draft {
        name: Some(&req.name),
        kind: Some(&req.registry_type),
        url: Some(&req.url),
        description: Some(&req.description),
        insecure: Some(req.insecure),
        ca_certificate: req.ca_certificate.as_deref(),
        credential_type: credential.credential_type.as_deref(),
        access_key: Some(credential.access_key.as_deref().unwrap_or_default()),
        access_secret: credential.access_secret.as_deref(),
    };
    let id = registries::create(&state.db, &state.secrets, &draft).await?;
    tracing::info!(registry = %req.name.trim(), id, by = subject.name(), "registry endpoint created");
    Audit::new(Op::Create, "registry", req.name.trim())
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    let location = HeaderValue::try_from(format!("{BASE}/registries/{id}"))
        .map_err(|e| ApiError::internal("location header", e))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// `GET /registries/{id}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Registry>, ApiError> {
    caller.system("registry", "read")?;
    let row = find(&state, &id).await?;
    Ok(Json(registry(&state, row)))
}

/// `PUT /registries/{id}`: replaces the fields given. The endpoint's health is unknown until checked again,
/// and the proxy's client for it is rebuilt on next use.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(id): Path<String>,
    body: Json<RegistryUpdate>,
) -> Result<StatusCode, ApiError> {
    let subject = caller.system("registry", "update")?;
    let id = parse_id(&id)?;
    let Json(req) = body;
    let draft = Draft {
        name: req.name.as_deref(),
        kind: None,
        url: req.url.as_deref(),
        description: req.description.as_deref(),
        insecure: req.insecure,
        ca_certificate: req.ca_certificate.as_deref(),
        credential_type: req.credential_type.as_deref(),
        access_key: req.access_key.as_deref(),
        access_secret: req.access_secret.as_deref(),
    };
    let name = registries::update(&state.db, &state.secrets, id, &draft).await?;
    state.proxy.forget_endpoint(id);
    tracing::info!(registry = %name, id, by = subject.name(), "registry endpoint updated");
    Audit::new(Op::Update, "registry", name)
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    Ok(StatusCode::OK)
}

/// `DELETE /registries/{id}`: 412 while a project is a proxy cache of it.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let subject = caller.system("registry", "delete")?;
    let row = find(&state, &id).await?;
    let policies = state.db.replication_policies_using(row.id).await?;
    if !policies.is_empty() {
        return Err(ApiError::PreconditionFailed(format!(
            "can not delete the registry {}: it is used by the replication policy(ies) {}",
            row.name,
            policies.join(", ")
        )));
    }
    match state.db.delete_registry(row.id).await? {
        DeleteRegistry::Deleted => {}
        DeleteRegistry::NotFound => return Err(not_found(row.id)),
        DeleteRegistry::InUse(projects) => {
            return Err(ApiError::PreconditionFailed(format!(
                "can not delete the registry {}: it is used by the proxy-cache project(s) {}",
                row.name,
                projects.join(", ")
            )));
        }
    }
    state.proxy.forget_endpoint(row.id);
    tracing::info!(registry = %row.name, id = row.id, by = subject.name(), "registry endpoint deleted");
    Audit::new(Op::Delete, "registry", &row.name)
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    Ok(StatusCode::OK)
}

/// `POST /registries/ping`: checks that the endpoint answers `/v2/` and accepts its credential. By `id`, a
/// stored endpoint (any other field given replaces the stored one for this check; a check as stored updates
/// its `status`); else the unsaved endpoint of `type`, `url` and credential. 200 when healthy; 400 saying why
/// when not, as Harbor answers.
pub async fn ping(
    State(state): State<AppState>,
    caller: Caller,
    body: Json<RegistryPing>,
) -> Result<StatusCode, ApiError> {
    caller.system("registry", "read")?;
    let Json(req) = body;
    if req.id.is_none() && req.url.as_deref().is_none_or(str::is_empty) {
        // Harbor's wording. Types with a well-known registry still need the URL named here.
        let kind = req.registry_type.as_deref().unwrap_or_default();
        if kind
            .parse::<EndpointKind>()
            .ok()
            .and_then(EndpointKind::default_url)
            .is_none()
        {
            return Err(ApiError::BadRequest(
                "type or url cannot be empty".to_owned(),
            ));
        }
    }
    let draft = Draft {
        name: None,
        kind: req.registry_type.as_deref(),
        url: req.url.as_deref(),
        description: None,
        insecure: req.insecure,
        ca_certificate: req.ca_certificate.as_deref(),
        credential_type: req.credential_type.as_deref(),
        access_key: req.access_key.as_deref(),
        access_secret: req.access_secret.as_deref(),
    };
    let health = registries::ping(
        &state.db,
        &state.secrets,
        state.proxy.config(),
        req.id,
        &draft,
    )
    .await?;
    if health.healthy {
        Ok(StatusCode::OK)
    } else {
        Err(ApiError::BadRequest(format!(
            "the registry is unhealthy: {}",
            health.message.as_deref().unwrap_or("no reason given")
        )))
    }
}

/// `GET /registries/{id}/info`: what the endpoint's type supports as a replication policy's other side.
pub async fn info(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RegistryInfo>, ApiError> {
    caller.system("registry", "read")?;
    let row = find(&state, &id).await?;
    let description = match row.kind.parse::<EndpointKind>() {
        Ok(EndpointKind::DockerHub) => "Docker Hub",
        Ok(EndpointKind::DockerRegistry) => "A registry speaking the OCI distribution API",
        Ok(EndpointKind::Harbor) => "Harbor",
        Ok(EndpointKind::GithubGhcr) => "GitHub Container Registry",
        Ok(EndpointKind::Quay) => "Quay",
        Err(_) => "",
    };
    Ok(Json(RegistryInfo {
        registry_type: row.kind,
        description: description.to_owned(),
        supported_resource_filters: Vec::new(),
        supported_triggers: super::replication::supported_triggers(),
        supported_copy_by_chunk: None,
    }))
}

/// `GET /replication/adapters`: the registry types endpoints may have.
pub async fn adapters(caller: Caller) -> Result<Json<Vec<String>>, ApiError> {
    caller.system("replication-adapter", "list")?;
    Ok(Json(
        REGISTRY_TYPES.iter().map(|t| (*t).to_owned()).collect(),
    ))
}

async fn find(state: &AppState, id: &str) -> Result<RegistryRow, ApiError> {
    let id = parse_id(id)?;
    state.db.registry(id).await?.ok_or_else(|| not_found(id))
}

fn parse_id(id: &str) -> Result<i64, ApiError> {
    match id.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ApiError::BadRequest(format!(
            "registry id must be a positive integer, not {id:?}"
        ))),
    }
}

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("registry {id} not found"))
}

/// Harbor's `Registry` for a stored endpoint: the secret masked, never shown.
/// Harbor's `Registry` for `row`, with the rate limit the upstream reported last (in a pull, or else in the last
/// check).
pub(super) fn registry(state: &AppState, row: RegistryRow) -> Registry {
    let ratelimit_remaining = state.proxy.ratelimit_remaining(row.id).or(row.ratelimit);
    let credential = match (&row.credential_type, &row.access_key) {
        (Some(kind), Some(key)) if !key.is_empty() => Some(RegistryCredential {
            credential_type: Some(kind.clone()),
            access_key: Some(key.clone()),
            access_secret: Some(if row.access_secret.is_some() {
                MASKED_SECRET.to_owned()
            } else {
                String::new()
            }),
        }),
        _ => None,
    };
    Registry {
        id: row.id,
        url: row.url,
        name: row.name,
        credential,
        registry_type: row.kind,
        insecure: row.insecure,
        ca_certificate: None,
        description: row.description,
        status: row.status,
        creation_time: row.created_at,
        update_time: row.updated_at,
        ratelimit_remaining,
    }
}
