//! `RETENTION`: one execution of a policy. One task per repository that an enabled rule covers (Harbor's
//! shape); in each, the candidates are decided ([`super::evaluate`]) and every decision is recorded with its
//! reason, then (unless a dry run) the removals are applied in batches of [`DELETE_BATCH`], through the same
//! data-layer deletes the REST API uses (quota, listing counters, tag cache), each audited with the job's
//! operator. A dry run and a real run share everything but that last step.
//!
//! Removing a tag never removes another tag: an artifact goes only when all of its tags were removed, no
//! index of the repository lists it and it is no accessory there (its accessories go with it, as on the REST
//! delete). An artifact that gained a tag since it was decided on is kept. A stop is seen between batches.
//!
//! Re-running after a crash decides again from what is left, so the kind is idempotent.

use berth_api::webhooks::{EventData, EventRetention, Payload};
use chrono::Utc;
use futures_util::StreamExt;

use super::evaluate::{Candidate, Evaluator};
use super::policy::{Policy, parse_stored};
use super::{ImmutableGuard, immutable_guard, relative_name};
use crate::db::retention::NewReason;
use crate::db::{DeleteArtifact, GuardedError, Project};
use crate::events::audit::{self, Audit, ClientIp, Operation};
use crate::jobs::{JobContext, JobError, JobFuture, Kind, SCHEDULE_OPERATOR};
use crate::webhooks::{Event, EventType};

/// Harbor's job type and schedule vendor type.
pub const NAME: &str = crate::db::retention::VENDOR_TYPE;

pub const KIND: Kind = Kind {
    name: NAME,
    idempotent: true,
    max_attempts: 3,
    max_pending: crate::jobs::MAX_PENDING_PER_KIND,
    handler: run,
};

/// Decisions written per transaction.
pub const REASON_BATCH: usize = 500;
/// Removals applied between two stop checks.
pub const DELETE_BATCH: i64 = 100;
/// Executions kept per policy (older ones, with their tasks and reasons, are forgotten).
pub const KEEP_EXECUTIONS: i64 = 100;

/// The job's parameters.
pub fn parameters(policy_id: i64, dry_run: bool) -> serde_json::Value {
    serde_json::json!({"policy_id": policy_id, "dry_run": dry_run})
}

fn run(ctx: JobContext) -> JobFuture {
    Box::pin(execute(ctx))
}

/// What a task saw and did.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    total: i64,
    retained: i64,
    tags_removed: i64,
    artifacts_deleted: i64,
}

async fn execute(ctx: JobContext) -> Result<(), JobError> {
    let policy_id = ctx.parameters["policy_id"]
        .as_i64()
        .ok_or_else(|| JobError::Failed("the job's parameters name no policy_id".to_owned()))?;
    let dry_run = ctx.parameters["dry_run"].as_bool().unwrap_or(false);
    let db = &ctx.state.db;
    let Some(row) = db.retention_policy_by_id(policy_id).await? else {
        ctx.log
            .warn(format!(
                "retention policy {policy_id} no longer exists; nothing to do"
            ))
            .await;
        return Ok(());
    };
    let policy = parse_stored(&row.policy).map_err(|e| {
        JobError::Failed(format!("retention policy {policy_id} cannot be read: {e}"))
    })?;
    let trigger = if ctx.operator == SCHEDULE_OPERATOR {
        crate::jobs::SCHEDULE
    } else {
        crate::jobs::MANUAL
    };
    db.record_retention_execution(ctx.id, policy_id, dry_run, trigger)
        .await?;
    db.prune_retention_executions(policy_id, KEEP_EXECUTIONS)
        .await?;
    let project = db
        .find_project_by_id(row.project_id)
        .await?
        .ok_or_else(|| JobError::Failed(format!("project {} no longer exists", row.project_id)))?;
    ctx.log
        .info(format!(
            "retention policy {policy_id} of project {}: {} enabled rule(s){}",
            project.name,
            policy.rules.len(),
            if dry_run {
                ", dry run: nothing is deleted"
            } else {
                ""
            }
        ))
        .await;
    let now = Utc::now();
    let in_scope: Vec<(i64, String)> = db
        .retention_repositories(project.id)
        .await?
        .into_iter()
        .filter(|(_, name)| Evaluator::new(&policy, relative_name(name), now).is_some())
        .collect();
    let names: Vec<String> = in_scope.iter().map(|(_, n)| n.clone()).collect();
    let tasks = db.create_retention_tasks(ctx.id, &names).await?;
    ctx.log
        .info(format!("{} repositories in scope", tasks.len()))
        .await;
    let guard = immutable_guard(&ctx.state, project.id).await?;
    let mut all = Counts::default();
    for ((repository_id, name), task_id) in in_scope.iter().zip(tasks) {
        if ctx.should_stop() {
            db.end_pending_retention_tasks(ctx.id, "Stopped").await?;
            return Err(JobError::Stopped);
        }
        db.set_retention_task(task_id, "Running", 0, 0).await?;
        let mut counts = Counts::default();
        let task = Task {
            ctx: &ctx,
            policy: &policy,
            guard: &guard,
            project_id: project.id,
            repository_id: *repository_id,
            repository: name,
            task_id,
            dry_run,
        };
        let outcome = task.run(&mut counts, now).await;
        let status = match &outcome {
            Ok(()) => "Success",
            Err(JobError::Stopped) => "Stopped",
            Err(JobError::Failed(_)) => "Error",
        };
        db.set_retention_task(task_id, status, counts.total, counts.retained)
            .await?;
        ctx.log
            .info(format!(
                "{name}: {} looked at, {} kept, {} removed{}",
                counts.total,
                counts.retained,
                counts.total - counts.retained,
                if dry_run {
                    " (dry run)".to_owned()
                } else {
                    format!(
                        " ({} tags and {} artifacts deleted)",
                        counts.tags_removed, counts.artifacts_deleted
                    )
                }
            ))
            .await;
        all.total += counts.total;
        all.retained += counts.retained;
        all.tags_removed += counts.tags_removed;
        all.artifacts_deleted += counts.artifacts_deleted;
        if let Err(e) = outcome {
            db.end_pending_retention_tasks(ctx.id, status).await?;
            if let JobError::Failed(message) = &e {
                ctx.log.error(format!("{name}: {message}")).await;
            }
            return Err(e);
        }
    }
    ctx.log
        .info(format!(
            "done: {} looked at, {} kept, {} removed",
            all.total,
            all.retained,
            all.total - all.retained
        ))
        .await;
    notify_finished(&ctx, &project, policy_id, &all).await;
    Ok(())
}

/// Sends the run's outcome to the project's webhook policies that want `TAG_RETENTION`.
async fn notify_finished(ctx: &JobContext, project: &Project, policy_id: i64, all: &Counts) {
    let webhooks = &ctx.state.webhooks;
    let payload = Payload {
        event_type: EventType::TagRetention.as_str().to_owned(),
        occur_at: Utc::now().timestamp(),
        operator: ctx.operator.clone(),
        event_data: EventData {
            retention: Some(EventRetention {
                total: all.total,
                retained: all.retained,
                harbor_hostname: webhooks.registry_host().to_owned(),
                project_name: project.name.clone(),
                retention_policy_id: policy_id,
                status: "SUCCESS".to_owned(),
                deleted_artifact: Vec::new(),
            }),
            ..EventData::default()
        },
    };
    webhooks
        .notify(Event {
            project_id: project.id,
            event_type: EventType::TagRetention,
            payload,
        })
        .await;
}

/// One repository of an execution.
struct Task<'a> {
    ctx: &'a JobContext,
    policy: &'a Policy,
    guard: &'a ImmutableGuard,
    project_id: i64,
    repository_id: i64,
    repository: &'a str,
    task_id: i64,
    dry_run: bool,
}

impl Task<'_> {
    async fn run(&self, counts: &mut Counts, now: chrono::DateTime<Utc>) -> Result<(), JobError> {
        let db = &self.ctx.state.db;
        let Some(mut evaluator) = Evaluator::new(self.policy, relative_name(self.repository), now)
        else {
            return Ok(());
        };
        if evaluator.needs_pull_pass() {
            let mut candidates = db.retention_candidates(self.repository_id);
            while let Some(row) = candidates.next().await {
                evaluator.observe_pull(&Candidate::from(row?));
            }
            evaluator.finish_pull_pass();
        }
        let mut batch: Vec<NewReason> = Vec::with_capacity(REASON_BATCH);
        let mut seq = 1;
        let mut candidates = db.retention_candidates(self.repository_id);
        while let Some(row) = candidates.next().await {
            let c = Candidate::from(row?);
            let locked = c
                .tag
                .as_deref()
                .and_then(|tag| (self.guard)(self.repository, tag));
            let decision = evaluator.decide(&c, locked);
            counts.total += 1;
            counts.retained += i64::from(decision.retained);
            batch.push(NewReason {
                tag: c.tag,
                artifact_id: c.artifact_id,
                digest: c.digest,
                retained: decision.retained,
                rule: decision.rule.and_then(|r| i64::try_from(r).ok()),
                reason: decision.reason,
            });
            if batch.len() >= REASON_BATCH {
                self.ctx.check_stop()?;
                db.insert_retention_reasons(self.task_id, seq, &batch)
                    .await?;
                seq += i64::try_from(batch.len()).unwrap_or(0);
                batch.clear();
            }
        }
        drop(candidates);
        db.insert_retention_reasons(self.task_id, seq, &batch)
            .await?;
        db.mark_retention_artifact_deletions(self.task_id, self.repository_id)
            .await?;
        if self.dry_run {
            return Ok(());
        }
        self.apply(counts).await
    }

    /// Applies the task's removals, in batches, stopping between them when asked.
    async fn apply(&self, counts: &mut Counts) -> Result<(), JobError> {
        let db = &self.ctx.state.db;
        let mut after = 0;
        loop {
            self.ctx.check_stop()?;
            let rows = db
                .retention_removals(self.task_id, after, DELETE_BATCH)
                .await?;
            if rows.is_empty() {
                return Ok(());
            }
            for row in rows {
                after = row.seq;
                if let Some(tag) = &row.tag {
                    match db
                        .delete_artifact_tag(self.repository, row.artifact_id, tag)
                        .await
                    {
                        Ok(true) => {
                            counts.tags_removed += 1;
                            self.audit("tag", &audit::resource(self.repository, tag))
                                .await;
                        }
                        Ok(false) => {}
                        // A rule that came after the evaluation: the tag stays, and so does its artifact.
                        Err(GuardedError::Locked(locked)) => {
                            self.ctx
                                .log
                                .info(format!(
                                    "{}:{tag}: kept, immutable (rule {}) since the evaluation",
                                    self.repository, locked.rule_id
                                ))
                                .await;
                            continue;
                        }
                        Err(GuardedError::Db(e)) => return Err(e.into()),
                    }
                }
                if !row.artifact_deleted || db.artifact_tag_count(row.artifact_id).await? > 0 {
                    continue;
                }
                match db.delete_artifact(self.repository, &row.digest).await? {
                    DeleteArtifact::Deleted => {
                        counts.artifacts_deleted += 1;
                        self.audit("artifact", &audit::resource(self.repository, &row.digest))
                            .await;
                    }
                    DeleteArtifact::NotFound => {}
                    DeleteArtifact::Immutable(locked) => {
                        self.ctx
                            .log
                            .info(format!(
                                "{}@{}: kept, {locked}",
                                self.repository, row.digest
                            ))
                            .await;
                    }
                    DeleteArtifact::ReferencedBy(index) => {
                        self.ctx
                            .log
                            .info(format!(
                                "{}@{}: kept, index {index} now lists it",
                                self.repository, row.digest
                            ))
                            .await;
                    }
                }
            }
            // Let pushes and pulls take the writer between batches.
            tokio::task::yield_now().await;
        }
    }

    async fn audit(&self, resource_type: &'static str, resource: &str) {
        tracing::info!(repository = self.repository, resource, operator = %self.ctx.operator,
            job = self.ctx.id, "retention removed {resource_type}");
        Audit::new(Operation::Delete, resource_type, resource.to_owned())
            .project_id(Some(self.project_id))
            .by(&self.ctx.operator, &ClientIp::default())
            .record(&self.ctx.state.db)
            .await;
    }
}
