//! Scans requested through Berth's scanner adapter API (`adapter_scans`, migration 0023): the request's
//! artifact, the status, and the compressed result the report and SBOMs are written from.

use super::Db;

/// One adapter scan, without its result bytes.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AdapterScanRow {
    pub id: String,
    /// `Pending`, `Running`, `Success` or `Error`.
    pub status: String,
    /// The request's artifact as JSON.
    pub artifact: String,
    pub error: Option<String>,
    pub job_id: Option<i64>,
    pub expires_at: String,
    pub created_at: String,
}

impl Db {
    /// Records a new `Pending` adapter scan `id` of `artifact` (JSON), expiring at `expires_at`.
    pub async fn create_adapter_scan(
        &self,
        id: &str,
        artifact: &str,
        expires_at: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO adapter_scans (id, status, artifact, expires_at, created_at, updated_at)
             VALUES ($1, 'Pending', $2, $3, $4, $4)",
        )
        .bind(id)
        .bind(artifact)
        .bind(expires_at)
        .bind(super::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Records the job that runs scan `id`.
    pub async fn set_adapter_scan_job(&self, id: &str, job_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE adapter_scans SET job_id = $1 WHERE id = $2")
            .bind(job_id)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Marks scan `id` running; `false` when it is gone (expired and deleted).
    pub async fn run_adapter_scan(&self, id: &str) -> Result<bool, sqlx::Error> {
        let now = super::now();
        let updated = sqlx::query(
            "UPDATE adapter_scans SET status = 'Running', updated_at = $1 WHERE id = $2",
        )
        .bind(&now)
        .bind(id)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(updated > 0)
    }

    /// Ends scan `id`: `Success` with its compressed `result`, or `Error` with `error`.
    pub async fn finish_adapter_scan(
        &self,
        id: &str,
        result: Result<&[u8], &str>,
    ) -> Result<(), sqlx::Error> {
        let (status, bytes, error) = match result {
            Ok(bytes) => ("Success", Some(bytes), None),
            Err(error) => ("Error", None, Some(error)),
        };
        sqlx::query(
            "UPDATE adapter_scans SET status = $1, result = $2, error = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(bytes)
        .bind(error)
        .bind(super::now())
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Scan `id` if it has not expired at `now`.
    pub async fn adapter_scan(
        &self,
        id: &str,
        now: &str,
    ) -> Result<Option<AdapterScanRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, status, artifact, error, job_id, expires_at, created_at FROM adapter_scans
             WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.read)
        .await
    }

    /// The compressed result of scan `id`.
    pub async fn adapter_scan_result(&self, id: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
        sqlx::query_scalar("SELECT result FROM adapter_scans WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map(Option::flatten)
    }

    /// Deletes the scans that expired before `now`; returns how many.
    pub async fn delete_expired_adapter_scans(&self, now: &str) -> Result<u64, sqlx::Error> {
        Ok(
            sqlx::query("DELETE FROM adapter_scans WHERE expires_at <= $1")
                .bind(now)
                .execute(&self.write)
                .await?
                .rows_affected(),
        )
    }
}
