//! Artifacts and tags as the REST API lists them: one row per artifact with its sizes and pull statistics.

use super::Db;
use super::list::{self, ListQuery, ListSql, Scope};
use super::repositories::LISTED_ON_ITS_OWN;

/// An artifact with what the REST API shows about it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ArtifactRow {
    pub id: i64,
    pub repository_id: i64,
    pub project_id: i64,
    pub repository_name: String,
    pub digest: String,
    /// The manifest's media type.
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub subject_digest: Option<String>,
    /// JSON object of the manifest's annotations.
    pub annotations: Option<String>,
    /// The manifest bytes.
    pub content: Vec<u8>,
    /// The manifest, its config and layers, and (for an index) its children with theirs.
    pub total_size: i64,
    pub push_time: String,
    pub pull_time: Option<String>,
    pub pull_count: i64,
}

/// A tag as the REST API shows it. Its id is the row's SQLite rowid.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TagRow {
    pub id: i64,
    pub repository_id: i64,
    pub artifact_id: i64,
    pub name: String,
    pub push_time: String,
    pub pull_time: Option<String>,
}

/// The size of artifact `x`'s config and layers.
const BLOBS_SIZE: &str =
    "COALESCE((SELECT SUM(b.size) FROM artifact_blobs ab JOIN blobs b ON b.digest = ab.digest
                                   WHERE ab.artifact_id = x.id), 0)";

/// SQL expression: the total size of artifact `a` — the manifest, its config and layers, and (for an index)
/// its children with theirs.
pub(super) fn total_size_sql() -> String {
    let own_blobs = BLOBS_SIZE.replace("x.id", "a.id");
    let child_blobs = BLOBS_SIZE.replace("x.id", "c.id");
    format!(
        "(a.size + {own_blobs}
              + COALESCE((SELECT SUM(c.size + {child_blobs}) FROM artifact_children ch
                          JOIN artifacts c ON c.repository_id = a.repository_id AND c.digest = ch.child_digest
                          WHERE ch.parent_id = a.id), 0))"
    )
}

fn artifact_select() -> String {
    format!(
        "SELECT a.id, a.repository_id, r.project_id, r.name AS repository_name, a.digest, a.media_type,
            a.artifact_type, a.subject_digest, a.annotations, a.content, a.push_time, a.pull_time, a.pull_count,
            {} AS total_size
         FROM artifacts a JOIN repositories r ON r.id = a.repository_id",
        total_size_sql()
    )
}

const TAG_SELECT: &str = "SELECT t.rowid AS id, t.repository_id, t.artifact_id, t.name, t.push_time, t.pull_time FROM tags t";

impl Db {
    /// One page of the artifacts of repository `repository_id` that are listed on their own (not an
    /// index's children, not accessories) and match `query` (keys of [`list::ARTIFACTS`]), newest first
    /// unless sorted, and how many match in all.
    pub async fn list_artifacts(
        &self,
        repository_id: i64,
        query: &ListQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ArtifactRow>, i64), sqlx::Error> {
        let select = artifact_select();
        let sql = ListSql {
            select: &select,
            count: "SELECT COUNT(*) FROM artifacts a",
            default_order: "a.push_time DESC",
            tie_breaker: "a.id DESC",
            key_first: Some("a.id"),
        };
        let scope = [
            Scope::Is("a.repository_id", repository_id),
            Scope::Sql(LISTED_ON_ITS_OWN),
        ];
        list::fetch_page(&self.read, &sql, &scope, query, limit, offset).await
    }

    /// The artifact `digest` of repository `repository_id`.
    pub async fn artifact_by_digest(
        &self,
        repository_id: i64,
        digest: &str,
    ) -> Result<Option<ArtifactRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{} WHERE a.repository_id = $1 AND a.digest = $2",
            artifact_select()
        ))
        .bind(repository_id)
        .bind(digest)
        .fetch_optional(&self.read)
        .await
    }

    /// The artifact tagged `tag` in repository `repository_id`.
    pub async fn artifact_by_tag(
        &self,
        repository_id: i64,
        tag: &str,
    ) -> Result<Option<ArtifactRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{} WHERE a.id = (SELECT artifact_id FROM tags WHERE repository_id = $1 AND name = $2)",
            artifact_select()
        ))
        .bind(repository_id)
        .bind(tag)
        .fetch_optional(&self.read)
        .await
    }

    /// The artifacts of repository `repository_id` whose subject is one of `subjects` (accessories).
    pub async fn accessories(
        &self,
        repository_id: i64,
        subjects: &[String],
    ) -> Result<Vec<ArtifactRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{} WHERE a.repository_id = $1 AND a.subject_digest IN (SELECT value FROM json_each($2))
             ORDER BY a.push_time, a.id",
            artifact_select()
        ))
        .bind(repository_id)
        .bind(serde_json::Value::from(subjects.to_vec()).to_string())
        .fetch_all(&self.read)
        .await
    }

    /// Ids of the artifacts `digests` of repository `repository_id`, as `(digest, id)`.
    pub async fn artifact_ids(
        &self,
        repository_id: i64,
        digests: &[String],
    ) -> Result<Vec<(String, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT digest, id FROM artifacts
             WHERE repository_id = $1 AND digest IN (SELECT value FROM json_each($2))",
        )
        .bind(repository_id)
        .bind(serde_json::Value::from(digests.to_vec()).to_string())
        .fetch_all(&self.read)
        .await
    }

    /// The tags of the artifacts `artifact_ids`, newest first.
    pub async fn tags_of(&self, artifact_ids: &[i64]) -> Result<Vec<TagRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{TAG_SELECT} WHERE t.artifact_id IN (SELECT value FROM json_each($1))
             ORDER BY t.push_time DESC, t.name"
        ))
        .bind(serde_json::Value::from(artifact_ids.to_vec()).to_string())
        .fetch_all(&self.read)
        .await
    }

    /// One page of the tags of artifact `artifact_id` matching `query` (keys of [`list::TAGS`]), newest
    /// first unless sorted, and how many match in all.
    pub async fn list_artifact_tags(
        &self,
        artifact_id: i64,
        query: &ListQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<TagRow>, i64), sqlx::Error> {
        let sql = ListSql {
            select: TAG_SELECT,
            count: "SELECT COUNT(*) FROM tags t",
            default_order: "t.push_time DESC, t.name",
            tie_breaker: "t.rowid",
            key_first: None,
        };
        let scope = [Scope::Is("t.artifact_id", artifact_id)];
        list::fetch_page(&self.read, &sql, &scope, query, limit, offset).await
    }
}
