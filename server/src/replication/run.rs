//! `REPLICATION`: one execution of a policy. The source is listed (Berth's database, a Harbor's API, a
//! registry's `_catalog`, or the repositories the name filter spells out where the catalog is closed), the
//! filters select repositories and tags, and each source repository becomes a task that copies its selected
//! artifacts ([`super::copy`]). An event-triggered execution carries its one artifact (or deletion) in its
//! parameters instead.
//!
//! Resuming: the kind is idempotent. A run taken back after its node died (or retried after a failure)
//! finds its tasks, skips those that succeeded, and copies again only what the destination still lacks.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Method, StatusCode};
use berth_api::replication::{TRIGGER_EVENT, TRIGGER_MANUAL, TRIGGER_SCHEDULED};
use berth_api::webhooks::{
    EventData, EventReplicatedArtifact, EventReplication, EventReplicationResource,
    Payload as EventPayload,
};
use serde::{Deserialize, Serialize};

use super::copy::Copier;
use super::policy::{Selection, Settings, destination};
use super::registry::{Local, Remote, Side};
use crate::db::replication::NewReplicationTask;
use crate::jobs::{JobContext, JobError, JobFuture, Kind, SCHEDULE_OPERATOR};
use crate::webhooks::{Event, EventType};

pub const NAME: &str = crate::db::replication::VENDOR_TYPE;

pub const KIND: Kind = Kind {
    name: NAME,
    idempotent: true,
    max_attempts: 3,
    max_pending: 256,
    handler: run,
};

/// Executions kept per policy.
pub const KEEP_EXECUTIONS: i64 = 100;
/// The most repositories one execution lists at the source.
pub const MAX_REPOSITORIES: usize = 10_000;
/// The most tags listed per repository.
pub const MAX_TAGS: usize = 10_000;
/// The most tags one pull-based execution selects at the source (listing stops past it), so a source with
/// many repositories of many tags costs bounded memory.
pub const MAX_REMOTE_REFERENCES: usize = 100_000;
/// The most artifacts of Berth one push-based execution looks at.
pub const MAX_LOCAL_ROWS: i64 = 200_000;
/// The longest task log kept, in bytes.
const MAX_TASK_LOG: usize = 64 * 1024;

/// One artifact an event asks to replicate (or delete at the destination).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventResource {
    /// `copy` or `deletion`.
    pub operation: String,
    pub repository: String,
    pub digest: String,
    pub tag: Option<String>,
}

/// The job's parameters.
pub fn parameters(
    policy_id: i64,
    trigger: &str,
    event: Option<&EventResource>,
) -> serde_json::Value {
    serde_json::json!({"policy_id": policy_id, "trigger": trigger, "event": event})
}

fn run(ctx: JobContext) -> JobFuture {
    Box::pin(execute(ctx))
}

/// What one task copies: the references of one source repository, each with the tag it lands under.
struct Planned {
    task: NewReplicationTask,
    /// `(reference at the source, tag at the destination)`.
    references: Vec<(String, Option<String>)>,
    destination: String,
}

async fn execute(ctx: JobContext) -> Result<(), JobError> {
    let policy_id = ctx.parameters["policy_id"]
        .as_i64()
        .ok_or_else(|| JobError::Failed("the job's parameters name no policy_id".to_owned()))?;
    let db = &ctx.state.db;
    let Some(row) = db.replication_policy(policy_id).await? else {
        ctx.log
            .warn(format!(
                "replication policy {policy_id} no longer exists; nothing to do"
            ))
            .await;
        return Ok(());
    };
    let trigger = match ctx.parameters["trigger"].as_str() {
        Some(t @ (TRIGGER_MANUAL | TRIGGER_EVENT | TRIGGER_SCHEDULED)) => t,
        _ if ctx.operator == SCHEDULE_OPERATOR => TRIGGER_SCHEDULED,
        _ => TRIGGER_MANUAL,
    };
    db.record_replication_execution(ctx.id, policy_id, trigger)
        .await?;
    db.prune_replication_executions(policy_id, KEEP_EXECUTIONS)
        .await?;
    let settings: Settings = serde_json::from_str(&row.settings).map_err(|e| {
        JobError::Failed(format!(
            "replication policy {policy_id} cannot be read: {e}"
        ))
    })?;
    if trigger != TRIGGER_MANUAL && !row.enabled {
        ctx.log
            .info(format!(
                "replication policy {} is disabled; nothing to do",
                row.name
            ))
            .await;
        return Ok(());
    }
    if settings.single_active_replication && db.replication_active(policy_id, ctx.id).await? {
        ctx.log
            .info("another execution of this policy is still running; skipped (single active replication)")
            .await;
        return Ok(());
    }
    let source = side(&ctx, row.src_registry_id, &row.creator).await?;
    let target = side(&ctx, row.dest_registry_id, &row.creator).await?;
    let selection = Selection::new(&settings.filters).map_err(JobError::Failed)?;
    ctx.log
        .info(format!(
            "replication policy {} ({}): {} → {}",
            row.name,
            trigger,
            describe(&source),
            describe(&target)
        ))
        .await;
    let event: Option<EventResource> = serde_json::from_value(ctx.parameters["event"].clone())
        .ok()
        .flatten();
    let plan = match &event {
        Some(event) => plan_event(event, &settings)?,
        None => plan(&ctx, &source, &selection, &settings).await?,
    };
    let tasks: Vec<NewReplicationTask> = plan.iter().map(|p| p.task.clone()).collect();
    let rows = db.create_replication_tasks(ctx.id, &tasks).await?;
    ctx.log.info(format!("{} task(s)", rows.len())).await;
    let mut failed = 0usize;
    for (planned, task) in plan.iter().zip(&rows) {
        if task.status == "Succeed" {
            ctx.log
                .info(format!("{}: done in an earlier attempt", task.src_resource))
                .await;
            continue;
        }
        if ctx.should_stop() {
            db.end_open_replication_tasks(ctx.id, "Stopped").await?;
            return Err(JobError::Stopped);
        }
        db.set_replication_task(task.id, "InProgress", None).await?;
        let outcome = run_task(&ctx, &source, &target, &settings, &selection, planned).await;
        let (status, log) = match outcome {
            Ok(log) => ("Succeed", log),
            Err((log, JobError::Stopped)) => ("Stopped", log),
            Err((log, JobError::Failed(message))) => {
                failed += 1;
                ctx.log
                    .error(format!("{}: {message}", planned.task.src_resource))
                    .await;
                let mut log = log;
                log.push_str(&format!("ERROR {message}\n"));
                ("Failed", log)
            }
        };
        db.set_replication_task(task.id, status, Some(clip_log(&log)))
            .await?;
        if status != "Stopped" {
            notify(
                &ctx,
                &row,
                &settings,
                trigger,
                (&source, &target),
                planned,
                status,
            )
            .await;
        }
        if status == "Stopped" {
            db.end_open_replication_tasks(ctx.id, "Stopped").await?;
            return Err(JobError::Stopped);
        }
    }
    if failed > 0 {
        return Err(JobError::Failed(format!(
            "{failed} of {} task(s) failed",
            rows.len()
        )));
    }
    ctx.log.info("done").await;
    Ok(())
}

/// Sends a task's outcome as Harbor's `REPLICATION` event to the webhook policies of Berth's project in it
/// (the source project of a push, the destination project of a pull).
async fn notify(
    ctx: &JobContext,
    row: &crate::db::replication::ReplicationPolicyRow,
    settings: &Settings,
    trigger: &str,
    (source, target): (&Side, &Side),
    planned: &Planned,
    status: &str,
) {
    let local = if matches!(source, Side::Local(_)) {
        &planned.task.repository
    } else {
        &planned.destination
    };
    let Some((project_name, _)) = local.split_once('/') else {
        return;
    };
    let project = match ctx.state.db.find_project(project_name).await {
        Ok(Some(project)) => project,
        _ => return,
    };
    let webhooks = &ctx.state.webhooks;
    let side = |side: &Side, repository: &str| EventReplicationResource {
        registry_name: match side {
            Side::Local(_) => "Local".to_owned(),
            Side::Remote(_) => String::new(),
        },
        registry_type: match side {
            Side::Local(_) => "harbor".to_owned(),
            Side::Remote(remote) => remote.endpoint.kind.as_str().to_owned(),
        },
        endpoint: match side {
            Side::Local(_) => webhooks.registry_host().to_owned(),
            Side::Remote(remote) => remote.endpoint.url.clone(),
        },
        namespace: repository
            .split_once('/')
            .map_or("", |(ns, _)| ns)
            .to_owned(),
    };
    let succeeded = status == "Succeed";
    let artifact = EventReplicatedArtifact {
        kind: "image".to_owned(),
        status: if succeeded { "Success" } else { "Failed" }.to_owned(),
        name_tag: planned.task.src_resource.clone(),
    };
    let replication = EventReplication {
        harbor_hostname: webhooks.registry_host().to_owned(),
        job_status: artifact.status.clone(),
        artifact_type: "image".to_owned(),
        authentication_type: "basic".to_owned(),
        override_mode: settings.r#override,
        trigger_type: match trigger {
            TRIGGER_SCHEDULED => "SCHEDULE",
            TRIGGER_EVENT => "EVENT",
            _ => "MANUAL",
        }
        .to_owned(),
        policy_creator: row.creator.clone(),
        execution_timestamp: chrono::Utc::now().timestamp(),
        src_resource: side(source, &planned.task.repository),
        dest_resource: side(target, &planned.destination),
        successful_artifact: if succeeded {
            vec![artifact.clone()]
        } else {
            Vec::new()
        },
        failed_artifact: if succeeded {
            Vec::new()
        } else {
            vec![artifact]
        },
    };
    let event = Event {
        project_id: project.id,
        event_type: EventType::Replication,
        payload: EventPayload {
            event_type: EventType::Replication.as_str().to_owned(),
            occur_at: chrono::Utc::now().timestamp(),
            operator: ctx.operator.clone(),
            event_data: EventData {
                replication: Some(replication),
                ..EventData::default()
            },
        },
    };
    webhooks.notify(event).await;
}

/// Runs one task: its log text, or the log so far and why it ended.
async fn run_task(
    ctx: &JobContext,
    source: &Side,
    target: &Side,
    settings: &Settings,
    selection: &Selection,
    planned: &Planned,
) -> Result<String, (String, JobError)> {
    let mut copier = Copier::new(
        source,
        target,
        u64::try_from(settings.speed).unwrap_or(0),
        settings.copy_by_chunk,
        selection.images_only,
    );
    let repository = &planned.task.repository;
    let mut log = String::new();
    if let Err(e) = ensure_namespace(ctx, target, &planned.destination).await {
        return Err((log, JobError::Failed(e)));
    }
    for (reference, tag) in &planned.references {
        if ctx.should_stop() {
            log.push_str(&copier.log.join("\n"));
            return Err((log, JobError::Stopped));
        }
        if planned.task.operation == "deletion" {
            match delete(target, &planned.destination, reference).await {
                Ok(line) => log.push_str(&format!("{line}\n")),
                Err(e) => return Err((log, JobError::Failed(e))),
            }
            continue;
        }
        match copier
            .artifact(
                repository,
                &planned.destination,
                reference,
                tag.as_deref(),
                settings.r#override,
            )
            .await
        {
            Ok(Some(digest)) => log.push_str(&format!(
                "{repository}:{reference} → {}:{} ({digest})\n",
                planned.destination,
                tag.as_deref().unwrap_or(reference)
            )),
            Ok(None) => {}
            Err(e) => {
                log.push_str(&copier.log.join("\n"));
                return Err((
                    log,
                    JobError::Failed(format!("{repository}:{reference}: {e}")),
                ));
            }
        }
    }
    for line in &copier.log {
        log.push_str(line);
        log.push('\n');
    }
    let c = copier.counts;
    let summary = format!(
        "{repository}: {} manifest(s) put, {} blob(s) sent ({} bytes), {} already there, {} mounted",
        c.manifests, c.blobs_sent, c.bytes, c.blobs_present, c.blobs_mounted
    );
    ctx.log.info(&summary).await;
    log.push_str(&summary);
    log.push('\n');
    Ok(log)
}

fn clip_log(log: &str) -> &str {
    let mut end = log.len().min(MAX_TASK_LOG);
    while !log.is_char_boundary(end) {
        end -= 1;
    }
    &log[..end]
}

/// Removes `reference` (a digest) at the destination, if it is there.
async fn delete(target: &Side, repository: &str, reference: &str) -> Result<String, String> {
    let path = format!("/v2/{repository}/manifests/{reference}");
    let reply = target.bare(Method::DELETE, repository, &path, true).await?;
    match reply.status {
        StatusCode::ACCEPTED | StatusCode::OK => Ok(format!(
            "{repository}@{reference} deleted at the destination"
        )),
        StatusCode::NOT_FOUND => Ok(format!(
            "{repository}@{reference} was not at the destination"
        )),
        status => Err(format!(
            "DELETE {repository}@{reference} at the destination answered {status}"
        )),
    }
}

/// Makes sure the destination has the project (namespace) `repository` lands in: Berth creates it (private,
/// owned by the policy's creator) as Harbor does; on a remote Harbor it is created through its API.
async fn ensure_namespace(ctx: &JobContext, target: &Side, repository: &str) -> Result<(), String> {
    let Some((project, _)) = repository.split_once('/') else {
        return match target {
            Side::Local(_) => Err(format!(
                "{repository} has no project part; Berth keeps repositories in projects: set the policy's destination namespace"
            )),
            Side::Remote(_) => Ok(()),
        };
    };
    match target {
        Side::Local(local) => {
            if local
                .state
                .db
                .find_project(project)
                .await
                .map_err(|e| e.to_string())?
                .is_none()
            {
                if !local.may_create_project() {
                    return Err(format!(
                        "project {project} does not exist and this execution already created {} projects; create it by hand or narrow the name filter",
                        super::registry::MAX_PROJECTS_CREATED
                    ));
                }
                let owner = local.operator();
                crate::service::projects::create(&local.state.db, project, owner, false)
                    .await
                    .map_err(|e| format!("creating project {project}: {e}"))?;
                ctx.log
                    .info(format!(
                        "project {project} created for the replicated repositories"
                    ))
                    .await;
            }
            Ok(())
        }
        Side::Remote(remote) if remote.endpoint.kind == crate::proxy::EndpointKind::Harbor => {
            let path = format!("/api/v2.0/projects?project_name={project}");
            let exists = remote
                .upstream
                .api(Method::HEAD, &path, None)
                .await
                .map_err(|e| e.to_string())?;
            if exists.status() == StatusCode::NOT_FOUND {
                let body =
                    serde_json::json!({"project_name": project, "metadata": {"public": "false"}});
                let created = remote
                    .upstream
                    .api(Method::POST, "/api/v2.0/projects", Some(&body))
                    .await
                    .map_err(|e| e.to_string())?;
                if created.status().is_success() {
                    ctx.log
                        .info(format!("project {project} created at the destination"))
                        .await;
                } else {
                    ctx.log
                        .warn(format!(
                            "creating project {project} at the destination answered {}",
                            created.status()
                        ))
                        .await;
                }
            }
            Ok(())
        }
        Side::Remote(_) => Ok(()),
    }
}

fn describe(side: &Side) -> String {
    match side {
        Side::Local(_) => "Berth".to_owned(),
        Side::Remote(remote) => format!("{} ({})", remote.endpoint.url, remote.endpoint.kind),
    }
}

/// Berth for `None`, else registry endpoint `id`.
async fn side(ctx: &JobContext, registry_id: Option<i64>, creator: &str) -> Result<Side, JobError> {
    let Some(id) = registry_id else {
        return Ok(Side::Local(Local::new(&ctx.state, creator)));
    };
    let endpoint = crate::service::registries::endpoint(&ctx.state.db, &ctx.state.secrets, id)
        .await
        .map_err(|e| JobError::Failed(format!("registry {id}: {e}")))?
        .ok_or_else(|| JobError::Failed(format!("registry {id} no longer exists")))?;
    let upstream = ctx
        .state
        .proxy
        .upstream(endpoint.clone())
        .map_err(|e| JobError::Failed(format!("registry {id}: {e}")))?;
    Ok(Side::Remote(Remote { endpoint, upstream }))
}

fn resource(repository: &str, references: &[(String, Option<String>)]) -> String {
    let names: Vec<&str> = references
        .iter()
        .map(|(r, t)| t.as_deref().unwrap_or(r))
        .collect();
    let text = format!("{repository}:[{}]", names.join(","));
    crate::events::audit::clip(&text).to_string()
}

fn planned(
    operation: &str,
    repository: String,
    references: Vec<(String, Option<String>)>,
    settings: &Settings,
) -> Result<Planned, JobError> {
    let destination = destination(
        &repository,
        &settings.dest_namespace,
        settings.dest_namespace_replace_count,
    )
    .map_err(JobError::Failed)?;
    Ok(Planned {
        task: NewReplicationTask {
            operation: operation.to_owned(),
            resource_type: "artifact".to_owned(),
            src_resource: resource(&repository, &references),
            dst_resource: resource(&destination, &references),
            repository,
        },
        references,
        destination,
    })
}

fn plan_event(event: &EventResource, settings: &Settings) -> Result<Vec<Planned>, JobError> {
    let (operation, references) = if event.operation == "deletion" {
        ("deletion", vec![(event.digest.clone(), None)])
    } else {
        let reference = event.tag.clone().unwrap_or_else(|| event.digest.clone());
        ("copy", vec![(reference, event.tag.clone())])
    };
    Ok(vec![planned(
        operation,
        event.repository.clone(),
        references,
        settings,
    )?])
}

/// Lists the source and applies the filters: one task per selected repository with selected references.
async fn plan(
    ctx: &JobContext,
    source: &Side,
    selection: &Selection,
    settings: &Settings,
) -> Result<Vec<Planned>, JobError> {
    let mut by_repository: BTreeMap<String, Vec<(String, Option<String>)>> = BTreeMap::new();
    match source {
        Side::Local(local) => {
            let rows = local
                .state
                .db
                .replication_candidates(None, MAX_LOCAL_ROWS)
                .await?;
            if rows.len() as i64 >= MAX_LOCAL_ROWS {
                ctx.log
                    .warn(format!(
                        "more than {MAX_LOCAL_ROWS} artifacts; only the first are looked at"
                    ))
                    .await;
            }
            for row in rows {
                if !selection.repository(&row.repository) || !selection.tag(row.tag.as_deref()) {
                    continue;
                }
                if !selection.labels.is_empty() {
                    let labels = local
                        .state
                        .db
                        .replication_labels(&row.repository, &row.digest)
                        .await?;
                    if !selection.labelled(&labels) {
                        continue;
                    }
                }
                let reference = row.tag.clone().unwrap_or_else(|| row.digest.clone());
                by_repository
                    .entry(row.repository)
                    .or_default()
                    .push((reference, row.tag));
            }
        }
        Side::Remote(remote) => {
            let repositories = remote_repositories(ctx, remote, selection).await?;
            let mut planned_references = 0usize;
            for repository in repositories {
                if !selection.repository(&repository) {
                    continue;
                }
                if planned_references >= MAX_REMOTE_REFERENCES {
                    ctx.log
                        .warn(format!(
                            "more than {MAX_REMOTE_REFERENCES} tags selected; only the first are replicated: narrow the name or tag filter"
                        ))
                        .await;
                    break;
                }
                let tags = remote_tags(remote, &repository)
                    .await
                    .map_err(JobError::Failed)?;
                let selected: Vec<(String, Option<String>)> = tags
                    .into_iter()
                    .filter(|t| selection.tag(Some(t)))
                    .map(|t| (t.clone(), Some(t)))
                    .collect();
                if !selected.is_empty() {
                    planned_references += selected.len();
                    by_repository.insert(repository, selected);
                }
            }
        }
    }
    by_repository
        .into_iter()
        .map(|(repository, references)| planned("copy", repository, references, settings))
        .collect()
}

/// The repositories of a remote source: a Harbor's projects through its API, else the `_catalog`, else the
/// names the name filter spells out.
async fn remote_repositories(
    ctx: &JobContext,
    remote: &Remote,
    selection: &Selection,
) -> Result<Vec<String>, JobError> {
    if remote.endpoint.kind == crate::proxy::EndpointKind::Harbor {
        match harbor_repositories(remote).await {
            Ok(names) => return Ok(names),
            Err(e) => {
                ctx.log
                    .warn(format!(
                        "listing through Harbor's API failed ({e}); trying the catalog"
                    ))
                    .await
            }
        }
    }
    match catalog(remote).await {
        Ok(names) => Ok(names),
        Err(e) => match selection.literal_repositories() {
            Some(names) => {
                ctx.log
                    .info(format!(
                        "no catalog ({e}); using the repositories the name filter names"
                    ))
                    .await;
                Ok(names
                    .into_iter()
                    .map(|n| remote.endpoint.upstream_repository(&n))
                    .collect())
            }
            None => Err(JobError::Failed(format!(
                "the source's catalog cannot be listed ({e}); name the repositories in the name filter, e.g. {{library/alpine,library/busybox}}"
            ))),
        },
    }
}

/// Follows a `Link: <…>; rel="next"` header to the path of the next page.
fn next_page(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    let start = link.find('<')? + 1;
    let end = link[start..].find('>')? + start;
    let target = &link[start..end];
    if target.starts_with('/') {
        return Some(target.to_owned());
    }
    let url = url::Url::parse(target).ok()?;
    Some(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    })
}

async fn catalog(remote: &Remote) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    struct Catalog {
        #[serde(default)]
        repositories: Vec<String>,
    }
    let mut names = Vec::new();
    let mut path = Some("/v2/_catalog?n=1000".to_owned());
    while let Some(current) = path.take() {
        let response = remote
            .upstream
            .exchange(
                Method::GET,
                None,
                "*",
                &current,
                HeaderMap::new(),
                crate::proxy::upstream::RequestBody::Empty,
            )
            .await
            .map_err(|e| e.to_string())?;
        if response.status() != StatusCode::OK {
            return Err(format!("_catalog answered {}", response.status()));
        }
        path = next_page(response.headers());
        let body = limited(response).await?;
        let page: Catalog = serde_json::from_slice(&body).map_err(|e| format!("_catalog: {e}"))?;
        if page.repositories.is_empty() {
            break;
        }
        names.extend(page.repositories);
        if names.len() >= MAX_REPOSITORIES {
            names.truncate(MAX_REPOSITORIES);
            break;
        }
    }
    Ok(names)
}

async fn harbor_repositories(remote: &Remote) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    struct Named {
        name: String,
    }
    let mut names = Vec::new();
    for page in 1..=100 {
        let path = format!("/api/v2.0/repositories?page={page}&page_size=100");
        let response = remote
            .upstream
            .api(Method::GET, &path, None)
            .await
            .map_err(|e| e.to_string())?;
        if response.status() != StatusCode::OK {
            return Err(format!(
                "GET /api/v2.0/repositories answered {}",
                response.status()
            ));
        }
        let body = limited(response).await?;
        let repositories: Vec<Named> = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let last = repositories.len() < 100;
        names.extend(repositories.into_iter().map(|r| r.name));
        if last || names.len() >= MAX_REPOSITORIES {
            break;
        }
    }
    names.truncate(MAX_REPOSITORIES);
    Ok(names)
}

async fn remote_tags(remote: &Remote, repository: &str) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    struct Tags {
        #[serde(default)]
        tags: Option<Vec<String>>,
    }
    let mut tags = Vec::new();
    let mut path = Some(format!("/v2/{repository}/tags/list?n=1000"));
    while let Some(current) = path.take() {
        let response = remote
            .upstream
            .exchange(
                Method::GET,
                Some(repository),
                "pull",
                &current,
                HeaderMap::new(),
                crate::proxy::upstream::RequestBody::Empty,
            )
            .await
            .map_err(|e| e.to_string())?;
        if response.status() != StatusCode::OK {
            return Err(format!(
                "listing the tags of {repository} answered {}",
                response.status()
            ));
        }
        path = next_page(response.headers());
        let body = limited(response).await?;
        let page: Tags =
            serde_json::from_slice(&body).map_err(|e| format!("tags of {repository}: {e}"))?;
        let page = page.tags.unwrap_or_default();
        if page.is_empty() {
            break;
        }
        tags.extend(page);
        if tags.len() >= MAX_TAGS {
            tags.truncate(MAX_TAGS);
            break;
        }
    }
    Ok(tags)
}

/// A listing's body, at most 16 MiB.
async fn limited(response: reqwest::Response) -> Result<bytes::Bytes, String> {
    use futures_util::StreamExt as _;
    const LIMIT: usize = 16 * 1024 * 1024;
    let mut out = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        if out.len() + chunk.len() > LIMIT {
            return Err(format!("a listing larger than {LIMIT} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.into())
}
