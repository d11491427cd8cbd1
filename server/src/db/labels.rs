//! Labels (`labels`) and the labels artifacts carry (`artifact_labels`).
//!
//! A global label has scope `g` and no project; a project label scope `p` and its project (the table's `CHECK`
//! holds both). Names are unique among the global labels and within each project (partial unique indexes), so
//! a duplicate is found where it is written ([`SaveLabelError::Duplicate`]). The limits (labels per scope,
//! labels per artifact) are checked in the writing transaction, so concurrent requests cannot pass them
//! together. Deleting a label, an artifact or a project removes what hangs on it (`ON DELETE CASCADE`).

use std::collections::HashSet;

use sqlx::Row;

use super::Db;
use super::list::{self, ListQuery, ListSql, Scope};

/// A stored label.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LabelRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub color: String,
    /// `g` or `p`.
    pub scope: String,
    /// The project of a `p` label.
    pub project_id: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

/// A label to store, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLabel {
    pub name: String,
    pub description: String,
    pub color: String,
    /// `None` for a global label.
    pub project_id: Option<i64>,
}

/// Which labels a list reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelScope {
    Global,
    Project(i64),
}

/// Why a label could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveLabelError {
    #[error("at most {0} labels may exist in this scope")]
    TooMany(i64),
    #[error("a label with this name already exists in this scope")]
    Duplicate,
    #[error("label not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Why a label could not be put on an artifact.
#[derive(Debug, thiserror::Error)]
pub enum AttachLabelError {
    #[error("the artifact already carries this label")]
    Attached,
    #[error("an artifact carries at most {0} labels")]
    TooMany(i64),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

const LABEL_COLUMNS: &str =
    "id, name, description, color, scope, project_id, created_at, updated_at";

impl Db {
    /// One page of the labels of `scope`, by name unless `query` sorts them, and how many match.
    pub async fn list_labels(
        &self,
        scope: LabelScope,
        query: &ListQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<LabelRow>, i64), sqlx::Error> {
        let select = format!("SELECT {LABEL_COLUMNS} FROM labels");
        let sql = ListSql {
            select: &select,
            count: "SELECT COUNT(*) FROM labels",
            default_order: "name",
            tie_breaker: "id",
            key_first: None,
        };
        let scope: Vec<Scope<'_>> = match scope {
            LabelScope::Global => vec![Scope::Sql("scope = 'g'")],
            LabelScope::Project(id) => vec![Scope::Sql("scope = 'p'"), Scope::Is("project_id", id)],
        };
        list::fetch_page(&self.read, &sql, &scope, query, limit, offset).await
    }

    /// Label `id`.
    pub async fn label(&self, id: i64) -> Result<Option<LabelRow>, sqlx::Error> {
        sqlx::query_as(&format!("SELECT {LABEL_COLUMNS} FROM labels WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    /// Adds a label unless its scope already has `max`; returns its id.
    pub async fn create_label(&self, label: &NewLabel, max: i64) -> Result<i64, SaveLabelError> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        let count: i64 = match label.project_id {
            Some(project_id) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM labels WHERE scope = 'p' AND project_id = $1",
                )
                .bind(project_id)
                .fetch_one(&mut *tx)
                .await?
            }
            None => {
                sqlx::query_scalar("SELECT COUNT(*) FROM labels WHERE scope = 'g'")
                    .fetch_one(&mut *tx)
                    .await?
            }
        };
        if count >= max {
            return Err(SaveLabelError::TooMany(max));
        }
        let scope = if label.project_id.is_some() { "p" } else { "g" };
        let row = sqlx::query(
            "INSERT INTO labels (name, description, color, scope, project_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             RETURNING id",
        )
        .bind(&label.name)
        .bind(&label.description)
        .bind(&label.color)
        .bind(scope)
        .bind(label.project_id)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(duplicate)?;
        let id: i64 = row.try_get(0)?;
        tx.commit().await?;
        Ok(id)
    }

    /// Renames, redescribes and recolours label `id` (its scope and project stay).
    pub async fn update_label(
        &self,
        id: i64,
        name: &str,
        description: &str,
        color: &str,
    ) -> Result<(), SaveLabelError> {
        let updated = sqlx::query(
            "UPDATE labels SET name = $1, description = $2, color = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(name)
        .bind(description)
        .bind(color)
        .bind(super::now())
        .bind(id)
        .execute(&self.write)
        .await
        .map_err(duplicate)?;
        if updated.rows_affected() == 0 {
            return Err(SaveLabelError::NotFound);
        }
        Ok(())
    }

    /// Deletes label `id`, detaching it from every artifact; returns whether it existed.
    pub async fn delete_label(&self, id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM labels WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The labels of each of `artifact_ids`, as `(artifact id, label)`, by artifact then label name.
    pub async fn labels_of(
        &self,
        artifact_ids: &[i64],
    ) -> Result<Vec<(i64, LabelRow)>, sqlx::Error> {
        if artifact_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT al.artifact_id, l.id, l.name, l.description, l.color, l.scope, l.project_id,
                    l.created_at, l.updated_at
             FROM artifact_labels al JOIN labels l ON l.id = al.label_id
             WHERE al.artifact_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))
             ORDER BY al.artifact_id, l.name, l.id",
        )
        .bind(serde_json::Value::from(artifact_ids.to_vec()).to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("artifact_id")?,
                    LabelRow {
                        id: row.try_get("id")?,
                        name: row.try_get("name")?,
                        description: row.try_get("description")?,
                        color: row.try_get("color")?,
                        scope: row.try_get("scope")?,
                        project_id: row.try_get("project_id")?,
                        created_at: row.try_get("created_at")?,
                        updated_at: row.try_get("updated_at")?,
                    },
                ))
            })
            .collect()
    }

    /// Those of `artifact_ids` that carry at least one of `label_ids`.
    pub async fn carrying_any_label(
        &self,
        artifact_ids: &[i64],
        label_ids: &[i64],
    ) -> Result<HashSet<i64>, sqlx::Error> {
        if artifact_ids.is_empty() || label_ids.is_empty() {
            return Ok(HashSet::new());
        }
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT artifact_id FROM artifact_labels
             WHERE artifact_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))
               AND label_id IN (SELECT CAST(value AS BIGINT) FROM json_each($2))",
        )
        .bind(serde_json::Value::from(artifact_ids.to_vec()).to_string())
        .bind(serde_json::Value::from(label_ids.to_vec()).to_string())
        .fetch_all(&self.read)
        .await?;
        Ok(ids.into_iter().collect())
    }

    /// Puts label `label_id` on artifact `artifact_id`, unless it is there already or the artifact carries
    /// `max` labels.
    pub async fn attach_label(
        &self,
        artifact_id: i64,
        label_id: i64,
        max: i64,
    ) -> Result<(), AttachLabelError> {
        let mut tx = self.write.begin().await?;
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM artifact_labels WHERE artifact_id = $1")
                .bind(artifact_id)
                .fetch_one(&mut *tx)
                .await?;
        let attached = sqlx::query(
            "INSERT INTO artifact_labels (artifact_id, label_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (artifact_id, label_id) DO NOTHING",
        )
        .bind(artifact_id)
        .bind(label_id)
        .bind(super::now())
        .execute(&mut *tx)
        .await?;
        if attached.rows_affected() == 0 {
            return Err(AttachLabelError::Attached);
        }
        if count >= max {
            return Err(AttachLabelError::TooMany(max));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Takes label `label_id` off artifact `artifact_id`; returns whether it was there.
    pub async fn detach_label(&self, artifact_id: i64, label_id: i64) -> Result<bool, sqlx::Error> {
        let done =
            sqlx::query("DELETE FROM artifact_labels WHERE artifact_id = $1 AND label_id = $2")
                .bind(artifact_id)
                .bind(label_id)
                .execute(&self.write)
                .await?;
        Ok(done.rows_affected() > 0)
    }
}

fn duplicate(error: sqlx::Error) -> SaveLabelError {
    if super::is_unique_violation(&error) {
        SaveLabelError::Duplicate
    } else {
        SaveLabelError::Db(error)
    }
}
