//! `GET /search` by digest and by label: the artifacts found, each with its repository and project, among the
//! projects the caller may see.

use super::Db;

/// An artifact found by digest or by label, with its repository and project.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SearchArtifactRow {
    pub project_id: i64,
    pub project_name: String,
    #[sqlx(try_from = "super::Flag")]
    pub project_public: bool,
    /// The repository's full name, `project/repo`.
    pub repository_name: String,
    pub pull_count: i64,
    pub artifact_count: i64,
    pub artifact_id: i64,
    pub digest: String,
}

const FOUND_COLUMNS: &str = "r.project_id, p.name AS project_name, p.public AS project_public,
    r.name AS repository_name, r.pull_count, r.artifact_count, a.id AS artifact_id, a.digest";

impl Db {
    /// The artifacts of the projects `visible` (`None`: all) whose digests start with `prefix` (`sha256:` and
    /// lowercase hex digits), by repository then digest, at most `limit`.
    pub async fn search_artifacts_by_digest(
        &self,
        prefix: &str,
        visible: Option<&[i64]>,
        limit: i64,
    ) -> Result<Vec<SearchArtifactRow>, sqlx::Error> {
        let visible = visible.map(|ids| serde_json::Value::from(ids.to_vec()).to_string());
        // Every digest starting with the prefix sorts in [prefix, prefix + "g"): hex digits sort below 'g'.
        // The range reads the digest index; the substr test keeps the answer exact under any collation.
        let upper = format!("{prefix}g");
        sqlx::query_as(&format!(
            "SELECT {FOUND_COLUMNS}
             FROM artifacts a JOIN repositories r ON r.id = a.repository_id JOIN projects p ON p.id = r.project_id
             WHERE a.digest >= $1 AND a.digest < $2 AND substr(a.digest, 1, CAST($3 AS INTEGER)) = $1
               AND ($4 IS NULL OR r.project_id IN (SELECT CAST(value AS BIGINT) FROM json_each($4)))
             ORDER BY r.name, a.digest
             LIMIT $5"
        ))
        .bind(prefix)
        .bind(upper)
        .bind(i64::try_from(prefix.len()).unwrap_or(i64::MAX))
        .bind(visible)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }

    /// The artifacts of the projects `visible` (`None`: all) carrying a label named `name` (compared
    /// lowercased: a global label, or one of the artifact's project), by repository then digest, at most `limit`.
    pub async fn search_artifacts_by_label(
        &self,
        name: &str,
        visible: Option<&[i64]>,
        limit: i64,
    ) -> Result<Vec<SearchArtifactRow>, sqlx::Error> {
        let visible = visible.map(|ids| serde_json::Value::from(ids.to_vec()).to_string());
        sqlx::query_as(&format!(
            "SELECT {FOUND_COLUMNS}
             FROM labels l JOIN artifact_labels al ON al.label_id = l.id
               JOIN artifacts a ON a.id = al.artifact_id
               JOIN repositories r ON r.id = a.repository_id JOIN projects p ON p.id = r.project_id
             WHERE lower(l.name) = $1
               AND ($2 IS NULL OR r.project_id IN (SELECT CAST(value AS BIGINT) FROM json_each($2)))
             ORDER BY r.name, a.digest
             LIMIT $3"
        ))
        .bind(name)
        .bind(visible)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }
}
