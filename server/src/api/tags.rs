//! Tags of an artifact: `…/artifacts/{reference}/tags[/{tag_name}]`.
//!
//! A tag names one artifact in its repository: creating a tag the repository already has is a 409, even on
//! another artifact (retag by deleting first, or push), and a 412 when an immutable tag rule locks it there.
//! Deleting names the tag and the artifact it must be on; a locked tag is not deleted (412).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::artifacts::Tag;
use serde::Deserialize;

use super::artifacts::{ArtifactPath, locate_artifact, to_tag};
use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::immutable::{Attempt, refused};
use super::pagination::Page;
use super::query::list_query;
use super::query_bool;
use super::repositories::encoded_relative_name;
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::policy::{Operation, Resource};
use crate::db::{GuardedError, is_unique_violation, list};
use crate::events::audit::{self, Audit, ClientIp, Operation as Op};
use crate::service::immutable;

/// `…/tags/{tag_name}` of a path.
#[derive(Debug, Deserialize)]
pub struct TagPath {
    project_name: String,
    repository_name: String,
    reference: String,
    tag_name: String,
}

/// Query of the tag list; `with_immutable_status=true` fills each tag's `immutable`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    sort: Option<String>,
    #[serde(default, deserialize_with = "query_bool::optional")]
    with_immutable_status: Option<bool>,
}

/// `GET …/artifacts/{reference}/tags`: one page of the artifact's tags, newest first unless `sort`; `q` and
/// `sort` take the keys of [`list::TAGS`] (`q=name=v`, `q=name=~part`, …).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ArtifactPath>,
    Query(query): Query<ListQuery>,
    page: Page,
) -> Result<Response, ApiError> {
    let (repository, artifact) =
        locate_artifact(&state, &caller, &path, Resource::Tag, Operation::List).await?;
    let filters = list_query(query.q.as_deref(), query.sort.as_deref(), &list::TAGS)?;
    let (rows, total) = state
        .db
        .list_artifact_tags(artifact.id, &filters, page.limit(), page.offset())
        .await?;
    let locks = match query.with_immutable_status {
        Some(true) => Some(immutable::locks(&state.db, repository.project_id).await?),
        _ => None,
    };
    let body: Vec<Tag> = rows
        .into_iter()
        .map(|row| {
            let locked = locks
                .as_ref()
                .is_some_and(|locks| locks.locked_by(&repository.name, &row.name).is_some());
            Tag {
                immutable: locked,
                ..to_tag(row)
            }
        })
        .collect();
    let link_path = format!(
        "{BASE}/projects/{}/repositories/{}/artifacts/{}/tags",
        path.project_name,
        encoded_relative_name(&repository.name),
        path.reference
    );
    let mut kept: Vec<(&str, String)> = [("q", &query.q), ("sort", &query.sort)]
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
        .collect();
    if let Some(status) = query.with_immutable_status {
        kept.push(("with_immutable_status", status.to_string()));
    }
    Ok((page.headers(total, &link_path, &kept), Json(body)).into_response())
}

/// `POST …/artifacts/{reference}/tags` with `{"name": …}`: tags the artifact. 201 with the tag's
/// `Location`; 409 if the repository already has a tag of that name.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(path): Path<ArtifactPath>,
    Json(tag): Json<Tag>,
) -> Result<Response, ApiError> {
    let (repository, artifact) =
        locate_artifact(&state, &caller, &path, Resource::Tag, Operation::Create).await?;
    let name: crate::oci::Tag = tag.name.parse().map_err(|()| {
        ApiError::BadRequest(format!(
            "invalid tag {:?}: use up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'",
            tag.name
        ))
    })?;
    match state
        .db
        .add_tag(repository.id, &repository.name, artifact.id, name.as_str())
        .await
    {
        Ok(()) => {}
        Err(GuardedError::Locked(locked)) => {
            return Err(refused(&state, &locked, Attempt::Move, &caller, &client).await);
        }
        Err(GuardedError::Db(e)) if is_unique_violation(&e) => {
            return Err(ApiError::Conflict(format!(
                "tag {name} already exists in {}",
                repository.name
            )));
        }
        Err(GuardedError::Db(e)) => return Err(e.into()),
    }
    tracing::info!(repository = %repository.name, tag = %name, digest = %artifact.digest, by = caller.0.name(), "tag created");
    Audit::new(
        Op::Create,
        "tag",
        audit::resource(&repository.name, name.as_str()),
    )
    .project_id(Some(repository.project_id))
    .by_subject(&caller.0, &client)
    .record(&state.db)
    .await;
    let location = HeaderValue::try_from(format!(
        "{BASE}/projects/{}/repositories/{}/artifacts/{}/tags/{name}",
        path.project_name,
        encoded_relative_name(&repository.name),
        artifact.digest
    ))
    .map_err(|e| ApiError::internal("location header", e))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// `DELETE …/artifacts/{reference}/tags/{tag_name}`: removes the tag, which must be on that artifact.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(path): Path<TagPath>,
) -> Result<(), ApiError> {
    let artifact_path = ArtifactPath {
        project_name: path.project_name,
        repository_name: path.repository_name,
        reference: path.reference,
    };
    let (repository, artifact) = locate_artifact(
        &state,
        &caller,
        &artifact_path,
        Resource::Tag,
        Operation::Delete,
    )
    .await?;
    let deleted = match state
        .db
        .delete_artifact_tag(&repository.name, artifact.id, &path.tag_name)
        .await
    {
        Ok(deleted) => deleted,
        Err(GuardedError::Locked(locked)) => {
            return Err(refused(&state, &locked, Attempt::Delete, &caller, &client).await);
        }
        Err(GuardedError::Db(e)) => return Err(e.into()),
    };
    if !deleted {
        return Err(ApiError::NotFound(format!(
            "tag {} not found on artifact {}",
            path.tag_name, artifact.digest
        )));
    }
    tracing::info!(repository = %repository.name, tag = %path.tag_name, by = caller.0.name(), "tag deleted");
    Audit::new(
        Op::Delete,
        "tag",
        audit::resource(&repository.name, &path.tag_name),
    )
    .project_id(Some(repository.project_id))
    .by_subject(&caller.0, &client)
    .record(&state.db)
    .await;
    Ok(())
}
