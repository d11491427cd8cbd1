//! Immutable tag rules (`immutable_rules`), and the check that every write moving or removing a tag runs in
//! its own transaction: [`locks_in`] reads the project's enabled rules there, so a rule saved before the
//! write's transaction began always applies, and one saved after it cannot let an earlier check through
//! (writes are serialised by the single writer connection; on PostgreSQL the same reads run in the writing
//! transaction).

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};

use super::Db;
use super::list::{self, ListQuery, ListSql, Scope};
use crate::immutable::{StoredRule, TagLocked, TagLocks};

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ImmutableRuleRow {
    pub id: i64,
    pub project_id: i64,
    #[sqlx(flatten)]
    pub rule: NewImmutableRule,
    pub revision: i64,
}

/// A rule to store, already validated (and what a stored rule holds).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NewImmutableRule {
    #[sqlx(try_from = "super::Flag")]
    pub disabled: bool,
    pub priority: i64,
    pub template: String,
    /// Harbor's `params`, a JSON object.
    pub params: String,
    pub repo_decoration: String,
    pub repo_pattern: String,
    pub repo_extras: String,
    pub tag_decoration: String,
    pub tag_pattern: String,
    pub tag_extras: String,
}

/// Why a rule could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveRuleError {
    #[error("a project has at most {0} immutable tag rules")]
    TooMany(i64),
    #[error("an immutable tag rule with these selectors already exists")]
    Duplicate,
    #[error("immutable tag rule not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A write that moves or removes tags: refused by a rule, or failed.
#[derive(Debug, thiserror::Error)]
pub enum GuardedError {
    #[error(transparent)]
    Locked(#[from] TagLocked),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

const RULE_COLUMNS: &str =
    "id, project_id, disabled, priority, template, params, repo_decoration, repo_pattern,
     repo_extras, tag_decoration, tag_pattern, tag_extras, revision";

impl Db {
    /// One page of the rules of `project_id`, by id unless `query` sorts them, and how many there are.
    pub async fn list_immutable_rules(
        &self,
        project_id: i64,
        query: &ListQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ImmutableRuleRow>, i64), sqlx::Error> {
        let select = format!("SELECT {RULE_COLUMNS} FROM immutable_rules");
        let sql = ListSql {
            select: &select,
            count: "SELECT COUNT(*) FROM immutable_rules",
            default_order: "id",
            tie_breaker: "id",
            key_first: None,
        };
        let scope = [Scope::Is("project_id", project_id)];
        list::fetch_page(&self.read, &sql, &scope, query, limit, offset).await
    }

    /// Rule `id` of `project_id`, if it belongs to that project.
    pub async fn immutable_rule(
        &self,
        project_id: i64,
        id: i64,
    ) -> Result<Option<ImmutableRuleRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {RULE_COLUMNS} FROM immutable_rules WHERE project_id = $1 AND id = $2"
        ))
        .bind(project_id)
        .bind(id)
        .fetch_optional(&self.read)
        .await
    }

    /// Adds a rule to `project_id` unless it already has `max` rules; returns its id. The count and the
    /// insert share one transaction, so concurrent requests cannot pass the limit together.
    pub async fn create_immutable_rule(
        &self,
        project_id: i64,
        rule: &NewImmutableRule,
        max: i64,
    ) -> Result<i64, SaveRuleError> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM immutable_rules WHERE project_id = $1")
                .bind(project_id)
                .fetch_one(&mut *tx)
                .await?;
        if count >= max {
            return Err(SaveRuleError::TooMany(max));
        }
        let row = bind_rule(
            sqlx::query(
                "INSERT INTO immutable_rules (disabled, priority, template, params, repo_decoration, repo_pattern,
                                              repo_extras, tag_decoration, tag_pattern, tag_extras, created_at,
                                              updated_at, project_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)
                 RETURNING id",
            ),
            rule,
        )
        .bind(&now)
        .bind(project_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(duplicate)?;
        let id: i64 = row.try_get(0)?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces rule `id` of `project_id` (a new revision).
    pub async fn update_immutable_rule(
        &self,
        project_id: i64,
        id: i64,
        rule: &NewImmutableRule,
    ) -> Result<(), SaveRuleError> {
        let updated = bind_rule(
            sqlx::query(
                "UPDATE immutable_rules SET disabled = $1, priority = $2, template = $3, params = $4,
                        repo_decoration = $5, repo_pattern = $6, repo_extras = $7, tag_decoration = $8,
                        tag_pattern = $9, tag_extras = $10, revision = revision + 1, updated_at = $11
                 WHERE project_id = $12 AND id = $13",
            ),
            rule,
        )
        .bind(super::now())
        .bind(project_id)
        .bind(id)
        .execute(&self.write)
        .await
        .map_err(duplicate)?;
        if updated.rows_affected() == 0 {
            return Err(SaveRuleError::NotFound);
        }
        Ok(())
    }

    /// Deletes rule `id` of `project_id`; returns whether it existed.
    pub async fn delete_immutable_rule(
        &self,
        project_id: i64,
        id: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM immutable_rules WHERE project_id = $1 AND id = $2")
            .bind(project_id)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The tag locks of `project_id` as its enabled rules stand now, for showing `immutable` and for
    /// planning (retention). Writes check again in their own transaction.
    pub async fn tag_locks(&self, project_id: i64) -> Result<TagLocks, sqlx::Error> {
        let mut conn = self.read.acquire().await?;
        locks_in(&mut conn, self, project_id).await
    }
}

/// Binds `rule`'s fields as `$1`…`$10`, in the order of [`NewImmutableRule`].
fn bind_rule<'q>(
    query: Query<'q, Any, AnyArguments<'q>>,
    rule: &'q NewImmutableRule,
) -> Query<'q, Any, AnyArguments<'q>> {
    query
        .bind(rule.disabled)
        .bind(rule.priority)
        .bind(&rule.template)
        .bind(&rule.params)
        .bind(&rule.repo_decoration)
        .bind(&rule.repo_pattern)
        .bind(&rule.repo_extras)
        .bind(&rule.tag_decoration)
        .bind(&rule.tag_pattern)
        .bind(&rule.tag_extras)
}

fn duplicate(error: sqlx::Error) -> SaveRuleError {
    if super::is_unique_violation(&error) {
        SaveRuleError::Duplicate
    } else {
        SaveRuleError::Db(error)
    }
}

/// The enabled rules of `project_id`, read on `conn` (inside the caller's transaction), compiled through
/// the cache.
pub(super) async fn locks_in(
    conn: &mut AnyConnection,
    db: &Db,
    project_id: i64,
) -> Result<TagLocks, sqlx::Error> {
    let rows: Vec<(i64, i64, String, String, String, String)> = sqlx::query_as(
        "SELECT id, revision, repo_decoration, repo_pattern, tag_decoration, tag_pattern
         FROM immutable_rules WHERE project_id = $1 AND disabled = $2 ORDER BY id",
    )
    .bind(project_id)
    .bind(false)
    .fetch_all(&mut *conn)
    .await?;
    let rules: Vec<StoredRule> = rows
        .into_iter()
        .map(
            |(id, revision, repo_decoration, repo_pattern, tag_decoration, tag_pattern)| {
                StoredRule {
                    id,
                    revision,
                    repo_decoration,
                    repo_pattern,
                    tag_decoration,
                    tag_pattern,
                }
            },
        )
        .collect();
    Ok(db.immutable_rules.locks(&rules))
}

/// Refuses (with the first locked tag) if any of `tags` of `repository` is locked in `project_id`.
pub(super) async fn refuse_locked(
    conn: &mut AnyConnection,
    db: &Db,
    project_id: i64,
    repository: &str,
    tags: &[String],
) -> Result<(), GuardedError> {
    if tags.is_empty() {
        return Ok(());
    }
    let locks = locks_in(conn, db, project_id).await?;
    first_locked(&locks, repository, tags)
}

/// Refuses (with the first locked tag, by name) if any tag of repository `repository_id` (named `repository`)
/// is locked in `project_id`. The tags are read only when some rule is enabled.
pub(super) async fn refuse_locked_repository(
    conn: &mut AnyConnection,
    db: &Db,
    project_id: i64,
    repository_id: i64,
    repository: &str,
) -> Result<(), GuardedError> {
    let locks = locks_in(conn, db, project_id).await?;
    if locks.is_empty() {
        return Ok(());
    }
    let tags: Vec<String> =
        sqlx::query_scalar("SELECT name FROM tags WHERE repository_id = $1 ORDER BY name")
            .bind(repository_id)
            .fetch_all(&mut *conn)
            .await?;
    first_locked(&locks, repository, &tags)
}

fn first_locked(locks: &TagLocks, repository: &str, tags: &[String]) -> Result<(), GuardedError> {
    for tag in tags {
        if let Some(rule_id) = locks.locked_by(repository, tag) {
            return Err(GuardedError::Locked(TagLocked {
                repository: repository.to_owned(),
                tag: tag.clone(),
                rule_id,
            }));
        }
    }
    Ok(())
}
