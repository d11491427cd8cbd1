//! Scanner registrations (`scanner_registrations`) and each project's chosen scanner (`project_scanners`).
//! The access credential is stored sealed (see [`crate::crypto`]); this layer only moves its bytes.
//!
//! At most one registration is the default (a partial unique index); [`Db::set_default_scanner`] switches in
//! one transaction. The built-in registration ([`BUILT_IN_UUID`]) is inserted by [`Db::ensure_built_in_scanner`]
//! at start-up, idempotently.

use std::sync::LazyLock;

use berth_api::scanners::{BUILT_IN_NAME, BUILT_IN_URL};

use super::Db;
use super::list::{self, Column, Field, Kind, ListQuery, ListSql};

/// The fixed uuid of the built-in "Berth" registration, the same on every node and installation.
pub const BUILT_IN_UUID: &str = "00000000-0000-4000-8000-0000be47c0de";

/// A stored registration, its credential still sealed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScannerRow {
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub url: String,
    #[sqlx(try_from = "super::Flag")]
    pub disabled: bool,
    #[sqlx(try_from = "super::Flag")]
    pub is_default: bool,
    #[sqlx(try_from = "super::Flag")]
    pub immutable: bool,
    /// `""`, `Basic`, `Bearer` or `X-ScannerAdapter-API-Key`.
    pub auth: String,
    /// Sealed by [`crate::crypto::SecretBox`].
    pub access_credential: Option<Vec<u8>>,
    #[sqlx(try_from = "super::Flag")]
    pub skip_cert_verify: bool,
    #[sqlx(try_from = "super::Flag")]
    pub use_internal_addr: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A registration's settings to store (created, or replacing an existing one's).
#[derive(Debug, Clone)]
pub struct NewScanner<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub url: &'a str,
    pub disabled: bool,
    pub auth: &'a str,
    /// Sealed; `None` without authentication.
    pub access_credential: Option<&'a [u8]>,
    pub skip_cert_verify: bool,
    pub use_internal_addr: bool,
}

/// What [`Db::set_default_scanner`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetDefault {
    Done,
    NotFound,
    /// A disabled registration cannot be the default.
    Disabled,
}

/// What [`Db::delete_scanner`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteScanner {
    /// Deleted; this was the row.
    Deleted(Box<ScannerRow>),
    NotFound,
    /// The built-in registration is never deleted.
    Immutable,
}

const SELECT: &str =
    "SELECT uuid, name, description, url, disabled, is_default, immutable, auth, access_credential,
    skip_cert_verify, use_internal_addr, created_at, updated_at FROM scanner_registrations";

/// `GET /scanners` keys.
pub static SCANNERS: LazyLock<Vec<Field>> = LazyLock::new(|| {
    let field = |key, column: &str, kind| Field {
        key,
        column: Column::Expr(column.to_owned()),
        kind,
    };
    vec![
        field("uuid", "uuid", Kind::Text),
        field("name", "name", Kind::Text),
        field("description", "description", Kind::Text),
        field("url", "url", Kind::Text),
        field("disabled", "disabled", Kind::Bool),
        field("is_default", "is_default", Kind::Bool),
        field("auth", "auth", Kind::Text),
        field("creation_time", "created_at", Kind::Time),
        field("update_time", "updated_at", Kind::Time),
    ]
});

impl Db {
    /// Inserts the built-in registration unless it exists; it becomes the default when no other is. Safe to
    /// run on several nodes at once: the insert does nothing on a taken uuid (or name or URL), and the
    /// default index lets only one default in.
    pub async fn ensure_built_in_scanner(&self) -> Result<(), sqlx::Error> {
        let now = super::now();
        sqlx::query(
            "INSERT INTO scanner_registrations (uuid, name, description, url, disabled, is_default, immutable,
                auth, skip_cert_verify, use_internal_addr, created_at, updated_at)
             SELECT $1, $2, $3, $4, FALSE,
                    CASE WHEN EXISTS (SELECT 1 FROM scanner_registrations WHERE is_default = TRUE) THEN FALSE ELSE TRUE END,
                    TRUE, '', FALSE, FALSE, $5, $5
             WHERE 1 = 1
             ON CONFLICT DO NOTHING",
        )
        .bind(BUILT_IN_UUID)
        .bind(BUILT_IN_NAME)
        .bind("Berth's built-in scanner: OS and language packages matched against the local vulnerability database")
        .bind(BUILT_IN_URL)
        .bind(&now)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Stores a new registration with `uuid`; it is the default if it is the first one. A taken name or URL
    /// is a unique violation.
    pub async fn create_scanner(
        &self,
        uuid: &str,
        scanner: &NewScanner<'_>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO scanner_registrations (uuid, name, description, url, disabled, is_default, immutable,
                auth, access_credential, skip_cert_verify, use_internal_addr, created_at, updated_at)
             SELECT $1, $2, $3, $4, $5,
                    CASE WHEN EXISTS (SELECT 1 FROM scanner_registrations) THEN FALSE ELSE TRUE END,
                    FALSE, $6, $7, $8, $9, $10, $10",
        )
        .bind(uuid)
        .bind(scanner.name)
        .bind(scanner.description)
        .bind(scanner.url)
        .bind(scanner.disabled)
        .bind(scanner.auth)
        .bind(scanner.access_credential)
        .bind(scanner.skip_cert_verify)
        .bind(scanner.use_internal_addr)
        .bind(super::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Registration `uuid`.
    pub async fn scanner(&self, uuid: &str) -> Result<Option<ScannerRow>, sqlx::Error> {
        sqlx::query_as(&format!("{SELECT} WHERE uuid = $1"))
            .bind(uuid)
            .fetch_optional(&self.read)
            .await
    }

    /// The default registration, if there is one.
    pub async fn default_scanner(&self) -> Result<Option<ScannerRow>, sqlx::Error> {
        sqlx::query_as(&format!("{SELECT} WHERE is_default = TRUE"))
            .fetch_optional(&self.read)
            .await
    }

    /// One page of the registrations matching `query` (keys of [`SCANNERS`]): the default first, then the
    /// newest (Harbor's order) unless sorted; and how many match in all.
    pub async fn list_scanners(
        &self,
        query: &ListQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ScannerRow>, i64), sqlx::Error> {
        let sql = ListSql {
            select: SELECT,
            count: "SELECT COUNT(*) FROM scanner_registrations",
            default_order: "is_default DESC, created_at DESC",
            tie_breaker: "uuid",
            key_first: None,
        };
        list::fetch_page(&self.read, &sql, &[], query, limit, offset).await
    }

    /// Replaces the settings of registration `uuid` unless it is immutable. `Ok(false)` if there is no such
    /// mutable registration. A taken name or URL is a unique violation.
    pub async fn update_scanner(
        &self,
        uuid: &str,
        scanner: &NewScanner<'_>,
    ) -> Result<bool, sqlx::Error> {
        let updated = sqlx::query(
            "UPDATE scanner_registrations SET name = $1, description = $2, url = $3, disabled = $4, auth = $5,
                access_credential = $6, skip_cert_verify = $7, use_internal_addr = $8, updated_at = $9
             WHERE uuid = $10 AND immutable = FALSE",
        )
        .bind(scanner.name)
        .bind(scanner.description)
        .bind(scanner.url)
        .bind(scanner.disabled)
        .bind(scanner.auth)
        .bind(scanner.access_credential)
        .bind(scanner.skip_cert_verify)
        .bind(scanner.use_internal_addr)
        .bind(super::now())
        .bind(uuid)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(updated > 0)
    }

    /// Makes registration `uuid` the only default, in one transaction (nothing changes unless it can be).
    pub async fn set_default_scanner(&self, uuid: &str) -> Result<SetDefault, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let disabled: Option<bool> = sqlx::query_scalar::<_, super::Flag>(
            "SELECT disabled FROM scanner_registrations WHERE uuid = $1",
        )
        .bind(uuid)
        .fetch_optional(&mut *tx)
        .await?
        .map(bool::from);
        match disabled {
            None => return Ok(SetDefault::NotFound),
            Some(true) => return Ok(SetDefault::Disabled),
            Some(false) => {}
        }
        let now = super::now();
        sqlx::query(
            "UPDATE scanner_registrations SET is_default = FALSE, updated_at = $1 WHERE is_default = TRUE AND uuid <> $2",
        )
        .bind(&now)
        .bind(uuid)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE scanner_registrations SET is_default = TRUE, updated_at = $1 WHERE uuid = $2 AND is_default = FALSE",
        )
        .bind(&now)
        .bind(uuid)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SetDefault::Done)
    }

    /// Deletes registration `uuid` unless it is immutable, with the projects' choices of it and its reports.
    /// If it was the default, the built-in registration becomes the default again, so there always is one.
    pub async fn delete_scanner(&self, uuid: &str) -> Result<DeleteScanner, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let row: Option<ScannerRow> = sqlx::query_as(&format!("{SELECT} WHERE uuid = $1"))
            .bind(uuid)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(DeleteScanner::NotFound);
        };
        if row.immutable {
            return Ok(DeleteScanner::Immutable);
        }
        sqlx::query("DELETE FROM scanner_registrations WHERE uuid = $1")
            .bind(uuid)
            .execute(&mut *tx)
            .await?;
        if row.is_default {
            sqlx::query(
                "UPDATE scanner_registrations SET is_default = TRUE, disabled = FALSE, updated_at = $1 WHERE uuid = $2",
            )
            .bind(super::now())
            .bind(BUILT_IN_UUID)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(DeleteScanner::Deleted(Box::new(row)))
    }

    /// The registration project `project_id` chose, if it chose one (else it uses the default).
    pub async fn project_scanner(
        &self,
        project_id: i64,
    ) -> Result<Option<ScannerRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{SELECT} WHERE uuid = (SELECT registration_uuid FROM project_scanners WHERE project_id = $1)"
        ))
        .bind(project_id)
        .fetch_optional(&self.read)
        .await
    }

    /// Makes registration `uuid` project `project_id`'s scanner. `Ok(false)` if there is no such registration.
    pub async fn set_project_scanner(
        &self,
        project_id: i64,
        uuid: &str,
    ) -> Result<bool, sqlx::Error> {
        let inserted = sqlx::query(
            "INSERT INTO project_scanners (project_id, registration_uuid)
             SELECT $1, uuid FROM scanner_registrations WHERE uuid = $2
             ON CONFLICT (project_id) DO UPDATE SET registration_uuid = excluded.registration_uuid",
        )
        .bind(project_id)
        .bind(uuid)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(inserted > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db() -> Result<(tempfile::TempDir, Db), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(&format!("sqlite://{}", dir.path().join("b.db").display())).await?;
        Ok((dir, db))
    }

    fn scanner<'a>(name: &'a str, url: &'a str) -> NewScanner<'a> {
        NewScanner {
            name,
            description: "",
            url,
            disabled: false,
            auth: "",
            access_credential: None,
            skip_cert_verify: false,
            use_internal_addr: false,
        }
    }

    #[tokio::test]
    async fn the_built_in_registration_is_there_once_and_default()
    -> Result<(), Box<dyn std::error::Error>> {
        let (_dir, db) = db().await?;
        db.ensure_built_in_scanner().await?;
        db.ensure_built_in_scanner().await?;
        let (rows, total) = db.list_scanners(&ListQuery::default(), 10, 0).await?;
        assert_eq!(total, 1);
        assert_eq!(rows[0].uuid, BUILT_IN_UUID);
        assert!(rows[0].is_default && rows[0].immutable);
        Ok(())
    }

    #[tokio::test]
    async fn one_default_at_a_time_and_the_built_in_takes_over_a_deleted_default()
    -> Result<(), Box<dyn std::error::Error>> {
        let (_dir, db) = db().await?;
        db.create_scanner("u1", &scanner("one", "http://one"))
            .await?;
        assert!(!db.scanner("u1").await?.ok_or("missing")?.is_default);
        assert_eq!(db.set_default_scanner("u1").await?, SetDefault::Done);
        assert_eq!(db.default_scanner().await?.ok_or("missing")?.uuid, "u1");
        let built_in = db.scanner(BUILT_IN_UUID).await?.ok_or("missing")?;
        assert!(!built_in.is_default);
        assert_eq!(db.set_default_scanner("nope").await?, SetDefault::NotFound);
        let taken = db.create_scanner("u2", &scanner("one", "http://two")).await;
        assert!(taken.is_err_and(|e| super::super::is_unique_violation(&e)));
        let taken = db.create_scanner("u2", &scanner("two", "http://one")).await;
        assert!(taken.is_err_and(|e| super::super::is_unique_violation(&e)));
        assert_eq!(
            db.delete_scanner(BUILT_IN_UUID).await?,
            DeleteScanner::Immutable
        );
        assert!(matches!(
            db.delete_scanner("u1").await?,
            DeleteScanner::Deleted(_)
        ));
        assert_eq!(
            db.default_scanner().await?.ok_or("missing")?.uuid,
            BUILT_IN_UUID
        );
        Ok(())
    }

    #[tokio::test]
    async fn the_built_in_registration_is_not_updated() -> Result<(), Box<dyn std::error::Error>> {
        let (_dir, db) = db().await?;
        assert!(
            !db.update_scanner(BUILT_IN_UUID, &scanner("x", "http://x"))
                .await?
        );
        assert_eq!(
            db.scanner(BUILT_IN_UUID).await?.ok_or("missing")?.name,
            "Berth"
        );
        Ok(())
    }
}
