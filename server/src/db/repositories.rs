//! Repositories as the REST API lists them, and their deletion.

use super::Db;
use super::immutable::{GuardedError, refuse_locked_repository};
use super::list::{self, ListQuery, ListSql, Scope};
use super::quota;

/// A repository with what the REST API shows about it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RepositoryRow {
    pub id: i64,
    pub project_id: i64,
    /// The full name, `project/repo`.
    pub name: String,
    /// Harbor's free-text description; empty unless set through the REST API.
    pub description: String,
    /// Artifacts listed on their own: neither an index's children nor accessories of another artifact.
    pub artifact_count: i64,
    pub pull_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A repository by name, without the counts of [`RepositoryRow`]: what the artifact and tag endpoints need.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RepositoryRef {
    pub id: i64,
    pub project_id: i64,
    /// The full name, `project/repo`.
    pub name: String,
}

/// `artifact_count` is kept by triggers as artifacts are stored, deleted, and listed or not (migration 0013).
const REPOSITORY_SELECT: &str =
    "SELECT r.id, r.project_id, r.name, r.description, r.pull_count, r.created_at, r.updated_at, r.artifact_count
     FROM repositories r";

impl Db {
    /// One page of the repositories of `projects` (`None`: all) matching `query` (keys of
    /// [`list::REPOSITORIES`]), newest first unless sorted, and how many match in all.
    pub async fn list_repositories(
        &self,
        query: &ListQuery,
        projects: Option<&[i64]>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<RepositoryRow>, i64), sqlx::Error> {
        let sql = ListSql {
            select: REPOSITORY_SELECT,
            count: "SELECT COUNT(*) FROM repositories r",
            default_order: "r.created_at DESC",
            tie_breaker: "r.id DESC",
            key_first: Some("r.id"),
        };
        let scope: Vec<Scope<'_>> = projects
            .map(|ids| Scope::OneOf("r.project_id", ids))
            .into_iter()
            .collect();
        list::fetch_page(&self.read, &sql, &scope, query, limit, offset).await
    }

    /// The repository named `name` (full name).
    pub async fn repository(&self, name: &str) -> Result<Option<RepositoryRow>, sqlx::Error> {
        sqlx::query_as(&format!("{REPOSITORY_SELECT} WHERE r.name = $1"))
            .bind(name)
            .fetch_optional(&self.read)
            .await
    }

    /// The repository named `name` (full name), without counting its artifacts.
    pub async fn repository_ref(&self, name: &str) -> Result<Option<RepositoryRef>, sqlx::Error> {
        sqlx::query_as("SELECT id, project_id, name FROM repositories WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.read)
            .await
    }

    /// Deletes repository `repository_id` with all its artifacts, tags and blob links, in one transaction.
    /// The project's quota gives back every digest no other repository of the project still uses. Refused
    /// when an immutable tag rule locks one of its tags.
    pub async fn delete_repository(&self, repository_id: i64) -> Result<bool, GuardedError> {
        let mut tx = self.write.begin().await?;
        let found: Option<(i64, String)> =
            sqlx::query_as("SELECT project_id, name FROM repositories WHERE id = $1")
                .bind(repository_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((project_id, name)) = found else {
            return Ok(false);
        };
        refuse_locked_repository(&mut tx, self, project_id, repository_id, &name).await?;
        let digests: Vec<String> = sqlx::query_scalar(
            "SELECT digest FROM repository_blobs WHERE repository_id = $1
             UNION SELECT digest FROM artifacts WHERE repository_id = $1",
        )
        .bind(repository_id)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM repositories WHERE id = $1")
            .bind(repository_id)
            .execute(&mut *tx)
            .await?;
        // Uploads in progress there end too; the purge job removes their staged files.
        sqlx::query("DELETE FROM upload_sessions WHERE repository = $1")
            .bind(&name)
            .execute(&mut *tx)
            .await?;
        for digest in &digests {
            quota::release_if_unused(&mut tx, project_id, digest).await?;
        }
        tx.commit().await?;
        self.tagged_manifests
            .invalidate_where(|(repo, _)| *repo == name);
        Ok(true)
    }
}

/// A repository found by `GET /search`, with its project.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SearchRepositoryRow {
    pub project_id: i64,
    pub project_name: String,
    #[sqlx(try_from = "super::Flag")]
    pub project_public: bool,
    /// The full name, `project/repo`.
    pub name: String,
    pub pull_count: i64,
    pub artifact_count: i64,
}

impl Db {
    /// Sets the description of repository `repository_id`. Returns `false` if it no longer exists.
    pub async fn update_repository_description(
        &self,
        repository_id: i64,
        description: &str,
    ) -> Result<bool, sqlx::Error> {
        let updated = sqlx::query("UPDATE repositories SET description = $1 WHERE id = $2")
            .bind(description)
            .bind(repository_id)
            .execute(&self.write)
            .await?
            .rows_affected();
        Ok(updated > 0)
    }

    /// The repositories of the projects `visible` (`None`: all) whose full names contain `term`, by name, at most `limit`.
    pub async fn search_repositories(
        &self,
        term: &str,
        visible: Option<&[i64]>,
        limit: i64,
    ) -> Result<Vec<SearchRepositoryRow>, sqlx::Error> {
        let visible = visible.map(|ids| serde_json::Value::from(ids.to_vec()).to_string());
        sqlx::query_as(
            "SELECT r.project_id, p.name AS project_name, p.public AS project_public, r.name, r.pull_count,
                r.artifact_count
             FROM repositories r JOIN projects p ON p.id = r.project_id
             WHERE instr(r.name, $1) > 0
               AND ($2 IS NULL OR r.project_id IN (SELECT CAST(value AS BIGINT) FROM json_each($2)))
             ORDER BY r.name
             LIMIT $3",
        )
        .bind(term)
        .bind(visible)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }
}
