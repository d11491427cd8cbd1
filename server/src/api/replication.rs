//! Harbor's replication API: `/replication/policies` CRUD, `/replication/executions` (start, list, get, stop),
//! an execution's `tasks` and a task's `log`, and `/replication/adapterinfos`. The work itself is
//! [`crate::replication`].
//!
//! Permissions are Harbor's system resources `replication-policy` and `replication`: system administrators
//! (and robots given them). Each policy change and each manual start is audited.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::registries::Registry;
use berth_api::replication::{
    AdapterInfos, RegistryEndpoint, RegistryProviderCredentialPattern,
    RegistryProviderEndpointPattern, RegistryProviderInfo, ReplicationExecution, ReplicationPolicy,
    ReplicationTask, StartReplicationExecution, TRIGGER_MANUAL, TRIGGER_SCHEDULED,
};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path};
use super::pagination::Page;
use super::{BASE, Caller};
use crate::app::AppState;
use crate::db::replication::{
    NewReplicationPolicy, ReplicationExecutionRow, ReplicationPolicyRow, SaveReplicationError,
};
use crate::events::audit::{Audit, ClientIp, Operation as Op, clip};
use crate::proxy::EndpointKind;
use crate::replication::policy::{self, Settings};
use crate::replication::run;

/// The most policies.
pub const MAX_POLICIES: i64 = 500;

fn parse_id(name: &str, text: &str) -> Result<i64, ApiError> {
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

/// The path's ids.
#[derive(Debug, Deserialize)]
pub struct Ids {
    id: String,
    task_id: Option<String>,
}

/// `GET /replication/policies` query.
#[derive(Debug, Deserialize)]
pub struct PolicyQuery {
    name: Option<String>,
    q: Option<String>,
}

/// `GET /replication/executions` query.
#[derive(Debug, Deserialize)]
pub struct ExecutionQuery {
    policy_id: Option<i64>,
    trigger: Option<String>,
}

/// `GET /replication/executions/{id}/tasks` query.
#[derive(Debug, Deserialize)]
pub struct TaskQuery {
    status: Option<String>,
    resource_type: Option<String>,
}

/// How Harbor shows Berth itself as a policy's side.
fn local_registry(state: &AppState) -> Registry {
    Registry {
        id: 0,
        name: "Local".to_owned(),
        url: state.config.external_url().unwrap_or_default().to_owned(),
        registry_type: "harbor".to_owned(),
        status: "healthy".to_owned(),
        creation_time: ZERO_TIME.to_owned(),
        update_time: ZERO_TIME.to_owned(),
        ..Registry::default()
    }
}

/// The times Harbor gives its own `Local` registry (Go's zero time): clients parse them as dates.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

async fn registry_of(state: &AppState, id: Option<i64>) -> Result<Registry, ApiError> {
    match id {
        None => Ok(local_registry(state)),
        Some(id) => match state.db.registry(id).await? {
            Some(row) => Ok(super::registries::registry(state, row)),
            None => Ok(Registry {
                id,
                name: format!("(deleted registry {id})"),
                creation_time: ZERO_TIME.to_owned(),
                update_time: ZERO_TIME.to_owned(),
                ..Registry::default()
            }),
        },
    }
}

async fn to_wire(
    state: &AppState,
    row: ReplicationPolicyRow,
) -> Result<ReplicationPolicy, ApiError> {
    let settings: Settings = serde_json::from_str(&row.settings)
        .map_err(|e| ApiError::internal("reading a replication policy", e))?;
    Ok(ReplicationPolicy {
        id: row.id,
        name: row.name,
        description: row.description,
        src_registry: Some(registry_of(state, row.src_registry_id).await?),
        dest_registry: Some(registry_of(state, row.dest_registry_id).await?),
        dest_namespace: settings.dest_namespace,
        dest_namespace_replace_count: Some(settings.dest_namespace_replace_count),
        trigger: Some(settings.trigger),
        filters: settings.filters,
        replicate_deletion: settings.replicate_deletion,
        deletion: settings.replicate_deletion,
        r#override: settings.r#override,
        enabled: row.enabled,
        creation_time: row.creation_time,
        update_time: row.update_time,
        speed: Some(settings.speed),
        copy_by_chunk: Some(settings.copy_by_chunk),
        single_active_replication: Some(settings.single_active_replication),
    })
}

fn save_error(error: SaveReplicationError) -> ApiError {
    match error {
        SaveReplicationError::NameTaken(_) => ApiError::Conflict(error.to_string()),
        SaveReplicationError::TooMany(_) => ApiError::BadRequest(error.to_string()),
        SaveReplicationError::Db(e) => e.into(),
    }
}

/// A registry side of a request body: `None` (or id 0) for Berth; an existing endpoint's id otherwise.
async fn side_id(
    state: &AppState,
    side: Option<&Registry>,
    which: &str,
) -> Result<Option<i64>, ApiError> {
    match side.map(|r| r.id).filter(|id| *id != 0) {
        None => Ok(None),
        Some(id) if id < 0 => Err(ApiError::BadRequest(format!(
            "{which}.id must be a registry's id"
        ))),
        Some(id) => match state.db.registry(id).await? {
            Some(_) => Ok(Some(id)),
            None => Err(ApiError::BadRequest(format!(
                "{which}: registry {id} does not exist"
            ))),
        },
    }
}

/// A checked body, ready to store: its registries, settings JSON, trigger and schedule.
struct Prepared {
    src: Option<i64>,
    dest: Option<i64>,
    settings: String,
    trigger_type: String,
    /// `(cron, first firing)` of a scheduled policy.
    schedule: Option<(String, String)>,
}

impl Prepared {
    fn row<'a>(
        &'a self,
        body: &'a ReplicationPolicy,
        creator: &'a str,
    ) -> NewReplicationPolicy<'a> {
        NewReplicationPolicy {
            name: body.name.trim(),
            description: &body.description,
            src_registry_id: self.src,
            dest_registry_id: self.dest,
            settings: &self.settings,
            trigger_type: &self.trigger_type,
            enabled: body.enabled,
            creator,
            schedule: self
                .schedule
                .as_ref()
                .map(|(c, n)| (c.as_str(), n.as_str())),
        }
    }
}

/// Checks the body of `POST` or `PUT /replication/policies` into what is stored.
async fn prepare(state: &AppState, body: &ReplicationPolicy) -> Result<Prepared, ApiError> {
    let src = side_id(state, body.src_registry.as_ref(), "src_registry").await?;
    let dest = side_id(state, body.dest_registry.as_ref(), "dest_registry").await?;
    match (src, dest) {
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "one side of a policy is Berth: leave src_registry (push-based) or dest_registry (pull-based) empty".to_owned(),
            ));
        }
        (None, None) => {
            return Err(ApiError::BadRequest(
                "a policy needs a registry endpoint as its source (pull-based) or destination (push-based)".to_owned(),
            ));
        }
        _ => {}
    }
    let checked = policy::validate(body, src.is_none()).map_err(ApiError::BadRequest)?;
    let settings = serde_json::to_string(&checked.settings)
        .map_err(|e| ApiError::internal("storing a replication policy", e))?;
    let schedule = match checked.cron {
        Some(cron) => {
            let next =
                crate::jobs::schedule::next_of(&cron, chrono::Utc::now()).ok_or_else(|| {
                    ApiError::BadRequest(format!("the cron expression {cron:?} never fires"))
                })?;
            Some((cron, crate::db::timestamp(next)))
        }
        None => None,
    };
    Ok(Prepared {
        src,
        dest,
        settings,
        trigger_type: checked.settings.trigger.trigger_type,
        schedule,
    })
}

/// `GET /replication/policies`: by name, filtered by `name` (or `q=name=~…`).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PolicyQuery>,
    page: Page,
) -> Result<Response, ApiError> {
    caller.system("replication-policy", "list")?;
    let from_q = query.q.as_deref().and_then(|q| {
        q.split(',').find_map(|part| {
            part.strip_prefix("name=~")
                .or_else(|| part.strip_prefix("name="))
        })
    });
    let name = query
        .name
        .as_deref()
        .or(from_q)
        .map(|n| n.trim_matches('"'));
    let (rows, total) = state
        .db
        .list_replication_policies(name, page.limit(), page.offset())
        .await?;
    let mut body = Vec::with_capacity(rows.len());
    for row in rows {
        body.push(to_wire(&state, row).await?);
    }
    let path = format!("{BASE}/replication/policies");
    Ok((page.headers(total, &path, &[]), Json(body)).into_response())
}

/// `POST /replication/policies`: 201 with its `Location`; 400 for a bad policy, 409 for a name in use.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Json(body): Json<ReplicationPolicy>,
) -> Result<Response, ApiError> {
    let subject = caller.system("replication-policy", "create")?;
    let prepared = prepare(&state, &body).await?;
    let new = prepared.row(&body, subject.name());
    let id = state
        .db
        .create_replication_policy(&new, MAX_POLICIES)
        .await
        .map_err(save_error)?;
    tracing::info!(
        policy = id,
        name = new.name,
        by = subject.name(),
        "replication policy created"
    );
    Audit::new(Op::Create, "replication_policy", new.name)
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    let location = HeaderValue::try_from(format!("{BASE}/replication/policies/{id}"))
        .map_err(|e| ApiError::internal("location header", e))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

async fn find_policy(state: &AppState, id: &str) -> Result<ReplicationPolicyRow, ApiError> {
    let id = parse_id("id", id)?;
    state
        .db
        .replication_policy(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("replication policy {id} not found")))
}

/// `GET /replication/policies/{id}`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<Ids>,
) -> Result<Json<ReplicationPolicy>, ApiError> {
    caller.system("replication-policy", "read")?;
    let row = find_policy(&state, &ids.id).await?;
    Ok(Json(to_wire(&state, row).await?))
}

/// `PUT /replication/policies/{id}`: replaces the policy (its creator stays, and runs as before).
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(ids): Path<Ids>,
    Json(body): Json<ReplicationPolicy>,
) -> Result<(), ApiError> {
    let subject = caller.system("replication-policy", "update")?;
    let row = find_policy(&state, &ids.id).await?;
    let prepared = prepare(&state, &body).await?;
    let new = prepared.row(&body, &row.creator);
    if !state
        .db
        .update_replication_policy(row.id, &new)
        .await
        .map_err(save_error)?
    {
        return Err(ApiError::NotFound(format!(
            "replication policy {} not found",
            row.id
        )));
    }
    tracing::info!(
        policy = row.id,
        by = subject.name(),
        "replication policy updated"
    );
    Audit::new(Op::Update, "replication_policy", new.name)
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    Ok(())
}

/// `DELETE /replication/policies/{id}`: refused (412) while an execution of it runs.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(ids): Path<Ids>,
) -> Result<(), ApiError> {
    let subject = caller.system("replication-policy", "delete")?;
    let row = find_policy(&state, &ids.id).await?;
    if state.db.replication_active(row.id, 0).await? {
        return Err(ApiError::PreconditionFailed(format!(
            "replication policy {} has an execution in progress; stop it first",
            row.name
        )));
    }
    state.db.delete_replication_policy(row.id).await?;
    tracing::info!(
        policy = row.id,
        by = subject.name(),
        "replication policy deleted"
    );
    Audit::new(Op::Delete, "replication_policy", &row.name)
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    Ok(())
}

/// Harbor's execution status for the job's state.
fn execution_status(state: &str) -> &'static str {
    match state {
        "pending" | "running" => "InProgress",
        "success" => "Succeed",
        "stopped" => "Stopped",
        _ => "Failed",
    }
}

fn execution(row: ReplicationExecutionRow) -> ReplicationExecution {
    let status = execution_status(&row.state);
    let status_text = match status {
        "Failed" => format!("{} of {} task(s) failed", row.failed, row.total),
        _ => String::new(),
    };
    ReplicationExecution {
        id: row.id,
        policy_id: row.policy_id,
        status: status.to_owned(),
        status_text,
        trigger: row.trigger_type,
        start_time: row.started_at.unwrap_or(row.created_at),
        end_time: row.finished_at,
        total: row.total,
        failed: row.failed,
        succeed: row.succeed,
        in_progress: if status == "InProgress" {
            row.in_progress
        } else {
            0
        },
        stopped: row.stopped,
    }
}

/// `GET /replication/executions`: newest first, of `policy_id` and `trigger` if given.
pub async fn list_executions(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ExecutionQuery>,
    page: Page,
) -> Result<Response, ApiError> {
    caller.system("replication", "list")?;
    let (rows, total) = state
        .db
        .replication_executions(
            query.policy_id,
            query.trigger.as_deref(),
            page.limit(),
            page.offset(),
        )
        .await?;
    let body: Vec<ReplicationExecution> = rows.into_iter().map(execution).collect();
    let path = format!("{BASE}/replication/executions");
    Ok((page.headers(total, &path, &[]), Json(body)).into_response())
}

/// `POST /replication/executions`: starts policy `policy_id` now; 201 with the execution's `Location`.
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Json(body): Json<StartReplicationExecution>,
) -> Result<Response, ApiError> {
    let subject = caller.system("replication", "create")?;
    let row = state
        .db
        .replication_policy(body.policy_id)
        .await?
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "replication policy {} does not exist",
                body.policy_id
            ))
        })?;
    if !row.enabled {
        return Err(ApiError::BadRequest(format!(
            "replication policy {} is disabled; enable it first",
            row.name
        )));
    }
    let parameters = run::parameters(row.id, TRIGGER_MANUAL, None);
    let id = state
        .jobs
        .enqueue(
            &state.db,
            run::NAME,
            &parameters,
            crate::jobs::MANUAL,
            subject.name(),
        )
        .await
        .map_err(|e| match e {
            crate::jobs::EnqueueError::QueueFull(..) => ApiError::Conflict(e.to_string()),
            e => ApiError::internal("starting a replication", e),
        })?;
    state
        .db
        .record_replication_execution(id, row.id, TRIGGER_MANUAL)
        .await?;
    tracing::info!(
        policy = row.id,
        execution = id,
        by = subject.name(),
        "replication started"
    );
    Audit::new(Op::Create, "replication", &row.name)
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    let location = HeaderValue::try_from(format!("{BASE}/replication/executions/{id}"))
        .map_err(|e| ApiError::internal("location header", e))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

async fn find_execution(state: &AppState, id: &str) -> Result<ReplicationExecutionRow, ApiError> {
    let id = parse_id("id", id)?;
    state
        .db
        .replication_execution(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("replication execution {id} not found")))
}

/// `GET /replication/executions/{id}`.
pub async fn get_execution(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<Ids>,
) -> Result<Json<ReplicationExecution>, ApiError> {
    caller.system("replication", "read")?;
    Ok(Json(execution(find_execution(&state, &ids.id).await?)))
}

/// `PUT /replication/executions/{id}`: stops the execution (a pending one at once, a running one between
/// artifacts).
pub async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    Path(ids): Path<Ids>,
) -> Result<(), ApiError> {
    let subject = caller.system("replication", "update")?;
    let row = find_execution(&state, &ids.id).await?;
    state.jobs.stop(&state.db, row.id).await?;
    tracing::info!(
        execution = row.id,
        by = subject.name(),
        "replication stop requested"
    );
    Audit::new(Op::Update, "replication", format!("execution {}", row.id))
        .by_subject(subject, &client)
        .record(&state.db)
        .await;
    Ok(())
}

/// `GET /replication/executions/{id}/tasks`.
pub async fn list_tasks(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<Ids>,
    Query(query): Query<TaskQuery>,
    page: Page,
) -> Result<Response, ApiError> {
    caller.system("replication", "read")?;
    let execution = find_execution(&state, &ids.id).await?;
    let (rows, total) = state
        .db
        .replication_tasks(
            execution.id,
            query.status.as_deref(),
            query.resource_type.as_deref(),
            page.limit(),
            page.offset(),
        )
        .await?;
    let body: Vec<ReplicationTask> = rows
        .into_iter()
        .map(|row| ReplicationTask {
            id: row.id,
            execution_id: row.execution_id,
            status: row.status,
            job_id: row.execution_id.to_string(),
            operation: row.operation,
            resource_type: row.resource_type,
            src_resource: row.src_resource,
            dst_resource: row.dst_resource,
            start_time: row.start_time,
            end_time: row.end_time,
        })
        .collect();
    let path = format!("{BASE}/replication/executions/{}/tasks", execution.id);
    Ok((page.headers(total, &path, &[]), Json(body)).into_response())
}

/// `GET /replication/executions/{id}/tasks/{task_id}/log`: plain text.
pub async fn task_log(
    State(state): State<AppState>,
    caller: Caller,
    Path(ids): Path<Ids>,
) -> Result<Response, ApiError> {
    caller.system("replication", "read")?;
    let execution = find_execution(&state, &ids.id).await?;
    let task_id = parse_id("task_id", ids.task_id.as_deref().unwrap_or_default())?;
    let log = state
        .db
        .replication_task_log(execution.id, task_id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "task {task_id} not found in execution {}",
                execution.id
            ))
        })?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], log).into_response())
}

/// `GET /replication/adapterinfos`: per registry type, its endpoint pattern and credential pattern.
pub async fn adapter_infos(caller: Caller) -> Result<Json<AdapterInfos>, ApiError> {
    caller.system("replication-adapter", "list")?;
    let mut infos = AdapterInfos::new();
    for kind in EndpointKind::ALL {
        let endpoint_pattern = kind
            .default_url()
            .map(|url| RegistryProviderEndpointPattern {
                endpoint_type: "EndpointPatternTypeFix".to_owned(),
                endpoints: vec![RegistryEndpoint {
                    key: kind.as_str().to_owned(),
                    value: url.to_owned(),
                }],
            });
        let credential_pattern = Some(RegistryProviderCredentialPattern {
            access_key_type: "AccessKeyTypeStandard".to_owned(),
            access_key_data: String::new(),
            access_secret_type: "AccessSecretTypeStandard".to_owned(),
            access_secret_data: String::new(),
        });
        infos.insert(
            kind.as_str().to_owned(),
            RegistryProviderInfo {
                endpoint_pattern,
                credential_pattern,
            },
        );
    }
    Ok(Json(infos))
}

/// The trigger types a registry endpoint supports as a policy's other side.
pub fn supported_triggers() -> Vec<String> {
    vec![
        TRIGGER_MANUAL.to_owned(),
        TRIGGER_SCHEDULED.to_owned(),
        berth_api::replication::TRIGGER_EVENT.to_owned(),
    ]
}
