//! Repositories as the REST API lists them, and their deletion.

use super::Db;
use super::quota;

/// A repository with what the REST API shows about it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RepositoryRow {
    pub id: i64,
    pub project_id: i64,
    /// The full name, `project/repo`.
    pub name: String,
    /// Artifacts listed on their own: neither an index's children nor accessories of another artifact.
    pub artifact_count: i64,
    pub pull_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// How a name filter matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameMatch<'a> {
    Exact(&'a str),
    /// A substring.
    Fuzzy(&'a str),
}

/// A key repositories can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepositorySort {
    Name,
    CreationTime,
    UpdateTime,
    PullCount,
}

impl RepositorySort {
    fn column(self) -> &'static str {
        match self {
            RepositorySort::Name => "r.name",
            RepositorySort::CreationTime => "r.created_at",
            RepositorySort::UpdateTime => "r.updated_at",
            RepositorySort::PullCount => "r.pull_count",
        }
    }
}

/// Filters and order of a repository list.
#[derive(Debug, Clone, Default)]
pub struct RepositoryFilter<'a> {
    /// Only these projects; `None` for all.
    pub projects: Option<&'a [i64]>,
    pub name: Option<NameMatch<'a>>,
    /// `(key, descending)`, most significant first; newest first when empty (Harbor's default).
    pub sort: Vec<(RepositorySort, bool)>,
}

/// SQL condition: artifact `a` is listed on its own — not a child of an index in its repository, nor an
/// accessory whose subject is in its repository (Harbor lists those under their parent or subject).
pub(super) const LISTED_ON_ITS_OWN: &str =
    "NOT EXISTS (SELECT 1 FROM artifact_children ch JOIN artifacts p ON p.id = ch.parent_id
                  WHERE ch.child_digest = a.digest AND p.repository_id = a.repository_id)
     AND NOT (a.subject_digest IS NOT NULL AND EXISTS (SELECT 1 FROM artifacts s
                  WHERE s.repository_id = a.repository_id AND s.digest = a.subject_digest))";

fn repository_select() -> String {
    format!(
        "SELECT r.id, r.project_id, r.name, r.pull_count, r.created_at, r.updated_at,
            (SELECT COUNT(*) FROM artifacts a WHERE a.repository_id = r.id AND {LISTED_ON_ITS_OWN}) AS artifact_count
         FROM repositories r"
    )
}

impl Db {
    /// One page of repositories matching `filter`, and how many match in all.
    pub async fn list_repositories(
        &self,
        filter: &RepositoryFilter<'_>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<RepositoryRow>, i64), sqlx::Error> {
        let projects = filter
            .projects
            .map(|ids| serde_json::Value::from(ids.to_vec()).to_string());
        let (exact, fuzzy) = match filter.name {
            Some(NameMatch::Exact(name)) => (Some(name), None),
            Some(NameMatch::Fuzzy(part)) => (None, Some(part)),
            None => (None, None),
        };
        let conditions = "WHERE ($1 IS NULL OR r.project_id IN (SELECT value FROM json_each($1)))
              AND ($2 IS NULL OR r.name = $2)
              AND ($3 IS NULL OR instr(r.name, $3) > 0)";
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM repositories r {conditions}"))
                .bind(&projects)
                .bind(exact)
                .bind(fuzzy)
                .fetch_one(&self.read)
                .await?;
        let mut order: Vec<String> = filter
            .sort
            .iter()
            .map(|(key, descending)| {
                format!(
                    "{} {}",
                    key.column(),
                    if *descending { "DESC" } else { "ASC" }
                )
            })
            .collect();
        if order.is_empty() {
            order.push("r.created_at DESC".to_owned());
        }
        order.push("r.id DESC".to_owned());
        let rows = sqlx::query_as(&format!(
            "{} {conditions} ORDER BY {} LIMIT $4 OFFSET $5",
            repository_select(),
            order.join(", ")
        ))
        .bind(&projects)
        .bind(exact)
        .bind(fuzzy)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        Ok((rows, total))
    }

    /// The repository named `name` (full name).
    pub async fn repository(&self, name: &str) -> Result<Option<RepositoryRow>, sqlx::Error> {
        sqlx::query_as(&format!("{} WHERE r.name = $1", repository_select()))
            .bind(name)
            .fetch_optional(&self.read)
            .await
    }

    /// Deletes repository `repository_id` with all its artifacts, tags and blob links, in one transaction.
    /// The project's quota gives back every digest no other repository of the project still uses.
    pub async fn delete_repository(&self, repository_id: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let found: Option<(i64, String)> =
            sqlx::query_as("SELECT project_id, name FROM repositories WHERE id = $1")
                .bind(repository_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((project_id, name)) = found else {
            return Ok(false);
        };
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
        for digest in &digests {
            quota::release_if_unused(&mut tx, project_id, digest).await?;
        }
        tx.commit().await?;
        self.tagged_manifests
            .invalidate_where(|(repo, _)| *repo == name);
        Ok(true)
    }
}
