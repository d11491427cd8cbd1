//! Artifacts and tags as the REST API lists them: one row per artifact with its sizes and pull statistics.

use super::Db;
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

/// Which artifacts a list shows, by their tags (Harbor's `q=tags=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TagFilter<'a> {
    #[default]
    Any,
    /// Only tagged artifacts (`tags=*`).
    Tagged,
    /// Only untagged artifacts (`tags=nil`).
    Untagged,
    /// Artifacts with this tag (`tags=v`).
    Exact(&'a str),
    /// Artifacts with a tag containing this (`tags=~v`).
    Fuzzy(&'a str),
}

/// Filters of an artifact list.
#[derive(Debug, Clone, Copy, Default)]
pub struct ArtifactFilter<'a> {
    pub tags: TagFilter<'a>,
    pub digest: Option<&'a str>,
}

/// The size of artifact `x`'s config and layers.
const BLOBS_SIZE: &str =
    "COALESCE((SELECT SUM(b.size) FROM artifact_blobs ab JOIN blobs b ON b.digest = ab.digest
                                   WHERE ab.artifact_id = x.id), 0)";

fn artifact_select() -> String {
    let own_blobs = BLOBS_SIZE.replace("x.id", "a.id");
    let child_blobs = BLOBS_SIZE.replace("x.id", "c.id");
    format!(
        "SELECT a.id, a.repository_id, r.project_id, r.name AS repository_name, a.digest, a.media_type,
            a.artifact_type, a.subject_digest, a.annotations, a.content, a.push_time, a.pull_time, a.pull_count,
            a.size + {own_blobs}
              + COALESCE((SELECT SUM(c.size + {child_blobs}) FROM artifact_children ch
                          JOIN artifacts c ON c.repository_id = a.repository_id AND c.digest = ch.child_digest
                          WHERE ch.parent_id = a.id), 0) AS total_size
         FROM artifacts a JOIN repositories r ON r.id = a.repository_id"
    )
}

const TAG_SELECT: &str = "SELECT t.rowid AS id, t.repository_id, t.artifact_id, t.name, t.push_time, t.pull_time FROM tags t";

impl Db {
    /// One page of the artifacts of repository `repository_id` that are listed on their own (not an
    /// index's children, not accessories), newest first, and how many match in all.
    pub async fn list_artifacts(
        &self,
        repository_id: i64,
        filter: ArtifactFilter<'_>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ArtifactRow>, i64), sqlx::Error> {
        let (mode, value) = match filter.tags {
            TagFilter::Any => ("any", None),
            TagFilter::Tagged => ("tagged", None),
            TagFilter::Untagged => ("untagged", None),
            TagFilter::Exact(tag) => ("exact", Some(tag)),
            TagFilter::Fuzzy(part) => ("fuzzy", Some(part)),
        };
        let conditions = format!(
            "WHERE a.repository_id = $1 AND {LISTED_ON_ITS_OWN}
               AND ($2 IS NULL OR a.digest = $2)
               AND CASE $3
                 WHEN 'tagged' THEN EXISTS (SELECT 1 FROM tags t WHERE t.artifact_id = a.id)
                 WHEN 'untagged' THEN NOT EXISTS (SELECT 1 FROM tags t WHERE t.artifact_id = a.id)
                 WHEN 'exact' THEN EXISTS (SELECT 1 FROM tags t WHERE t.artifact_id = a.id AND t.name = $4)
                 WHEN 'fuzzy' THEN EXISTS (SELECT 1 FROM tags t WHERE t.artifact_id = a.id AND instr(t.name, $4) > 0)
                 ELSE 1 END"
        );
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM artifacts a {conditions}"))
                .bind(repository_id)
                .bind(filter.digest)
                .bind(mode)
                .bind(value)
                .fetch_one(&self.read)
                .await?;
        let rows = sqlx::query_as(&format!(
            "{} {conditions} ORDER BY a.push_time DESC, a.id DESC LIMIT $5 OFFSET $6",
            artifact_select()
        ))
        .bind(repository_id)
        .bind(filter.digest)
        .bind(mode)
        .bind(value)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        Ok((rows, total))
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

    /// One page of the tags of artifact `artifact_id`, newest first, optionally only those named `name`
    /// (exact) or containing `part`, and how many match in all.
    pub async fn list_artifact_tags(
        &self,
        artifact_id: i64,
        name: Option<&str>,
        part: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<TagRow>, i64), sqlx::Error> {
        let conditions = "WHERE t.artifact_id = $1 AND ($2 IS NULL OR t.name = $2)
                            AND ($3 IS NULL OR instr(t.name, $3) > 0)";
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM tags t {conditions}"))
            .bind(artifact_id)
            .bind(name)
            .bind(part)
            .fetch_one(&self.read)
            .await?;
        let rows = sqlx::query_as(&format!(
            "{TAG_SELECT} {conditions} ORDER BY t.push_time DESC, t.name LIMIT $4 OFFSET $5"
        ))
        .bind(artifact_id)
        .bind(name)
        .bind(part)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        Ok((rows, total))
    }
}
