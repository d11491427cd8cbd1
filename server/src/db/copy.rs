//! Copying a whole installation's metadata from SQLite into PostgreSQL (`berth migrate-storage`).
//!
//! The copy is driven by PostgreSQL's catalog: every table the migrations made (but the migrations' own), in
//! foreign-key order, every column both sides have, each value read from SQLite as the PostgreSQL column's
//! type wants it. It runs in one PostgreSQL transaction: the target holds all of it or none of it.
//!
//! Rule: the target's counters are copied, not recomputed, so its triggers that keep them (artifact counts,
//! storage totals, audit counts) are switched off for the copy (`DISABLE TRIGGER USER`: the tables' owner may
//! do it; foreign keys stay checked), and identity sequences are moved past the copied ids.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::TryStreamExt as _;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::{Backend, Db};

/// Rows inserted per statement (PostgreSQL takes at most 65,535 parameters).
const BATCH_ROWS: usize = 200;

/// Tables not copied: what only makes sense on the node that wrote it. Upload sessions stage on the source's
/// disk (clients start those uploads again), job nodes and sign-in counts are live state.
const NOT_COPIED: &[&str] = &[
    "upload_parts",
    "upload_sessions",
    "job_nodes",
    "signin_failures",
];

/// Why a copy failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the copy goes from SQLite into PostgreSQL; {0}")]
    Backends(&'static str),
    #[error(
        "the target database already holds {users} users and {artifacts} artifacts; pass --replace to overwrite it"
    )]
    NotEmpty { users: i64, artifacts: i64 },
    #[error("table {table}, column {column}: {problem}")]
    Value {
        table: String,
        column: String,
        problem: String,
    },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// One table copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedTable {
    pub table: String,
    pub rows: u64,
}

/// A value read from SQLite, as the target column takes it.
enum Value {
    Int(Option<i64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    /// Bound as text and cast: sqlx's `Any` sends a missing float as a `float4` NULL, which the cached
    /// statement then refuses for the next present value.
    Float(Option<String>),
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Int,
    Bool,
    Text,
    Bytes,
    Float(&'static str),
}

impl Kind {
    fn of(data_type: &str) -> Kind {
        match data_type {
            "bigint" | "integer" | "smallint" => Kind::Int,
            "boolean" => Kind::Bool,
            "bytea" => Kind::Bytes,
            "double precision" => Kind::Float("DOUBLE PRECISION"),
            "real" => Kind::Float("REAL"),
            _ => Kind::Text,
        }
    }

    fn placeholder(self, n: usize) -> String {
        match self {
            Kind::Float(sql) => format!("CAST(${n} AS {sql})"),
            _ => format!("${n}"),
        }
    }

    /// Reads column `i` of a SQLite row as this kind. SQLite types values, not columns, so a text column
    /// holding a number is read as the number and written out as its text.
    fn read(self, row: &AnyRow, i: usize) -> Result<Value, String> {
        let text = || -> Result<Option<String>, String> {
            if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                return Ok(v);
            }
            if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                return Ok(v.map(|n| n.to_string()));
            }
            row.try_get::<Option<f64>, _>(i)
                .map(|v| v.map(|f| f.to_string()))
                .map_err(|e| e.to_string())
        };
        Ok(match self {
            Kind::Int => Value::Int(row.try_get(i).map_err(|e| e.to_string())?),
            Kind::Bool => Value::Bool(
                row.try_get::<Option<i64>, _>(i)
                    .map_err(|e| e.to_string())?
                    .map(|n| n != 0),
            ),
            Kind::Bytes => Value::Bytes(match row.try_get::<Option<Vec<u8>>, _>(i) {
                Ok(v) => v,
                Err(_) => text()?.map(String::into_bytes),
            }),
            Kind::Float(_) => Value::Float(match row.try_get::<Option<f64>, _>(i) {
                Ok(v) => v.map(|f| f.to_string()),
                Err(_) => text()?,
            }),
            Kind::Text => Value::Text(text()?),
        })
    }
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

impl Db {
    /// Writes a consistent copy of this SQLite database to `path` (`VACUUM INTO`), while it may be in use.
    pub async fn sqlite_snapshot(&self, path: &std::path::Path) -> Result<(), CopyError> {
        if self.backend != Backend::Sqlite {
            return Err(CopyError::Backends("the source is not SQLite"));
        }
        let path = path.to_string_lossy().replace('\'', "''");
        sqlx::query(&format!("VACUUM INTO '{path}'"))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Checks up front what [`Db::copy_from_sqlite`] will: this database holds no users or artifacts, unless
    /// `replace`.
    pub async fn check_copy_target(&self, replace: bool) -> Result<(), CopyError> {
        let mut conn = self.write.acquire().await?;
        check_empty(&mut conn, replace).await
    }

    /// Every blob row, `(digest, size, state)`, in digest order after `after`, at most `limit`.
    pub async fn blobs_after(
        &self,
        after: &str,
        limit: i64,
    ) -> Result<Vec<(String, i64, String)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT digest, size, state FROM blobs WHERE digest > $1 ORDER BY digest LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }

    /// Replaces everything in this PostgreSQL database with what SQLite database `source` holds, in one
    /// transaction (see the module comment). Refuses a target that holds users or artifacts already unless
    /// `replace`. Returns the tables copied, in the order they were.
    pub async fn copy_from_sqlite(
        &self,
        source: &Db,
        replace: bool,
    ) -> Result<Vec<CopiedTable>, CopyError> {
        if self.backend != Backend::Postgres {
            return Err(CopyError::Backends("the target is not PostgreSQL"));
        }
        if source.backend != Backend::Sqlite {
            return Err(CopyError::Backends("the source is not SQLite"));
        }
        let mut tx = self.write.begin().await?;
        check_empty(&mut tx, replace).await?;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
               AND table_name <> '_sqlx_migrations'
             ORDER BY table_name",
        )
        .fetch_all(&mut *tx)
        .await?;
        let references: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT CAST(tc.table_name AS TEXT), CAST(ccu.table_name AS TEXT)
             FROM information_schema.table_constraints tc
             JOIN information_schema.constraint_column_usage ccu
               ON ccu.constraint_name = tc.constraint_name AND ccu.constraint_schema = tc.constraint_schema
             WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()",
        )
        .fetch_all(&mut *tx)
        .await?;
        let order = foreign_key_order(&tables, &references);
        let all = tables
            .iter()
            .map(|t| quoted(t))
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query(&format!("TRUNCATE {all} RESTART IDENTITY CASCADE"))
            .execute(&mut *tx)
            .await?;
        for table in &tables {
            sqlx::query(&format!(
                "ALTER TABLE {} DISABLE TRIGGER USER",
                quoted(table)
            ))
            .execute(&mut *tx)
            .await?;
        }
        let mut copied = Vec::new();
        for table in order.iter().filter(|t| !NOT_COPIED.contains(&t.as_str())) {
            let rows = copy_table(&mut tx, source, table).await?;
            tracing::info!(table, rows, "table copied");
            copied.push(CopiedTable {
                table: table.clone(),
                rows,
            });
        }
        for table in &tables {
            sqlx::query(&format!(
                "ALTER TABLE {} ENABLE TRIGGER USER",
                quoted(table)
            ))
            .execute(&mut *tx)
            .await?;
        }
        let identities: Vec<(String, String)> = sqlx::query_as(
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns
             WHERE table_schema = current_schema() AND is_identity = 'YES'",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (table, column) in identities {
            sqlx::query(&format!(
                "SELECT CAST(setval(pg_get_serial_sequence($1, $2), COALESCE(MAX({c}), 0) + 1, false) AS BIGINT)
                 FROM {t}",
                c = quoted(&column),
                t = quoted(&table)
            ))
            .bind(&table)
            .bind(&column)
            .fetch_one(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(copied)
    }
}

/// Refuses a target that holds users or artifacts already, unless `replace`.
async fn check_empty(conn: &mut sqlx::AnyConnection, replace: bool) -> Result<(), CopyError> {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *conn)
        .await?;
    let artifacts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM artifacts")
        .fetch_one(&mut *conn)
        .await?;
    if (users > 0 || artifacts > 0) && !replace {
        return Err(CopyError::NotEmpty { users, artifacts });
    }
    Ok(())
}

/// `tables` ordered so that every table comes after those it references (`references`: `(table, referenced)`).
/// A cycle, which the schema does not have, is broken by name order.
fn foreign_key_order(tables: &[String], references: &[(String, String)]) -> Vec<String> {
    let mut needs: BTreeMap<&str, BTreeSet<&str>> = tables
        .iter()
        .map(|t| (t.as_str(), BTreeSet::new()))
        .collect();
    for (table, referenced) in references {
        if table != referenced
            && needs.contains_key(referenced.as_str())
            && let Some(set) = needs.get_mut(table.as_str())
        {
            set.insert(referenced.as_str());
        }
    }
    let mut order = Vec::new();
    while !needs.is_empty() {
        let ready: Vec<&str> = needs
            .iter()
            .filter(|(_, needed)| needed.is_empty())
            .map(|(t, _)| *t)
            .collect();
        let next = if ready.is_empty() {
            needs.keys().take(1).copied().collect()
        } else {
            ready
        };
        for table in next {
            needs.remove(table);
            for needed in needs.values_mut() {
                needed.remove(table);
            }
            order.push(table.to_owned());
        }
    }
    order
}

/// Copies every row of `table` from `source` into the transaction's database; returns how many.
async fn copy_table(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    source: &Db,
    table: &str,
) -> Result<u64, CopyError> {
    let target_columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut **tx)
    .await?;
    let source_columns: BTreeSet<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
            .bind(table)
            .fetch_all(&source.read)
            .await?
            .into_iter()
            .collect();
    let columns: Vec<(String, Kind)> = target_columns
        .into_iter()
        .filter(|(name, _)| source_columns.contains(name))
        .map(|(name, data_type)| (name, Kind::of(&data_type)))
        .collect();
    if columns.is_empty() {
        return Ok(0);
    }
    let names = columns
        .iter()
        .map(|(name, _)| quoted(name))
        .collect::<Vec<_>>()
        .join(", ");
    let select = format!("SELECT {names} FROM {}", quoted(table));
    let mut rows = sqlx::query(&select).fetch(&source.read);
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(BATCH_ROWS);
    let mut copied = 0u64;
    while let Some(row) = rows.try_next().await? {
        let mut values = Vec::with_capacity(columns.len());
        for (i, (name, kind)) in columns.iter().enumerate() {
            values.push(kind.read(&row, i).map_err(|problem| CopyError::Value {
                table: table.to_owned(),
                column: name.clone(),
                problem,
            })?);
        }
        batch.push(values);
        if batch.len() == BATCH_ROWS {
            copied += insert_batch(tx, table, &names, &columns, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        copied += insert_batch(tx, table, &names, &columns, batch).await?;
    }
    Ok(copied)
}

async fn insert_batch(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    table: &str,
    names: &str,
    columns: &[(String, Kind)],
    batch: Vec<Vec<Value>>,
) -> Result<u64, CopyError> {
    let mut n = 0;
    let rows: Vec<String> = batch
        .iter()
        .map(|_| {
            let placeholders: Vec<String> = columns
                .iter()
                .map(|(_, kind)| {
                    n += 1;
                    kind.placeholder(n)
                })
                .collect();
            format!("({})", placeholders.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO {} ({names}) VALUES {}",
        quoted(table),
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for row in batch {
        for value in row {
            query = match value {
                Value::Int(v) => query.bind(v),
                Value::Bool(v) => query.bind(v),
                Value::Text(v) | Value::Float(v) => query.bind(v),
                Value::Bytes(v) => query.bind(v),
            };
        }
    }
    Ok(query.execute(&mut **tx).await?.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_come_after_those_they_reference() {
        let tables: Vec<String> = ["artifacts", "projects", "repositories", "tags", "users"]
            .map(String::from)
            .to_vec();
        let references = [
            ("artifacts", "repositories"),
            ("repositories", "projects"),
            ("tags", "artifacts"),
            ("tags", "repositories"),
            ("tags", "tags"),
            ("projects", "elsewhere"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()));
        let order = foreign_key_order(&tables, &references);
        let at = |t: &str| order.iter().position(|o| o == t).unwrap_or(usize::MAX);
        assert_eq!(order.len(), 5);
        assert!(at("projects") < at("repositories"));
        assert!(at("repositories") < at("artifacts"));
        assert!(at("artifacts") < at("tags"));
        assert!(order.contains(&"users".to_owned()));
    }
}
