//! Tag retention: Harbor's policies (`/retentions`), run as `RETENTION` jobs, with Berth's rules on top:
//! decisions are per tag (removing one tag never removes another tag of its digest), every decision is recorded
//! with its reason, tags locked by immutable tag rules are always kept, and proxy-cache projects get Harbor's
//! default policy (keep what was pulled in the last 7 days) as a real, scheduled policy.
//!
//! - [`policy`]: the policy's shape, checks and compiled form, and `/retentions/metadatas`;
//! - [`evaluate`]: deciding one repository's tags;
//! - [`run`]: the job (tasks, reasons, removals).
//!
//! SQL lives in [`crate::db::retention`].

pub mod evaluate;
pub mod policy;
pub mod run;

use berth_api::retention::RetentionPolicy;
use chrono::Utc;

use crate::app::AppState;
use crate::db::Db;
use crate::db::retention::{CreatePolicyError, NewRetentionPolicy, RetentionSchedule};
use crate::jobs::JobError;
use crate::service::ServiceError;

/// Which immutable tag rule (by id) locks a tag of a repository (its full name), if one does.
pub type ImmutableGuard = Box<dyn Fn(&str, &str) -> Option<i64> + Send + Sync>;

/// The immutable tag rules of `project_id` as they stand now: retention keeps every tag they lock, and says
/// so in its reasons. A rule added while a run deletes is still honoured: the delete itself is guarded
/// (`Db::delete_artifact_tag` refuses a locked tag).
pub async fn immutable_guard(
    state: &AppState,
    project_id: i64,
) -> Result<ImmutableGuard, JobError> {
    let locks = crate::service::immutable::locks(&state.db, project_id)
        .await
        .map_err(|e| JobError::Failed(format!("reading the immutable tag rules: {e}")))?;
    Ok(Box::new(move |repository: &str, tag: &str| {
        locks.locked_by(repository, tag)
    }))
}

/// A repository's name without its project: what repository selectors match (`team/app/web` → `app/web`).
pub fn relative_name(repository: &str) -> &str {
    repository
        .split_once('/')
        .map_or(repository, |(_, rest)| rest)
}

fn refusal(error: policy::PolicyError) -> ServiceError {
    match error {
        policy::PolicyError::Invalid(m) => ServiceError::Invalid(m),
        policy::PolicyError::Conflict(m) => ServiceError::Conflict(m),
    }
}

/// The schedule a checked policy asks for, first firing after now.
fn schedule_of<'a>(
    cron: Option<&'a str>,
    next_run: &'a mut String,
    operator: &'a str,
) -> Result<Option<RetentionSchedule<'a>>, ServiceError> {
    let Some(cron) = cron else {
        return Ok(None);
    };
    let next = crate::jobs::schedule::next_of(cron, Utc::now())
        .ok_or_else(|| ServiceError::Invalid("the cron expression never fires".to_owned()))?;
    *next_run = crate::db::timestamp(next);
    Ok(Some(RetentionSchedule {
        cron,
        next_run: next_run.as_str(),
        operator,
    }))
}

/// The policy as stored and the schedule it asks for, for [`Db::create_retention_policy`] and friends.
pub fn to_store<'a>(
    stored: &RetentionPolicy,
    cron: Option<&'a str>,
    next_run: &'a mut String,
    operator: &'a str,
) -> Result<NewRetentionPolicy<'a>, ServiceError> {
    Ok(NewRetentionPolicy {
        policy: serde_json::to_value(stored)
            .map_err(|e| ServiceError::Invalid(format!("the policy cannot be stored: {e}")))?,
        schedule: schedule_of(cron, next_run, operator)?,
    })
}

/// Creates a policy (checked, for an existing project without one) with its schedule and the project's
/// `retention_id`; returns its id.
pub async fn create(
    db: &Db,
    policy: &RetentionPolicy,
    operator: &str,
) -> Result<i64, ServiceError> {
    let (stored, compiled) = policy::check(policy).map_err(refusal)?;
    if db.find_project_by_id(compiled.project_id).await?.is_none() {
        return Err(ServiceError::Invalid(format!(
            "invalid Project id {}",
            compiled.project_id
        )));
    }
    let mut next_run = String::new();
    let new = to_store(&stored, compiled.cron.as_deref(), &mut next_run, operator)?;
    db.create_retention_policy(compiled.project_id, &new)
        .await
        .map_err(|e| match e {
            CreatePolicyError::AlreadyHasOne(..) => ServiceError::Invalid(e.to_string()),
            CreatePolicyError::Db(e) if crate::db::is_unique_violation(&e) => {
                ServiceError::Invalid(format!(
                    "project {} already has a retention policy",
                    compiled.project_id
                ))
            }
            CreatePolicyError::Db(e) => e.into(),
        })
}

/// Replaces policy `id` (of `project_id`) with `policy` and its schedule.
pub async fn update(
    db: &Db,
    id: i64,
    project_id: i64,
    policy: &RetentionPolicy,
    operator: &str,
) -> Result<(), ServiceError> {
    let (stored, compiled) = policy::check(policy).map_err(refusal)?;
    if compiled.project_id != project_id {
        return Err(ServiceError::NotFound(format!(
            "the retention policy id {id} does not match project {}",
            compiled.project_id
        )));
    }
    let mut next_run = String::new();
    let new = to_store(&stored, compiled.cron.as_deref(), &mut next_run, operator)?;
    if !db.update_retention_policy(id, &new).await? {
        return Err(ServiceError::NotFound(format!(
            "retention policy {id} not found"
        )));
    }
    Ok(())
}
