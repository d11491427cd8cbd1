//! The data layer: every SQL query Berth runs lives under this module, and nothing here calls a service.
//!
//! SQLite runs in WAL mode with foreign keys on. Writes go through a pool of one connection, so writers queue
//! in-process instead of failing with "database is locked"; reads use a separate read-only pool. The write-ahead
//! log grows while a long read holds an old snapshot; once a checkpoint catches up, it is cut back to
//! [`WAL_SIZE_LIMIT`] instead of keeping its largest size on disk for good.
//! Queries use `$N` placeholders, which SQLite and PostgreSQL both accept.

mod access;
mod adapter_scans;
mod artifact_rows;
mod artifacts;
mod audit;
mod blobs;
mod cache;
mod configurations;
mod cve_allowlists;
mod cve_exports;
pub mod gc;
mod immutable;
pub mod jobs;
mod keys;
pub mod list;
mod members;
mod oidc_users;
mod projects;
mod pulls;
mod quota;
mod registries;
mod repositories;
pub mod retention;
mod robots;
mod scan_all;
mod scan_reports;
mod scanners;
mod security_hub;
mod text_search;
mod uploads;
mod usergroups;
mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use cache::ReadCache;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use access::UserStanding;
pub use adapter_scans::AdapterScanRow;
pub use artifact_rows::{ArtifactRow, TagRow};
pub use artifacts::{
    CopyArtifact, CopyError, DeleteArtifact, Manifest, NewArtifact, PutManifestError, Referrer,
};
pub use audit::{AuditEntry, NewAuditEntry};
pub use blobs::{LinkedBlob, PendingLink};
pub use configurations::{ConfigChange, ConfigRow, SaveConfig};
pub use cve_allowlists::{CveAllowlistRow, NewCveAllowlist};
pub use cve_exports::{CveExportRow, ExportArtifact, NewCveExport};
pub use immutable::{GuardedError, ImmutableRuleRow, NewImmutableRule, SaveRuleError};
pub use members::Member;
pub use oidc_users::{NewOidcUser, OidcUserRow};
pub use projects::{NewProject, Project, ProjectCounts, ProjectDetail, ProjectUsage};
pub use pulls::PullBatch;
pub use quota::{ChargeError, Drift, Quota, QuotaExceeded};
pub use registries::{DeleteRegistry, NewRegistry, REGISTRIES, RegistryRow};
pub use repositories::{RepositoryRef, RepositoryRow, SearchRepositoryRow};
pub use robots::{NewRobot, RobotRow};
pub use scan_all::{ArtifactHome, ScanAllArtifact};
pub use scan_reports::{NewScanReport, ReportCve, ScanReportRow};
pub use scanners::{BUILT_IN_UUID, DeleteScanner, NewScanner, SCANNERS, ScannerRow, SetDefault};
pub use security_hub::{
    DangerousArtifactRow, DangerousCveRow, SeverityCounts, VulnerabilityFilter, VulnerabilityRow,
};
pub use uploads::UploadSession;
pub use usergroups::{NewUserGroup, UserGroupFilter, UserGroupRow};
pub use users::{NewUser, User, UserDetail};

/// How long cached rows may be served without re-reading the database.
const CACHE_TTL: Duration = Duration::from_secs(5);

/// Handle to the metadata database.
#[derive(Clone, Debug)]
pub struct Db {
    write: SqlitePool,
    read: SqlitePool,
    projects: Arc<ReadCache<String, Project>>,
    tagged_manifests: Arc<ReadCache<(String, String), Manifest>>,
    /// Users' standing in a project, by `(username, project id)`, read on every `/v2` request with a bearer
    /// token ([`Db::user_standing`]). Every write to users, project members or group memberships forgets
    /// all of it ([`Db::forget_standings`]).
    standings: Arc<ReadCache<(String, i64), Option<access::UserStanding>>>,
    /// Immutable tag rules, compiled (see [`crate::immutable`]).
    immutable_rules: Arc<crate::immutable::RuleCache>,
    /// Projects' metadata settings by project id, for the pull and push paths (prevent vulnerable images,
    /// scan on push); forgotten by every write of a project's settings.
    project_settings: Arc<ReadCache<i64, projects::Settings>>,
}

/// Whether an error is a unique-constraint violation (a duplicate name, for example).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// The size the write-ahead log is cut back to after a checkpoint has caught up (SQLite's
/// `journal_size_limit`; without it the file keeps the largest size it ever reached).
pub const WAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

impl Db {
    /// Opens (creating if needed) the database at `url` and applies the migrations.
    pub async fn open(url: &str) -> Result<Db, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string());
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("../migrations/sqlite").run(&write).await?;
        let readers = std::thread::available_parallelism()
            .map_or(4, |n| n.get() * 2)
            .max(4);
        let read = SqlitePoolOptions::new()
            .max_connections(readers as u32)
            .connect_with(options.read_only(true))
            .await?;
        let db = Db {
            write,
            read,
            projects: Arc::new(ReadCache::new(CACHE_TTL, 1024)),
            tagged_manifests: Arc::new(ReadCache::new(CACHE_TTL, 4096)),
            standings: Arc::new(ReadCache::new(CACHE_TTL, 4096)),
            project_settings: Arc::new(ReadCache::new(CACHE_TTL, 1024)),
            immutable_rules: Arc::default(),
        };
        db.ensure_built_in_scanner().await?;
        Ok(db)
    }

    /// The write pool, for the browser-session store (`tower-sessions-sqlx-store`), which runs its own SQL
    /// against its own `tower_sessions` table. This is the one exception to "all SQL lives here": the store is
    /// a library, and sharing the single writer keeps its writes queued with everyone else's.
    pub fn session_pool(&self) -> SqlitePool {
        self.write.clone()
    }

    /// Closes both pools, waiting for running queries.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// Timestamps are stored as fixed-width RFC 3339 UTC text, so they compare correctly as strings.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn now() -> String {
    timestamp(chrono::Utc::now())
}

impl Db {
    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod wal_tests {
    use super::*;

    /// A long read lets the log grow past the limit; after it ends and writing goes on, the file is cut back.
    #[tokio::test]
    async fn the_write_ahead_log_is_cut_back_after_a_long_read()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("berth.db");
        let db = Db::open(&format!("sqlite://{}", path.display())).await?;
        let wal = || std::fs::metadata(dir.path().join("berth.db-wal")).map_or(0, |m| m.len());
        sqlx::query("CREATE TABLE filler (data BLOB)")
            .execute(&db.write)
            .await?;
        let mut reader = db.read.begin().await?;
        sqlx::query("SELECT count(*) FROM filler")
            .fetch_one(&mut *reader)
            .await?;
        let chunk = vec![7u8; 1024 * 1024];
        for _ in 0..(WAL_SIZE_LIMIT / (1024 * 1024) + 16) {
            sqlx::query("INSERT INTO filler (data) VALUES ($1)")
                .bind(&chunk)
                .execute(&db.write)
                .await?;
        }
        assert!(
            wal() > WAL_SIZE_LIMIT,
            "the long read kept the log growing: {}",
            wal()
        );
        reader.rollback().await?;
        for _ in 0..8 {
            sqlx::query("DELETE FROM filler WHERE rowid IN (SELECT rowid FROM filler LIMIT 4)")
                .execute(&db.write)
                .await?;
        }
        assert!(wal() <= WAL_SIZE_LIMIT, "the log was cut back: {}", wal());
        Ok(())
    }
}
