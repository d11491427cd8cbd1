//! Pull statistics: counts and last-pull times of artifacts, repositories and tags, and a daily series per
//! repository. Written in batches by [`crate::stats`], one transaction per batch.

use super::Db;

/// Pulls already summed per artifact, repository, tag and day: what one batch writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullBatch {
    /// `(repository, digest, pulls, latest pull time)`.
    pub artifacts: Vec<(String, String, i64, String)>,
    /// `(repository, pulls)`.
    pub repositories: Vec<(String, i64)>,
    /// `(repository, tag, latest pull time)`.
    pub tags: Vec<(String, String, String)>,
    /// `(repository, UTC day as YYYY-MM-DD, pulls)`.
    pub days: Vec<(String, String, i64)>,
}

impl PullBatch {
    pub fn is_empty(&self) -> bool {
        self.artifacts.is_empty()
            && self.repositories.is_empty()
            && self.tags.is_empty()
            && self.days.is_empty()
    }
}

impl Db {
    /// Adds a batch of pulls in one transaction. Pulls of artifacts, tags or repositories deleted since are
    /// dropped. Tag pull times do not touch the tag cache: it holds manifests, which a pull does not change.
    pub async fn record_pulls(&self, batch: &PullBatch) -> Result<(), sqlx::Error> {
        let mut tx = self.write.begin().await?;
        for (repository, digest, count, time) in &batch.artifacts {
            sqlx::query(
                "UPDATE artifacts SET pull_count = pull_count + $1, pull_time = CASE WHEN pull_time IS NULL OR pull_time < $2 THEN $2 ELSE pull_time END
                 WHERE repository_id = (SELECT id FROM repositories WHERE name = $3) AND digest = $4",
            )
            .bind(count)
            .bind(time)
            .bind(repository)
            .bind(digest)
            .execute(&mut *tx)
            .await?;
        }
        for (repository, count) in &batch.repositories {
            sqlx::query("UPDATE repositories SET pull_count = pull_count + $1 WHERE name = $2")
                .bind(count)
                .bind(repository)
                .execute(&mut *tx)
                .await?;
        }
        for (repository, tag, time) in &batch.tags {
            sqlx::query(
                "UPDATE tags SET pull_time = CASE WHEN pull_time IS NULL OR pull_time < $1 THEN $1 ELSE pull_time END
                 WHERE repository_id = (SELECT id FROM repositories WHERE name = $2) AND name = $3",
            )
            .bind(time)
            .bind(repository)
            .bind(tag)
            .execute(&mut *tx)
            .await?;
        }
        for (repository, day, count) in &batch.days {
            sqlx::query(
                "INSERT INTO pull_stats (project_id, repository_id, day, count)
                 SELECT project_id, id, $1, $2 FROM repositories WHERE name = $3
                 ON CONFLICT (repository_id, day) DO UPDATE SET count = pull_stats.count + excluded.count",
            )
            .bind(day)
            .bind(count)
            .bind(repository)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// The daily pull counts of `repository`, oldest first, as `(day, count)`.
    pub async fn daily_pulls(&self, repository: &str) -> Result<Vec<(String, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT s.day, s.count FROM pull_stats s JOIN repositories r ON r.id = s.repository_id
             WHERE r.name = $1 ORDER BY s.day",
        )
        .bind(repository)
        .fetch_all(&self.read)
        .await
    }
}

impl Db {
    /// The daily pull counts of project `project_id` from UTC day `since` (`YYYY-MM-DD`) on, summed over its
    /// repositories, oldest first, as `(day, count)`. Days without pulls are absent.
    pub async fn project_daily_pulls(
        &self,
        project_id: i64,
        since: &str,
    ) -> Result<Vec<(String, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT day, CAST(SUM(count) AS BIGINT) FROM pull_stats WHERE project_id = $1 AND day >= $2
             GROUP BY day ORDER BY day",
        )
        .bind(project_id)
        .bind(since)
        .fetch_all(&self.read)
        .await
    }
}
