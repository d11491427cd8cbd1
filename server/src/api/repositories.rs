//! Repositories: `/repositories` and `/projects/{project_name}/repositories[/{repository_name}]`.
//!
//! Repository names in paths are relative to the project and URL-encoded; Harbor asks clients to encode a
//! `/` twice (`a%252Fb`), and Berth also takes it encoded once (`a%2Fb`). A private project the caller cannot
//! see answers 404; a permission the caller lacks answers 401 when anonymous, else 403.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use berth_api::repositories::Repository;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::immutable::{Attempt, refused};
use super::pagination::Page;
use super::projects::{require, resolve};
use super::query::list_query;
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::Subject;
use crate::auth::policy::{Operation, ProjectAccess, Resource, visible_projects};
use crate::db::list;
use crate::db::{GuardedError, Project, RepositoryRef, RepositoryRow};
use crate::events::audit::{Audit, ClientIp, Operation as Op};
use crate::oci::RepositoryName;

/// `{project_name}/repositories/{repository_name}` of a path.
#[derive(Debug, Deserialize)]
pub struct RepositoryPath {
    pub project_name: String,
    pub repository_name: String,
}

/// Query of the repository lists.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    sort: Option<String>,
}

/// The project named `name` if the caller can see it (404 otherwise), with the caller's access to it.
/// These paths name projects, never number them.
pub(super) async fn project(
    state: &AppState,
    caller: &Caller,
    name: &str,
) -> Result<(Project, ProjectAccess), ApiError> {
    let mut headers = HeaderMap::new();
    headers.insert("x-is-resource-name", HeaderValue::from_static("true"));
    resolve(state, caller, &headers, name).await
}

/// Whether the caller may perform `operation` on `resource`: 401 for an anonymous caller (who might be
/// allowed once signed in), 403 for a signed-in one.
pub(super) fn authorize(
    caller: &Caller,
    access: ProjectAccess,
    resource: Resource,
    operation: Operation,
) -> Result<(), ApiError> {
    if caller.0 == Subject::Anonymous && !access.permits(resource, operation) {
        return Err(ApiError::Unauthorized(format!(
            "sign in to {operation:?} {resource:?}"
        )));
    }
    require(access, resource, operation)
}

/// The full name of repository `relative` of project `project`, from a path segment decoded once by the
/// router (so `a%2Fb` if the client encoded twice, `a/b` if once).
pub(super) fn full_name(project: &str, relative: &str) -> Result<RepositoryName, ApiError> {
    let relative = relative.replace("%2F", "/").replace("%2f", "/");
    format!("{project}/{relative}")
        .parse()
        .map_err(|e: crate::oci::name::NameError| {
            ApiError::BadRequest(format!("invalid repository name {relative:?}: {e}"))
        })
}

/// The repository `repository_name` of project `project_name`, after checking the caller may perform
/// `operation` on `resource` in the project. 404 when the project is invisible or the repository does not
/// exist.
pub(super) async fn locate(
    state: &AppState,
    caller: &Caller,
    project_name: &str,
    repository_name: &str,
    resource: Resource,
    operation: Operation,
) -> Result<(Project, RepositoryRef), ApiError> {
    let (project, access) = project(state, caller, project_name).await?;
    authorize(caller, access, resource, operation)?;
    let name = full_name(&project.name, repository_name)?;
    let repository = state
        .db
        .repository_ref(name.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("repository {name} not found")))?;
    Ok((project, repository))
}

/// A repository path segment as Harbor's links spell it: the relative name, encoded twice.
pub(super) fn encoded_relative_name(full_name: &str) -> String {
    let relative = full_name
        .split_once('/')
        .map_or(full_name, |(_, rest)| rest);
    relative.replace('/', "%252F")
}

fn to_repository(row: RepositoryRow) -> Repository {
    Repository {
        id: row.id,
        project_id: row.project_id,
        name: row.name,
        description: row.description,
        artifact_count: row.artifact_count,
        pull_count: row.pull_count,
        creation_time: Some(row.created_at),
        update_time: row.updated_at,
    }
}

/// The `q` and `sort` parameters to keep in pagination links.
fn kept(query: &ListQuery) -> Vec<(&'static str, String)> {
    [("q", &query.q), ("sort", &query.sort)]
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
        .collect()
}

/// `GET /projects/{project_name}/repositories`: one page of the project's repositories, newest first unless
/// `sort`. `q` and `sort` take the keys of [`list::REPOSITORIES`].
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(project_name): Path<String>,
    Query(query): Query<ListQuery>,
    page: Page,
) -> Result<Response, ApiError> {
    let (project, access) = project(&state, &caller, &project_name).await?;
    authorize(&caller, access, Resource::Repository, Operation::List)?;
    let filters = list_query(
        query.q.as_deref(),
        query.sort.as_deref(),
        &list::REPOSITORIES,
    )?;
    let (rows, total) = state
        .db
        .list_repositories(&filters, Some(&[project.id]), page.limit(), page.offset())
        .await?;
    let body: Vec<Repository> = rows.into_iter().map(to_repository).collect();
    let path = format!("{BASE}/projects/{}/repositories", project.name);
    Ok((page.headers(total, &path, &kept(&query)), Json(body)).into_response())
}

/// `GET /repositories`: one page of every repository the caller can see — all of them for a system
/// administrator, else those of public projects and of the caller's projects. `q` and `sort` take the keys of
/// [`list::REPOSITORIES`] (`project_id` narrows to projects, never widens what the caller sees).
pub async fn list_all(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
    page: Page,
) -> Result<Response, ApiError> {
    let filters = list_query(
        query.q.as_deref(),
        query.sort.as_deref(),
        &list::REPOSITORIES,
    )?;
    let visible = visible_projects(&state.db, &caller.0).await?;
    let (rows, total) = state
        .db
        .list_repositories(&filters, visible.as_deref(), page.limit(), page.offset())
        .await?;
    let body: Vec<Repository> = rows.into_iter().map(to_repository).collect();
    Ok((
        page.headers(total, &format!("{BASE}/repositories"), &kept(&query)),
        Json(body),
    )
        .into_response())
}

/// `GET /projects/{project_name}/repositories/{repository_name}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<RepositoryPath>,
) -> Result<Json<Repository>, ApiError> {
    let (_, repository) = locate(
        &state,
        &caller,
        &path.project_name,
        &path.repository_name,
        Resource::Repository,
        Operation::Read,
    )
    .await?;
    let repository = state
        .db
        .repository(&repository.name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("repository {} not found", repository.name)))?;
    Ok(Json(to_repository(repository)))
}

/// The body of `PUT /projects/{project_name}/repositories/{repository_name}`: Harbor's `Repository`, of
/// which only `description` can be changed (the other fields are ignored).
#[derive(Debug, Deserialize)]
pub struct UpdateRequest {
    /// Absent means empty, as in Harbor.
    #[serde(default)]
    description: String,
}

/// `PUT /projects/{project_name}/repositories/{repository_name}`: sets the repository's description.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(path): Path<RepositoryPath>,
    Json(request): Json<UpdateRequest>,
) -> Result<(), ApiError> {
    let (_, repository) = locate(
        &state,
        &caller,
        &path.project_name,
        &path.repository_name,
        Resource::Repository,
        Operation::Update,
    )
    .await?;
    if !state
        .db
        .update_repository_description(repository.id, &request.description)
        .await?
    {
        return Err(ApiError::NotFound(format!(
            "repository {} not found",
            repository.name
        )));
    }
    tracing::info!(repository = %repository.name, by = caller.0.name(), "repository updated");
    Audit::new(Op::Update, "repository", &repository.name)
        .project_id(Some(repository.project_id))
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(())
}

/// `DELETE /projects/{project_name}/repositories/{repository_name}`: deletes the repository with all its
/// artifacts and tags; the project's quota gives back what nothing else in the project uses.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(path): Path<RepositoryPath>,
) -> Result<(), ApiError> {
    let (_, repository) = locate(
        &state,
        &caller,
        &path.project_name,
        &path.repository_name,
        Resource::Repository,
        Operation::Delete,
    )
    .await?;
    let deleted = match state.db.delete_repository(repository.id).await {
        Ok(deleted) => deleted,
        Err(GuardedError::Locked(locked)) => {
            return Err(refused(&state, &locked, Attempt::Delete, &caller, &client).await);
        }
        Err(GuardedError::Db(e)) => return Err(e.into()),
    };
    if !deleted {
        return Err(ApiError::NotFound(format!(
            "repository {} not found",
            repository.name
        )));
    }
    tracing::info!(repository = %repository.name, by = caller.0.name(), "repository deleted");
    Audit::new(Op::Delete, "repository", &repository.name)
        .project_id(Some(repository.project_id))
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(())
}
