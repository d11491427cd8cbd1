//! The quota ledger: what each project is charged for, kept in the transactions that link blobs and store
//! manifests. Writes go through the single writer connection, so concurrent pushes are serialized and
//! can never overshoot a limit.

use sqlx::AnyConnection;

use super::Db;

/// A write refused because it would take a project past its storage limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "adding {size} bytes of storage, which when added to the current usage of {used} bytes would exceed the configured upper limit of {limit} bytes"
)]
pub struct QuotaExceeded {
    pub size: i64,
    pub used: i64,
    pub limit: i64,
}

/// A project's quota: limit (-1 for none) and usage, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Quota {
    pub project_id: i64,
    pub limit: i64,
    pub used: i64,
}

/// A project whose ledger disagrees with its references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub project: String,
    pub recorded: i64,
    pub actual: i64,
}

impl super::TransientConflict for ChargeError {
    fn is_transient_conflict(&self) -> bool {
        matches!(self, ChargeError::Db(e) if super::is_transient_conflict(e))
    }
}

/// Takes project `project_id`'s row lock (on PostgreSQL; SQLite's single writer serializes anyway). Pushes
/// take it first, before any blob or repository row, so two pushes into one project queue here instead of
/// deadlocking on each other's rows, and the quota check that follows reads the other's committed charge.
pub(super) async fn lock_project(
    conn: &mut AnyConnection,
    project_id: i64,
) -> Result<(), sqlx::Error> {
    if is_sqlite(conn) {
        return Ok(());
    }
    sqlx::query("UPDATE projects SET storage_used = storage_used WHERE id = $1")
        .bind(project_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// SQLite has one writer, so the row locks above would only add a write to every push there.
fn is_sqlite(conn: &AnyConnection) -> bool {
    conn.backend_name() == "SQLite"
}

/// [`lock_project`] of the project that holds repository `repository` (none when there is no such repository).
pub(super) async fn lock_project_of(
    conn: &mut AnyConnection,
    repository: &str,
) -> Result<(), sqlx::Error> {
    if is_sqlite(conn) {
        return Ok(());
    }
    sqlx::query(
        "UPDATE projects SET storage_used = storage_used
         WHERE id = (SELECT project_id FROM repositories WHERE name = $1)",
    )
    .bind(repository)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Charges `project_id` for `digest` unless it already pays for it. Fails, writing nothing, if that would
/// exceed the project's limit.
pub(super) async fn charge(
    conn: &mut AnyConnection,
    project_id: i64,
    digest: &str,
    size: i64,
) -> Result<(), ChargeError> {
    let charged: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM project_blobs WHERE project_id = $1 AND digest = $2")
            .bind(project_id)
            .bind(digest)
            .fetch_optional(&mut *conn)
            .await?;
    if charged.is_some() {
        return Ok(());
    }
    let (used, limit): (i64, i64) =
        sqlx::query_as("SELECT storage_used, storage_limit FROM projects WHERE id = $1")
            .bind(project_id)
            .fetch_one(&mut *conn)
            .await?;
    if limit >= 0 && used + size > limit {
        return Err(ChargeError::Quota(QuotaExceeded { size, used, limit }));
    }
    sqlx::query(
        "INSERT INTO project_blobs (project_id, digest, size, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(project_id)
    .bind(digest)
    .bind(size)
    .bind(super::now())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE projects SET storage_used = storage_used + $1 WHERE id = $2")
        .bind(size)
        .bind(project_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Stops charging `project_id` for `digest` if none of its repositories links it and none of its
/// artifacts is it.
pub(super) async fn release_if_unused(
    conn: &mut AnyConnection,
    project_id: i64,
    digest: &str,
) -> Result<(), sqlx::Error> {
    let used: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id
         WHERE r.project_id = $1 AND rb.digest = $2
         UNION ALL
         SELECT 1 FROM artifacts a JOIN repositories r ON r.id = a.repository_id
         WHERE r.project_id = $1 AND a.digest = $2
         LIMIT 1",
    )
    .bind(project_id)
    .bind(digest)
    .fetch_optional(&mut *conn)
    .await?;
    if used.is_some() {
        return Ok(());
    }
    let size: Option<i64> = sqlx::query_scalar(
        "DELETE FROM project_blobs WHERE project_id = $1 AND digest = $2 RETURNING size",
    )
    .bind(project_id)
    .bind(digest)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(size) = size {
        sqlx::query("UPDATE projects SET storage_used = storage_used - $1 WHERE id = $2")
            .bind(size)
            .bind(project_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Why a charged write failed.
#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    #[error(transparent)]
    Quota(#[from] QuotaExceeded),
    /// Garbage collection is deleting the blob (its digest): it cannot be linked until it is gone, after
    /// which it can be uploaded again.
    #[error("blob {0} is being deleted by garbage collection; upload it again")]
    BlobDeleting(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What a project's usage should be, from its references: linked blobs and manifests, each digest once.
const ACTUAL_USAGE: &str = "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM (
        SELECT rb.digest, b.size FROM repository_blobs rb
        JOIN repositories r ON r.id = rb.repository_id JOIN blobs b ON b.digest = rb.digest
        WHERE r.project_id = $1
        UNION
        SELECT a.digest, a.size FROM artifacts a JOIN repositories r ON r.id = a.repository_id
        WHERE r.project_id = $1) AS usage";

impl Db {
    /// The quota of project `project_id`.
    pub async fn quota(&self, project_id: i64) -> Result<Option<Quota>, sqlx::Error> {
        sqlx::query_as("SELECT id AS project_id, storage_limit AS \"limit\", storage_used AS used FROM projects WHERE id = $1")
            .bind(project_id)
            .fetch_optional(&self.read)
            .await
    }

    /// Sets project `project_id`'s limit (bytes, -1 for none). Returns whether the project exists.
    pub async fn set_quota_limit(&self, project_id: i64, limit: i64) -> Result<bool, sqlx::Error> {
        let done =
            sqlx::query("UPDATE projects SET storage_limit = $1, updated_at = $2 WHERE id = $3")
                .bind(limit)
                .bind(super::now())
                .bind(project_id)
                .execute(&self.write)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Recomputes every project's usage from its references and returns the projects whose ledger was off.
    /// With `fix`, rewrites the ledger of those projects to match.
    pub async fn reconcile_quotas(&self, fix: bool) -> Result<Vec<Drift>, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let projects: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT id, name, storage_used FROM projects ORDER BY name")
                .fetch_all(&mut *tx)
                .await?;
        let mut drifts = Vec::new();
        for (id, name, recorded) in projects {
            let actual: i64 = sqlx::query_scalar(ACTUAL_USAGE)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            let ledger: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM project_blobs WHERE project_id = $1",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if actual == recorded && actual == ledger {
                continue;
            }
            drifts.push(Drift {
                project: name,
                recorded,
                actual,
            });
            if fix {
                sqlx::query("DELETE FROM project_blobs WHERE project_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO project_blobs (project_id, digest, size, created_at)
                     SELECT $1, digest, size, $2 FROM (
                        SELECT rb.digest, b.size FROM repository_blobs rb
                        JOIN repositories r ON r.id = rb.repository_id JOIN blobs b ON b.digest = rb.digest
                        WHERE r.project_id = $1
                        UNION
                        SELECT a.digest, a.size FROM artifacts a JOIN repositories r ON r.id = a.repository_id
                        WHERE r.project_id = $1) AS usage
                     WHERE 1 = 1
                     ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(super::now())
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE projects SET storage_used = $1 WHERE id = $2")
                    .bind(actual)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(drifts)
    }
}
