//! Artifacts and tags as the REST API lists them: one row per artifact with its sizes and pull statistics.
//!
//! Rule: what a list shows of an artifact that depends on other rows — whether it is listed on its own and
//! its total size — is stored with it (`artifacts.listed`, `artifacts.total_size`, migration 0013) and
//! kept by [`refresh_listing`] in every transaction that stores or deletes manifests, so lists read it from
//! indexes instead of computing it for every artifact.

use sqlx::AnyConnection;

use super::Db;
use super::list::{self, ListQuery, ListSql, Scope, StoredTotal};

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

/// SQL condition: artifact `a` is listed on its own — not a child of an index in its repository, nor an
/// accessory whose subject is in its repository (Harbor lists those under their parent or subject).
/// `CROSS JOIN` fixes SQLite's join order: children are found by digest (indexed) and then their parent by id.
/// (A `CROSS JOIN` takes no `ON` on PostgreSQL, so the join condition is in the `WHERE`.)
const LISTED_ON_ITS_OWN: &str =
    "NOT EXISTS (SELECT 1 FROM artifact_children ch CROSS JOIN artifacts p
                  WHERE p.id = ch.parent_id AND ch.child_digest = a.digest AND p.repository_id = a.repository_id)
     AND NOT (a.subject_digest IS NOT NULL AND EXISTS (SELECT 1 FROM artifacts s
                  WHERE s.repository_id = a.repository_id AND s.digest = a.subject_digest))";

/// The size of artifact `x`'s config and layers (the blobs present).
const BLOBS_SIZE: &str =
    "COALESCE((SELECT SUM(b.size) FROM artifact_blobs ab JOIN blobs b ON b.digest = ab.digest
                                   WHERE ab.artifact_id = x.id), 0)";

/// SQL expression: the total size of artifact `a` — the manifest, its config and layers, and (for an index)
/// its children with theirs. Migration 0013 writes the same for blobs that arrive after their artifacts.
fn total_size_sql() -> String {
    let own_blobs = BLOBS_SIZE.replace("x.id", "a.id");
    let child_blobs = BLOBS_SIZE.replace("x.id", "c.id");
    format!(
        "(a.size + {own_blobs}
              + COALESCE((SELECT SUM(c.size + {child_blobs}) FROM artifact_children ch
                          JOIN artifacts c ON c.repository_id = a.repository_id AND c.digest = ch.child_digest
                          WHERE ch.parent_id = a.id), 0))"
    )
}

/// Sets `listed` and `total_size` of the artifacts of repository `repository_id` that a change to the
/// artifacts `digests` affects: those artifacts, the indexes listing them as children (whose size includes
/// theirs), their accessories (listed only while their subject is missing) and their children (listed only
/// while no index lists them; name a deleted index's children in `digests`, its links are gone). Called in
/// the transaction that made the change, after it.
pub(super) async fn refresh_listing(
    conn: &mut AnyConnection,
    repository_id: i64,
    digests: &[String],
) -> Result<(), sqlx::Error> {
    if digests.is_empty() {
        return Ok(());
    }
    sqlx::query(&refresh_listing_sql())
        .bind(repository_id)
        .bind(serde_json::Value::from(digests.to_vec()).to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// The statement of [`refresh_listing`] (`$1` the repository, `$2` the digests as a JSON array). Each
/// artifact it updates is found by an index from the digests (`CROSS JOIN` fixes SQLite's join order), so a
/// push reads a handful of rows however many the repository holds.
fn refresh_listing_sql() -> String {
    format!(
        "UPDATE artifacts AS a
         SET listed = CASE WHEN {LISTED_ON_ITS_OWN} THEN TRUE ELSE FALSE END, total_size = {}
         WHERE a.id IN (
             SELECT x.id FROM artifacts x
             WHERE x.repository_id = $1 AND x.digest IN (SELECT value FROM json_each($2))
             UNION
             SELECT x.id FROM artifacts x
             WHERE x.repository_id = $1 AND x.subject_digest IN (SELECT value FROM json_each($2))
             UNION
             SELECT p.id FROM artifact_children ch CROSS JOIN artifacts p
             WHERE p.id = ch.parent_id AND p.repository_id = $1
               AND ch.child_digest IN (SELECT value FROM json_each($2))
             UNION
             SELECT c.id FROM artifacts p CROSS JOIN artifact_children ch CROSS JOIN artifacts c
             WHERE ch.parent_id = p.id AND c.repository_id = p.repository_id AND c.digest = ch.child_digest
               AND p.repository_id = $1 AND p.digest IN (SELECT value FROM json_each($2)))",
        total_size_sql()
    )
}

const ARTIFACT_SELECT: &str =
    "SELECT a.id, a.repository_id, r.project_id, r.name AS repository_name, a.digest, a.media_type,
        a.artifact_type, a.subject_digest, a.annotations, a.content, a.push_time, a.pull_time, a.pull_count,
        a.total_size
     FROM artifacts a JOIN repositories r ON r.id = a.repository_id";

/// Whose artifacts a list reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactScope {
    /// The artifacts of one repository (by id).
    Repository(i64),
    /// The artifacts of every repository of one project (by id).
    Project(i64),
    /// The newest artifact of each repository of one project (by id): Harbor's `latest_in_repository`.
    LatestOfProject(i64),
}

/// The artifact list of `scope`: the artifacts listed on their own, newest first.
fn artifact_list(scope: ArtifactScope) -> (ListSql<'static>, [Scope<'static>; 2]) {
    let (count, within) = match scope {
        ArtifactScope::Repository(id) => (
            "SELECT COUNT(*) FROM artifacts a",
            Scope::Is("a.repository_id", id),
        ),
        ArtifactScope::Project(id) | ArtifactScope::LatestOfProject(id) => (
            "SELECT COUNT(*) FROM artifacts a JOIN repositories r ON r.id = a.repository_id",
            Scope::Is("r.project_id", id),
        ),
    };
    let listed = match scope {
        ArtifactScope::LatestOfProject(_) => Scope::Sql(
            "a.listed = TRUE AND a.id = (SELECT l.id FROM artifacts l WHERE l.repository_id = a.repository_id
                AND l.listed = TRUE ORDER BY l.push_time DESC, l.id DESC LIMIT 1)",
        ),
        _ => Scope::Sql("a.listed = TRUE"),
    };
    let sql = ListSql {
        select: ARTIFACT_SELECT,
        count,
        default_order: "a.push_time DESC",
        tie_breaker: "a.id DESC",
        key_first: Some("a.id"),
    };
    (sql, [within, listed])
}

const TAG_SELECT: &str = "SELECT t.rowid AS id, t.repository_id, t.artifact_id, t.name, t.push_time, t.pull_time FROM tags t";

impl Db {
    /// One page of the artifacts of `scope` that are listed on their own (not an index's children, not
    /// accessories) and match `query` (keys of [`list::ARTIFACTS`]), newest first unless sorted, and how many
    /// match in all.
    pub async fn list_artifacts(
        &self,
        scope: ArtifactScope,
        query: &ListQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ArtifactRow>, i64), sqlx::Error> {
        let stored = match scope {
            ArtifactScope::Repository(repository_id) => Some(StoredTotal {
                sql: "SELECT artifact_count FROM repositories WHERE id = $1",
                key: repository_id,
            }),
            ArtifactScope::Project(_) | ArtifactScope::LatestOfProject(_) => None,
        };
        let (sql, scope) = artifact_list(scope);
        list::fetch_page_of(&self.read, &sql, &scope, query, (limit, offset), stored).await
    }

    /// The artifact `digest` of repository `repository_id`.
    pub async fn artifact_by_digest(
        &self,
        repository_id: i64,
        digest: &str,
    ) -> Result<Option<ArtifactRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{ARTIFACT_SELECT} WHERE a.repository_id = $1 AND a.digest = $2"
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
            "{ARTIFACT_SELECT} WHERE a.id = (SELECT artifact_id FROM tags WHERE repository_id = $1 AND name = $2)"
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
            "{ARTIFACT_SELECT} WHERE a.repository_id = $1 AND a.subject_digest IN (SELECT value FROM json_each($2))
             ORDER BY a.push_time, a.id"
        ))
        .bind(repository_id)
        .bind(serde_json::Value::from(subjects.to_vec()).to_string())
        .fetch_all(&self.read)
        .await
    }

    /// One page of the accessories of artifact `subject_id` (artifacts of its repository whose subject it is)
    /// that match `query` (keys of [`list::ACCESSORIES`]), newest first unless sorted, and how many match in
    /// all.
    pub async fn list_accessories(
        &self,
        repository_id: i64,
        subject_id: i64,
        query: &ListQuery,
        (limit, offset): (i64, i64),
    ) -> Result<(Vec<ArtifactRow>, i64), sqlx::Error> {
        let sql = ListSql {
            select: ARTIFACT_SELECT,
            count: "SELECT COUNT(*) FROM artifacts a",
            default_order: "a.push_time DESC",
            tie_breaker: "a.id DESC",
            key_first: None,
        };
        let scope = [
            Scope::Is("a.repository_id", repository_id),
            Scope::Sql("a.subject_digest IS NOT NULL"),
            Scope::Is(
                "(SELECT s.id FROM artifacts s
                  WHERE s.repository_id = a.repository_id AND s.digest = a.subject_digest)",
                subject_id,
            ),
        ];
        list::fetch_page(&self.read, &sql, &scope, query, limit, offset).await
    }

    /// Whether artifact `digest` of repository `repository_id` is signed with cosign: it has a cosign
    /// signature accessory (an artifact whose subject it is, of a `application/vnd.dev.cosign…` artifact type),
    /// or cosign's tag `sha256-<hex>.sig` names it; or an index of the repository listing it is, so the images of
    /// a signed multi-platform index pull.
    pub async fn cosign_signed(
        &self,
        repository_id: i64,
        digest: &str,
    ) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar::<_, super::Flag>(
            "WITH d(digest) AS (
                 SELECT CAST($2 AS TEXT)
                 UNION
                 SELECT p.digest FROM artifact_children ch JOIN artifacts p ON p.id = ch.parent_id
                 WHERE ch.child_digest = $2 AND p.repository_id = $1)
             SELECT EXISTS (SELECT 1 FROM artifacts s
                            WHERE s.repository_id = $1 AND s.artifact_type LIKE 'application/vnd.dev.cosign%'
                              AND s.subject_digest IN (SELECT digest FROM d))
                 OR EXISTS (SELECT 1 FROM tags t
                            WHERE t.repository_id = $1
                              AND t.name IN (SELECT 'sha256-' || SUBSTR(digest, 8) || '.sig' FROM d
                                             WHERE digest LIKE 'sha256:%'))",
        )
        .bind(repository_id)
        .bind(digest)
        .fetch_one(&self.read)
        .await
        .map(bool::from)
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
            "{TAG_SELECT} WHERE t.artifact_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::list::{Condition, field};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// Steps of a plan that read every row of artifacts (`a`) or tags (`t`).
    fn full_scans(plan: &[String]) -> Vec<&String> {
        plan.iter()
            .filter(|step| step.starts_with("SCAN a") || step.starts_with("SCAN t "))
            .collect()
    }

    /// The console's artifact lists, at the first, middle and last page of a million artifacts, choose
    /// their page from one index in the list's order, and its tag search starts from the tag index: no
    /// step reads every artifact, none sorts them (`bench/lists.py` times them).
    #[tokio::test]
    async fn artifact_lists_read_an_index_in_their_order() -> TestResult {
        let dir = tempfile::tempdir()?;
        let db = Db::open(&format!(
            "sqlite://{}",
            dir.path().join("berth.db").display()
        ))
        .await?;
        let (sql, scope) = artifact_list(ArtifactScope::Repository(1));
        let fields = list::ARTIFACTS.as_slice();
        let total = 1_000_000;
        let mut sorts: Vec<Option<(&str, bool)>> = vec![None];
        for key in ["push_time", "pull_time", "pull_count", "size"] {
            sorts.extend([Some((key, false)), Some((key, true))]);
        }
        for sort in sorts {
            let mut query = ListQuery::default();
            if let Some((key, descending)) = sort {
                query.sort_by(field(fields, key).ok_or(key)?, descending);
            }
            for offset in [0, total / 2, total - 15] {
                let (_, keys) =
                    list::plans(&db.read, &sql, &scope, &query, (15, offset, total)).await?;
                assert_eq!(keys.len(), 1, "{sort:?} at {offset}: {keys:?}");
                assert!(
                    keys[0].starts_with("SEARCH a USING COVERING INDEX artifacts_list_")
                        && keys[0].ends_with("(repository_id=? AND listed=?)"),
                    "{sort:?} at {offset}: {keys:?}"
                );
            }
        }
        // A tag search reads the tags whose names hold the part (from the trigram index when it has three
        // characters or more, else the repository's tags), then their artifacts by id.
        for (part, tags) in [
            ("v9999", "SEARCH t USING INTEGER PRIMARY KEY (rowid=?)"),
            (
                "v9",
                "SEARCH t USING INDEX sqlite_autoindex_tags_1 (repository_id=?)",
            ),
        ] {
            let mut query = ListQuery::default();
            query.filter(
                field(fields, "tags").ok_or("tags")?,
                Condition::Fuzzy(part.to_owned()),
            );
            let (count, keys) = list::plans(&db.read, &sql, &scope, &query, (15, 0, 11)).await?;
            for plan in [&count, &keys] {
                assert!(full_scans(plan).is_empty(), "{part}: {plan:?}");
                assert!(
                    plan.iter()
                        .any(|step| step == "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)"),
                    "{plan:?}"
                );
                let on_tags: Vec<&String> =
                    plan.iter().filter(|s| s.starts_with("SEARCH t ")).collect();
                assert_eq!(on_tags, [tags], "{part}: {plan:?}");
                assert_eq!(
                    plan.iter().any(|s| s.contains("tags_fts")),
                    part.len() >= 3,
                    "{plan:?}"
                );
            }
        }
        // Keeping the columns reads the rows a push touches, not the repository.
        let plan: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {}", refresh_listing_sql()))
                .bind(1)
                .bind("[]")
                .fetch_all(&db.read)
                .await?;
        let outer: Vec<&String> = plan
            .iter()
            .filter(|(_, parent, ..)| *parent == 0)
            .map(|(.., d)| d)
            .collect();
        assert_eq!(
            outer.first().map(|d| d.as_str()),
            Some("SEARCH a USING INTEGER PRIMARY KEY (rowid=?)")
        );
        for (.., step) in &plan {
            assert!(
                !step.starts_with("SCAN")
                    || step.contains("json_each")
                    || step.starts_with("SCAN CONSTANT"),
                "{plan:?}"
            );
            assert!(!step.ends_with("(repository_id=?)"), "{plan:?}");
        }
        db.close().await;
        Ok(())
    }
}
