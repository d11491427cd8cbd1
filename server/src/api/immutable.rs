//! Immutable tag rules: `/projects/{project_name_or_id}/immutabletagrules[/{immutable_rule_id}]`.
//!
//! Project admins and maintainers list, create, update and delete them; other roles may not (Harbor's
//! `immutable-tag` resource, `docs/reference/harbor-rbac.md`). A project the caller cannot see answers 404, as
//! does a rule of another project. `PUT` takes the whole rule, whose `id` must be the path's (as in Harbor), and
//! applies every field, `disabled` included. Each change is audited (resource type `immutable_rule`).
//!
//! Also here: [`refused`], the answer of every REST write an immutable tag rule refuses.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::immutable::ImmutableRule;
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::pagination::Page;
use super::projects::resolve;
use super::query::list_query;
use super::repositories::authorize;
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::policy::{Operation, Resource};
use crate::db::{Project, list};
use crate::events::audit::{Audit, ClientIp, Operation as Op};
use crate::immutable::TagLocked;
use crate::service::immutable as service;

/// Query of the rule list besides the page.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    sort: Option<String>,
}

/// The project a path names, after checking the caller may perform `operation` on its rules.
async fn project(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    name_or_id: &str,
    operation: Operation,
) -> Result<Project, ApiError> {
    let (project, access) = resolve(state, caller, headers, name_or_id).await?;
    authorize(caller, access, Resource::ImmutableTag, operation)?;
    Ok(project)
}

fn rule_id(text: &str) -> Result<i64, ApiError> {
    text.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "invalid immutable_rule_id {:?}: an integer",
            text.chars().take(32).collect::<String>()
        ))
    })
}

/// `GET …/immutabletagrules`: one page of the project's rules, by id; `X-Total-Count` holds how many.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(name_or_id): Path<String>,
    Query(query): Query<ListQuery>,
    page: Page,
) -> Result<Response, ApiError> {
    let project = project(&state, &caller, &headers, &name_or_id, Operation::List).await?;
    let filters = list_query(
        query.q.as_deref(),
        query.sort.as_deref(),
        &list::IMMUTABLE_RULES,
    )?;
    let (rows, total) = state
        .db
        .list_immutable_rules(project.id, &filters, page.limit(), page.offset())
        .await?;
    let body: Vec<ImmutableRule> = rows.into_iter().map(service::to_wire).collect();
    let kept: Vec<(&str, String)> = [("q", &query.q), ("sort", &query.sort)]
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
        .collect();
    let path = format!("{BASE}/projects/{name_or_id}/immutabletagrules");
    Ok((page.headers(total, &path, &kept), Json(body)).into_response())
}

/// `POST …/immutabletagrules`: adds a rule. 201 with its `Location`; 400 for a bad rule or past the limit
/// of 15; 409 for a rule with the same selectors.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Path(name_or_id): Path<String>,
    Json(rule): Json<ImmutableRule>,
) -> Result<Response, ApiError> {
    let project = project(&state, &caller, &headers, &name_or_id, Operation::Create).await?;
    let rule = service::validate(&rule)?;
    let id = service::create(&state.db, project.id, &rule).await?;
    tracing::info!(project = %project.name, rule = id, by = caller.0.name(), "immutable tag rule created");
    Audit::new(Op::Create, "immutable_rule", service::describe(id, &rule))
        .project_id(Some(project.id))
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    let location = HeaderValue::try_from(format!(
        "{BASE}/projects/{name_or_id}/immutabletagrules/{id}"
    ))
    .map_err(|e| ApiError::internal("location header", e))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// `PUT …/immutabletagrules/{id}`: replaces the rule (or just enables or disables it).
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Path((name_or_id, id)): Path<(String, String)>,
    Json(rule): Json<ImmutableRule>,
) -> Result<(), ApiError> {
    let id = rule_id(&id)?;
    if rule.id != id {
        return Err(ApiError::BadRequest(
            "the immutable_rule_id doesn't match the id in the payload body of ImmutableRule"
                .to_owned(),
        ));
    }
    let project = project(&state, &caller, &headers, &name_or_id, Operation::Update).await?;
    let rule = service::validate(&rule)?;
    service::update(&state.db, project.id, id, &rule).await?;
    tracing::info!(project = %project.name, rule = id, disabled = rule.disabled, by = caller.0.name(), "immutable tag rule updated");
    Audit::new(Op::Update, "immutable_rule", service::describe(id, &rule))
        .project_id(Some(project.id))
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(())
}

/// `DELETE …/immutabletagrules/{id}`.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Path((name_or_id, id)): Path<(String, String)>,
) -> Result<(), ApiError> {
    let id = rule_id(&id)?;
    let project = project(&state, &caller, &headers, &name_or_id, Operation::Delete).await?;
    if !state.db.delete_immutable_rule(project.id, id).await? {
        return Err(ApiError::NotFound(format!(
            "immutable tag rule {id} not found in project {}",
            project.name
        )));
    }
    tracing::info!(project = %project.name, rule = id, by = caller.0.name(), "immutable tag rule deleted");
    Audit::new(Op::Delete, "immutable_rule", format!("rule {id}"))
        .project_id(Some(project.id))
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(())
}

/// What a refused REST write tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attempt {
    /// Moving a tag to another artifact (tag creation, artifact copy).
    Move,
    /// Removing a tag (deleting it, its artifact or its repository).
    Delete,
}

/// Records a write an immutable tag rule refused and returns Harbor's answer: 412 `PRECONDITION`.
pub(super) async fn refused(
    state: &AppState,
    locked: &TagLocked,
    attempt: Attempt,
    caller: &Caller,
    client: &ClientIp,
) -> ApiError {
    let (what, message) = match attempt {
        Attempt::Move => ("move", locked.push_message()),
        Attempt::Delete => ("delete", locked.delete_message()),
    };
    service::record_refusal(&state.db, locked, what, caller.0.name(), client).await;
    ApiError::PreconditionFailed(message)
}
