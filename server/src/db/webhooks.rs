//! Webhook policies, their targets, and their executions (`migrations/*/0029_webhooks.sql`).
//!
//! An execution is a WEBHOOK job plus a row of `webhook_executions`, inserted in one transaction; the job holds
//! the state, the attempts and the log. The policies that events consult are cached per project
//! ([`Db::active_webhook_policies`]) and forgotten by every write here, on every node.

use std::sync::Arc;

use sqlx::{Any, Transaction};

use super::Db;
use super::jobs::{NewJob, insert_job};

/// A policy as stored (its targets are read separately).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookPolicyRow {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub description: String,
    /// JSON array text.
    pub event_types: String,
    #[sqlx(try_from = "super::Flag")]
    pub enabled: bool,
    pub creator: String,
    pub creation_time: String,
    pub update_time: String,
}

/// One target of a policy, as stored: the Authorization header sealed, if there is one.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookTargetRow {
    pub policy_id: i64,
    pub position: i64,
    pub notify_type: String,
    pub address: String,
    pub auth_header: Option<Vec<u8>>,
    #[sqlx(try_from = "super::Flag")]
    pub skip_cert_verify: bool,
    pub payload_format: String,
}

/// A policy to write: its fields and its targets, in order (`policy_id` and `position` are ignored).
#[derive(Debug, Clone)]
pub struct NewWebhookPolicy<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub event_types: &'a str,
    pub enabled: bool,
    pub creator: &'a str,
    pub targets: &'a [WebhookTargetRow],
}

/// An enabled policy with its event types parsed and its targets, as events consult it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveWebhookPolicy {
    pub id: i64,
    pub name: String,
    pub event_types: Vec<String>,
    pub targets: Vec<WebhookTargetRow>,
}

impl ActiveWebhookPolicy {
    /// Whether the policy asks for events of type `event_type` (Harbor's name, e.g. `PULL_ARTIFACT`).
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.iter().any(|t| t == event_type)
    }
}

/// Why a policy could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SaveWebhookError {
    #[error("the project already has a webhook policy named {0:?}")]
    NameTaken(String),
    #[error("a project holds at most {0} webhook policies")]
    TooMany(i64),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// An execution (one event to one target) with its job's state.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookExecutionRow {
    pub id: i64,
    pub policy_id: i64,
    pub event_type: String,
    pub notify_type: String,
    pub address: String,
    pub status_code: Option<i64>,
    pub created_at: String,
    pub state: String,
    pub attempts: i64,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub updated_at: String,
}

/// When a policy last fired an event type.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookLastTriggerRow {
    pub policy_id: i64,
    pub event_type: String,
    pub last_trigger_time: String,
}

const POLICY_COLUMNS: &str =
    "id, project_id, name, description, event_types, enabled, creator, creation_time, update_time";
const TARGET_COLUMNS: &str =
    "policy_id, position, notify_type, address, auth_header, skip_cert_verify, payload_format";
const EXECUTION_SELECT: &str = "SELECT e.id, e.policy_id, e.event_type, e.notify_type, e.address,
        e.status_code, e.created_at, j.state, j.attempts, j.started_at, j.finished_at, j.updated_at
    FROM webhook_executions e JOIN jobs j ON j.id = e.id";

async fn write_targets(
    tx: &mut Transaction<'_, Any>,
    policy_id: i64,
    targets: &[WebhookTargetRow],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM webhook_targets WHERE policy_id = $1")
        .bind(policy_id)
        .execute(&mut **tx)
        .await?;
    for (position, target) in (0_i64..).zip(targets) {
        sqlx::query(&format!(
            "INSERT INTO webhook_targets ({TARGET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(policy_id)
        .bind(position)
        .bind(&target.notify_type)
        .bind(&target.address)
        .bind(target.auth_header.clone())
        .bind(target.skip_cert_verify)
        .bind(&target.payload_format)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn name_taken(error: sqlx::Error, name: &str) -> SaveWebhookError {
    if super::is_unique_violation(&error) {
        SaveWebhookError::NameTaken(name.to_owned())
    } else {
        SaveWebhookError::Db(error)
    }
}

impl Db {
    /// Adds a policy to `project_id` unless it holds `max` already; returns its id.
    pub async fn create_webhook_policy(
        &self,
        project_id: i64,
        policy: &NewWebhookPolicy<'_>,
        max: i64,
    ) -> Result<i64, SaveWebhookError> {
        let mut tx = self.write.begin().await?;
        // Lock the project's row first, so two creates cannot both pass the count (PostgreSQL).
        super::quota::lock_project(&mut tx, project_id).await?;
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_policies WHERE project_id = $1")
                .bind(project_id)
                .fetch_one(&mut *tx)
                .await?;
        if count >= max {
            return Err(SaveWebhookError::TooMany(max));
        }
        let now = super::now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO webhook_policies (project_id, name, description, event_types, enabled, creator,
                                           creation_time, update_time)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(project_id)
        .bind(policy.name)
        .bind(policy.description)
        .bind(policy.event_types)
        .bind(policy.enabled)
        .bind(policy.creator)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| name_taken(e, policy.name))?;
        write_targets(&mut tx, id, policy.targets).await?;
        tx.commit().await?;
        self.webhook_policies.invalidate(&project_id);
        Ok(id)
    }

    /// Replaces policy `id` of `project_id` (its creator and creation time stay); false if there is none.
    pub async fn update_webhook_policy(
        &self,
        project_id: i64,
        id: i64,
        policy: &NewWebhookPolicy<'_>,
    ) -> Result<bool, SaveWebhookError> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE webhook_policies SET name = $1, description = $2, event_types = $3, enabled = $4,
                 update_time = $5
             WHERE project_id = $6 AND id = $7",
        )
        .bind(policy.name)
        .bind(policy.description)
        .bind(policy.event_types)
        .bind(policy.enabled)
        .bind(super::now())
        .bind(project_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| name_taken(e, policy.name))?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        write_targets(&mut tx, id, policy.targets).await?;
        tx.commit().await?;
        self.webhook_policies.invalidate(&project_id);
        Ok(true)
    }

    /// Deletes policy `id` of `project_id` with its executions and their jobs (a running delivery finishes
    /// and is then forgotten); false if there was none.
    pub async fn delete_webhook_policy(
        &self,
        project_id: i64,
        id: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "DELETE FROM jobs WHERE state <> 'running'
                 AND id IN (SELECT e.id FROM webhook_executions e JOIN webhook_policies p ON p.id = e.policy_id
                            WHERE p.project_id = $1 AND p.id = $2)",
        )
        .bind(project_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM webhook_policies WHERE project_id = $1 AND id = $2")
            .bind(project_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.webhook_policies.invalidate(&project_id);
        Ok(done.rows_affected() > 0)
    }

    /// Policy `id`, if it belongs to `project_id`.
    pub async fn webhook_policy(
        &self,
        project_id: i64,
        id: i64,
    ) -> Result<Option<WebhookPolicyRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {POLICY_COLUMNS} FROM webhook_policies WHERE project_id = $1 AND id = $2"
        ))
        .bind(project_id)
        .bind(id)
        .fetch_optional(&self.read)
        .await
    }

    /// Every policy of `project_id`, by id (a project holds a bounded number of them).
    pub async fn webhook_policies(
        &self,
        project_id: i64,
    ) -> Result<Vec<WebhookPolicyRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {POLICY_COLUMNS} FROM webhook_policies WHERE project_id = $1 ORDER BY id"
        ))
        .bind(project_id)
        .fetch_all(&self.read)
        .await
    }

    /// The targets of every policy of `project_id`, by policy and position.
    pub async fn webhook_targets(
        &self,
        project_id: i64,
    ) -> Result<Vec<WebhookTargetRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {TARGET_COLUMNS} FROM webhook_targets
             WHERE policy_id IN (SELECT id FROM webhook_policies WHERE project_id = $1)
             ORDER BY policy_id, position"
        ))
        .bind(project_id)
        .fetch_all(&self.read)
        .await
    }

    /// The enabled policies of `project_id`, cached: what every event of the project consults, so a project
    /// without webhooks costs a pull or a push no query.
    pub async fn active_webhook_policies(
        &self,
        project_id: i64,
    ) -> Result<Arc<Vec<ActiveWebhookPolicy>>, sqlx::Error> {
        if let Some(cached) = self.webhook_policies.get(&project_id) {
            return Ok(cached);
        }
        let generation = self.webhook_policies.generation();
        let policies = self.webhook_policies(project_id).await?;
        let mut targets = self.webhook_targets(project_id).await?;
        let active: Vec<ActiveWebhookPolicy> = policies
            .into_iter()
            .filter(|p| p.enabled)
            .map(|p| ActiveWebhookPolicy {
                id: p.id,
                event_types: serde_json::from_str(&p.event_types).unwrap_or_default(),
                targets: targets.extract_if(.., |t| t.policy_id == p.id).collect(),
                name: p.name,
            })
            .collect();
        let active = Arc::new(active);
        self.webhook_policies
            .insert(project_id, active.clone(), generation);
        Ok(active)
    }

    /// Enqueues a WEBHOOK job and records it as an execution of `policy_id`, in one transaction, unless
    /// `cap` WEBHOOK jobs are pending already; returns the job's id.
    pub async fn enqueue_webhook(
        &self,
        job: &NewJob<'_>,
        cap: i64,
        policy_id: i64,
        event_type: &str,
        target: &WebhookTargetRow,
    ) -> Result<Option<i64>, sqlx::Error> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        let Some(id) = insert_job(&mut tx, job, cap, &now).await? else {
            return Ok(None);
        };
        sqlx::query(
            "INSERT INTO webhook_executions (id, policy_id, event_type, notify_type, address, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(policy_id)
        .bind(event_type)
        .bind(&target.notify_type)
        .bind(&target.address)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// Notes the receiver's answer to the latest attempt of execution `id`.
    pub async fn record_webhook_status(
        &self,
        id: i64,
        status_code: u16,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE webhook_executions SET status_code = $1 WHERE id = $2")
            .bind(i64::from(status_code))
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Execution `id`, if it belongs to `policy_id`.
    pub async fn webhook_execution(
        &self,
        policy_id: i64,
        id: i64,
    ) -> Result<Option<WebhookExecutionRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{EXECUTION_SELECT} WHERE e.policy_id = $1 AND e.id = $2"
        ))
        .bind(policy_id)
        .bind(id)
        .fetch_optional(&self.read)
        .await
    }

    /// One page of `policy_id`'s executions, newest first, and how many there are.
    pub async fn webhook_executions(
        &self,
        policy_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<WebhookExecutionRow>, i64), sqlx::Error> {
        let rows = sqlx::query_as(&format!(
            "{EXECUTION_SELECT} WHERE e.policy_id = $1 ORDER BY e.id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(policy_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        let total =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_executions WHERE policy_id = $1")
                .bind(policy_id)
                .fetch_one(&self.read)
                .await?;
        Ok((rows, total))
    }

    /// When each policy of `project_id` last fired each event type.
    pub async fn webhook_last_triggers(
        &self,
        project_id: i64,
    ) -> Result<Vec<WebhookLastTriggerRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT e.policy_id, e.event_type, MAX(e.created_at) AS last_trigger_time
             FROM webhook_executions e JOIN webhook_policies p ON p.id = e.policy_id
             WHERE p.project_id = $1
             GROUP BY e.policy_id, e.event_type",
        )
        .bind(project_id)
        .fetch_all(&self.read)
        .await
    }

    /// Forgets the finished executions of `policy_id` older than its newest `keep`, with their jobs and logs.
    pub async fn prune_webhook_executions(
        &self,
        policy_id: i64,
        keep: i64,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "DELETE FROM jobs WHERE state IN ('success', 'error', 'stopped') AND id IN (
                 SELECT id FROM webhook_executions WHERE policy_id = $1 AND id < COALESCE(
                     (SELECT id FROM webhook_executions WHERE policy_id = $1
                      ORDER BY id DESC LIMIT 1 OFFSET $2), 0))",
        )
        .bind(policy_id)
        .bind(keep - 1)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected())
    }
}
