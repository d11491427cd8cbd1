//! Tag retention (migrations 0010 and 0021): policies, their schedules, executions, tasks and per-tag reasons,
//! and the candidates of a repository, streamed in push order.
//!
//! Rule: a policy, its project's `retention_id` metadata and its schedule change together, in one transaction.
//! Reasons are written in batches and read back by keyset (`seq`), so neither side holds a whole repository.

use futures_util::stream::{BoxStream, StreamExt};
use sqlx::AnyConnection;

use super::Db;

/// The schedule's vendor type (Harbor's job type of retention).
pub const VENDOR_TYPE: &str = "RETENTION";

/// Rows per multi-row insert of reasons (8 binds each).
const REASON_ROWS: usize = 100;

/// A stored policy.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RetentionPolicyRow {
    pub id: i64,
    pub project_id: i64,
    /// Harbor's `RetentionPolicy` JSON, with its `id` and `scope.ref`.
    pub policy: String,
}

/// A policy to store: its JSON (whose `id` and `scope.ref` are filled in here) and its schedule, if any.
#[derive(Debug, Clone)]
pub struct NewRetentionPolicy<'a> {
    pub policy: serde_json::Value,
    pub schedule: Option<RetentionSchedule<'a>>,
}

/// When a policy runs: its cron, first firing and who set it.
#[derive(Debug, Clone)]
pub struct RetentionSchedule<'a> {
    pub cron: &'a str,
    pub next_run: &'a str,
    pub operator: &'a str,
}

/// Why a policy could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreatePolicyError {
    #[error("project {0} already has retention policy {1}")]
    AlreadyHasOne(i64, String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// An execution, with its job's state and times.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RetentionExecutionRow {
    pub id: i64,
    pub policy_id: i64,
    #[sqlx(try_from = "super::Flag")]
    pub dry_run: bool,
    pub triggered_by: String,
    /// The job's state: pending, running, success, error, stopped.
    pub state: String,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// A task: one repository of an execution.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RetentionTaskRow {
    pub id: i64,
    pub execution_id: i64,
    pub repository: String,
    pub status: String,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub total: i64,
    pub retained: i64,
}

/// A tag, or an untagged artifact, of a repository as retention sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CandidateRow {
    pub tag: Option<String>,
    pub artifact_id: i64,
    pub digest: String,
    /// The tag's push time (an untagged artifact's own).
    pub pushed: String,
    pub tag_pulled: Option<String>,
    pub artifact_pulled: Option<String>,
}

/// A decision to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReason {
    pub tag: Option<String>,
    pub artifact_id: i64,
    pub digest: String,
    pub retained: bool,
    pub rule: Option<i64>,
    pub reason: String,
}

/// A recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReasonRow {
    pub seq: i64,
    pub tag: Option<String>,
    pub artifact_id: i64,
    pub digest: String,
    #[sqlx(try_from = "super::Flag")]
    pub retained: bool,
    pub rule: Option<i64>,
    pub reason: String,
    #[sqlx(try_from = "super::Flag")]
    pub artifact_deleted: bool,
}

const EXECUTION_SELECT: &str =
    "SELECT e.id, e.policy_id, e.dry_run, e.triggered_by, j.state, e.created_at,
        j.started_at, j.finished_at
    FROM retention_executions e JOIN jobs j ON j.id = e.id";

const TASK_COLUMNS: &str =
    "id, execution_id, repository, status, start_time, end_time, total, retained";

const REASON_COLUMNS: &str =
    "seq, tag, artifact_id, digest, retained, rule, reason, artifact_deleted";

/// Writes the schedule of policy `id` (or removes it with `None`).
async fn set_schedule(
    conn: &mut AnyConnection,
    id: i64,
    schedule: Option<&RetentionSchedule<'_>>,
    now: &str,
) -> Result<(), sqlx::Error> {
    let parameters = serde_json::json!({"policy_id": id, "dry_run": false}).to_string();
    let schedule = schedule.map(|s| (s.cron, s.next_run, s.operator));
    super::jobs::set_vendor_schedule(conn, VENDOR_TYPE, id, schedule, &parameters, now).await
}

/// The policy JSON as stored: `id` and `scope.ref` set.
fn stored_json(mut policy: serde_json::Value, id: i64, project_id: i64) -> String {
    policy["id"] = id.into();
    policy["scope"]["ref"] = project_id.into();
    policy.to_string()
}

/// Creates `policy` for `project_id` inside `conn`'s transaction: the row, the project's `retention_id` and
/// the schedule. Fails if the project already has a policy.
pub(super) async fn create_policy_in(
    conn: &mut AnyConnection,
    project_id: i64,
    policy: &NewRetentionPolicy<'_>,
    now: &str,
) -> Result<i64, CreatePolicyError> {
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT value FROM project_metadata WHERE project_id = $1 AND name = 'retention_id'",
    )
    .bind(project_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(existing) = existing.filter(|v| !v.is_empty()) {
        return Err(CreatePolicyError::AlreadyHasOne(project_id, existing));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO retention_policies (project_id, policy, created_at, updated_at)
         VALUES ($1, '{}', $2, $2) RETURNING id",
    )
    .bind(project_id)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("UPDATE retention_policies SET policy = $2 WHERE id = $1")
        .bind(id)
        .bind(stored_json(policy.policy.clone(), id, project_id))
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO project_metadata (project_id, name, value) VALUES ($1, 'retention_id', $2)
         ON CONFLICT (project_id, name) DO UPDATE SET value = $2",
    )
    .bind(project_id)
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    set_schedule(conn, id, policy.schedule.as_ref(), now).await?;
    Ok(id)
}

impl Db {
    /// Creates a policy for `project_id` (see [`create_policy_in`]); returns its id.
    pub async fn create_retention_policy(
        &self,
        project_id: i64,
        policy: &NewRetentionPolicy<'_>,
    ) -> Result<i64, CreatePolicyError> {
        let mut tx = self.write.begin().await?;
        let id = create_policy_in(&mut tx, project_id, policy, &super::now()).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn retention_policy_by_id(
        &self,
        id: i64,
    ) -> Result<Option<RetentionPolicyRow>, sqlx::Error> {
        sqlx::query_as("SELECT id, project_id, policy FROM retention_policies WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    /// Replaces policy `id`'s rules and trigger, and its schedule; false if there is no such policy.
    pub async fn update_retention_policy(
        &self,
        id: i64,
        policy: &NewRetentionPolicy<'_>,
    ) -> Result<bool, sqlx::Error> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        let project_id: Option<i64> =
            sqlx::query_scalar("SELECT project_id FROM retention_policies WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(project_id) = project_id else {
            return Ok(false);
        };
        sqlx::query("UPDATE retention_policies SET policy = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(stored_json(policy.policy.clone(), id, project_id))
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        set_schedule(&mut tx, id, policy.schedule.as_ref(), &now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes policy `id` with its schedule, executions and the project's `retention_id`; false if there
    /// was none. The executions' jobs (and logs) stay in the job history.
    pub async fn delete_retention_policy(&self, id: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        set_schedule(&mut tx, id, None, &super::now()).await?;
        sqlx::query("DELETE FROM project_metadata WHERE name = 'retention_id' AND value = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM retention_policies WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records job `id` as an execution of `policy_id` (once: a retried job keeps its row).
    pub async fn record_retention_execution(
        &self,
        id: i64,
        policy_id: i64,
        dry_run: bool,
        triggered_by: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO retention_executions (id, policy_id, dry_run, triggered_by, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(policy_id)
        .bind(dry_run)
        .bind(triggered_by)
        .bind(super::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Forgets the executions of `policy_id` older than its newest `keep` (their tasks and reasons go too).
    pub async fn prune_retention_executions(
        &self,
        policy_id: i64,
        keep: i64,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "DELETE FROM retention_executions WHERE policy_id = $1 AND id < COALESCE(
                 (SELECT id FROM retention_executions WHERE policy_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2), 0)",
        )
        .bind(policy_id)
        .bind(keep - 1)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected())
    }

    /// One page of `policy_id`'s executions, newest first, and how many there are.
    pub async fn retention_executions(
        &self,
        policy_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<RetentionExecutionRow>, i64), sqlx::Error> {
        let rows = sqlx::query_as(&format!(
            "{EXECUTION_SELECT} WHERE e.policy_id = $1 ORDER BY e.id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(policy_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        let total =
            sqlx::query_scalar("SELECT COUNT(*) FROM retention_executions WHERE policy_id = $1")
                .bind(policy_id)
                .fetch_one(&self.read)
                .await?;
        Ok((rows, total))
    }

    pub async fn retention_execution(
        &self,
        policy_id: i64,
        id: i64,
    ) -> Result<Option<RetentionExecutionRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{EXECUTION_SELECT} WHERE e.policy_id = $1 AND e.id = $2"
        ))
        .bind(policy_id)
        .bind(id)
        .fetch_optional(&self.read)
        .await
    }

    /// The repositories of a project, as `(id, full name)`, by name.
    pub async fn retention_repositories(
        &self,
        project_id: i64,
    ) -> Result<Vec<(i64, String)>, sqlx::Error> {
        sqlx::query_as("SELECT id, name FROM repositories WHERE project_id = $1 ORDER BY name")
            .bind(project_id)
            .fetch_all(&self.read)
            .await
    }

    /// Replaces execution `id`'s tasks with a pending one per repository (a retried run starts over).
    pub async fn create_retention_tasks(
        &self,
        id: i64,
        repositories: &[String],
    ) -> Result<Vec<i64>, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM retention_tasks WHERE execution_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let mut ids = Vec::with_capacity(repositories.len());
        for repository in repositories {
            let task: i64 = sqlx::query_scalar(
                "INSERT INTO retention_tasks (execution_id, repository, status) VALUES ($1, $2, 'Pending')
                 RETURNING id",
            )
            .bind(id)
            .bind(repository)
            .fetch_one(&mut *tx)
            .await?;
            ids.push(task);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Sets task `id`'s status (`Running` stamps its start, any other its end) and counts.
    pub async fn set_retention_task(
        &self,
        id: i64,
        status: &str,
        total: i64,
        retained: i64,
    ) -> Result<(), sqlx::Error> {
        let now = super::now();
        sqlx::query(
            "UPDATE retention_tasks SET status = $2, total = $3, retained = $4,
                 start_time = CASE WHEN $2 = 'Running' THEN $5 ELSE start_time END,
                 end_time = CASE WHEN $2 = 'Running' THEN NULL ELSE $5 END
             WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(total)
        .bind(retained)
        .bind(&now)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Marks execution `id`'s tasks that never started as `status` (the run stopped or failed before them).
    pub async fn end_pending_retention_tasks(
        &self,
        id: i64,
        status: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE retention_tasks SET status = $2, end_time = $3
             WHERE execution_id = $1 AND status = 'Pending'",
        )
        .bind(id)
        .bind(status)
        .bind(super::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// One page of execution `id`'s tasks, by id, and how many there are.
    pub async fn retention_tasks(
        &self,
        id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<RetentionTaskRow>, i64), sqlx::Error> {
        let rows = sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM retention_tasks WHERE execution_id = $1 ORDER BY id LIMIT $2 OFFSET $3"
        ))
        .bind(id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        let total =
            sqlx::query_scalar("SELECT COUNT(*) FROM retention_tasks WHERE execution_id = $1")
                .bind(id)
                .fetch_one(&self.read)
                .await?;
        Ok((rows, total))
    }

    pub async fn retention_task(
        &self,
        execution_id: i64,
        id: i64,
    ) -> Result<Option<RetentionTaskRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {TASK_COLUMNS} FROM retention_tasks WHERE execution_id = $1 AND id = $2"
        ))
        .bind(execution_id)
        .bind(id)
        .fetch_optional(&self.read)
        .await
    }

    /// The tags and untagged artifacts of repository `repository_id`, newest push first (ties: newest
    /// artifact, then tag name). Untagged artifacts are those listed on their own (not an index's child, not
    /// an accessory), as Harbor's candidates are.
    pub fn retention_candidates(
        &self,
        repository_id: i64,
    ) -> BoxStream<'_, Result<CandidateRow, sqlx::Error>> {
        sqlx::query_as(
            "SELECT t.name AS tag, a.id AS artifact_id, a.digest, t.push_time AS pushed,
                    t.pull_time AS tag_pulled, a.pull_time AS artifact_pulled
             FROM tags t JOIN artifacts a ON a.id = t.artifact_id
             WHERE t.repository_id = $1
             UNION ALL
             SELECT NULL AS tag, a.id AS artifact_id, a.digest, a.push_time AS pushed,
                    NULL AS tag_pulled, a.pull_time AS artifact_pulled
             FROM artifacts a
             WHERE a.repository_id = $1 AND a.listed = TRUE
               AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.artifact_id = a.id)
             ORDER BY pushed DESC, artifact_id DESC, tag",
        )
        .bind(repository_id)
        .fetch(&self.read)
        .boxed()
    }

    /// Appends `reasons` to task `task_id`, numbered from `first_seq`, in one transaction (multi-row inserts
    /// of [`REASON_ROWS`] rows, well under both databases' bind-parameter limits).
    pub async fn insert_retention_reasons(
        &self,
        task_id: i64,
        first_seq: i64,
        reasons: &[NewReason],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let mut seq = first_seq;
        for chunk in reasons.chunks(REASON_ROWS) {
            let mut insert = super::sql_builder::SqlBuilder::new(
                "INSERT INTO retention_reasons (task_id, seq, tag, artifact_id, digest, retained, rule, reason) ",
            );
            insert.push("VALUES ");
            for (i, reason) in chunk.iter().enumerate() {
                insert.push(if i == 0 { "(" } else { ", (" });
                insert
                    .separated(", ")
                    .push_bind(task_id)
                    .push_bind(seq)
                    .push_bind(&reason.tag)
                    .push_bind(reason.artifact_id)
                    .push_bind(&reason.digest)
                    .push_bind(reason.retained)
                    .push_bind(reason.rule)
                    .push_bind(&reason.reason);
                insert.push(")");
                seq += 1;
            }
            insert.build()?.execute(&mut *tx).await?;
        }
        tx.commit().await
    }

    /// Marks the removals of task `task_id` whose artifact goes too: no tag of it was kept, no index of the
    /// repository lists it, and it is no accessory of an artifact there. The others lose only their tag.
    pub async fn mark_retention_artifact_deletions(
        &self,
        task_id: i64,
        repository_id: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE retention_reasons SET artifact_deleted = TRUE
             WHERE task_id = $1 AND retained = FALSE
               AND NOT EXISTS (SELECT 1 FROM retention_reasons k WHERE k.task_id = $1
                               AND k.artifact_id = retention_reasons.artifact_id AND k.retained = TRUE)
               AND NOT EXISTS (SELECT 1 FROM artifact_children ch
                               WHERE ch.child_digest = retention_reasons.digest
                                 AND EXISTS (SELECT 1 FROM artifacts p
                                             WHERE p.id = ch.parent_id AND p.repository_id = $2))
               AND NOT EXISTS (SELECT 1 FROM artifacts a JOIN artifacts s
                                   ON s.repository_id = a.repository_id AND s.digest = a.subject_digest
                               WHERE a.id = retention_reasons.artifact_id)",
        )
        .bind(task_id)
        .bind(repository_id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Up to `limit` removals of task `task_id` after `after_seq`, in order.
    pub async fn retention_removals(
        &self,
        task_id: i64,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<ReasonRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {REASON_COLUMNS} FROM retention_reasons
             WHERE task_id = $1 AND retained = FALSE AND seq > $2 ORDER BY seq LIMIT $3"
        ))
        .bind(task_id)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }

    /// One page of task `task_id`'s reasons, in evaluation order, and how many there are.
    pub async fn retention_reasons(
        &self,
        task_id: i64,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ReasonRow>, i64), sqlx::Error> {
        let rows = sqlx::query_as(&format!(
            "SELECT {REASON_COLUMNS} FROM retention_reasons WHERE task_id = $1 ORDER BY seq LIMIT $2 OFFSET $3"
        ))
        .bind(task_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        let total = sqlx::query_scalar("SELECT COUNT(*) FROM retention_reasons WHERE task_id = $1")
            .bind(task_id)
            .fetch_one(&self.read)
            .await?;
        Ok((rows, total))
    }

    /// How many tags artifact `artifact_id` has now.
    pub async fn artifact_tag_count(&self, artifact_id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM tags WHERE artifact_id = $1")
            .bind(artifact_id)
            .fetch_one(&self.write)
            .await
    }
}
