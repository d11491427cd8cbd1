//! Labels: `/labels[/{label_id}]`, and putting labels on artifacts
//! (`/projects/{p}/repositories/{r}/artifacts/{reference}/labels[/{label_id}]`).
//!
//! Global labels (scope `g`) are read by anyone signed in and written by system administrators (and system
//! robots given `label`); a project's labels (scope `p`) follow the project's role matrix (`label`: project
//! admins and maintainers write, developers and guests read, anyone reads those of a public project). A
//! project the caller cannot see answers 404, and so does its label. Putting a label on an artifact or taking
//! it off is `artifact-label` create/delete (developers and up); a project label goes only on its own
//! project's artifacts. Each change is audited (`label`, `artifact_label`).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::labels::{GLOBAL, Label, PROJECT};
use serde::Deserialize;

use super::artifacts::{ArtifactPath, locate_artifact};
use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::pagination::Page;
use super::projects::resolve;
use super::query::{Pattern, add, list_query};
use super::repositories::authorize;
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::policy::{Operation, Resource};
use crate::db::{LabelRow, LabelScope, NewLabel, list};
use crate::events::audit::{self, Audit, ClientIp, Operation as Op};
use crate::service::labels as service;

/// Query of the label list besides the page.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    sort: Option<String>,
    /// A part of the name.
    name: Option<String>,
    /// `g` or `p` (required, as in Harbor).
    scope: Option<String>,
    /// The project of `scope=p`.
    project_id: Option<i64>,
}

/// `…/artifacts/{reference}/labels/{label_id}` of a path.
#[derive(Debug, Deserialize)]
pub struct ArtifactLabelPath {
    project_name: String,
    repository_name: String,
    reference: String,
    label_id: String,
}

fn label_id(text: &str) -> Result<i64, ApiError> {
    text.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "invalid label_id {:?}: an integer",
            text.chars().take(32).collect::<String>()
        ))
    })
}

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("label {id} not found"))
}

/// The system-level action of `operation` on global labels.
fn system_action(operation: Operation) -> &'static str {
    match operation {
        Operation::Create => "create",
        Operation::Update => "update",
        Operation::Delete => "delete",
        Operation::List => "list",
        _ => "read",
    }
}

/// Checks the caller may perform `operation` on labels of project `project_id` (`None`: the global labels).
/// A project the caller cannot see is a 404.
async fn authorize_scope(
    state: &AppState,
    caller: &Caller,
    project_id: Option<i64>,
    operation: Operation,
) -> Result<(), ApiError> {
    match project_id {
        None if matches!(operation, Operation::Read | Operation::List) => {
            caller.signed_in().map(|_| ())
        }
        None => caller.system("label", system_action(operation)).map(|_| ()),
        Some(project_id) => {
            let (_, access) =
                resolve(state, caller, &HeaderMap::new(), &project_id.to_string()).await?;
            authorize(caller, access, Resource::Label, operation)
        }
    }
}

/// Label `id`, after checking the caller may perform `operation` on it.
async fn find(
    state: &AppState,
    caller: &Caller,
    id: i64,
    operation: Operation,
) -> Result<LabelRow, ApiError> {
    let label = state.db.label(id).await?.ok_or_else(|| not_found(id))?;
    match authorize_scope(state, caller, label.project_id, operation).await {
        // A label of a project the caller cannot see does not exist for them.
        Err(ApiError::NotFound(_)) => Err(not_found(id)),
        Err(e) => Err(e),
        Ok(()) => Ok(label),
    }
}

/// `GET /labels?scope=g|p[&project_id=N]`: one page of the global labels or of a project's, by name;
/// `name` filters by a part of the name, `q` and `sort` take the keys of [`list::LABELS`].
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
    page: Page,
) -> Result<Response, ApiError> {
    let scope = match query.scope.as_deref() {
        Some(GLOBAL) => LabelScope::Global,
        Some(PROJECT) => match query.project_id {
            Some(id) if id > 0 => LabelScope::Project(id),
            _ => {
                return Err(ApiError::BadRequest(
                    "project_id is required to list project labels (scope=p)".to_owned(),
                ));
            }
        },
        other => {
            return Err(ApiError::BadRequest(format!(
                "invalid scope {:?}: g (global labels) or p (a project's, with project_id)",
                other
                    .unwrap_or_default()
                    .chars()
                    .take(16)
                    .collect::<String>()
            )));
        }
    };
    let project_id = match scope {
        LabelScope::Global => None,
        LabelScope::Project(id) => Some(id),
    };
    authorize_scope(&state, &caller, project_id, Operation::List).await?;
    let mut filters = list_query(query.q.as_deref(), query.sort.as_deref(), &list::LABELS)?;
    if let Some(name) = query.name.as_deref().filter(|n| !n.is_empty()) {
        add(
            &mut filters,
            &list::LABELS,
            "name",
            Pattern::Fuzzy(name.to_owned()),
        )?;
    }
    let (rows, total) = state
        .db
        .list_labels(scope, &filters, page.limit(), page.offset())
        .await?;
    let body: Vec<Label> = rows.into_iter().map(service::to_wire).collect();
    let mut kept: Vec<(&str, String)> = [
        ("q", &query.q),
        ("sort", &query.sort),
        ("name", &query.name),
        ("scope", &query.scope),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
    .collect();
    if let Some(id) = project_id {
        kept.push(("project_id", id.to_string()));
    }
    Ok((
        page.headers(total, &format!("{BASE}/labels"), &kept),
        Json(body),
    )
        .into_response())
}

/// `POST /labels`: creates a global label (system administrators) or a project label (the project's admins
/// and maintainers). 201 with its `Location`; 400 for a bad label or past [`service::MAX_PER_SCOPE`]; 409
/// for a name its scope already has.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Json(label): Json<Label>,
) -> Result<Response, ApiError> {
    let project_id = service::scope(&label)?;
    authorize_scope(&state, &caller, project_id, Operation::Create).await?;
    let text = service::validate(&label)?;
    let new = NewLabel {
        name: text.name,
        description: text.description,
        color: text.color,
        project_id,
    };
    let id = state
        .db
        .create_label(&new, service::MAX_PER_SCOPE)
        .await
        .map_err(crate::service::ServiceError::from)?;
    tracing::info!(label = id, name = %new.name, project = ?project_id, by = caller.0.name(), "label created");
    Audit::new(Op::Create, "label", format!("{} ({id})", new.name))
        .project_id(project_id)
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    let location = HeaderValue::try_from(format!("{BASE}/labels/{id}"))
        .map_err(|e| ApiError::internal("location header", e))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// `GET /labels/{label_id}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Label>, ApiError> {
    let id = label_id(&id)?;
    let label = find(&state, &caller, id, Operation::Read).await?;
    Ok(Json(service::to_wire(label)))
}

/// `PUT /labels/{label_id}`: changes the name, description and colour (the scope and project stay, as in
/// Harbor). 409 for a name its scope already has.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(id): Path<String>,
    Json(body): Json<Label>,
) -> Result<(), ApiError> {
    let id = label_id(&id)?;
    let label = find(&state, &caller, id, Operation::Update).await?;
    let text = service::validate(&body)?;
    state
        .db
        .update_label(id, &text.name, &text.description, &text.color)
        .await
        .map_err(crate::service::ServiceError::from)?;
    tracing::info!(label = id, name = %text.name, by = caller.0.name(), "label updated");
    Audit::new(Op::Update, "label", format!("{} ({id})", text.name))
        .project_id(label.project_id)
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(())
}

/// `DELETE /labels/{label_id}`: deletes the label and takes it off every artifact.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(id): Path<String>,
) -> Result<(), ApiError> {
    let id = label_id(&id)?;
    let label = find(&state, &caller, id, Operation::Delete).await?;
    if !state.db.delete_label(id).await? {
        return Err(not_found(id));
    }
    tracing::info!(label = id, name = %label.name, by = caller.0.name(), "label deleted");
    Audit::new(Op::Delete, "label", format!("{} ({id})", label.name))
        .project_id(label.project_id)
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(())
}

/// `POST …/artifacts/{reference}/labels` with `{"id": N}`: puts label N on the artifact. 404 for no such
/// label, 400 for another project's label or past [`service::MAX_PER_ARTIFACT`], 409 if the
/// artifact carries it already.
pub async fn attach(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(path): Path<ArtifactPath>,
    Json(body): Json<Label>,
) -> Result<(), ApiError> {
    let (repository, artifact) = locate_artifact(
        &state,
        &caller,
        &path,
        Resource::ArtifactLabel,
        Operation::Create,
    )
    .await?;
    if body.id <= 0 {
        return Err(ApiError::BadRequest(
            "the body names the label to put on the artifact by its id: {\"id\": N}".to_owned(),
        ));
    }
    // Whoever may label the artifact may use any global label and its project's labels: no label read needed.
    let label = state
        .db
        .label(body.id)
        .await?
        .ok_or_else(|| not_found(body.id))?;
    service::usable_in(&label, artifact.project_id)?;
    state
        .db
        .attach_label(artifact.id, label.id, service::MAX_PER_ARTIFACT)
        .await
        .map_err(crate::service::ServiceError::from)?;
    tracing::info!(repository = %repository.name, digest = %artifact.digest, label = label.id, by = caller.0.name(), "label put on artifact");
    Audit::new(
        Op::Create,
        "artifact_label",
        format!(
            "{} label {}",
            audit::resource(&repository.name, &artifact.digest),
            label.name
        ),
    )
    .project_id(Some(artifact.project_id))
    .by_subject(&caller.0, &client)
    .record(&state.db)
    .await;
    Ok(())
}

/// `DELETE …/artifacts/{reference}/labels/{label_id}`: takes the label off the artifact; 404 if it does not
/// carry it.
pub async fn detach(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(path): Path<ArtifactLabelPath>,
) -> Result<(), ApiError> {
    let id = label_id(&path.label_id)?;
    let artifact_path = ArtifactPath {
        project_name: path.project_name,
        repository_name: path.repository_name,
        reference: path.reference,
    };
    let (repository, artifact) = locate_artifact(
        &state,
        &caller,
        &artifact_path,
        Resource::ArtifactLabel,
        Operation::Delete,
    )
    .await?;
    if !state.db.detach_label(artifact.id, id).await? {
        return Err(ApiError::NotFound(format!(
            "artifact {} does not carry label {id}",
            artifact_path.reference
        )));
    }
    tracing::info!(repository = %repository.name, digest = %artifact.digest, label = id, by = caller.0.name(), "label taken off artifact");
    Audit::new(
        Op::Delete,
        "artifact_label",
        format!(
            "{} label {id}",
            audit::resource(&repository.name, &artifact.digest)
        ),
    )
    .project_id(Some(artifact.project_id))
    .by_subject(&caller.0, &client)
    .record(&state.db)
    .await;
    Ok(())
}
