//! Projects: `/projects` and `/projects/{project_name_or_id}`.
//!
//! A private project is invisible to outsiders: every endpoint answers 404 for it, as if it did not exist.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::artifacts::ZERO_TIME;
use berth_api::projects::{
    CveAllowlist, CveAllowlistItem, DailyPulls, Project as ProjectResp, ProjectDeletable,
    ProjectMetadata, ProjectReq, ProjectSummary, ProjectSummaryQuota,
};
use berth_api::quotas::ResourceList;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::pagination::Page;
use super::project_metadata::{
    RetentionId, checked_settings, guard_proxy_patterns, request_settings,
};
use super::query::{Pattern, add, list_query};
use super::query_bool;
use super::repositories::authorize;
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::password::LOCAL_ADMIN;
use crate::auth::policy::{self, Operation, ProjectAccess, Resource, Role, visible_projects};
use crate::auth::{Subject, robots};
use crate::db::list;
use crate::db::{CveAllowlistRow, NewCveAllowlist, Project, ProjectDetail};
use crate::events::audit::{Audit, ClientIp, Operation as Op};
use crate::service;
use crate::service::configurations::ProjectCreationRestriction;

/// Finds the project named (or numbered) `name_or_id` that the caller can see. Harbor's
/// `X-Is-Resource-Name: true` header forces reading it as a name.
pub(super) async fn resolve(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    name_or_id: &str,
) -> Result<(Project, ProjectAccess), ApiError> {
    let by_name = headers
        .get("x-is-resource-name")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    let project = match name_or_id.parse::<i64>() {
        Ok(id) if !by_name => state.db.find_project_by_id(id).await?,
        _ => state.db.find_project(name_or_id).await?,
    };
    let not_found = || ApiError::NotFound(format!("project {name_or_id} not found"));
    let project = project.ok_or_else(not_found)?;
    let access = ProjectAccess::of(&state.db, &caller.0, &project).await?;
    if !access.can_see() {
        return Err(not_found());
    }
    Ok((project, access))
}

/// 403 unless `access` permits `operation` on `resource`.
pub(super) fn require(
    access: ProjectAccess,
    resource: Resource,
    operation: Operation,
) -> Result<(), ApiError> {
    if access.permits(resource, operation) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "your role in this project does not allow {operation:?} on {resource:?}"
        )))
    }
}

/// Query parameters of `GET /projects`. Harbor's `with_detail` is read (a boolean) and changes nothing: every
/// project comes with its details.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    sort: Option<String>,
    name: Option<String>,
    #[serde(default, deserialize_with = "query_bool::optional")]
    public: Option<bool>,
    owner: Option<String>,
    #[serde(default, deserialize_with = "query_bool::optional")]
    #[expect(
        dead_code,
        reason = "read so that a bad value is a 400; details are always given"
    )]
    with_detail: Option<bool>,
}

/// `GET /projects`: the projects the caller can see — all for a system admin (and a robot given the system
/// permission `project:list`), else public ones and the caller's own. `q` and `sort` take the keys of [`list::PROJECTS`]; `name` is a substring of the name,
/// `public` and `owner` exact.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
    page: Page,
) -> Result<Response, ApiError> {
    let fields = list::PROJECTS.as_slice();
    let mut filters = list_query(query.q.as_deref(), query.sort.as_deref(), fields)?;
    if let Some(name) = query.name.clone().filter(|n| !n.is_empty()) {
        add(&mut filters, fields, "name", Pattern::Fuzzy(name))?;
    }
    if let Some(public) = query.public {
        add(
            &mut filters,
            fields,
            "public",
            Pattern::Exact(public.to_string()),
        )?;
    }
    if let Some(owner) = query.owner.clone().filter(|o| !o.is_empty()) {
        add(&mut filters, fields, "owner", Pattern::Exact(owner))?;
    }
    let visible = if policy::system_permits(&caller.0, "project", "list") {
        None
    } else {
        visible_projects(&state.db, &caller.0).await?
    };
    let (rows, total) = state
        .db
        .list_projects(&filters, visible.as_deref(), page.limit(), page.offset())
        .await?;
    let projects = to_responses(&state, &caller.0, rows).await?;
    let mut kept = Vec::new();
    for (key, value) in [("name", &query.name), ("owner", &query.owner)] {
        if let Some(value) = value {
            kept.push((key, value.clone()));
        }
    }
    if let Some(public) = query.public {
        kept.push(("public", public.to_string()));
    }
    for (key, value) in [("q", &query.q), ("sort", &query.sort)] {
        if let Some(value) = value {
            kept.push((key, value.clone()));
        }
    }
    let headers = page.headers(total, &format!("{BASE}/projects"), &kept);
    Ok((headers, Json(projects)).into_response())
}

/// Builds Harbor's `Project` for each row, with its metadata, the caller's role and (where the caller may read
/// it) the quota, so that a list needs no further request per project.
pub(super) async fn to_responses(
    state: &AppState,
    subject: &Subject,
    rows: Vec<ProjectDetail>,
) -> Result<Vec<ProjectResp>, ApiError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let settings = state.db.project_settings(&ids).await?;
    let allowlists = state.db.project_cve_allowlists(&ids).await?;
    let roles = match subject {
        Subject::User { id, .. } => state.db.member_roles(*id).await?,
        Subject::Anonymous | Subject::Robot { .. } => Vec::new(),
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut metadata = ProjectMetadata {
                public: Some(row.public.to_string()),
                ..ProjectMetadata::default()
            };
            for (_, name, value) in settings.iter().filter(|(id, _, _)| *id == row.id) {
                metadata.set(name, value.clone());
            }
            let role = roles
                .iter()
                .find(|(id, _)| *id == row.id)
                .map(|(_, role)| *role);
            let access = ProjectAccess {
                sysadmin: subject.is_sysadmin(),
                public: row.public,
                role: role.and_then(Role::from_id),
                robot_grants: match subject {
                    Subject::Robot { permissions, .. } => {
                        robots::rest_grants(permissions, &row.name)
                    }
                    _ => 0,
                },
            };
            ProjectResp {
                project_id: row.id,
                owner_id: row.owner_id,
                name: row.name,
                registry_id: row.registry_id,
                creation_time: row.created_at,
                update_time: row.updated_at,
                deleted: false,
                owner_name: row.owner_name,
                togglable: access.permits(Resource::Project, Operation::Update),
                current_user_role_id: role,
                current_user_role_ids: role.into_iter().collect(),
                repo_count: row.repo_count,
                metadata,
                cve_allowlist: Some(allowlist_response(
                    row.id,
                    allowlists.iter().find(|a| a.project_id == row.id),
                )),
                quota: access.permits(Resource::Quota, Operation::Read).then_some(
                    ProjectSummaryQuota {
                        hard: ResourceList {
                            storage: row.storage_limit,
                        },
                        used: ResourceList {
                            storage: row.storage_used,
                        },
                    },
                ),
            }
        })
        .collect())
}

/// Query of `HEAD /projects`.
#[derive(Debug, Deserialize)]
pub struct ExistsQuery {
    project_name: Option<String>,
}

/// `HEAD /projects?project_name=`: 200 if a project of that name exists and the caller can see it.
pub async fn exists(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<ExistsQuery>,
) -> Result<StatusCode, ApiError> {
    let name = query
        .project_name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::BadRequest("the project_name parameter is required".to_owned()))?;
    let mut headers = headers;
    headers.insert("x-is-resource-name", HeaderValue::from_static("true"));
    resolve(&state, &caller, &headers, &name).await?;
    Ok(StatusCode::OK)
}

/// `POST /projects`: a signed-in user may create a project and becomes its project admin, unless
/// `project_creation_restriction` is `adminonly` (403 for all but system admins then). Robots need the system
/// permission `project:create`; the built-in `admin` owns what they create, as in Harbor. Only system admins
/// (and such robots) may set a storage limit or create a proxy-cache project (`registry_id`, an existing
/// registry endpoint; 400 otherwise), which gets Harbor's default retention policy for proxy projects.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    let subject = caller.signed_in()?;
    let (request, raw_metadata) = read_request(body)?;
    // Harbor's `isSysAdmin(ctx, rbac.ActionCreate)`: the system permission to create projects.
    let creates_as_admin = policy::system_permits(subject, "project", "create");
    if let Subject::Robot { permissions, .. } = subject
        && !creates_as_admin
    {
        // Harbor's wording for a project robot (`src/server/v2.0/handler/project.go`).
        let message = if permissions.iter().any(|p| p.kind == robots::SYSTEM_KIND) {
            "this robot was not given the system permission project:create"
        } else {
            "Only system level robot can create project"
        };
        return Err(ApiError::Forbidden(message.to_owned()));
    }
    if state.system_config.current().project_creation_restriction
        == ProjectCreationRestriction::AdminOnly
        && !creates_as_admin
    {
        return Err(ApiError::Forbidden(
            "Only system admin can create project".to_owned(),
        ));
    }
    let name = request
        .project_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::BadRequest("project_name is required".to_owned()))?;
    if request.registry_id.is_some() && !creates_as_admin {
        // Harbor's wording (`src/server/v2.0/handler/project.go`).
        return Err(ApiError::Forbidden(
            "Only system admin can create proxy cache project".to_owned(),
        ));
    }
    let metadata = request.metadata.clone().unwrap_or_default();
    let settings = settings_of(&metadata, &raw_metadata, RetentionId::Create)?;
    let settings: Vec<(&str, &str)> = settings.iter().map(|(n, v)| (*n, v.as_str())).collect();
    guard_proxy_patterns(&state, &caller, None, &settings).await?;
    let public = match (&metadata.public, request.public) {
        (Some(flag), _) => parse_flag("metadata.public", flag)?,
        (None, Some(public)) => public,
        (None, None) => false,
    };
    let allowlist = request
        .cve_allowlist
        .as_ref()
        .map(|list| allowlist_of(list, None))
        .transpose()?;
    let storage_limit = match request.storage_limit {
        Some(limit) if creates_as_admin => limit,
        _ => state.config.storage_per_project,
    };
    let owner = match subject {
        Subject::Robot { .. } => LOCAL_ADMIN,
        _ => subject.name(),
    };
    let id = match request.registry_id {
        Some(registry_id) => {
            service::projects::create_proxy_cache(
                &state.db,
                name,
                owner,
                public,
                storage_limit,
                &settings,
                registry_id,
                allowlist.as_ref(),
            )
            .await?
        }
        None => {
            service::projects::create_with(
                &state.db,
                name,
                owner,
                public,
                storage_limit,
                &settings,
                allowlist.as_ref(),
            )
            .await?
        }
    };
    tracing::info!(project = name, registry = ?request.registry_id, by = subject.name(), "project created");
    Audit::new(Op::Create, "project", name)
        .project_id(Some(id))
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    let location = if headers
        .get("x-resource-name-in-location")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
    {
        format!("{BASE}/projects/{name}")
    } else {
        format!("{BASE}/projects/{id}")
    };
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// A `POST`/`PUT /projects` body: Harbor's `ProjectReq`, and its `metadata` as sent (every name, so that an
/// unknown one is refused rather than dropped).
fn read_request(body: Value) -> Result<(ProjectReq, Map<String, Value>), ApiError> {
    let raw = match body.get("metadata") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(metadata)) => metadata.clone(),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "metadata must be an object of strings, not {other}"
            )));
        }
    };
    let request = serde_json::from_value(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid project request: {e}")))?;
    Ok((request, raw))
}

/// The settings to store from a request's metadata: every name and value checked as `/metadatas` checks
/// them ([`request_settings`]) and the proxy patterns as [`checked_settings`] does, `retention_id` left out.
fn settings_of(
    metadata: &ProjectMetadata,
    raw: &Map<String, Value>,
    retention: RetentionId<'_>,
) -> Result<Vec<(&'static str, String)>, ApiError> {
    let normalized = request_settings(raw, retention)?;
    Ok(checked_settings(&metadata.settings())?
        .into_iter()
        .filter(|(name, _)| *name != "retention_id")
        .map(|(name, value)| match normalized.get(name) {
            Some(normal) => (name, normal.clone()),
            None => (name, value),
        })
        .collect())
}

/// A request's CVE allowlist, checked (for project `project_id` when it exists already).
pub(super) fn allowlist_of(
    list: &CveAllowlist,
    project_id: Option<i64>,
) -> Result<NewCveAllowlist, ApiError> {
    let ids: Vec<&str> = list.items.iter().map(|i| i.cve_id.as_str()).collect();
    Ok(service::projects::check_cve_allowlist(
        list.project_id,
        project_id,
        list.expires_at,
        &ids,
    )?)
}

/// Harbor's `CVEAllowlist` for project `project_id` from its stored one; without one, Harbor's empty list.
pub(super) fn allowlist_response(
    project_id: i64,
    stored: Option<&CveAllowlistRow>,
) -> CveAllowlist {
    match stored {
        Some(row) => CveAllowlist {
            id: row.id,
            project_id,
            expires_at: row.expires_at,
            items: row
                .items
                .iter()
                .map(|cve| CveAllowlistItem {
                    cve_id: cve.clone(),
                })
                .collect(),
            creation_time: row.created_at.clone(),
            update_time: row.updated_at.clone(),
        },
        None => CveAllowlist {
            project_id,
            creation_time: ZERO_TIME.to_owned(),
            update_time: ZERO_TIME.to_owned(),
            ..CveAllowlist::default()
        },
    }
}

fn parse_flag(field: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(ApiError::BadRequest(format!(
            "{field} must be \"true\" or \"false\", not {other:?}"
        ))),
    }
}

/// `GET /projects/{project_name_or_id}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(name_or_id): Path<String>,
) -> Result<Json<ProjectResp>, ApiError> {
    let (project, _) = resolve(&state, &caller, &headers, &name_or_id).await?;
    let detail = state
        .db
        .project_detail(project.id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("project {name_or_id} not found")))?;
    let mut projects = to_responses(&state, &caller.0, vec![detail]).await?;
    projects
        .pop()
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("project {name_or_id} not found")))
}

/// `PUT /projects/{project_name_or_id}`: changes the public flag, the metadata (each name and value checked as
/// `/metadatas` checks them; `retention_id` may only repeat the project's own) and the CVE allowlist
/// (`cve_allowlist`, replacing the stored one), all or nothing; project admins only.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Path(name_or_id): Path<String>,
    Json(body): Json<Value>,
) -> Result<StatusCode, ApiError> {
    let (project, access) = resolve(&state, &caller, &headers, &name_or_id).await?;
    require(access, Resource::Metadata, Operation::Update)?;
    let (request, raw_metadata) = read_request(body)?;
    let metadata = request.metadata.clone().unwrap_or_default();
    let public = match (&metadata.public, request.public) {
        (Some(flag), _) => Some(parse_flag("metadata.public", flag)?),
        (None, public) => public,
    };
    let retention_id = state
        .db
        .project_settings(&[project.id])
        .await?
        .into_iter()
        .find(|(_, name, _)| name == "retention_id")
        .map(|(_, _, value)| value);
    // A project's registry endpoint is fixed at creation: `registry_id` is ignored here, as in Harbor.
    let settings = settings_of(
        &metadata,
        &raw_metadata,
        RetentionId::Update(retention_id.as_deref()),
    )?;
    let settings: Vec<(&str, &str)> = settings.iter().map(|(n, v)| (*n, v.as_str())).collect();
    guard_proxy_patterns(&state, &caller, Some(&project), &settings).await?;
    let allowlist = request
        .cve_allowlist
        .as_ref()
        .map(|list| allowlist_of(list, Some(project.id)))
        .transpose()?;
    state
        .db
        .update_project_with(&project, public, &settings, allowlist.as_ref())
        .await?;
    tracing::info!(project = %project.name, by = caller.0.name(), "project updated");
    Audit::new(Op::Update, "project", &project.name)
        .project_id(Some(project.id))
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(StatusCode::OK)
}

/// `DELETE /projects/{project_name_or_id}`: only an empty project can be deleted (412 otherwise).
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Path(name_or_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (project, access) = resolve(&state, &caller, &headers, &name_or_id).await?;
    require(access, Resource::Project, Operation::Delete)?;
    if !state.db.delete_empty_project(&project).await? {
        return Err(ApiError::PreconditionFailed(format!(
            "project {} still has repositories; delete them first",
            project.name
        )));
    }
    tracing::info!(project = %project.name, by = caller.0.name(), "project deleted");
    Audit::new(Op::Delete, "project", &project.name)
        .project_id(Some(project.id))
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(StatusCode::OK)
}

/// How many days `GET /projects/{project_name_or_id}/summary` shows pulls for.
const PULL_DAYS: i64 = 30;

/// `GET /projects/{project_name_or_id}/summary`: Harbor's `ProjectSummary` — repository count, member counts
/// by role (for callers who may list members), quota (for callers who may read it) — plus Berth's artifact
/// count, all-time pull count and pulls per day over the last 30 UTC days.
pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(name_or_id): Path<String>,
) -> Result<Json<ProjectSummary>, ApiError> {
    // Whoever sees the project may read it, as for `GET /projects/{project_name_or_id}`.
    let (project, access) = resolve(&state, &caller, &headers, &name_or_id).await?;
    let usage = state.db.project_usage(project.id).await?;
    let mut summary = ProjectSummary {
        repo_count: usage.repo_count,
        project_admin_count: None,
        maintainer_count: None,
        developer_count: None,
        guest_count: None,
        limited_guest_count: None,
        quota: None,
        registry: proxied_registry(&state, &caller, &project).await?,
        artifact_count: usage.artifact_count,
        pull_count: usage.pull_count,
        pulls_per_day: pulls_per_day(&state, project.id).await?,
    };
    if access.permits(Resource::Member, Operation::List) {
        let counts = state.db.member_counts_by_role(project.id).await?;
        let count = |role: Role| {
            Some(
                counts
                    .iter()
                    .find(|(id, _)| *id == role.id())
                    .map_or(0, |(_, n)| *n),
            )
        };
        summary.project_admin_count = count(Role::ProjectAdmin);
        summary.maintainer_count = count(Role::Maintainer);
        summary.developer_count = count(Role::Developer);
        summary.guest_count = count(Role::Guest);
        summary.limited_guest_count = count(Role::LimitedGuest);
    }
    if access.permits(Resource::Quota, Operation::Read) {
        let detail = state
            .db
            .project_detail(project.id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("project {name_or_id} not found")))?;
        summary.quota = Some(ProjectSummaryQuota {
            hard: ResourceList {
                storage: detail.storage_limit,
            },
            used: ResourceList {
                storage: detail.storage_used,
            },
        });
    }
    Ok(Json(summary))
}

/// The registry endpoint of a proxy-cache project, for callers who may read registry endpoints (system
/// admins), as `GET /registries/{id}` shows it (the secret masked). Anyone else gets none: Harbor shows the
/// endpoint without its credential to whoever sees the project, which tells an anonymous caller of a public
/// proxy project the upstream's URL (and an internal one's address).
async fn proxied_registry(
    state: &AppState,
    caller: &Caller,
    project: &Project,
) -> Result<Option<serde_json::Value>, ApiError> {
    let Some(id) = project.registry_id else {
        return Ok(None);
    };
    if !caller.0.is_sysadmin() {
        return Ok(None);
    }
    let Some(row) = state.db.registry(id).await? else {
        return Ok(None);
    };
    let registry = super::registries::registry(state, row);
    serde_json::to_value(registry)
        .map(Some)
        .map_err(|e| ApiError::internal("encoding the registry", e))
}

/// The project's pulls on each of the last [`PULL_DAYS`] UTC days, oldest first, zero days included.
async fn pulls_per_day(state: &AppState, project_id: i64) -> Result<Vec<DailyPulls>, ApiError> {
    let today = chrono::Utc::now().date_naive();
    let days: Vec<String> = (0..PULL_DAYS)
        .rev()
        .filter_map(|back| today.checked_sub_days(chrono::Days::new(back.unsigned_abs())))
        .map(|day| day.format("%Y-%m-%d").to_string())
        .collect();
    let since = days.first().map_or("", String::as_str);
    let counts = state.db.project_daily_pulls(project_id, since).await?;
    Ok(days
        .into_iter()
        .map(|date| {
            let count = counts
                .iter()
                .find(|(day, _)| *day == date)
                .map_or(0, |(_, n)| *n);
            DailyPulls { date, count }
        })
        .collect())
}

/// `GET /projects/{project_name_or_id}/_deletable`: whether `DELETE` would succeed, for callers who may
/// delete the project. A project holding repositories is not deletable (Harbor also refuses while
/// replication rules use it; Berth has none).
pub async fn deletable(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(name_or_id): Path<String>,
) -> Result<Json<ProjectDeletable>, ApiError> {
    let (project, access) = resolve(&state, &caller, &headers, &name_or_id).await?;
    authorize(&caller, access, Resource::Project, Operation::Delete)?;
    let usage = state.db.project_usage(project.id).await?;
    let answer = if usage.repo_count > 0 {
        ProjectDeletable {
            deletable: false,
            message: format!(
                "the project contains {} repositories, can not be deleted",
                usage.repo_count
            ),
        }
    } else {
        ProjectDeletable {
            deletable: true,
            message: String::new(),
        }
    };
    Ok(Json(answer))
}
