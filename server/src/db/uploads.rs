//! Blob upload sessions. The staged bytes live on disk; a row says the session exists and who owns it.

use chrono::{DateTime, Utc};

use super::Db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadSession {
    pub id: String,
    pub project_id: i64,
    pub repository: String,
}

impl Db {
    /// Opens a session unless project `project_id` already has `max_sessions` open; returns whether it was
    /// opened. One statement, so concurrent opens cannot pass the cap (the single writer serializes them).
    pub async fn create_upload(
        &self,
        id: &str,
        project_id: i64,
        repository: &str,
        max_sessions: u32,
    ) -> Result<bool, sqlx::Error> {
        let now = super::now();
        let done = sqlx::query(
            "INSERT INTO upload_sessions (id, project_id, repository, created_at, updated_at)
             SELECT $1, $2, $3, $4, $4
             WHERE (SELECT COUNT(*) FROM upload_sessions WHERE project_id = $2) < $5",
        )
        .bind(id)
        .bind(project_id)
        .bind(repository)
        .bind(now)
        .bind(i64::from(max_sessions))
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// How many sessions project `project_id` has open.
    pub async fn open_uploads(&self, project_id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM upload_sessions WHERE project_id = $1")
            .bind(project_id)
            .fetch_one(&self.read)
            .await
    }

    pub async fn find_upload(&self, id: &str) -> Result<Option<UploadSession>, sqlx::Error> {
        sqlx::query_as("SELECT id, project_id, repository FROM upload_sessions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    /// Marks a session as active now, so the idle purge leaves it alone.
    pub async fn touch_upload(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE upload_sessions SET updated_at = $1 WHERE id = $2")
            .bind(super::now())
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Deletes a session; returns whether it existed.
    pub async fn delete_upload(&self, id: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM upload_sessions WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Ids of sessions idle since before `cutoff`.
    pub async fn idle_uploads(&self, cutoff: DateTime<Utc>) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM upload_sessions WHERE updated_at < $1")
            .bind(super::timestamp(cutoff))
            .fetch_all(&self.read)
            .await
    }

    /// Ids of every open session.
    pub async fn upload_ids(&self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM upload_sessions")
            .fetch_all(&self.read)
            .await
    }

    /// Every open session as `(id, project)`.
    pub async fn upload_projects(&self) -> Result<Vec<(String, i64)>, sqlx::Error> {
        sqlx::query_as("SELECT id, project_id FROM upload_sessions")
            .fetch_all(&self.read)
            .await
    }
}
