//! The audit log: one row per recorded action. Rows are only ever inserted and read; entries of a deleted
//! project keep its id so a project's log still shows how it ended.

use super::Db;

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

/// Which entries to list: every field is optional. `*_contains` fields are substring matches.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditFilter<'a> {
    pub project_id: Option<i64>,
    pub operation: Option<&'a str>,
    pub resource: Option<&'a str>,
    pub resource_contains: Option<&'a str>,
    pub username: Option<&'a str>,
    pub username_contains: Option<&'a str>,
}

const INSERT: &str = "INSERT INTO audit_log
     (project_id, operation, resource_type, resource, username, client_ip, op_time)
     VALUES (COALESCE($8, (SELECT id FROM projects WHERE name = $1)), $2, $3, $4, $5, $6, $7)";

impl Db {
    /// Records one entry.
    pub async fn record_audit(&self, entry: &NewAuditEntry) -> Result<(), sqlx::Error> {
        self.record_audit_batch(std::slice::from_ref(entry)).await
    }

    /// Records `entries` in one transaction.
    pub async fn record_audit_batch(&self, entries: &[NewAuditEntry]) -> Result<(), sqlx::Error> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut tx = self.write.begin().await?;
        for entry in entries {
            sqlx::query(INSERT)
                .bind(entry.project.as_deref())
                .bind(entry.operation)
                .bind(entry.resource_type)
                .bind(&entry.resource)
                .bind(&entry.username)
                .bind(&entry.client_ip)
                .bind(&entry.op_time)
                .bind(entry.project_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    /// One page of entries matching `filter`, newest first, and how many match in all.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter<'_>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditEntry>, i64), sqlx::Error> {
        let conditions = "WHERE ($1 IS NULL OR project_id = $1)
              AND ($2 IS NULL OR operation = $2)
              AND ($3 IS NULL OR resource = $3)
              AND ($4 IS NULL OR instr(resource, $4) > 0)
              AND ($5 IS NULL OR username = $5)
              AND ($6 IS NULL OR instr(username, $6) > 0)";
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM audit_log {conditions}"))
                .bind(filter.project_id)
                .bind(filter.operation)
                .bind(filter.resource)
                .bind(filter.resource_contains)
                .bind(filter.username)
                .bind(filter.username_contains)
                .fetch_one(&self.read)
                .await?;
        let rows = sqlx::query_as(&format!(
            "SELECT id, project_id, operation, resource_type, resource, username, client_ip, op_time
             FROM audit_log {conditions} ORDER BY op_time DESC, id DESC LIMIT $7 OFFSET $8"
        ))
        .bind(filter.project_id)
        .bind(filter.operation)
        .bind(filter.resource)
        .bind(filter.resource_contains)
        .bind(filter.username)
        .bind(filter.username_contains)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        Ok((rows, total))
    }
}
