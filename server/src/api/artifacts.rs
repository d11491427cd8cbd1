//! Artifacts: `/projects/{project_name}/repositories/{repository_name}/artifacts[/{reference}]`, their
//! additions, and copying an artifact between repositories.
//!
//! A reference is a tag or a digest. Lists show the artifacts that stand on their own: an index's children
//! appear in its `references`, and accessories (artifacts whose subject is in the repository) under their
//! subject with `with_accessory=true`, as in Harbor. `with_label=true` fills `labels` (otherwise empty, as in
//! Harbor), and `q=labels=(1 2)` lists the artifacts carrying every label named (`labels=1` one label).
//! Berth adds each artifact's `pull_count` (sortable and filterable as `pull_count`).

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::artifacts::{
    Accessory, AdditionLink, Artifact, Platform, Reference as ReferenceResp, Tag, ZERO_TIME,
};
use berth_api::labels::Label;
use berth_api::vulnerabilities::NATIVE_REPORT_MIME;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::icons;
use super::immutable::{Attempt, refused};
use super::pagination::Page;
use super::query::list_query;
use super::query_bool;
use super::repositories::{
    RepositoryPath, authorize, encoded_relative_name, full_name, locate, project,
};
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::Subject;
use crate::auth::policy::{Operation, Resource};
use crate::db::list;
use crate::db::{
    ArtifactRow, ArtifactScope, CopyArtifact, CopyError, DeleteArtifact, RepositoryRef, TagRow,
};
use crate::events::audit::ClientIp;
use crate::oci::Reference;
use crate::service::artifacts::{self as service, CopySource, ManifestSummary};
use crate::service::immutable;

/// `…/artifacts/{reference}` of a path.
#[derive(Debug, Deserialize)]
pub struct ArtifactPath {
    pub project_name: String,
    pub repository_name: String,
    pub reference: String,
}

/// `…/artifacts/{reference}/additions/{addition}` of a path.
#[derive(Debug, Deserialize)]
pub struct AdditionPath {
    project_name: String,
    repository_name: String,
    reference: String,
    addition: String,
}

/// What to include in each artifact (Harbor's `with_*` parameters, booleans). `with_immutable_status=true`
/// fills each tag's `immutable`; `with_scan_overview=true` fills `scan_overview` (empty for an artifact never
/// scanned), `with_sbom_overview=true` fills `sbom_overview` (absent for an artifact with no SBOM generated) and
/// `with_label=true` fills `labels`. Signatures are not kept yet: `with_signature` is read (so a bad value is
/// a 400) and changes nothing.
#[derive(Debug, Clone, Copy, Deserialize)]
#[expect(
    dead_code,
    reason = "the parameters Berth reads but has nothing for yet"
)]
pub struct Include {
    #[serde(default, deserialize_with = "query_bool::optional")]
    with_tag: Option<bool>,
    #[serde(default, deserialize_with = "query_bool::optional")]
    with_accessory: Option<bool>,
    #[serde(default, deserialize_with = "query_bool::optional")]
    with_label: Option<bool>,
    #[serde(default, deserialize_with = "query_bool::optional")]
    with_scan_overview: Option<bool>,
    #[serde(default, deserialize_with = "query_bool::optional")]
    with_sbom_overview: Option<bool>,
    #[serde(default, deserialize_with = "query_bool::optional")]
    with_signature: Option<bool>,
    #[serde(default, deserialize_with = "query_bool::optional")]
    with_immutable_status: Option<bool>,
    #[serde(default, deserialize_with = "query_bool::optional")]
    with_inherited_accessory: Option<bool>,
}

/// Query of the artifact list besides [`Include`].
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    sort: Option<String>,
}

/// Query of the copy.
#[derive(Debug, Deserialize)]
pub struct CopyQuery {
    from: Option<String>,
}

/// The artifact `reference` (a tag or a digest) names in `repository`, or 404.
pub(super) async fn find(
    state: &AppState,
    repository: &RepositoryRef,
    reference: &str,
) -> Result<ArtifactRow, ApiError> {
    let parsed: Reference = reference
        .parse()
        .map_err(|e: crate::oci::name::ReferenceError| {
            ApiError::BadRequest(format!("invalid reference {reference:?}: {e}"))
        })?;
    let found = match &parsed {
        Reference::Tag(tag) => {
            state
                .db
                .artifact_by_tag(repository.id, tag.as_str())
                .await?
        }
        Reference::Digest(digest) => {
            state
                .db
                .artifact_by_digest(repository.id, &digest.to_string())
                .await?
        }
    };
    found.ok_or_else(|| {
        ApiError::NotFound(format!(
            "artifact {reference} not found in {}",
            repository.name
        ))
    })
}

/// The repository a path names and the artifact its reference names, after checking the caller may perform
/// `operation` on `resource`.
pub(super) async fn locate_artifact(
    state: &AppState,
    caller: &Caller,
    path: &ArtifactPath,
    resource: Resource,
    operation: Operation,
) -> Result<(RepositoryRef, ArtifactRow), ApiError> {
    let (_, repository) = locate(
        state,
        caller,
        &path.project_name,
        &path.repository_name,
        resource,
        operation,
    )
    .await?;
    let artifact = find(state, &repository, &path.reference).await?;
    Ok((repository, artifact))
}

/// Harbor's `Tag` for a row.
pub(super) fn to_tag(row: TagRow) -> Tag {
    Tag {
        id: row.id,
        repository_id: row.repository_id,
        artifact_id: row.artifact_id,
        name: row.name,
        push_time: row.push_time,
        pull_time: row.pull_time.unwrap_or_else(|| ZERO_TIME.to_owned()),
        immutable: false,
    }
}

/// `/api/v2.0/projects/{p}/repositories/{r}/artifacts/{digest}`, with the repository encoded as Harbor
/// encodes it in links.
fn artifact_href(repository: &str, digest: &str) -> String {
    let project = repository.split('/').next().unwrap_or_default();
    format!(
        "{BASE}/projects/{project}/repositories/{}/artifacts/{digest}",
        encoded_relative_name(repository)
    )
}

/// Harbor's `Accessory` for an accessory row whose subject is artifact `subject_id`.
fn to_accessory(accessory: ArtifactRow, subject_id: i64) -> Accessory {
    let kind = service::accessory_kind(accessory.artifact_type.as_deref());
    Accessory {
        id: accessory.id,
        artifact_id: accessory.id,
        subject_artifact_id: subject_id,
        subject_artifact_digest: accessory.subject_digest.unwrap_or_default(),
        subject_artifact_repo: accessory.repository_name,
        size: accessory.total_size,
        digest: accessory.digest,
        kind: kind.to_owned(),
        icon: icons::accessory_icon(kind).to_owned(),
        creation_time: accessory.push_time,
    }
}

/// The digests of `rows` by repository id (a page of a project's list spans repositories).
fn digests_by_repository(rows: &[ArtifactRow]) -> BTreeMap<i64, Vec<String>> {
    let mut by_repository: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for row in rows {
        by_repository
            .entry(row.repository_id)
            .or_default()
            .push(row.digest.clone());
    }
    by_repository
}

/// Builds Harbor's `Artifact` for each row (all of one project, of one or more repositories): tags,
/// references, accessories, `extra_attrs` from the image config and addition links.
async fn to_artifacts(
    state: &AppState,
    rows: Vec<ArtifactRow>,
    include: Include,
) -> Result<Vec<Artifact>, ApiError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut tags: HashMap<i64, Vec<Tag>> = HashMap::new();
    if include.with_tag.unwrap_or(true) {
        let locks = match rows.first() {
            Some(row) if include.with_immutable_status == Some(true) => {
                Some(immutable::locks(&state.db, row.project_id).await?)
            }
            _ => None,
        };
        let repositories: HashMap<i64, &str> = rows
            .iter()
            .map(|r| (r.id, r.repository_name.as_str()))
            .collect();
        for tag in state.db.tags_of(&ids).await? {
            let repository = repositories.get(&tag.artifact_id).copied();
            let locked = locks
                .as_ref()
                .zip(repository)
                .is_some_and(|(locks, repository)| {
                    locks.locked_by(repository, &tag.name).is_some()
                });
            let mut tag = to_tag(tag);
            tag.immutable = locked;
            tags.entry(tag.artifact_id).or_default().push(tag);
        }
    }
    let mut labels: HashMap<i64, Vec<Label>> = HashMap::new();
    if include.with_label == Some(true) {
        for (artifact_id, label) in state.db.labels_of(&ids).await? {
            labels
                .entry(artifact_id)
                .or_default()
                .push(crate::service::labels::to_wire(label));
        }
    }
    let by_repository = digests_by_repository(&rows);
    // Keyed by (repository id, subject digest): one digest may stand in several repositories of a project.
    let mut accessories: HashMap<(i64, String), Vec<Accessory>> = HashMap::new();
    if include.with_accessory.unwrap_or(false) {
        let ids_by_digest: HashMap<(i64, &str), i64> = rows
            .iter()
            .map(|r| ((r.repository_id, r.digest.as_str()), r.id))
            .collect();
        for (repository_id, digests) in &by_repository {
            for accessory in state.db.accessories(*repository_id, digests).await? {
                let subject_id = accessory
                    .subject_digest
                    .as_deref()
                    .and_then(|subject| ids_by_digest.get(&(*repository_id, subject)))
                    .copied()
                    .unwrap_or_default();
                let entry = to_accessory(accessory, subject_id);
                accessories
                    .entry((*repository_id, entry.subject_artifact_digest.clone()))
                    .or_default()
                    .push(entry);
            }
        }
    }
    let mut overviews = match (include.with_scan_overview, rows.first()) {
        (Some(true), Some(first)) => {
            let digests: Vec<String> = rows.iter().map(|r| r.digest.clone()).collect();
            Some(crate::scan::service::overviews(state, first.project_id, &digests).await?)
        }
        _ => None,
    };
    let mut sbom_overviews = match (include.with_sbom_overview, rows.first()) {
        (Some(true), Some(first)) => {
            let digests: Vec<String> = rows.iter().map(|r| r.digest.clone()).collect();
            Some(crate::scan::sbom_job::overviews(state, first.project_id, &digests).await?)
        }
        _ => None,
    };
    let summaries: Vec<ManifestSummary> = rows
        .iter()
        .map(|r| ManifestSummary::of(&r.content))
        .collect();
    let child_digests: Vec<String> = summaries
        .iter()
        .filter_map(|s| s.manifests.as_ref())
        .flatten()
        .map(|d| d.digest.clone())
        .collect();
    let mut child_ids: HashMap<(i64, String), i64> = HashMap::new();
    if !child_digests.is_empty() {
        for repository_id in by_repository.keys() {
            for (digest, id) in state
                .db
                .artifact_ids(*repository_id, &child_digests)
                .await?
            {
                child_ids.insert((*repository_id, digest), id);
            }
        }
    }
    let mut artifacts = Vec::with_capacity(rows.len());
    for (row, summary) in rows.into_iter().zip(summaries) {
        let config = service::image_config(&state.blobs, &summary).await;
        let mut addition_links = BTreeMap::new();
        let mut link = |addition: &str| {
            addition_links.insert(
                addition.to_owned(),
                AdditionLink {
                    href: format!(
                        "{}/additions/{addition}",
                        artifact_href(&row.repository_name, &row.digest)
                    ),
                    absolute: false,
                },
            );
        };
        if service::has_image_config(&summary) {
            link("build_history");
        }
        if !service::is_index(&row.media_type) {
            link("layers");
        }
        let references = service::is_index(&row.media_type).then(|| {
            summary
                .manifests
                .iter()
                .flatten()
                .map(|child| ReferenceResp {
                    parent_id: row.id,
                    child_id: child_ids
                        .get(&(row.repository_id, child.digest.clone()))
                        .copied(),
                    child_digest: child.digest.clone(),
                    platform: child.platform.clone().map(|p| Platform {
                        architecture: p.architecture,
                        os: p.os,
                        os_version: p.os_version,
                        os_features: p.os_features,
                        variant: p.variant,
                    }),
                    annotations: child.annotations.clone(),
                    urls: child.urls.clone(),
                })
                .collect()
        });
        let annotations = row
            .annotations
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok());
        let kind = service::kind(&row.media_type, row.artifact_type.as_deref());
        artifacts.push(Artifact {
            id: row.id,
            kind: kind.to_owned(),
            media_type: service::harbor_media_type(&row.media_type, &summary),
            manifest_media_type: row.media_type,
            artifact_type: row.artifact_type,
            project_id: row.project_id,
            repository_id: row.repository_id,
            repository_name: row.repository_name,
            size: row.total_size,
            icon: Some(icons::artifact_icon(kind).to_owned()),
            push_time: row.push_time,
            pull_time: row.pull_time.unwrap_or_else(|| ZERO_TIME.to_owned()),
            pull_count: row.pull_count,
            extra_attrs: config
                .as_ref()
                .map(service::extra_attrs)
                .unwrap_or_default(),
            annotations,
            references,
            tags: include
                .with_tag
                .unwrap_or(true)
                .then(|| tags.remove(&row.id).unwrap_or_default()),
            addition_links,
            labels: labels.remove(&row.id).unwrap_or_default(),
            accessories: include.with_accessory.unwrap_or(false).then(|| {
                accessories
                    .remove(&(row.repository_id, row.digest.clone()))
                    .unwrap_or_default()
            }),
            scan_overview: overviews.as_mut().map(|o| {
                o.remove(&row.digest)
                    .map(|summary| BTreeMap::from([(NATIVE_REPORT_MIME.to_owned(), summary)]))
                    .unwrap_or_default()
            }),
            sbom_overview: sbom_overviews.as_mut().and_then(|o| o.remove(&row.digest)),
            digest: row.digest,
        });
    }
    Ok(artifacts)
}

/// `GET …/artifacts`: one page of the repository's artifacts, newest first unless `sort`. `q` and `sort` take
/// the keys of [`list::ARTIFACTS`]: `tags=*` lists the tagged artifacts, `tags=nil` the untagged ones,
/// `labels=(1 2)` those carrying labels 1 and 2.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<RepositoryPath>,
    Query(query): Query<ListQuery>,
    Query(include): Query<Include>,
    page: Page,
) -> Result<Response, ApiError> {
    let (project, repository) = locate(
        &state,
        &caller,
        &path.project_name,
        &path.repository_name,
        Resource::Artifact,
        Operation::List,
    )
    .await?;
    let link_path = format!(
        "{BASE}/projects/{}/repositories/{}/artifacts",
        project.name,
        encoded_relative_name(&repository.name)
    );
    let scope = ArtifactScope::Repository(repository.id);
    list_page(&state, scope, &link_path, &query, include, page).await
}

/// `GET /projects/{project_name}/artifacts`: one page of the artifacts of every repository of the project,
/// with the query of the repository's list ([`list`]).
#[expect(
    clippy::too_many_arguments,
    reason = "an axum handler: one extractor per part of the request"
)]
pub async fn list_of_project(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(project_name_or_id): Path<String>,
    Query(query): Query<ListQuery>,
    Query(include): Query<Include>,
    Query(latest): Query<LatestQuery>,
    page: Page,
) -> Result<Response, ApiError> {
    let (project, access) =
        super::projects::resolve(&state, &caller, &headers, &project_name_or_id).await?;
    authorize(&caller, access, Resource::Artifact, Operation::List)?;
    let link_path = format!("{BASE}/projects/{}/artifacts", project.name);
    let scope = if latest.latest_in_repository.unwrap_or(false) {
        ArtifactScope::LatestOfProject(project.id)
    } else {
        ArtifactScope::Project(project.id)
    };
    list_page(&state, scope, &link_path, &query, include, page).await
}

/// `latest_in_repository` of the project-wide list: only the newest artifact of each repository.
#[derive(Debug, Deserialize)]
pub struct LatestQuery {
    #[serde(default, deserialize_with = "query_bool::optional")]
    latest_in_repository: Option<bool>,
}

/// The page of the artifacts of `scope` that `query` asks for, with Harbor's paging headers linking to
/// `link_path`.
async fn list_page(
    state: &AppState,
    scope: ArtifactScope,
    link_path: &str,
    query: &ListQuery,
    include: Include,
    page: Page,
) -> Result<Response, ApiError> {
    let filters = list_query(query.q.as_deref(), query.sort.as_deref(), &list::ARTIFACTS)?;
    let (rows, total) = state
        .db
        .list_artifacts(scope, &filters, page.limit(), page.offset())
        .await?;
    let body = to_artifacts(state, rows, include).await?;
    let mut kept: Vec<(&str, String)> = [("q", &query.q), ("sort", &query.sort)]
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
        .collect();
    for (key, value) in [
        ("with_tag", include.with_tag),
        ("with_accessory", include.with_accessory),
        ("with_immutable_status", include.with_immutable_status),
        ("with_label", include.with_label),
    ] {
        if let Some(value) = value {
            kept.push((key, value.to_string()));
        }
    }
    Ok((page.headers(total, link_path, &kept), Json(body)).into_response())
}

/// `GET …/artifacts/{reference}/accessories`: one page of the artifact's accessories (signatures, SBOMs,
/// other artifacts whose subject it is), newest first unless `sort`; `q` and `sort` take the keys of
/// [`list::ACCESSORIES`]. Harbor's `accessory:list`, which every role, a public project's visitors and robots
/// given it hold.
pub async fn list_accessories(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ArtifactPath>,
    Query(query): Query<ListQuery>,
    page: Page,
) -> Result<Response, ApiError> {
    let (project, access) = project(&state, &caller, &path.project_name).await?;
    if !(caller.holds_in_project(access, &project.name, "accessory", "list") || project.public) {
        return Err(match caller.0 {
            Subject::Anonymous => ApiError::Unauthorized("sign in to list accessories".to_owned()),
            _ => ApiError::Forbidden(format!(
                "accessory:list in project {} is for its members",
                project.name
            )),
        });
    }
    let name = full_name(&project.name, &path.repository_name)?;
    let repository = state
        .db
        .repository_ref(name.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("repository {name} not found")))?;
    let subject = find(&state, &repository, &path.reference).await?;
    let filters = list_query(
        query.q.as_deref(),
        query.sort.as_deref(),
        &list::ACCESSORIES,
    )?;
    let (rows, total) = state
        .db
        .list_accessories(
            repository.id,
            subject.id,
            &filters,
            (page.limit(), page.offset()),
        )
        .await?;
    let body: Vec<Accessory> = rows
        .into_iter()
        .map(|row| to_accessory(row, subject.id))
        .collect();
    let link_path = format!(
        "{}/accessories",
        artifact_href(&repository.name, &path.reference)
    );
    let kept: Vec<(&str, String)> = [("q", &query.q), ("sort", &query.sort)]
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
        .collect();
    Ok((page.headers(total, &link_path, &kept), Json(body)).into_response())
}

/// `GET …/artifacts/{reference}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ArtifactPath>,
    Query(include): Query<Include>,
) -> Result<Json<Artifact>, ApiError> {
    let (_, artifact) =
        locate_artifact(&state, &caller, &path, Resource::Artifact, Operation::Read).await?;
    let mut artifacts = to_artifacts(&state, vec![artifact], include).await?;
    artifacts
        .pop()
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("artifact {} not found", path.reference)))
}

/// `DELETE …/artifacts/{reference}`: deletes the artifact, its tags and accessories, and those of its
/// children nothing else uses; 412 while an index references it. The quota gives back what is unshared.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(path): Path<ArtifactPath>,
) -> Result<(), ApiError> {
    let (repository, artifact) = locate_artifact(
        &state,
        &caller,
        &path,
        Resource::Artifact,
        Operation::Delete,
    )
    .await?;
    match service::delete(
        &state.db,
        repository.project_id,
        &repository.name,
        &artifact.digest,
        |audit| audit.by_subject(&caller.0, &client),
    )
    .await?
    {
        DeleteArtifact::Deleted => {
            tracing::info!(repository = %repository.name, digest = %artifact.digest, by = caller.0.name(), "artifact deleted");
            crate::replication::on_delete(&state, &repository.name, &artifact.digest);
            if let Some(project) = state.db.find_project_by_id(repository.project_id).await? {
                state.webhooks.notify_soon(state.webhooks.artifact_event(
                    crate::webhooks::EventType::DeleteArtifact,
                    &project,
                    &repository.name,
                    &artifact.digest,
                    None,
                    caller.0.name(),
                ));
            }
            Ok(())
        }
        DeleteArtifact::NotFound => Err(ApiError::NotFound(format!(
            "artifact {} not found in {}",
            path.reference, repository.name
        ))),
        DeleteArtifact::ReferencedBy(parent) => Err(ApiError::PreconditionFailed(format!(
            "artifact {} is referenced by index {parent}; delete the index first",
            artifact.digest
        ))),
        DeleteArtifact::Immutable(locked) => {
            Err(refused(&state, &locked, Attempt::Delete, &caller, &client).await)
        }
    }
}

/// `POST …/artifacts?from=project/repo:tag|project/repo@digest`: copies an artifact (with its children,
/// accessories and tags) into this repository, creating it if needed and charging this project's quota.
/// The caller needs to create artifacts here and read the source repository. 409 if it is already here.
pub async fn copy(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(path): Path<RepositoryPath>,
    Query(query): Query<CopyQuery>,
) -> Result<Response, ApiError> {
    let from = query
        .from
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ApiError::BadRequest("the from parameter is required".to_owned()))?;
    let source: CopySource = from.parse()?;
    let (target_project, target_access) = project(&state, &caller, &path.project_name).await?;
    authorize(
        &caller,
        target_access,
        Resource::Artifact,
        Operation::Create,
    )?;
    let target = full_name(&target_project.name, &path.repository_name)?;
    let (_, source_repository) = locate(
        &state,
        &caller,
        source.repository.project(),
        source
            .repository
            .as_str()
            .split_once('/')
            .map_or("", |(_, rest)| rest),
        Resource::Repository,
        Operation::Read,
    )
    .await?;
    let artifact = find(&state, &source_repository, &source.reference.to_string()).await?;
    let tags: Vec<String> = state
        .db
        .tags_of(&[artifact.id])
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let copied = state
        .db
        .copy_artifact(&CopyArtifact {
            source_repository_id: source_repository.id,
            digest: &artifact.digest,
            target_project_id: target_project.id,
            target_repository: target.as_str(),
            tags: &tags,
        })
        .await;
    match copied {
        Err(CopyError::Immutable(locked)) => {
            return Err(refused(&state, &locked, Attempt::Move, &caller, &client).await);
        }
        other => service::copied(other, target.as_str())?,
    }
    tracing::info!(from = %from, to = %target, digest = %artifact.digest, by = caller.0.name(), "artifact copied");
    let location = HeaderValue::try_from(artifact_href(target.as_str(), &artifact.digest))
        .map_err(|e| ApiError::internal("location header", e))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// The additions Harbor names (its swagger's `addition` enum, and `vulnerabilities`, a route of its own), and
/// Berth's `layers`.
const ADDITIONS: [&str; 9] = [
    "build_history",
    "layers",
    "values.yaml",
    "readme.md",
    "dependencies",
    "sbom",
    "license",
    "files",
    "vulnerabilities",
];

/// `GET …/artifacts/{reference}/additions/{addition}`: `build_history`, the image config's history, for an
/// artifact with an image config, Berth's `layers`, the manifest's layers (an index answers 400),
/// `vulnerabilities`, the latest scan report ([`super::scan::vulnerabilities`]), and `sbom`, the document of the
/// artifact's latest SBOM accessory as a download ([`super::scan::sbom_document`]). Another addition Harbor
/// names (the chart and model additions, which Berth does not extract yet) is a 404. A name Harbor does not have
/// is a 400.
pub async fn addition(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<AdditionPath>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let artifact_path = ArtifactPath {
        project_name: path.project_name,
        repository_name: path.repository_name,
        reference: path.reference,
    };
    if !ADDITIONS.contains(&path.addition.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "invalid addition {:?}: one of {}",
            path.addition.chars().take(64).collect::<String>(),
            ADDITIONS.join(", ")
        )));
    }
    let (repository, artifact) = locate_artifact(
        &state,
        &caller,
        &artifact_path,
        Resource::Artifact,
        Operation::Read,
    )
    .await?;
    let summary = ManifestSummary::of(&artifact.content);
    match path.addition.as_str() {
        "build_history" if service::has_image_config(&summary) => {
            let history = service::build_history(&state.blobs, &artifact.content).await?;
            Ok(Json(history).into_response())
        }
        "layers" => {
            let layers = service::layers(&artifact.media_type, &artifact.content)?;
            Ok(Json(layers).into_response())
        }
        "vulnerabilities" => {
            super::scan::vulnerabilities(&state, repository.project_id, &artifact.digest, &headers)
                .await
        }
        "sbom" => super::scan::sbom_document(&state, &repository.name, &artifact.digest).await,
        addition => Err(ApiError::NotFound(format!(
            "the addition {addition} of artifact {}@{} not found",
            repository.name, artifact.digest
        ))),
    }
}
