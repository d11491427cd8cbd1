//! CVE exports (`cve_exports`, Harbor's scan data export executions) and the rows an export writes: the
//! findings of the current reports of one project's artifacts, read page by page.
//!
//! An export row holds its CSV compressed (the writer bounds it) and expires a day after the request; expired
//! rows are deleted by [`Db::delete_expired_cve_exports`] and never read as present before that.

use super::sql_builder::SqlBuilder;
use sqlx::FromRow;

use super::Db;

/// An export, without its CSV.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct CveExportRow {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub job_name: String,
    /// JSON array of project ids.
    pub project_ids: String,
    /// The request's criteria as JSON.
    pub criteria: String,
    pub job_id: Option<i64>,
    pub status: String,
    pub status_text: String,
    pub start_time: String,
    pub end_time: Option<String>,
    pub csv_rows: Option<i64>,
    pub csv_bytes: Option<i64>,
    /// Whether the CSV is stored.
    #[sqlx(try_from = "super::Flag")]
    pub file_present: bool,
    pub expires_at: String,
}

/// A new export.
#[derive(Debug, Clone)]
pub struct NewCveExport<'a> {
    pub user_id: i64,
    pub username: &'a str,
    pub job_name: &'a str,
    pub project_ids: &'a str,
    pub criteria: &'a str,
    pub expires_at: &'a str,
}

/// An artifact with a current successful report, for an export: where it is and which report holds its
/// findings.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ExportArtifact {
    pub artifact_id: i64,
    pub repository_name: String,
    pub digest: String,
    pub report_uuid: String,
}

/// An export's status is its own, unless its job ended without saying so (stopped while it waited, or failed
/// on a node that died): then the job's end is the export's.
const SELECT: &str = "SELECT e.id, e.user_id, e.username, e.job_name, e.project_ids, e.criteria, e.job_id,
    CASE WHEN e.status IN ('Pending', 'Running') AND j.state = 'stopped' THEN 'Stopped'
         WHEN e.status IN ('Pending', 'Running') AND j.state = 'error' THEN 'Error'
         ELSE e.status END AS status,
    e.status_text, e.start_time, e.end_time, e.csv_rows, e.csv_bytes, (e.csv IS NOT NULL) AS file_present,
    e.expires_at
    FROM cve_exports e LEFT JOIN jobs j ON j.id = e.job_id";

impl Db {
    /// Records a new export, `Pending`; returns its id.
    pub async fn create_cve_export(&self, new: &NewCveExport<'_>) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO cve_exports (user_id, username, job_name, project_ids, criteria, status, start_time,
                expires_at)
             VALUES ($1, $2, $3, $4, $5, 'Pending', $6, $7) RETURNING id",
        )
        .bind(new.user_id)
        .bind(new.username)
        .bind(new.job_name)
        .bind(new.project_ids)
        .bind(new.criteria)
        .bind(super::now())
        .bind(new.expires_at)
        .fetch_one(&self.write)
        .await
    }

    /// Records the job that writes export `id`.
    pub async fn set_cve_export_job(&self, id: i64, job_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE cve_exports SET job_id = $1 WHERE id = $2")
            .bind(job_id)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Sets export `id`'s status (and its text); an ended status also sets its end time. `false` if there
    /// is no such export.
    pub async fn set_cve_export_status(
        &self,
        id: i64,
        status: &str,
        status_text: &str,
    ) -> Result<bool, sqlx::Error> {
        let ended = matches!(status, "Success" | "Error" | "Stopped");
        let updated = sqlx::query(
            "UPDATE cve_exports SET status = $1, status_text = $2, end_time = $3 WHERE id = $4",
        )
        .bind(status)
        .bind(status_text)
        .bind(ended.then(super::now))
        .bind(id)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(updated > 0)
    }

    /// Stores export `id`'s compressed CSV and marks it `Success`. `false` if there is no such export.
    pub async fn finish_cve_export(
        &self,
        id: i64,
        csv: &[u8],
        rows: i64,
        bytes: i64,
    ) -> Result<bool, sqlx::Error> {
        let updated = sqlx::query(
            "UPDATE cve_exports SET status = 'Success', status_text = '', end_time = $1, csv = $2,
                csv_rows = $3, csv_bytes = $4 WHERE id = $5",
        )
        .bind(super::now())
        .bind(csv)
        .bind(rows)
        .bind(bytes)
        .bind(id)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(updated > 0)
    }

    /// Export `id`, unless it expired before `now`.
    pub async fn cve_export(
        &self,
        id: i64,
        now: &str,
    ) -> Result<Option<CveExportRow>, sqlx::Error> {
        sqlx::query_as(&format!("{SELECT} WHERE e.id = $1 AND e.expires_at > $2"))
            .bind(id)
            .bind(now)
            .fetch_optional(&self.read)
            .await
    }

    /// The unexpired exports of user `user_id`, newest first, at most `limit`.
    pub async fn user_cve_exports(
        &self,
        user_id: i64,
        now: &str,
        limit: i64,
    ) -> Result<Vec<CveExportRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{SELECT} WHERE e.user_id = $1 AND e.expires_at > $2 ORDER BY e.id DESC LIMIT $3"
        ))
        .bind(user_id)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }

    /// How many of user `user_id`'s unexpired exports are pending or running (their jobs too: an export
    /// whose job was stopped before it ran is not waiting for anything).
    pub async fn active_cve_exports(&self, user_id: i64, now: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM cve_exports e LEFT JOIN jobs j ON j.id = e.job_id
             WHERE e.user_id = $1 AND e.status IN ('Pending', 'Running') AND e.expires_at > $2
               AND (j.state IS NULL OR j.state IN ('pending', 'running'))",
        )
        .bind(user_id)
        .bind(now)
        .fetch_one(&self.read)
        .await
    }

    /// Export `id`'s compressed CSV, unless it expired before `now`.
    pub async fn cve_export_csv(&self, id: i64, now: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
        let csv: Option<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT csv FROM cve_exports WHERE id = $1 AND expires_at > $2")
                .bind(id)
                .bind(now)
                .fetch_optional(&self.read)
                .await?;
        Ok(csv.flatten())
    }

    /// Deletes the exports that expired before `now`; returns how many.
    pub async fn delete_expired_cve_exports(&self, now: &str) -> Result<u64, sqlx::Error> {
        Ok(
            sqlx::query("DELETE FROM cve_exports WHERE expires_at <= $1")
                .bind(now)
                .execute(&self.write)
                .await?
                .rows_affected(),
        )
    }

    /// The artifacts of project `project_id` with a current successful report by `registration` of
    /// `mime_type`, after artifact id `after`, at most `limit`, by artifact id.
    pub async fn export_artifacts(
        &self,
        project_id: i64,
        registration: &str,
        mime_type: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ExportArtifact>, sqlx::Error> {
        sqlx::query_as(
            "SELECT a.id AS artifact_id, r.name AS repository_name, a.digest, s.uuid AS report_uuid
             FROM artifacts a
             JOIN repositories r ON r.id = a.repository_id
             JOIN scan_reports s ON s.artifact_digest = a.digest AND s.registration_uuid = $1
                AND s.mime_type = $2 AND s.summary IS NOT NULL
             WHERE r.project_id = $3 AND a.id > $4
             ORDER BY a.id LIMIT $5",
        )
        .bind(registration)
        .bind(mime_type)
        .bind(project_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }

    /// The findings of each of `report_uuids` (as [`super::ReportCve`], with its description), by report,
    /// CVE, package and version.
    pub async fn findings_of_reports(
        &self,
        report_uuids: &[String],
    ) -> Result<Vec<(String, super::ReportCve)>, sqlx::Error> {
        if report_uuids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = SqlBuilder::new(
            "SELECT c.report_uuid, c.cve_id, c.package, c.version, c.fix_version, c.severity, c.cvss_v3_score,
                c.cvss_v3_vector, c.cwe_ids FROM report_cves c WHERE c.report_uuid IN (",
        );
        let mut list = query.separated(", ");
        for uuid in report_uuids {
            list.push_bind(uuid.clone());
        }
        query.push(") ORDER BY c.report_uuid, c.cve_id, c.package, c.version");
        let rows: Vec<ReportFinding> = query.build_query_as()?.fetch_all(&self.read).await?;
        Ok(rows.into_iter().map(|r| (r.report_uuid, r.cve)).collect())
    }
}

#[derive(FromRow)]
struct ReportFinding {
    report_uuid: String,
    #[sqlx(flatten)]
    cve: super::ReportCve,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_export_expires_with_its_csv() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(&format!("sqlite://{}", dir.path().join("b.db").display())).await?;
        let user_id = db
            .create_user(&crate::db::NewUser {
                username: "someone",
                email: None,
                realname: "",
                comment: "",
                password_hash: "x",
                sysadmin: false,
            })
            .await?;
        let new = |expires_at| NewCveExport {
            user_id,
            username: "someone",
            job_name: "",
            project_ids: "[1]",
            criteria: "{}",
            expires_at,
        };
        let old = db
            .create_cve_export(&new("2020-01-01T00:00:00.000000Z"))
            .await?;
        let fresh = db
            .create_cve_export(&new("2999-01-01T00:00:00.000000Z"))
            .await?;
        assert!(db.finish_cve_export(fresh, b"csv", 1, 3).await?);
        let now = "2026-01-01T00:00:00.000000Z";
        assert_eq!(
            db.cve_export(old, now).await?,
            None,
            "an expired export is gone"
        );
        let row = db
            .cve_export(fresh, now)
            .await?
            .ok_or("fresh export missing")?;
        assert_eq!(
            (row.status.as_str(), row.file_present, row.csv_rows),
            ("Success", true, Some(1))
        );
        assert_eq!(
            db.cve_export_csv(fresh, now).await?.as_deref(),
            Some(&b"csv"[..])
        );
        assert_eq!(db.user_cve_exports(user_id, now, 10).await?.len(), 1);
        assert_eq!(db.active_cve_exports(user_id, now).await?, 0);
        assert_eq!(db.delete_expired_cve_exports(now).await?, 1);
        assert_eq!(db.delete_expired_cve_exports(now).await?, 0);
        assert!(db.set_cve_export_status(fresh, "Error", "boom").await?);
        assert!(!db.set_cve_export_status(old, "Error", "boom").await?);

        // An export whose job is stopped before it runs reads as stopped, and waits for nothing.
        let waiting = db
            .create_cve_export(&new("2999-01-01T00:00:00.000000Z"))
            .await?;
        let job = db
            .enqueue_job(
                &crate::db::jobs::NewJob {
                    kind: "SCAN_DATA_EXPORT",
                    parameters: "{}",
                    max_attempts: 1,
                    triggered_by: "MANUAL",
                    operator: "someone",
                    schedule_id: None,
                    run_after: now,
                },
                16,
            )
            .await?
            .ok_or("not enqueued")?;
        db.set_cve_export_job(waiting, job).await?;
        assert_eq!(db.active_cve_exports(user_id, now).await?, 1);
        db.request_job_stop(job, now).await?;
        let row = db.cve_export(waiting, now).await?.ok_or("missing")?;
        assert_eq!(row.status, "Stopped");
        assert_eq!(db.active_cve_exports(user_id, now).await?, 0);
        Ok(())
    }
}
