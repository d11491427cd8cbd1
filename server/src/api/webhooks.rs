//! Harbor's webhook API: `/projects/{project_name_or_id}/webhook/policies[/{webhook_policy_id}]`, a policy's
//! `executions`, their `tasks` and a task's `log`, `/webhook/lasttrigger` and `/webhook/events`.
//!
//! Permissions are Harbor's `notification-policy` resource of the project: project admins create, change and
//! delete policies; maintainers read and list them (and their executions); system admins do everything;
//! robots as their permissions say. A project the caller cannot see answers 404, as does a policy of another
//! project. Each change is audited (resource type `webhook_policy`). The delivery itself is
//! [`crate::webhooks`].

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::webhooks::{
    Execution, ExecutionMetrics, FORMAT_CLOUDEVENTS, FORMAT_DEFAULT, NOTIFY_HTTP, NOTIFY_SLACK,
    PayloadFormat, SupportedWebhookEventTypes, Task, WebhookLastTrigger, WebhookPolicy,
};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::extract::{Json, Path};
use super::pagination::Page;
use super::projects::resolve;
use super::purgeaudit::status;
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::Subject;
use crate::db::Project;
use crate::db::webhooks::{NewWebhookPolicy, SaveWebhookError, WebhookExecutionRow};
use crate::events::audit::{Audit, ClientIp, Operation as Op, clip};
use crate::webhooks::EventType;
use crate::webhooks::policy::{self, MAX_POLICIES};

const RESOURCE: &str = "notification-policy";

/// The path's ids: the project, and as deep as the route goes, the policy, execution and task.
#[derive(Debug, Deserialize)]
pub struct Ids {
    project_name_or_id: String,
    webhook_policy_id: Option<String>,
    execution_id: Option<String>,
    task_id: Option<String>,
}

fn parse_id(name: &str, text: Option<&str>) -> Result<i64, ApiError> {
    let text = text.unwrap_or_default();
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "{name} must be a positive integer, not {:?}",
                clip(text)
            ))
        })
}

/// The project the path names, if the caller holds `notification-policy:{action}` there; 404 for a project
/// it cannot see.
async fn project<'a>(
    state: &AppState,
    caller: &'a Caller,
    headers: &HeaderMap,
    ids: &Ids,
    action: &str,
) -> Result<(Project, &'a Subject), ApiError> {
    let subject = caller.signed_in()?;
    let (project, access) = resolve(state, caller, headers, &ids.project_name_or_id).await?;
    if caller.holds_in_project(access, &project.name, RESOURCE, action) {
        Ok((project, subject))
    } else {
        Err(ApiError::Forbidden(format!(
            "{RESOURCE}:{action} in project {} is for its project admins{}",
            project.name,
            if matches!(action, "read" | "list") {
                " and maintainers"
            } else {
                ""
            }
        )))
    }
}

/// Policy `{webhook_policy_id}` of the project, if the caller holds `notification-policy:{action}` there.
async fn policy_for(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    ids: &Ids,
    action: &str,
) -> Result<(Project, WebhookPolicy), ApiError> {
    let id = parse_id("webhook_policy_id", ids.webhook_policy_id.as_deref())?;
    let (project, _) = project(state, caller, headers, ids, action).await?;
    let row = state
        .db
        .webhook_policy(project.id, id)
        .await?
        .ok_or_else(|| not_found_policy(&project, id))?;
    let targets = state.db.webhook_targets(project.id).await?;
    Ok((project, policy::to_wire(row, &targets)))
}

fn not_found_policy(project: &Project, id: i64) -> ApiError {
    ApiError::NotFound(format!(
        "webhook policy {id} not found in project {}",
        project.name
    ))
}

/// Execution `{execution_id}` of the path's policy.
async fn execution_for(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    ids: &Ids,
) -> Result<WebhookExecutionRow, ApiError> {
    let (_, policy) = policy_for(state, caller, headers, ids, "read").await?;
    let eid = parse_id("execution_id", ids.execution_id.as_deref())?;
    state
        .db
        .webhook_execution(policy.id, eid)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "execution {eid} not found in webhook policy {}",
                policy.id
            ))
        })
}

fn save_error(error: SaveWebhookError) -> ApiError {
    match error {
        SaveWebhookError::NameTaken(_) => ApiError::Conflict(error.to_string()),
        SaveWebhookError::TooMany(_) => ApiError::BadRequest(error.to_string()),
        SaveWebhookError::Db(e) => e.into(),
    }
}

/// `GET …/webhook/policies`: one page of the project's policies, by id.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(ids): Path<Ids>,
    page: Page,
) -> Result<Response, ApiError> {
    let (project, _) = project(&state, &caller, &headers, &ids, "list").await?;
    let rows = state.db.webhook_policies(project.id).await?;
    let targets = state.db.webhook_targets(project.id).await?;
    let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let body: Vec<WebhookPolicy> = rows
        .into_iter()
        .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
        .take(usize::try_from(page.limit()).unwrap_or(0))
        .map(|row| policy::to_wire(row, &targets))
        .collect();
    let path = format!(
        "{BASE}/projects/{}/webhook/policies",
        ids.project_name_or_id
    );
    Ok((page.headers(total, &path, &[]), Json(body)).into_response())
}

/// `POST …/webhook/policies`: 201 with the new policy's `Location`; 400 for a bad policy, 409 for a name the
/// project already uses.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Path(ids): Path<Ids>,
    Json(body): Json<WebhookPolicy>,
) -> Result<Response, ApiError> {
    let (project, subject) = project(&state, &caller, &headers, &ids, "create").await?;
    let checked = policy::check(
        &body,
        &[],
        &state.secrets,
        state.config.webhooks.allow_local_targets,
    )
    .map_err(ApiError::BadRequest)?;
    let new = NewWebhookPolicy {
        name: &checked.name,
        description: &checked.description,
        event_types: &checked.event_types,
        enabled: checked.enabled,
        creator: subject.name(),
        targets: &checked.targets,
    };
    let id = state
        .db
        .create_webhook_policy(project.id, &new, MAX_POLICIES)
        .await
        .map_err(save_error)?;
    tracing::info!(project = %project.name, policy = id, by = subject.name(), "webhook policy created");
    Audit::new(Op::Create, "webhook_policy", &checked.name)
        .project_id(Some(project.id))
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    let location = HeaderValue::try_from(format!(
        "{BASE}/projects/{}/webhook/policies/{id}",
        ids.project_name_or_id
    ))
    .map_err(|e| ApiError::internal("location header", e))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// `GET …/webhook/policies/{webhook_policy_id}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(ids): Path<Ids>,
) -> Result<Json<WebhookPolicy>, ApiError> {
    let (_, policy) = policy_for(&state, &caller, &headers, &ids, "read").await?;
    Ok(Json(policy))
}

/// `PUT …/webhook/policies/{webhook_policy_id}`: replaces the policy. A target sent without `auth_header`
/// keeps the header stored for its address.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Path(ids): Path<Ids>,
    Json(body): Json<WebhookPolicy>,
) -> Result<(), ApiError> {
    let id = parse_id("webhook_policy_id", ids.webhook_policy_id.as_deref())?;
    let (project, subject) = project(&state, &caller, &headers, &ids, "update").await?;
    state
        .db
        .webhook_policy(project.id, id)
        .await?
        .ok_or_else(|| not_found_policy(&project, id))?;
    let stored: Vec<_> = state
        .db
        .webhook_targets(project.id)
        .await?
        .into_iter()
        .filter(|t| t.policy_id == id)
        .collect();
    let checked = policy::check(
        &body,
        &stored,
        &state.secrets,
        state.config.webhooks.allow_local_targets,
    )
    .map_err(ApiError::BadRequest)?;
    let new = NewWebhookPolicy {
        name: &checked.name,
        description: &checked.description,
        event_types: &checked.event_types,
        enabled: checked.enabled,
        creator: subject.name(),
        targets: &checked.targets,
    };
    if !state
        .db
        .update_webhook_policy(project.id, id, &new)
        .await
        .map_err(save_error)?
    {
        return Err(not_found_policy(&project, id));
    }
    tracing::info!(project = %project.name, policy = id, enabled = checked.enabled, by = subject.name(), "webhook policy updated");
    Audit::new(Op::Update, "webhook_policy", &checked.name)
        .project_id(Some(project.id))
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    Ok(())
}

/// `DELETE …/webhook/policies/{webhook_policy_id}`: the policy, its executions and their logs.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Path(ids): Path<Ids>,
) -> Result<(), ApiError> {
    let id = parse_id("webhook_policy_id", ids.webhook_policy_id.as_deref())?;
    let (project, subject) = project(&state, &caller, &headers, &ids, "delete").await?;
    let row = state
        .db
        .webhook_policy(project.id, id)
        .await?
        .ok_or_else(|| not_found_policy(&project, id))?;
    if !state.db.delete_webhook_policy(project.id, id).await? {
        return Err(not_found_policy(&project, id));
    }
    tracing::info!(project = %project.name, policy = id, by = subject.name(), "webhook policy deleted");
    Audit::new(Op::Delete, "webhook_policy", &row.name)
        .project_id(Some(project.id))
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    Ok(())
}

fn vendor_type(row: &WebhookExecutionRow) -> &'static str {
    if row.notify_type == NOTIFY_SLACK {
        "SLACK"
    } else {
        "WEBHOOK"
    }
}

fn time(value: Option<&String>) -> String {
    value.cloned().unwrap_or_default()
}

/// An execution in Harbor's shape: one event to one target, with its one task counted in `metrics`.
fn execution(row: &WebhookExecutionRow) -> Execution {
    let status = status(&row.state);
    let mut metrics = ExecutionMetrics {
        task_count: 1,
        ..ExecutionMetrics::default()
    };
    match row.state.as_str() {
        "success" => metrics.success_task_count = 1,
        "error" => metrics.error_task_count = 1,
        "running" => metrics.running_task_count = 1,
        "stopped" => metrics.stopped_task_count = 1,
        _ => metrics.pending_task_count = 1,
    }
    let extra_attrs = BTreeMap::from([
        ("event_type".to_owned(), json!(row.event_type)),
        ("address".to_owned(), json!(row.address)),
    ]);
    Execution {
        id: row.id,
        vendor_type: vendor_type(row).to_owned(),
        vendor_id: row.policy_id,
        status,
        status_message: String::new(),
        metrics,
        trigger: crate::jobs::EVENT.to_owned(),
        extra_attrs,
        start_time: row.created_at.clone(),
        end_time: time(row.finished_at.as_ref()),
    }
}

/// The execution's one task: the delivery, its attempts, and the receiver's last status code.
fn task(row: &WebhookExecutionRow) -> Task {
    let mut extra_attrs = BTreeMap::from([
        ("event_type".to_owned(), json!(row.event_type)),
        ("address".to_owned(), json!(row.address)),
    ]);
    if let Some(code) = row.status_code {
        extra_attrs.insert("status_code".to_owned(), json!(code));
    }
    Task {
        id: row.id,
        execution_id: row.id,
        status: status(&row.state),
        status_message: String::new(),
        run_count: i32::try_from(row.attempts).unwrap_or(i32::MAX),
        extra_attrs,
        creation_time: row.created_at.clone(),
        update_time: row.updated_at.clone(),
        start_time: time(row.started_at.as_ref()),
        end_time: time(row.finished_at.as_ref()),
    }
}

/// `GET …/webhook/policies/{id}/executions`: one page of the policy's executions, newest first.
pub async fn list_executions(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(ids): Path<Ids>,
    page: Page,
) -> Result<Response, ApiError> {
    let (_, policy) = policy_for(&state, &caller, &headers, &ids, "list").await?;
    let (rows, total) = state
        .db
        .webhook_executions(policy.id, page.limit(), page.offset())
        .await?;
    let body: Vec<Execution> = rows.iter().map(execution).collect();
    let path = format!(
        "{BASE}/projects/{}/webhook/policies/{}/executions",
        ids.project_name_or_id, policy.id
    );
    Ok((page.headers(total, &path, &[]), Json(body)).into_response())
}

/// `GET …/executions/{execution_id}/tasks`: the execution's one task.
pub async fn list_tasks(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(ids): Path<Ids>,
    page: Page,
) -> Result<Response, ApiError> {
    let row = execution_for(&state, &caller, &headers, &ids).await?;
    let body: Vec<Task> = if page.offset() == 0 {
        vec![task(&row)]
    } else {
        Vec::new()
    };
    let path = format!(
        "{BASE}/projects/{}/webhook/policies/{}/executions/{}/tasks",
        ids.project_name_or_id, row.policy_id, row.id
    );
    Ok((page.headers(1, &path, &[]), Json(body)).into_response())
}

/// `GET …/tasks/{task_id}/log`: each attempt and the receiver's status code, as text.
pub async fn task_log(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(ids): Path<Ids>,
) -> Result<Response, ApiError> {
    let row = execution_for(&state, &caller, &headers, &ids).await?;
    let tid = parse_id("task_id", ids.task_id.as_deref())?;
    if tid != row.id {
        return Err(ApiError::NotFound(format!(
            "task {tid} not found in execution {}",
            row.id
        )));
    }
    let job = state
        .db
        .job(row.id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("task {tid} has no log")))?;
    super::jobservice::log_text(&state, &job).await
}

/// `GET …/webhook/lasttrigger`: per policy and event type, when it last fired (empty if never).
pub async fn last_trigger(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(ids): Path<Ids>,
) -> Result<Json<Vec<WebhookLastTrigger>>, ApiError> {
    let (project, _) = project(&state, &caller, &headers, &ids, "read").await?;
    let policies = state.db.webhook_policies(project.id).await?;
    let fired = state.db.webhook_last_triggers(project.id).await?;
    let mut body = Vec::new();
    for policy in policies {
        let events: Vec<String> = serde_json::from_str(&policy.event_types).unwrap_or_default();
        for event_type in events {
            let last = fired
                .iter()
                .find(|f| f.policy_id == policy.id && f.event_type == event_type)
                .map(|f| f.last_trigger_time.clone())
                .unwrap_or_default();
            body.push(WebhookLastTrigger {
                policy_name: policy.name.clone(),
                event_type,
                enabled: policy.enabled,
                creation_time: policy.creation_time.clone(),
                last_trigger_time: last,
            });
        }
    }
    Ok(Json(body))
}

/// `GET …/webhook/events`: the event types, notify types and payload formats Berth supports.
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(ids): Path<Ids>,
) -> Result<Json<SupportedWebhookEventTypes>, ApiError> {
    project(&state, &caller, &headers, &ids, "read").await?;
    Ok(Json(SupportedWebhookEventTypes {
        event_type: EventType::ALL
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect(),
        notify_type: vec![NOTIFY_HTTP.to_owned(), NOTIFY_SLACK.to_owned()],
        payload_formats: vec![PayloadFormat {
            notify_type: NOTIFY_HTTP.to_owned(),
            formats: vec![FORMAT_DEFAULT.to_owned(), FORMAT_CLOUDEVENTS.to_owned()],
        }],
    }))
}
