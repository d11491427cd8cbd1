//! CVE allowlists (`cve_allowlists`, `cve_allowlist_items`): a project's list of CVE ids that scans ignore,
//! with an optional expiry. Written with the project's other settings (see [`Db::update_project_with`]).
//!
//! The system allowlist is the one row with no project (at most one: a unique index of migration 0022); it is
//! read and written on its own ([`Db::system_cve_allowlist`], [`Db::put_system_cve_allowlist`]).

use super::Db;

/// A stored allowlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CveAllowlistRow {
    pub id: i64,
    pub project_id: i64,
    /// Unix seconds; `None` never expires.
    pub expires_at: Option<i64>,
    /// CVE ids, sorted.
    pub items: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// An allowlist to store for a project, replacing the one it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCveAllowlist {
    pub expires_at: Option<i64>,
    pub items: Vec<String>,
}

/// `$first, $first+1, …` for `count` values.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Db {
    /// The allowlists of projects `ids` (projects without one are left out).
    pub async fn project_cve_allowlists(
        &self,
        ids: &[i64],
    ) -> Result<Vec<CveAllowlistRow>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, project_id, expires_at, created_at, updated_at FROM cve_allowlists
             WHERE project_id IN ({}) ORDER BY project_id",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query_as::<_, (i64, i64, Option<i64>, String, String)>(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let lists = query.fetch_all(&self.read).await?;
        if lists.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT allowlist_id, cve_id FROM cve_allowlist_items
             WHERE allowlist_id IN ({}) ORDER BY allowlist_id, cve_id",
            placeholders(1, lists.len())
        );
        let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
        for list in &lists {
            query = query.bind(list.0);
        }
        let items = query.fetch_all(&self.read).await?;
        Ok(lists
            .into_iter()
            .map(
                |(id, project_id, expires_at, created_at, updated_at)| CveAllowlistRow {
                    id,
                    project_id,
                    expires_at,
                    items: items
                        .iter()
                        .filter(|(list, _)| *list == id)
                        .map(|(_, cve)| cve.clone())
                        .collect(),
                    created_at,
                    updated_at,
                },
            )
            .collect())
    }

    /// The system allowlist (`project_id` 0), if it was ever written.
    pub async fn system_cve_allowlist(&self) -> Result<Option<CveAllowlistRow>, sqlx::Error> {
        let list: Option<(i64, Option<i64>, String, String)> = sqlx::query_as(
            "SELECT id, expires_at, created_at, updated_at FROM cve_allowlists WHERE project_id IS NULL",
        )
        .fetch_optional(&self.read)
        .await?;
        let Some((id, expires_at, created_at, updated_at)) = list else {
            return Ok(None);
        };
        let items = sqlx::query_scalar(
            "SELECT cve_id FROM cve_allowlist_items WHERE allowlist_id = $1 ORDER BY cve_id",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        Ok(Some(CveAllowlistRow {
            id,
            project_id: 0,
            expires_at,
            items,
            created_at,
            updated_at,
        }))
    }

    /// Replaces the system allowlist with `allowlist`, in one transaction.
    pub async fn put_system_cve_allowlist(
        &self,
        allowlist: &NewCveAllowlist,
    ) -> Result<(), sqlx::Error> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM cve_allowlists WHERE project_id IS NULL")
                .fetch_optional(&mut *tx)
                .await?;
        let id: i64 =
            match existing {
                Some(id) => {
                    sqlx::query(
                        "UPDATE cve_allowlists SET expires_at = $1, updated_at = $2 WHERE id = $3",
                    )
                    .bind(allowlist.expires_at)
                    .bind(&now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    id
                }
                None => sqlx::query_scalar(
                    "INSERT INTO cve_allowlists (project_id, expires_at, created_at, updated_at)
                     VALUES (NULL, $1, $2, $2) RETURNING id",
                )
                .bind(allowlist.expires_at)
                .bind(&now)
                .fetch_one(&mut *tx)
                .await?,
            };
        Self::replace_items(&mut tx, id, &allowlist.items).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn replace_items(
        tx: &mut sqlx::AnyConnection,
        id: i64,
        items: &[String],
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM cve_allowlist_items WHERE allowlist_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for cve in items {
            sqlx::query("INSERT INTO cve_allowlist_items (allowlist_id, cve_id) VALUES ($1, $2)")
                .bind(id)
                .bind(cve)
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }

    /// Replaces project `project_id`'s allowlist with `allowlist`, inside `tx`.
    pub(super) async fn replace_cve_allowlist(
        tx: &mut sqlx::AnyConnection,
        project_id: i64,
        allowlist: &NewCveAllowlist,
        now: &str,
    ) -> Result<(), sqlx::Error> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO cve_allowlists (project_id, expires_at, created_at, updated_at) VALUES ($1, $2, $3, $3)
             ON CONFLICT (project_id) DO UPDATE SET expires_at = excluded.expires_at, updated_at = excluded.updated_at
             RETURNING id",
        )
        .bind(project_id)
        .bind(allowlist.expires_at)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        Self::replace_items(tx, id, &allowlist.items).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_system_allowlist_is_one_row_replaced_whole()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(&format!("sqlite://{}", dir.path().join("b.db").display())).await?;
        assert_eq!(db.system_cve_allowlist().await?, None);
        let first = NewCveAllowlist {
            expires_at: Some(5),
            items: vec!["CVE-1".to_owned(), "CVE-2".to_owned()],
        };
        db.put_system_cve_allowlist(&first).await?;
        let second = NewCveAllowlist {
            expires_at: None,
            items: vec!["CVE-3".to_owned()],
        };
        db.put_system_cve_allowlist(&second).await?;
        let stored = db.system_cve_allowlist().await?.ok_or("missing")?;
        assert_eq!((stored.project_id, stored.expires_at), (0, None));
        assert_eq!(stored.items, vec!["CVE-3"]);
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cve_allowlists")
            .fetch_one(&db.read)
            .await?;
        assert_eq!(rows, 1);
        Ok(())
    }

    #[test]
    fn placeholders_count_from_the_first() {
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(4, 1), "$4");
    }
}
