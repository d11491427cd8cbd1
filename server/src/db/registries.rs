//! Registry endpoints (`registries`): the upstreams of proxy-cache projects. The access secret is stored
//! sealed (see [`crate::crypto`]); this layer only moves its bytes.

use std::sync::LazyLock;

use super::Db;
use super::list::{self, Column, Field, Kind, ListQuery, ListSql};

/// A stored endpoint, its secret still sealed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RegistryRow {
    pub id: i64,
    pub name: String,
    /// Harbor's type name (`docker-hub`, …).
    pub kind: String,
    pub url: String,
    pub description: String,
    #[sqlx(try_from = "super::Flag")]
    pub insecure: bool,
    /// `basic`, or `None` for anonymous access.
    pub credential_type: Option<String>,
    pub access_key: Option<String>,
    /// Sealed by [`crate::crypto::SecretBox`].
    pub access_secret: Option<Vec<u8>>,
    /// `healthy`, `unhealthy` or `unknown`.
    pub status: String,
    /// The upstream's `ratelimit-remaining` at the last check.
    pub ratelimit: Option<String>,
    pub checked_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// An endpoint to store (created or replacing an existing one's settings).
#[derive(Debug, Clone)]
pub struct NewRegistry<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub url: &'a str,
    pub description: &'a str,
    pub insecure: bool,
    /// `(access key, sealed secret)`; `None` for anonymous access.
    pub credential: Option<(&'a str, &'a [u8])>,
}

/// What deleting an endpoint did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteRegistry {
    Deleted,
    NotFound,
    /// Refused: these projects (names) are its proxy caches.
    InUse(Vec<String>),
}

const SELECT: &str =
    "SELECT id, name, type AS kind, url, description, insecure, credential_type, access_key,
    access_secret, status, ratelimit, checked_at, created_at, updated_at FROM registries";

/// `GET /registries` keys.
pub static REGISTRIES: LazyLock<Vec<Field>> = LazyLock::new(|| {
    let field = |key, column: &str, kind| Field {
        key,
        column: Column::Expr(column.to_owned()),
        kind,
    };
    vec![
        field("id", "id", Kind::Integer),
        field("name", "name", Kind::Text),
        field("type", "type", Kind::Text),
        field("url", "url", Kind::Text),
        field("description", "description", Kind::Text),
        field("status", "status", Kind::Text),
        field("creation_time", "created_at", Kind::Time),
        field("update_time", "updated_at", Kind::Time),
    ]
});

impl Db {
    /// Stores a new endpoint; returns its id. A taken name is a unique violation.
    pub async fn create_registry(&self, registry: &NewRegistry<'_>) -> Result<i64, sqlx::Error> {
        let (key, secret) = registry.credential.unzip();
        sqlx::query_scalar(
            "INSERT INTO registries (name, type, url, description, insecure, credential_type, access_key,
                access_secret, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(registry.name)
        .bind(registry.kind)
        .bind(registry.url)
        .bind(registry.description)
        .bind(registry.insecure)
        .bind(key.map(|_| "basic"))
        .bind(key)
        .bind(secret)
        .bind(super::now())
        .fetch_one(&self.write)
        .await
    }

    /// Endpoint `id`.
    pub async fn registry(&self, id: i64) -> Result<Option<RegistryRow>, sqlx::Error> {
        sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    /// One page of the endpoints matching `query` (keys of [`REGISTRIES`]), by name unless sorted, and how
    /// many match in all.
    pub async fn list_registries(
        &self,
        query: &ListQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<RegistryRow>, i64), sqlx::Error> {
        let sql = ListSql {
            select: SELECT,
            count: "SELECT COUNT(*) FROM registries",
            default_order: "name",
            tie_breaker: "id",
            key_first: None,
        };
        list::fetch_page(&self.read, &sql, &[], query, limit, offset).await
    }

    /// Replaces the settings of endpoint `id`; its health is unknown again. `false` if there is no such
    /// endpoint. A taken name is a unique violation.
    pub async fn update_registry(
        &self,
        id: i64,
        registry: &NewRegistry<'_>,
    ) -> Result<bool, sqlx::Error> {
        let (key, secret) = registry.credential.unzip();
        let updated = sqlx::query(
            "UPDATE registries SET name = $1, type = $2, url = $3, description = $4, insecure = $5,
                credential_type = $6, access_key = $7, access_secret = $8, updated_at = $9,
                status = 'unknown', ratelimit = NULL, checked_at = NULL
             WHERE id = $10",
        )
        .bind(registry.name)
        .bind(registry.kind)
        .bind(registry.url)
        .bind(registry.description)
        .bind(registry.insecure)
        .bind(key.map(|_| "basic"))
        .bind(key)
        .bind(secret)
        .bind(super::now())
        .bind(id)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(updated > 0)
    }

    /// Deletes endpoint `id` unless a project uses it, in one transaction.
    pub async fn delete_registry(&self, id: i64) -> Result<DeleteRegistry, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let users: Vec<String> =
            sqlx::query_scalar("SELECT name FROM projects WHERE registry_id = $1 ORDER BY name")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        if !users.is_empty() {
            return Ok(DeleteRegistry::InUse(users));
        }
        let deleted = sqlx::query("DELETE FROM registries WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(if deleted > 0 {
            DeleteRegistry::Deleted
        } else {
            DeleteRegistry::NotFound
        })
    }

    /// Records the result of a health check of endpoint `id`.
    pub async fn record_registry_health(
        &self,
        id: i64,
        healthy: bool,
        ratelimit: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE registries SET status = $1, ratelimit = $2, checked_at = $3 WHERE id = $4",
        )
        .bind(if healthy { "healthy" } else { "unhealthy" })
        .bind(ratelimit)
        .bind(super::now())
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(())
    }
}
