//! The audit log: one row per recorded action. Rows are only ever inserted and read; entries of a deleted
//! project keep its id so a project's log still shows how it ended.

use std::sync::OnceLock;

use super::list::{self, ListQuery, ListSql, Scope, StoredTotal};
use super::{Backend, Db};

/// An entry to record. `project` names the project the action touched, if any; the row stores its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub project: Option<String>,
    /// The project by id, when known (wins over `project`).
    pub project_id: Option<i64>,
    pub operation: &'static str,
    pub resource_type: &'static str,
    pub resource: String,
    pub username: String,
    pub client_ip: String,
    /// As produced by [`super::timestamp`].
    pub op_time: String,
}

/// A recorded entry.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub project_id: Option<i64>,
    pub operation: String,
    pub resource_type: String,
    pub resource: String,
    pub username: String,
    pub client_ip: String,
    pub op_time: String,
}

/// Rows per multi-row `INSERT`: a batch (a second's pulls, say) goes to the database in statements of this
/// many rows, and its remainder in statements of 16, 8, 4, 2 and 1, so a batch of n rows costs about n/32
/// round trips and only six statement texts are ever prepared.
const INSERT_ROWS: [usize; 6] = [32, 16, 8, 4, 2, 1];

/// The `INSERT` of `rows` entries, each row's eight values in the order `record_audit_batch` binds them.
///
/// On SQLite the placeholders are anonymous `?`, bound in order. sqlx asks SQLite for the name of every
/// parameter it binds, and SQLite finds a numbered placeholder's name by a linear scan of all of them, so the
/// 256 `$N` of a 32-row statement cost 256²/2 steps per execution: 4% of the server's CPU under a manifest-GET
/// load, as much as the rows saved. Anonymous placeholders have no names to scan. PostgreSQL takes `$N`.
fn insert_sql(rows: usize, backend: Backend) -> String {
    let placeholder = |n: usize| match backend {
        Backend::Sqlite => "?".to_owned(),
        Backend::Postgres => format!("${n}"),
    };
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let p = |i: usize| placeholder(row * 8 + i);
            format!(
                "(COALESCE({}, (SELECT id FROM projects WHERE name = {})), {}, {}, {}, {}, {}, {})",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6),
                p(7),
                p(8)
            )
        })
        .collect();
    format!(
        "INSERT INTO audit_log (project_id, operation, resource_type, resource, username, client_ip, op_time)
         VALUES {}",
        values.join(", ")
    )
}

/// The statement texts of [`INSERT_ROWS`] for `backend`, made once.
fn insert_statements(backend: Backend) -> &'static [(usize, String)] {
    static SQLITE: OnceLock<Vec<(usize, String)>> = OnceLock::new();
    static POSTGRES: OnceLock<Vec<(usize, String)>> = OnceLock::new();
    let statements = match backend {
        Backend::Sqlite => &SQLITE,
        Backend::Postgres => &POSTGRES,
    };
    statements.get_or_init(|| {
        INSERT_ROWS
            .iter()
            .map(|&rows| (rows, insert_sql(rows, backend)))
            .collect()
    })
}

impl Db {
    /// Records one entry.
    pub async fn record_audit(&self, entry: &NewAuditEntry) -> Result<(), sqlx::Error> {
        self.record_audit_batch(std::slice::from_ref(entry)).await
    }

    /// Records `entries` in one transaction (the audit log's totals are kept by a trigger, migration 0013).
    pub async fn record_audit_batch(&self, entries: &[NewAuditEntry]) -> Result<(), sqlx::Error> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = self.write.begin().await?;
        let mut rest = entries;
        for (rows, sql) in insert_statements(self.backend()) {
            while rest.len() >= *rows {
                let (chunk, after) = rest.split_at(*rows);
                let mut query = sqlx::query(sql);
                for entry in chunk {
                    query = query
                        .bind(entry.project_id)
                        .bind(entry.project.as_deref())
                        .bind(entry.operation)
                        .bind(entry.resource_type)
                        .bind(&entry.resource)
                        .bind(&entry.username)
                        .bind(&entry.client_ip)
                        .bind(&entry.op_time);
                }
                query.execute(&mut *tx).await?;
                rest = after;
            }
        }
        tx.commit().await
    }

    /// One page of the entries of project `project_id` (`None`: of all) matching `query` (keys of
    /// [`list::AUDIT_LOGS`]), newest first unless sorted, and how many match in all.
    pub async fn list_audit(
        &self,
        query: &ListQuery,
        project_id: Option<i64>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditEntry>, i64), sqlx::Error> {
        let sql = ListSql {
            select: "SELECT id, project_id, operation, resource_type, resource, username, client_ip, op_time
                     FROM audit_log",
            count: "SELECT COUNT(*) FROM audit_log",
            default_order: "op_time DESC",
            tie_breaker: "id DESC",
            key_first: None,
        };
        let scope: Vec<Scope<'_>> = project_id
            .map(|id| Scope::Is("project_id", id))
            .into_iter()
            .collect();
        // Kept by triggers per project, and for all entries under 0 (migration 0013).
        let stored = StoredTotal {
            sql: "SELECT COALESCE((SELECT entries FROM audit_log_counts WHERE project_id = $1), 0)",
            key: project_id.unwrap_or(0),
        };
        list::fetch_page_of(
            &self.read,
            &sql,
            &scope,
            query,
            (limit, offset),
            Some(stored),
        )
        .await
    }
}

impl Db {
    /// How many entries of each of `operations` are older than `before`.
    pub async fn count_audit_before(
        &self,
        operations: &[String],
        before: &str,
    ) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let mut counts = Vec::with_capacity(operations.len());
        for operation in operations {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM audit_log WHERE operation = $1 AND op_time < $2",
            )
            .bind(operation)
            .bind(before)
            .fetch_one(&self.read)
            .await?;
            counts.push((operation.clone(), n));
        }
        Ok(counts)
    }

    /// Deletes at most `limit` of the oldest entries of `operation` older than `before`, in one short
    /// transaction; returns how many.
    pub async fn purge_audit_batch(
        &self,
        operation: &str,
        before: &str,
        limit: i64,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "DELETE FROM audit_log WHERE id IN (
                 SELECT id FROM audit_log WHERE operation = $1 AND op_time < $2 ORDER BY op_time LIMIT $3)",
        )
        .bind(operation)
        .bind(before)
        .bind(limit)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_inserts_bind_anonymous_placeholders_and_postgres_numbered_ones_in_order() {
        for (rows, sql) in insert_statements(Backend::Sqlite) {
            assert!(!sql.contains('$'), "{sql}");
            assert_eq!(sql.matches('?').count(), rows * 8, "{sql}");
        }
        for (rows, sql) in insert_statements(Backend::Postgres) {
            let numbers: Vec<usize> = sql
                .split('$')
                .skip(1)
                .filter_map(|rest| {
                    rest.split(|c: char| !c.is_ascii_digit())
                        .next()?
                        .parse()
                        .ok()
                })
                .collect();
            assert_eq!(numbers, (1..=rows * 8).collect::<Vec<_>>(), "{sql}");
        }
    }
}
