//! The queries behind the database gauges of `/metrics` (see [`crate::metrics::database`]). Each is one
//! aggregate over an indexed or small table, run at most once per scrape cache period.

use super::Db;

/// Jobs of one kind in one state.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueDepth {
    pub kind: String,
    pub state: String,
    pub count: i64,
}

/// One connection pool of this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// `read` or `write` (one pool serves both on PostgreSQL, reported as `write`).
    pub pool: &'static str,
    pub size: i64,
    pub idle: i64,
}

impl Db {
    /// Jobs pending or running, by kind and state.
    pub async fn job_queue_depths(&self) -> Result<Vec<QueueDepth>, sqlx::Error> {
        sqlx::query_as(
            "SELECT kind, state, COUNT(*) AS count FROM jobs
             WHERE state IN ('pending', 'running') GROUP BY kind, state",
        )
        .fetch_all(&self.read)
        .await
    }

    /// Upload sessions open.
    pub async fn upload_session_count(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM upload_sessions")
            .fetch_one(&self.read)
            .await
    }

    /// Up to `limit` projects' `(name, storage used, storage limit)`, the most used first.
    pub async fn project_storage(
        &self,
        limit: i64,
    ) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT name, storage_used, storage_limit FROM projects
             ORDER BY storage_used DESC, name LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }

    /// The connection pools' size and idle connections (no query).
    pub fn pool_use(&self) -> Vec<PoolUse> {
        let of = |pool: &'static str, p: &sqlx::AnyPool| PoolUse {
            pool,
            size: i64::from(p.size()),
            idle: i64::try_from(p.num_idle()).unwrap_or(i64::MAX),
        };
        if self.backend == super::Backend::Postgres {
            vec![of("write", &self.write)]
        } else {
            vec![of("read", &self.read), of("write", &self.write)]
        }
    }
}
