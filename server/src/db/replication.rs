//! Replication (`migrations/*/0030_replication.sql`): policies, their schedules, executions and tasks.
//!
//! Rule: a policy and its schedule change together, in one transaction. An execution's id is its REPLICATION
//! job's: the job holds the state, times and log; the execution row says which policy and trigger.

use std::sync::Arc;

use sqlx::AnyConnection;

use super::Db;

/// The schedule's vendor type and the job's kind.
pub const VENDOR_TYPE: &str = "REPLICATION";

/// A policy as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReplicationPolicyRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub src_registry_id: Option<i64>,
    pub dest_registry_id: Option<i64>,
    /// Harbor's policy JSON (filters, trigger, namespace and copy settings).
    pub settings: String,
    pub trigger_type: String,
    #[sqlx(try_from = "super::Flag")]
    pub enabled: bool,
    pub creator: String,
    pub creation_time: String,
    pub update_time: String,
}

/// A policy to write.
#[derive(Debug, Clone)]
pub struct NewReplicationPolicy<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub src_registry_id: Option<i64>,
    pub dest_registry_id: Option<i64>,
    pub settings: &'a str,
    pub trigger_type: &'a str,
    pub enabled: bool,
    pub creator: &'a str,
    /// The cron of a scheduled policy, with its first firing; `None` removes the schedule.
    pub schedule: Option<(&'a str, &'a str)>,
}

/// Why a policy could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SaveReplicationError {
    #[error("a replication policy named {0:?} already exists")]
    NameTaken(String),
    #[error("there are already {0} replication policies")]
    TooMany(i64),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// An execution with its job's state and times, and its tasks counted by status.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReplicationExecutionRow {
    pub id: i64,
    pub policy_id: i64,
    pub trigger_type: String,
    pub created_at: String,
    /// The job's state: pending, running, success, error, stopped.
    pub state: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub total: i64,
    pub failed: i64,
    pub succeed: i64,
    pub in_progress: i64,
    pub stopped: i64,
}

/// A task: one source repository of an execution.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReplicationTaskRow {
    pub id: i64,
    pub execution_id: i64,
    pub operation: String,
    pub resource_type: String,
    pub repository: String,
    pub src_resource: String,
    pub dst_resource: String,
    pub status: String,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
}

/// A task to create (or find, when a resumed run created it before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReplicationTask {
    pub operation: String,
    pub resource_type: String,
    pub repository: String,
    pub src_resource: String,
    pub dst_resource: String,
}

/// An artifact of Berth a push-based policy may copy: its repository, digest and one of its tags (`None` for
/// an untagged artifact).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LocalCandidateRow {
    pub repository: String,
    pub digest: String,
    pub media_type: String,
    pub tag: Option<String>,
}

const POLICY_COLUMNS: &str =
    "id, name, description, src_registry_id, dest_registry_id, settings, trigger_type,
    enabled, creator, creation_time, update_time";

const EXECUTION_SELECT: &str = "SELECT e.id, e.policy_id, e.trigger_type, e.created_at, j.state,
        j.started_at, j.finished_at,
        (SELECT COUNT(*) FROM replication_tasks t WHERE t.execution_id = e.id) AS total,
        (SELECT COUNT(*) FROM replication_tasks t WHERE t.execution_id = e.id AND t.status = 'Failed') AS failed,
        (SELECT COUNT(*) FROM replication_tasks t WHERE t.execution_id = e.id AND t.status = 'Succeed') AS succeed,
        (SELECT COUNT(*) FROM replication_tasks t WHERE t.execution_id = e.id
            AND t.status IN ('Pending', 'InProgress')) AS in_progress,
        (SELECT COUNT(*) FROM replication_tasks t WHERE t.execution_id = e.id AND t.status = 'Stopped') AS stopped
    FROM replication_executions e JOIN jobs j ON j.id = e.id";

const TASK_COLUMNS: &str =
    "id, execution_id, operation, resource_type, repository, src_resource, dst_resource,
    status, start_time, end_time";

/// Writes the schedule of policy `id` (or removes it).
async fn set_schedule(
    conn: &mut AnyConnection,
    id: i64,
    schedule: Option<(&str, &str)>,
    operator: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    let parameters = serde_json::json!({"policy_id": id}).to_string();
    let schedule = schedule.map(|(cron, next_run)| (cron, next_run, operator));
    super::jobs::set_vendor_schedule(conn, VENDOR_TYPE, id, schedule, &parameters, now).await
}

fn name_taken(error: sqlx::Error, name: &str) -> SaveReplicationError {
    if super::is_unique_violation(&error) {
        SaveReplicationError::NameTaken(name.to_owned())
    } else {
        SaveReplicationError::Db(error)
    }
}

impl Db {
    /// Creates a policy and its schedule (at most `max` policies in all); returns its id.
    pub async fn create_replication_policy(
        &self,
        policy: &NewReplicationPolicy<'_>,
        max: i64,
    ) -> Result<i64, SaveReplicationError> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM replication_policies")
            .fetch_one(&mut *tx)
            .await?;
        if count >= max {
            return Err(SaveReplicationError::TooMany(max));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO replication_policies (name, description, src_registry_id, dest_registry_id, settings,
                 trigger_type, enabled, creator, creation_time, update_time)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(policy.name)
        .bind(policy.description)
        .bind(policy.src_registry_id)
        .bind(policy.dest_registry_id)
        .bind(policy.settings)
        .bind(policy.trigger_type)
        .bind(policy.enabled)
        .bind(policy.creator)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| name_taken(e, policy.name))?;
        set_schedule(&mut tx, id, policy.schedule, policy.creator, &now).await?;
        tx.commit().await?;
        self.replication_triggers.invalidate(&());
        Ok(id)
    }

    /// Replaces policy `id` (its creator stays) and its schedule; false if there is none.
    pub async fn update_replication_policy(
        &self,
        id: i64,
        policy: &NewReplicationPolicy<'_>,
    ) -> Result<bool, SaveReplicationError> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        let updated = sqlx::query(
            "UPDATE replication_policies SET name = $2, description = $3, src_registry_id = $4,
                 dest_registry_id = $5, settings = $6, trigger_type = $7, enabled = $8, update_time = $9
             WHERE id = $1",
        )
        .bind(id)
        .bind(policy.name)
        .bind(policy.description)
        .bind(policy.src_registry_id)
        .bind(policy.dest_registry_id)
        .bind(policy.settings)
        .bind(policy.trigger_type)
        .bind(policy.enabled)
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(|e| name_taken(e, policy.name))?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        set_schedule(&mut tx, id, policy.schedule, policy.creator, &now).await?;
        tx.commit().await?;
        self.replication_triggers.invalidate(&());
        Ok(true)
    }

    /// Deletes policy `id` with its schedule and executions; false if there was none. The executions' jobs
    /// (and logs) stay in the job history.
    pub async fn delete_replication_policy(&self, id: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        set_schedule(&mut tx, id, None, "", "").await?;
        let deleted = sqlx::query("DELETE FROM replication_policies WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        self.replication_triggers.invalidate(&());
        Ok(deleted > 0)
    }

    pub async fn replication_policy(
        &self,
        id: i64,
    ) -> Result<Option<ReplicationPolicyRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {POLICY_COLUMNS} FROM replication_policies WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await
    }

    /// One page of the policies whose names contain `name` (all for `None`), by name, and how many there are.
    pub async fn list_replication_policies(
        &self,
        name: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ReplicationPolicyRow>, i64), sqlx::Error> {
        let name = name.unwrap_or_default();
        let rows = sqlx::query_as(&format!(
            "SELECT {POLICY_COLUMNS} FROM replication_policies WHERE instr(name, $1) > 0
             ORDER BY name LIMIT $2 OFFSET $3"
        ))
        .bind(name)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        let total = sqlx::query_scalar(
            "SELECT COUNT(*) FROM replication_policies WHERE instr(name, $1) > 0",
        )
        .bind(name)
        .fetch_one(&self.read)
        .await?;
        Ok((rows, total))
    }

    /// The enabled event-based policies whose source is Berth (what a push or delete here may trigger),
    /// cached: a push reads the database only after a policy was written.
    pub async fn event_replication_policies(
        &self,
    ) -> Result<Arc<Vec<ReplicationPolicyRow>>, sqlx::Error> {
        if let Some(cached) = self.replication_triggers.get(&()) {
            return Ok(cached);
        }
        let generation = self.replication_triggers.generation();
        let rows: Vec<ReplicationPolicyRow> = sqlx::query_as(&format!(
            "SELECT {POLICY_COLUMNS} FROM replication_policies
             WHERE trigger_type = 'event_based' AND enabled = TRUE AND src_registry_id IS NULL ORDER BY id"
        ))
        .fetch_all(&self.read)
        .await?;
        let rows = Arc::new(rows);
        self.replication_triggers
            .insert((), rows.clone(), generation);
        Ok(rows)
    }

    /// The names of the policies that use registry `registry_id`, as source or destination.
    pub async fn replication_policies_using(
        &self,
        registry_id: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT name FROM replication_policies WHERE src_registry_id = $1 OR dest_registry_id = $1
             ORDER BY name",
        )
        .bind(registry_id)
        .fetch_all(&self.read)
        .await
    }

    /// Records job `id` as an execution of `policy_id` (once: a retried job keeps its row).
    pub async fn record_replication_execution(
        &self,
        id: i64,
        policy_id: i64,
        trigger_type: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO replication_executions (id, policy_id, trigger_type, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(policy_id)
        .bind(trigger_type)
        .bind(super::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Forgets the executions of `policy_id` older than its newest `keep` (their tasks go too).
    pub async fn prune_replication_executions(
        &self,
        policy_id: i64,
        keep: i64,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "DELETE FROM replication_executions WHERE policy_id = $1 AND id < COALESCE(
                 (SELECT id FROM replication_executions WHERE policy_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2), 0)",
        )
        .bind(policy_id)
        .bind(keep - 1)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected())
    }

    /// Whether `policy_id` has an execution pending or running other than `except`.
    pub async fn replication_active(
        &self,
        policy_id: i64,
        except: i64,
    ) -> Result<bool, sqlx::Error> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM replication_executions e JOIN jobs j ON j.id = e.id
             WHERE e.policy_id = $1 AND e.id <> $2 AND j.state IN ('pending', 'running')",
        )
        .bind(policy_id)
        .bind(except)
        .fetch_one(&self.read)
        .await?;
        Ok(n > 0)
    }

    /// One page of executions (of `policy_id` if given; of `trigger_type` if given), newest first, and how
    /// many there are.
    pub async fn replication_executions(
        &self,
        policy_id: Option<i64>,
        trigger_type: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ReplicationExecutionRow>, i64), sqlx::Error> {
        let filter = "($1 IS NULL OR e.policy_id = $1) AND ($2 IS NULL OR e.trigger_type = $2)";
        let rows = sqlx::query_as(&format!(
            "{EXECUTION_SELECT} WHERE {filter} ORDER BY e.id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(policy_id)
        .bind(trigger_type)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        let total = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM replication_executions e WHERE {filter}"
        ))
        .bind(policy_id)
        .bind(trigger_type)
        .fetch_one(&self.read)
        .await?;
        Ok((rows, total))
    }

    pub async fn replication_execution(
        &self,
        id: i64,
    ) -> Result<Option<ReplicationExecutionRow>, sqlx::Error> {
        sqlx::query_as(&format!("{EXECUTION_SELECT} WHERE e.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    /// Creates execution `id`'s tasks, keeping those a resumed run created before; returns every task of
    /// the execution for `tasks`, in order, with its current status.
    pub async fn create_replication_tasks(
        &self,
        id: i64,
        tasks: &[NewReplicationTask],
    ) -> Result<Vec<ReplicationTaskRow>, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        for task in tasks {
            sqlx::query(
                "INSERT INTO replication_tasks (execution_id, operation, resource_type, repository, src_resource,
                     dst_resource, status)
                 VALUES ($1, $2, $3, $4, $5, $6, 'Pending')
                 ON CONFLICT (execution_id, operation, repository) DO UPDATE SET src_resource = $5,
                     dst_resource = $6",
            )
            .bind(id)
            .bind(&task.operation)
            .bind(&task.resource_type)
            .bind(&task.repository)
            .bind(&task.src_resource)
            .bind(&task.dst_resource)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let mut rows: Vec<ReplicationTaskRow> = sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM replication_tasks WHERE execution_id = $1 ORDER BY id"
        ))
        .bind(id)
        .fetch_all(&self.write)
        .await?;
        rows.retain(|row| {
            tasks
                .iter()
                .any(|t| t.operation == row.operation && t.repository == row.repository)
        });
        Ok(rows)
    }

    /// Sets task `id`'s status (and its start or end time, and its log when given).
    pub async fn set_replication_task(
        &self,
        id: i64,
        status: &str,
        log: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        let now = super::now();
        let (start, end) = match status {
            "InProgress" => (Some(now.as_str()), None),
            "Pending" => (None, None),
            _ => (None, Some(now.as_str())),
        };
        sqlx::query(
            "UPDATE replication_tasks SET status = $2, start_time = COALESCE($3, start_time),
                 end_time = $4, log = COALESCE($5, log)
             WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(start)
        .bind(end)
        .bind(log)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Marks execution `id`'s tasks that are not done as `status` (the run stopped or failed before them).
    pub async fn end_open_replication_tasks(
        &self,
        id: i64,
        status: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE replication_tasks SET status = $2, end_time = $3
             WHERE execution_id = $1 AND status IN ('Pending', 'InProgress')",
        )
        .bind(id)
        .bind(status)
        .bind(super::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// One page of execution `id`'s tasks (of `status` and `resource_type` if given), by id, and how many
    /// there are.
    pub async fn replication_tasks(
        &self,
        id: i64,
        status: Option<&str>,
        resource_type: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ReplicationTaskRow>, i64), sqlx::Error> {
        let filter = "execution_id = $1 AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR resource_type = $3)";
        let rows = sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM replication_tasks WHERE {filter} ORDER BY id LIMIT $4 OFFSET $5"
        ))
        .bind(id)
        .bind(status)
        .bind(resource_type)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        let total = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM replication_tasks WHERE {filter}"
        ))
        .bind(id)
        .bind(status)
        .bind(resource_type)
        .fetch_one(&self.read)
        .await?;
        Ok((rows, total))
    }

    /// The log of task `task_id` of execution `id`, if there is such a task.
    pub async fn replication_task_log(
        &self,
        id: i64,
        task_id: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT log FROM replication_tasks WHERE execution_id = $1 AND id = $2")
            .bind(id)
            .bind(task_id)
            .fetch_optional(&self.read)
            .await
    }

    /// The listed artifacts (neither index children nor accessories) of the repositories of hosted projects
    /// (of `repository` only, if given), one row per tag (one for an untagged artifact), by repository, at
    /// most `limit` rows.
    pub async fn replication_candidates(
        &self,
        repository: Option<&str>,
        limit: i64,
    ) -> Result<Vec<LocalCandidateRow>, sqlx::Error> {
        let rows: Vec<LocalCandidateRow> = sqlx::query_as(
            "SELECT r.name AS repository, a.digest, a.media_type, t.name AS tag
             FROM artifacts a JOIN repositories r ON r.id = a.repository_id
               JOIN projects p ON p.id = r.project_id
               LEFT JOIN tags t ON t.artifact_id = a.id
             WHERE a.listed = TRUE AND a.subject_digest IS NULL AND p.registry_id IS NULL
               AND ($1 IS NULL OR r.name = $1)
             ORDER BY r.name, a.id, t.name
             LIMIT $2",
        )
        .bind(repository)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows)
    }

    /// The names of the labels of artifact `digest` in `repository`.
    pub async fn replication_labels(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT l.name FROM artifact_labels al JOIN labels l ON l.id = al.label_id
               JOIN artifacts a ON a.id = al.artifact_id JOIN repositories r ON r.id = a.repository_id
             WHERE r.name = $1 AND a.digest = $2 ORDER BY l.name",
        )
        .bind(repository)
        .bind(digest)
        .fetch_all(&self.read)
        .await
    }
}
