//! CVE allowlists (`cve_allowlists`, `cve_allowlist_items`): a project's list of CVE ids that scans ignore,
//! with an optional expiry. Written with the project's other settings (see [`Db::update_project_with`]).

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

    /// Replaces project `project_id`'s allowlist with `allowlist`, inside `tx`.
    pub(super) async fn replace_cve_allowlist(
        tx: &mut sqlx::SqliteConnection,
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
        sqlx::query("DELETE FROM cve_allowlist_items WHERE allowlist_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for cve in &allowlist.items {
            sqlx::query("INSERT INTO cve_allowlist_items (allowlist_id, cve_id) VALUES ($1, $2)")
                .bind(id)
                .bind(cve)
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_from_the_first() {
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(4, 1), "$4");
    }
}
