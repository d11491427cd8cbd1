//! Scanner registrations (`/scanners`, `/scanners/ping`, `/scanners/{registration_id}[/metadata]`), a project's
//! scanner (`/projects/{p}/scanner[/candidates]`) and the system CVE allowlist (`/system/CVEAllowlist`).
//!
//! As in Harbor (`src/server/v2.0/handler/scanner.go`, `src/controller/scanner/`): registrations are a system
//! resource (system administrators, and system robots given `scanner:{action}`); the built-in "Berth"
//! registration is immutable (403 on PUT and DELETE); a new registration is pinged first; the credential is
//! never returned. A project's scanner is read by anyone who may read the project and set by its project
//! admins (`scanner:create` of the role matrix). The system allowlist is read by any signed-in user and
//! written by system administrators.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::projects::CveAllowlist;
use berth_api::scanners::{
    IsDefault, ProjectScanner, ScannerAdapterMetadata, ScannerRegistration, ScannerRegistrationReq,
    ScannerRegistrationSettings,
};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::pagination::Page;
use super::projects::{allowlist_of, allowlist_response, resolve};
use super::query::{Pattern, add, list_query};
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::Subject;
use crate::auth::policy::ProjectAccess;
use crate::db::{DeleteScanner, Project, SCANNERS, ScannerRow, SetDefault};
use crate::events::audit::{Audit, ClientIp, Operation as Op};
use crate::service::scanners as service;

/// Query parameters of the registration lists besides the page.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    sort: Option<String>,
    /// Harbor's older parameters: parts of the name, description or URL.
    name: Option<String>,
    description: Option<String>,
    url: Option<String>,
}

/// One page of registrations for `query`, with Harbor's paging headers for `path`.
async fn page_of(
    state: &AppState,
    page: Page,
    query: &ListQuery,
    path: &str,
) -> Result<Response, ApiError> {
    let fields = SCANNERS.as_slice();
    let mut filters = list_query(query.q.as_deref(), query.sort.as_deref(), fields)?;
    for (key, value) in [
        ("name", &query.name),
        ("description", &query.description),
        ("url", &query.url),
    ] {
        if let Some(value) = value.clone().filter(|v| !v.is_empty()) {
            add(&mut filters, fields, key, Pattern::Fuzzy(value))?;
        }
    }
    let (rows, total) = state
        .db
        .list_scanners(&filters, page.limit(), page.offset())
        .await?;
    let kept: Vec<(&str, String)> = [
        ("q", &query.q),
        ("sort", &query.sort),
        ("name", &query.name),
        ("description", &query.description),
        ("url", &query.url),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
    .collect();
    let body: Vec<ScannerRegistration> = rows.into_iter().map(registration).collect();
    Ok((page.headers(total, path, &kept), Json(body)).into_response())
}

/// `GET /scanners`: one page of registrations, the default first, then the newest. `q` and `sort` take
/// `uuid`, `name`, `description`, `url`, `disabled`, `is_default`, `auth`, `creation_time`, `update_time`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    caller.system("scanner", "list")?;
    page_of(&state, page, &query, &format!("{BASE}/scanners")).await
}

/// `POST /scanners`: registers an adapter after pinging it; 201 with its `Location`. 400 for bad settings,
/// a reserved name or an adapter that does not answer with valid metadata; 409 for a taken name or URL.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Json(req): Json<ScannerRegistrationReq>,
) -> Result<Response, ApiError> {
    let subject = caller.system("scanner", "create")?;
    let uuid = service::create(&state.db, &state.secrets, &req).await?;
    tracing::info!(scanner = %req.name.trim(), %uuid, by = subject.name(), "scanner registered");
    Audit::new(Op::Create, "scanner", req.name.trim())
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    let location = HeaderValue::try_from(format!("{BASE}/scanners/{uuid}"))
        .map_err(|e| ApiError::internal("location header", e))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// `POST /scanners/ping`: checks that the adapter at `url` answers `GET /api/v1/metadata` with metadata
/// Harbor accepts, using `auth` and `access_credential`. 200 if so; 400 saying what failed.
pub async fn ping(
    caller: Caller,
    Json(req): Json<ScannerRegistrationSettings>,
) -> Result<StatusCode, ApiError> {
    caller.system("scanner", "read")?;
    let as_req = ScannerRegistrationReq {
        name: req.name,
        url: req.url,
        auth: Some(req.auth),
        access_credential: Some(req.access_credential),
        ..ScannerRegistrationReq::default()
    };
    let settings = service::settings_of(&as_req)?;
    service::fetch_metadata(&settings).await?;
    Ok(StatusCode::OK)
}

/// `GET /scanners/{registration_id}`, with the adapter's name, vendor, version, health and capabilities
/// (asked of the adapter; `unhealthy` when it does not answer well).
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(uuid): Path<String>,
) -> Result<Json<ScannerRegistration>, ApiError> {
    caller.system("scanner", "read")?;
    let row = find(&state, &uuid).await?;
    let database = service::database_in_force(&state).await;
    let metadata = match service::metadata(&row, &state.secrets, in_force(database.as_ref())).await
    {
        Ok(metadata) => Some(metadata),
        Err(e) => {
            tracing::info!(scanner = %row.name, error = %e, "scanner adapter unhealthy");
            None
        }
    };
    let mut body = registration(row);
    describe(&mut body, metadata.as_ref());
    Ok(Json(body))
}

/// `PUT /scanners/{registration_id}`: 403 for the built-in registration; 400 for bad settings or disabling
/// the default; 409 for a taken name or URL.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(uuid): Path<String>,
    Json(req): Json<ScannerRegistrationReq>,
) -> Result<StatusCode, ApiError> {
    let subject = caller.system("scanner", "update")?;
    let row = find(&state, &uuid).await?;
    if row.immutable {
        return Err(ApiError::Forbidden(format!(
            "registration {} is not allowed to update as it is immutable: scanner API: update",
            row.name
        )));
    }
    let settings = service::update(&state.db, &state.secrets, &row, &req).await?;
    tracing::info!(scanner = %settings.name, uuid = %row.uuid, by = subject.name(), "scanner registration updated");
    Audit::new(Op::Update, "scanner", &settings.name)
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    Ok(StatusCode::OK)
}

/// `DELETE /scanners/{registration_id}`: 200 with the deleted registration; 403 for the built-in one. Its
/// projects fall back to the default, and its reports go with it. Deleting the default makes the built-in
/// registration the default again.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(uuid): Path<String>,
) -> Result<Json<ScannerRegistration>, ApiError> {
    let subject = caller.system("scanner", "delete")?;
    let row = match state.db.delete_scanner(&uuid).await? {
        DeleteScanner::Deleted(row) => *row,
        DeleteScanner::NotFound => return Err(not_found(&uuid)),
        DeleteScanner::Immutable => {
            return Err(ApiError::Forbidden(format!(
                "registration {} is not allowed to delete as it is immutable: scanner API: delete",
                clip(&uuid)
            )));
        }
    };
    tracing::info!(scanner = %row.name, uuid = %row.uuid, by = subject.name(), "scanner registration deleted");
    Audit::new(Op::Delete, "scanner", &row.name)
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    Ok(Json(registration(row)))
}

/// `PATCH /scanners/{registration_id}` with `{"is_default": true}`: makes it the system default (and no
/// other). `false` changes nothing, as in Harbor. 404 for no such registration, 400 for a disabled one.
pub async fn set_default(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(uuid): Path<String>,
    Json(req): Json<IsDefault>,
) -> Result<StatusCode, ApiError> {
    let subject = caller.system("scanner", "update")?;
    if !req.is_default {
        return Ok(StatusCode::OK);
    }
    match state.db.set_default_scanner(&uuid).await? {
        SetDefault::Done => {}
        SetDefault::NotFound => return Err(not_found(&uuid)),
        SetDefault::Disabled => {
            return Err(ApiError::BadRequest(format!(
                "scanner {} is disabled: enable it before making it the default",
                clip(&uuid)
            )));
        }
    }
    tracing::info!(%uuid, by = subject.name(), "default scanner set");
    Audit::new(Op::Update, "scanner", format!("{uuid} (default)"))
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    Ok(StatusCode::OK)
}

/// `GET /scanners/{registration_id}/metadata`: what the adapter says of itself (Berth's own for the built-in
/// registration); 400 if the adapter does not answer well.
pub async fn metadata(
    State(state): State<AppState>,
    caller: Caller,
    Path(uuid): Path<String>,
) -> Result<Json<ScannerAdapterMetadata>, ApiError> {
    caller.system("scanner", "read")?;
    let row = find(&state, &uuid).await?;
    let database = service::database_in_force(&state).await;
    Ok(Json(
        service::metadata(&row, &state.secrets, in_force(database.as_ref())).await?,
    ))
}

/// The database state of [`service::database_in_force`]'s answer.
fn in_force(database: Option<&(i64, String)>) -> Option<service::DatabaseState<'_>> {
    database.map(|(generation, built_at)| service::DatabaseState {
        built_at,
        generation: *generation,
    })
}

/// The project a path names, after checking the caller holds `scanner:{action}` in it (404 for a project it
/// cannot see, 401 anonymous, 403 otherwise).
async fn project_for(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    name_or_id: &str,
    action: &str,
) -> Result<Project, ApiError> {
    let (project, access) = resolve(state, caller, headers, name_or_id).await?;
    if holds_scanner(caller, &project, access, action) {
        return Ok(project);
    }
    if caller.0 == Subject::Anonymous {
        return Err(ApiError::Unauthorized(format!(
            "sign in to {action} the project's scanner"
        )));
    }
    Err(ApiError::Forbidden(format!(
        "scanner:{action} in project {} is for its project admins",
        project.name
    )))
}

/// Harbor's `scanner` project permission: read for members and in public projects, create (set) for
/// project admins; a robot by its own grants.
fn holds_scanner(caller: &Caller, project: &Project, access: ProjectAccess, action: &str) -> bool {
    caller.holds_in_project(access, &project.name, "scanner", action)
        || (access.public && action == "read")
}

/// `GET /projects/{project_name_or_id}/scanner`: the project's own scanner, else the system default.
pub async fn project_scanner(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(name_or_id): Path<String>,
) -> Result<Json<ScannerRegistration>, ApiError> {
    let project = project_for(&state, &caller, &headers, &name_or_id, "read").await?;
    let row = match state.db.project_scanner(project.id).await? {
        Some(row) => row,
        None => state.db.default_scanner().await?.ok_or_else(|| {
            ApiError::NotFound(format!(
                "no scanner is configured for project {}",
                project.name
            ))
        })?,
    };
    Ok(Json(registration(row)))
}

/// `PUT /projects/{project_name_or_id}/scanner` with `{"uuid": …}`: the project's scanner from now on. 400
/// for an unknown or disabled registration.
pub async fn set_project_scanner(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Path(name_or_id): Path<String>,
    Json(req): Json<ProjectScanner>,
) -> Result<StatusCode, ApiError> {
    let project = project_for(&state, &caller, &headers, &name_or_id, "create").await?;
    let row = match state.db.scanner(&req.uuid).await? {
        Some(row) => row,
        None => {
            return Err(ApiError::BadRequest(format!(
                "scanner registration {} not found",
                clip(&req.uuid)
            )));
        }
    };
    if row.disabled {
        return Err(ApiError::BadRequest(format!(
            "scanner registration {} is disabled",
            row.name
        )));
    }
    if !state.db.set_project_scanner(project.id, &row.uuid).await? {
        return Err(ApiError::BadRequest(format!(
            "scanner registration {} not found",
            clip(&req.uuid)
        )));
    }
    tracing::info!(project = %project.name, scanner = %row.name, by = caller.0.name(), "project scanner set");
    Audit::new(
        Op::Update,
        "project_scanner",
        format!("{}: {}", project.name, row.name),
    )
    .project_id(Some(project.id))
    .by_subject(&caller.0, &client)
    .record(&state.db)
    .await;
    Ok(StatusCode::OK)
}

/// `GET /projects/{project_name_or_id}/scanner/candidates`: the registrations the project may choose from,
/// as `GET /scanners` lists them; for those who may set the project's scanner.
pub async fn candidates(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(name_or_id): Path<String>,
    page: Page,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    project_for(&state, &caller, &headers, &name_or_id, "create").await?;
    let path = format!("{BASE}/projects/{name_or_id}/scanner/candidates");
    page_of(&state, page, &query, &path).await
}

/// `GET /system/CVEAllowlist`: for any signed-in user; an empty list (no expiry) until one is written.
pub async fn system_allowlist(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<CveAllowlist>, ApiError> {
    caller.signed_in()?;
    let stored = state.db.system_cve_allowlist().await?;
    let mut body = allowlist_response(0, stored.as_ref());
    body.project_id = 0;
    Ok(Json(body))
}

/// `PUT /system/CVEAllowlist`: replaces the system allowlist (items and `expires_at`); system administrators
/// only. 400 for an empty or repeated CVE id, a negative expiry or too many items.
pub async fn put_system_allowlist(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Json(list): Json<CveAllowlist>,
) -> Result<StatusCode, ApiError> {
    let subject = caller.sysadmin()?;
    let list = CveAllowlist {
        project_id: 0,
        ..list
    };
    let allowlist = allowlist_of(&list, None)?;
    state.db.put_system_cve_allowlist(&allowlist).await?;
    tracing::info!(items = allowlist.items.len(), expires_at = ?allowlist.expires_at, by = subject.name(), "system CVE allowlist replaced");
    Audit::new(
        Op::Update,
        "system_cve_allowlist",
        format!("{} CVE id(s)", allowlist.items.len()),
    )
    .by_subject(subject, &client)
    .record(&state.db)
    .await;
    Ok(StatusCode::OK)
}

async fn find(state: &AppState, uuid: &str) -> Result<ScannerRow, ApiError> {
    state.db.scanner(uuid).await?.ok_or_else(|| not_found(uuid))
}

fn not_found(uuid: &str) -> ApiError {
    ApiError::NotFound(format!("scanner {} not found", clip(uuid)))
}

/// A caller's text shortened for a message.
fn clip(text: &str) -> String {
    text.chars().take(64).collect()
}

/// Harbor's `ScannerRegistration` for `row`: the credential never shown. The built-in one describes itself.
fn registration(row: ScannerRow) -> ScannerRegistration {
    let built_in = row.immutable;
    let mut body = ScannerRegistration {
        uuid: row.uuid,
        name: row.name,
        description: row.description,
        url: row.url,
        disabled: row.disabled,
        is_default: row.is_default,
        auth: row.auth,
        access_credential: String::new(),
        skip_cert_verify: row.skip_cert_verify,
        use_internal_addr: row.use_internal_addr,
        create_time: row.created_at,
        update_time: row.updated_at,
        ..ScannerRegistration::default()
    };
    if built_in {
        describe(&mut body, Some(&service::built_in_metadata(None)));
    }
    body
}

/// Fills the adapter's name, vendor, version, health and capabilities from its metadata (`None`: it did
/// not answer well).
fn describe(body: &mut ScannerRegistration, metadata: Option<&ScannerAdapterMetadata>) {
    let Some(metadata) = metadata else {
        body.health = Some("unhealthy".to_owned());
        return;
    };
    body.health = Some("healthy".to_owned());
    if let Some(scanner) = &metadata.scanner {
        body.adapter = Some(scanner.name.clone());
        body.vendor = Some(scanner.vendor.clone());
        body.version = Some(scanner.version.clone());
    }
    let has = |kind: &str| {
        metadata.capabilities.iter().any(|c| {
            c.capability_type == kind || (kind == "vulnerability" && c.capability_type.is_empty())
        })
    };
    body.capabilities = Some(
        [
            ("support_vulnerability".to_owned(), has("vulnerability")),
            ("support_sbom".to_owned(), has("sbom")),
        ]
        .into(),
    );
}
