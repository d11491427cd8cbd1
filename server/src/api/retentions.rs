//! Harbor's tag retention API: `GET /retentions/metadatas`, `POST /retentions`, `GET`/`PUT`/`DELETE
//! /retentions/{id}`, `POST`/`GET /retentions/{id}/executions`, `PATCH /retentions/{id}/executions/{eid}`
//! (stop), `GET …/executions/{eid}/tasks` and `…/tasks/{tid}` (the task's log, text), and Berth's addition
//! `GET …/tasks/{tid}/reasons`: each tag's fate in that task, and why, one page at a time.
//!
//! Permissions are Harbor's `tag-retention` resource of the policy's project (project admins and maintainers,
//! system admins, and robots given it): `create`, `read` (a policy, a task's log and reasons), `update` (change,
//! run, stop), `delete`, `list` (executions and tasks). The policy itself is [`crate::retention`].

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::retention::{
    RetentionExecution, RetentionExecutionAction, RetentionExecutionTask, RetentionMetadata,
    RetentionPolicy, RetentionReason, RetentionRun,
};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path};
use super::pagination::Page;
use super::purgeaudit::status;
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::Subject;
use crate::auth::policy::ProjectAccess;
use crate::db::retention::{
    ReasonRow, RetentionExecutionRow, RetentionPolicyRow, RetentionTaskRow,
};
use crate::events::audit::{Audit, ClientIp, Operation as Op, clip};
use crate::jobs::{EnqueueError, MANUAL};
use crate::retention::{self, policy, run};

const RESOURCE: &str = "tag-retention";

/// The most lines of reasons a task's log shows; the rest are read from `…/reasons`.
pub const LOG_MAX_REASONS: i64 = 10_000;

/// `{id}`, `{eid}` and `{tid}` of a path.
#[derive(Debug, Deserialize)]
pub struct Ids {
    id: String,
    eid: Option<String>,
    tid: Option<String>,
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

/// The caller if it holds `tag-retention:{action}` in project `project_id`; 404 for a project it cannot see.
async fn authorize<'a>(
    state: &AppState,
    caller: &'a Caller,
    project_id: i64,
    action: &str,
) -> Result<&'a Subject, ApiError> {
    let subject = caller.signed_in()?;
    let project = state
        .db
        .find_project_by_id(project_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("project {project_id} not found")))?;
    let access = ProjectAccess::of(&state.db, subject, &project).await?;
    if !access.can_see() {
        return Err(ApiError::NotFound(format!(
            "project {project_id} not found"
        )));
    }
    if caller.holds_in_project(access, &project.name, RESOURCE, action) {
        Ok(subject)
    } else {
        Err(ApiError::Forbidden(format!(
            "{RESOURCE}:{action} in project {} is for its project admins and maintainers",
            project.name
        )))
    }
}

/// Policy `{id}`, if the caller holds `tag-retention:{action}` in its project.
async fn policy_for<'a>(
    state: &AppState,
    caller: &'a Caller,
    ids: &Ids,
    action: &str,
) -> Result<(RetentionPolicyRow, &'a Subject), ApiError> {
    let id = parse_id("id", Some(&ids.id))?;
    caller.signed_in()?;
    let row = state
        .db
        .retention_policy_by_id(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("retention policy {id} not found")))?;
    let subject = authorize(state, caller, row.project_id, action).await?;
    Ok((row, subject))
}

/// Execution `{eid}` of policy `{id}`.
async fn execution_for(
    state: &AppState,
    policy: &RetentionPolicyRow,
    ids: &Ids,
) -> Result<RetentionExecutionRow, ApiError> {
    let eid = parse_id("eid", ids.eid.as_deref())?;
    state
        .db
        .retention_execution(policy.id, eid)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "execution {eid} of retention policy {} not found",
                policy.id
            ))
        })
}

/// Task `{tid}` of execution `{eid}` of policy `{id}`.
async fn task_for(
    state: &AppState,
    caller: &Caller,
    ids: &Ids,
) -> Result<RetentionTaskRow, ApiError> {
    let (policy, _) = policy_for(state, caller, ids, "read").await?;
    let execution = execution_for(state, &policy, ids).await?;
    let tid = parse_id("tid", ids.tid.as_deref())?;
    state
        .db
        .retention_task(execution.id, tid)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "task {tid} of execution {} not found",
                execution.id
            ))
        })
}

fn location(path: String) -> Result<[(header::HeaderName, HeaderValue); 1], ApiError> {
    let value = HeaderValue::try_from(format!("{BASE}{path}"))
        .map_err(|e| ApiError::internal("location header", e))?;
    Ok([(header::LOCATION, value)])
}

/// `GET /retentions/metadatas`: the templates and selectors rules may use.
pub async fn metadatas(caller: Caller) -> Result<Json<RetentionMetadata>, ApiError> {
    caller.signed_in()?;
    Ok(Json(policy::metadata()))
}

/// `POST /retentions`: creates the policy of the project named by `scope.ref` (which must have none yet) and
/// sets the project's `retention_id`; 201 with its `Location`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Json(body): Json<RetentionPolicy>,
) -> Result<Response, ApiError> {
    caller.signed_in()?;
    let project_id = body
        .scope
        .as_ref()
        .map(|s| s.reference)
        .filter(|r| *r > 0)
        .ok_or_else(|| {
            ApiError::BadRequest("scope.ref must name the project (its id)".to_owned())
        })?;
    let subject = match authorize(&state, &caller, project_id, "create").await {
        Err(ApiError::NotFound(_)) => {
            return Err(ApiError::BadRequest(format!(
                "invalid Project id {project_id}"
            )));
        }
        other => other?,
    };
    let id = retention::create(&state.db, &body, subject.name()).await?;
    tracing::info!(
        policy = id,
        project = project_id,
        by = subject.name(),
        "retention policy created"
    );
    Audit::new(Op::Create, "retention", format!("retention policy {id}"))
        .project_id(Some(project_id))
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    Ok((StatusCode::CREATED, location(format!("/retentions/{id}"))?).into_response())
}

/// `GET /retentions/{id}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<Ids>,
) -> Result<Json<RetentionPolicy>, ApiError> {
    let (row, _) = policy_for(&state, &caller, &ids, "read").await?;
    let policy = serde_json::from_str(&row.policy)
        .map_err(|e| ApiError::internal("reading a stored retention policy", e))?;
    Ok(Json(policy))
}

/// `PUT /retentions/{id}`: replaces the rules and trigger (the scope stays the policy's project).
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(ids): Path<Ids>,
    Json(body): Json<RetentionPolicy>,
) -> Result<(), ApiError> {
    let (row, subject) = policy_for(&state, &caller, &ids, "update").await?;
    retention::update(&state.db, row.id, row.project_id, &body, subject.name()).await?;
    Audit::new(
        Op::Update,
        "retention",
        format!("retention policy {}", row.id),
    )
    .project_id(Some(row.project_id))
    .by_subject(subject, &client)
    .record(&state.db)
    .await;
    Ok(())
}

/// `DELETE /retentions/{id}`: the policy, its schedule, its executions, and the project's `retention_id`.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(ids): Path<Ids>,
) -> Result<(), ApiError> {
    let (row, subject) = policy_for(&state, &caller, &ids, "delete").await?;
    state.db.delete_retention_policy(row.id).await?;
    Audit::new(
        Op::Delete,
        "retention",
        format!("retention policy {}", row.id),
    )
    .project_id(Some(row.project_id))
    .by_subject(subject, &client)
    .record(&state.db)
    .await;
    Ok(())
}

/// `POST /retentions/{id}/executions` with `{"dry_run": bool}`: runs the policy now; 201 with the execution's
/// `Location`.
pub async fn trigger(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(ids): Path<Ids>,
    Json(body): Json<RetentionRun>,
) -> Result<Response, ApiError> {
    let (row, subject) = policy_for(&state, &caller, &ids, "update").await?;
    let eid = state
        .jobs
        .enqueue(
            &state.db,
            run::NAME,
            &run::parameters(row.id, body.dry_run),
            MANUAL,
            subject.name(),
        )
        .await
        .map_err(|e| match e {
            EnqueueError::QueueFull(..) => ApiError::Conflict(e.to_string()),
            EnqueueError::Db(e) => e.into(),
            EnqueueError::UnknownKind(_) => ApiError::internal("enqueueing a retention run", e),
        })?;
    state
        .db
        .record_retention_execution(eid, row.id, body.dry_run, MANUAL)
        .await?;
    Audit::new(
        Op::Create,
        "job",
        format!("{} {eid} of retention policy {}", run::NAME, row.id),
    )
    .project_id(Some(row.project_id))
    .by_subject(subject, &client)
    .record(&state.db)
    .await;
    Ok((
        StatusCode::CREATED,
        location(format!("/retentions/{}/executions/{eid}", row.id))?,
    )
        .into_response())
}

fn execution(row: RetentionExecutionRow) -> RetentionExecution {
    RetentionExecution {
        id: row.id,
        policy_id: row.policy_id,
        start_time: row.started_at.unwrap_or(row.created_at),
        end_time: row.finished_at.unwrap_or_default(),
        status: status(&row.state),
        trigger: row.triggered_by,
        dry_run: row.dry_run,
    }
}

/// `GET /retentions/{id}/executions`: one page of runs, newest first.
pub async fn list_executions(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<Ids>,
    page: Page,
) -> Result<Response, ApiError> {
    let (row, _) = policy_for(&state, &caller, &ids, "list").await?;
    let (rows, total) = state
        .db
        .retention_executions(row.id, page.limit(), page.offset())
        .await?;
    let body: Vec<RetentionExecution> = rows.into_iter().map(execution).collect();
    Ok((
        page.headers(
            total,
            &format!("{BASE}/retentions/{}/executions", row.id),
            &[],
        ),
        Json(body),
    )
        .into_response())
}

/// `PATCH /retentions/{id}/executions/{eid}` with `{"action": "stop"}`: stops the run between two batches.
pub async fn operate(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(ids): Path<Ids>,
    Json(body): Json<RetentionExecutionAction>,
) -> Result<(), ApiError> {
    if body.action != "stop" {
        return Err(ApiError::BadRequest(format!(
            "action should be 'stop', not {:?}",
            clip(&body.action)
        )));
    }
    let (row, subject) = policy_for(&state, &caller, &ids, "update").await?;
    let execution = execution_for(&state, &row, &ids).await?;
    super::jobservice::stop(&state, execution.id, subject, &client).await
}

fn task(row: RetentionTaskRow) -> RetentionExecutionTask {
    let status_code = match row.status.as_str() {
        "Pending" => 0,
        "Running" => 2,
        _ => 3,
    };
    RetentionExecutionTask {
        id: row.id,
        execution_id: row.execution_id,
        repository: row.repository,
        job_id: row.execution_id.to_string(),
        status: row.status,
        status_code,
        status_revision: 0,
        start_time: row.start_time.unwrap_or_default(),
        end_time: row.end_time.unwrap_or_default(),
        total: row.total,
        retained: row.retained,
    }
}

/// `GET /retentions/{id}/executions/{eid}/tasks`: one page of the run's repositories.
pub async fn list_tasks(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<Ids>,
    page: Page,
) -> Result<Response, ApiError> {
    let (row, _) = policy_for(&state, &caller, &ids, "list").await?;
    let execution = execution_for(&state, &row, &ids).await?;
    let (rows, total) = state
        .db
        .retention_tasks(execution.id, page.limit(), page.offset())
        .await?;
    let body: Vec<RetentionExecutionTask> = rows.into_iter().map(task).collect();
    Ok((
        page.headers(
            total,
            &format!(
                "{BASE}/retentions/{}/executions/{}/tasks",
                row.id, execution.id
            ),
            &[],
        ),
        Json(body),
    )
        .into_response())
}

/// A decision as the API shows it: the recorded reason, completed with what happened to the artifact.
fn reason(row: ReasonRow) -> RetentionReason {
    let text = match (row.retained, &row.tag, row.artifact_deleted) {
        (true, _, _) => row.reason,
        (false, Some(_), true) => format!(
            "{}; its artifact goes too (no kept tag or index needs it)",
            row.reason
        ),
        (false, Some(_), false) => format!(
            "{}; only the tag goes (another kept tag, an index or its subject still needs the artifact)",
            row.reason
        ),
        (false, None, true) => format!("{}; the untagged artifact is deleted", row.reason),
        (false, None, false) => format!(
            "{}; the artifact stays (an index or its subject needs it)",
            row.reason
        ),
    };
    RetentionReason {
        tag: row.tag,
        digest: row.digest,
        retained: row.retained,
        rule: row.rule,
        artifact_deleted: row.artifact_deleted,
        reason: text,
    }
}

/// `GET /retentions/{id}/executions/{eid}/tasks/{tid}`: the task's log, text: a line per tag and untagged
/// artifact with its fate and reason (the first [`LOG_MAX_REASONS`]; `…/reasons` pages through them all).
pub async fn task_log(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<Ids>,
) -> Result<Response, ApiError> {
    let task = task_for(&state, &caller, &ids).await?;
    let (rows, total) = state
        .db
        .retention_reasons(task.id, LOG_MAX_REASONS, 0)
        .await?;
    let mut text = format!(
        "Repository: {}\nStatus: {}\nTotal: {}, retained: {}, removed: {}\n\n",
        task.repository,
        task.status,
        task.total,
        task.retained,
        task.total - task.retained
    );
    for row in rows.into_iter().map(reason) {
        let name = row.tag.as_deref().map_or_else(
            || format!("{}@{}", task.repository, row.digest),
            |t| format!("{}:{t}", task.repository),
        );
        let fate = if row.retained { "RETAIN" } else { "DEL" };
        text.push_str(&format!(
            "{fate:<6} {name} ({}) {}\n",
            row.digest, row.reason
        ));
    }
    if total > LOG_MAX_REASONS {
        text.push_str(&format!(
            "… {} more; GET {BASE}/retentions/{}/executions/{}/tasks/{}/reasons pages through them all\n",
            total - LOG_MAX_REASONS,
            ids.id,
            task.execution_id,
            task.id
        ));
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        text,
    )
        .into_response())
}

/// `GET /retentions/{id}/executions/{eid}/tasks/{tid}/reasons` (Berth's addition): one page of the task's
/// decisions, in the order they were made (newest push first).
pub async fn task_reasons(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<Ids>,
    page: Page,
) -> Result<Response, ApiError> {
    let task = task_for(&state, &caller, &ids).await?;
    let (rows, total) = state
        .db
        .retention_reasons(task.id, page.limit(), page.offset())
        .await?;
    let body: Vec<RetentionReason> = rows.into_iter().map(reason).collect();
    Ok((
        page.headers(
            total,
            &format!(
                "{BASE}/retentions/{}/executions/{}/tasks/{}/reasons",
                ids.id, task.execution_id, task.id
            ),
            &[],
        ),
        Json(body),
    )
        .into_response())
}
