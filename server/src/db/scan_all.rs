//! What scan-all and the re-match on a new vulnerability database generation read: every artifact of every
//! project by keyset (never all at once), where an artifact lives, the indexes holding an image, the stored
//! inventories by digest, the oldest generation a report was matched against, and a job's last progress line.

use super::Db;
use super::jobs::{JOB_COLUMNS, JobRow};

/// One artifact as scan-all visits it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScanAllArtifact {
    pub id: i64,
    pub digest: String,
    /// `project/repository`.
    pub repository: String,
    pub project_id: i64,
}

/// Where a digest is stored: a repository holding it and its project.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ArtifactHome {
    pub digest: String,
    pub repository: String,
    pub project_id: i64,
}

impl Db {
    /// How many artifacts there are (scan-all's total when it starts).
    pub async fn count_all_artifacts(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM artifacts")
            .fetch_one(&self.read)
            .await
    }

    /// The artifacts after artifact id `after` (0 from the start), at most `limit`, by id.
    pub async fn artifacts_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ScanAllArtifact>, sqlx::Error> {
        sqlx::query_as(
            "SELECT a.id, a.digest, r.name AS repository, r.project_id FROM artifacts a
             JOIN repositories r ON r.id = a.repository_id
             WHERE a.id > $1 ORDER BY a.id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }

    /// A repository holding `digest` (the first stored), if any.
    pub async fn artifact_home(&self, digest: &str) -> Result<Option<ArtifactHome>, sqlx::Error> {
        sqlx::query_as(
            "SELECT a.digest, r.name AS repository, r.project_id FROM artifacts a
             JOIN repositories r ON r.id = a.repository_id
             WHERE a.digest = $1 ORDER BY a.id LIMIT 1",
        )
        .bind(digest)
        .fetch_optional(&self.read)
        .await
    }

    /// The indexes that list `child` among their manifests, at most `limit`.
    pub async fn indexes_holding(
        &self,
        child: &str,
        limit: i64,
    ) -> Result<Vec<ArtifactHome>, sqlx::Error> {
        sqlx::query_as(
            "SELECT a.digest, r.name AS repository, r.project_id FROM artifact_children c
             JOIN artifacts a ON a.id = c.parent_id
             JOIN repositories r ON r.id = a.repository_id
             WHERE c.child_digest = $1 ORDER BY a.id LIMIT $2",
        )
        .bind(child)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }

    /// The digests with an inventory by analyzer `version`, after `after` ("" from the start), at most
    /// `limit`, by digest.
    pub async fn inventoried_after(
        &self,
        version: i64,
        after: &str,
        limit: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT artifact_digest FROM artifact_inventories
             WHERE analyzer_version = $1 AND artifact_digest > $2 ORDER BY artifact_digest LIMIT $3",
        )
        .bind(version)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }

    /// The oldest vulnerability database generation a successful report of `registration` and `mime_type`
    /// was matched against (0 for a report matched before any database); `None` when there is no such report.
    pub async fn oldest_report_generation(
        &self,
        registration: &str,
        mime_type: &str,
    ) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT MIN(COALESCE(vulndb_generation, 0)) FROM scan_reports
             WHERE registration_uuid = $1 AND mime_type = $2 AND status = 'Success'",
        )
        .bind(registration)
        .bind(mime_type)
        .fetch_one(&self.read)
        .await
    }

    /// The newest job of `kind`, of those `triggered_by` when given.
    pub async fn latest_job(
        &self,
        kind: &str,
        triggered_by: Option<&str>,
    ) -> Result<Option<JobRow>, sqlx::Error> {
        // Two statements rather than `$2 IS NULL`, whose parameter type PostgreSQL cannot infer.
        match triggered_by {
            Some(trigger) => {
                sqlx::query_as(&format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND triggered_by = $2
                     ORDER BY id DESC LIMIT 1"
                ))
                .bind(kind)
                .bind(trigger)
                .fetch_optional(&self.read)
                .await
            }
            None => {
                sqlx::query_as(&format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 ORDER BY id DESC LIMIT 1"
                ))
                .bind(kind)
                .fetch_optional(&self.read)
                .await
            }
        }
    }

    /// The last line of job `id`'s log that starts with `prefix`.
    pub async fn last_job_log_line(
        &self,
        id: i64,
        prefix: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT line FROM job_log WHERE job_id = $1 AND substr(line, 1, length($2)) = $2
             ORDER BY id DESC LIMIT 1",
        )
        .bind(id)
        .bind(prefix)
        .fetch_optional(&self.read)
        .await
    }
}

impl Db {
    /// Starts report `uuid`'s clock now without changing its status: a re-match writes straight to `Success`,
    /// so the previous report stays in force (never `Pending`) until the new one is written.
    pub async fn restart_scan_report_clock(&self, uuid: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE scan_reports SET start_time = $1 WHERE uuid = $2")
            .bind(super::now())
            .bind(uuid)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
