//! The data layer: every SQL query Berth runs lives under this module, and nothing here calls a service.
//!
//! SQLite runs in WAL mode with foreign keys on. Writes go through a pool of one connection, so writers queue
//! in-process instead of failing with "database is locked"; reads use a separate read-only pool.
//! Queries use `$N` placeholders, which SQLite and PostgreSQL both accept.

mod access;
mod artifact_rows;
mod artifacts;
mod audit;
mod blobs;
mod cache;
mod configurations;
mod cve_allowlists;
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
pub use artifact_rows::{ArtifactRow, TagRow};
pub use artifacts::{
    CopyArtifact, CopyError, DeleteArtifact, Manifest, NewArtifact, PutManifestError, Referrer,
};
pub use audit::{AuditEntry, NewAuditEntry};
pub use blobs::{LinkedBlob, PendingLink};
pub use configurations::{ConfigChange, ConfigRow, SaveConfig};
pub use cve_allowlists::{CveAllowlistRow, NewCveAllowlist};
pub use immutable::{GuardedError, ImmutableRuleRow, NewImmutableRule, SaveRuleError};
pub use members::Member;
pub use oidc_users::{NewOidcUser, OidcUserRow};
pub use projects::{NewProject, Project, ProjectCounts, ProjectDetail, ProjectUsage};
pub use pulls::PullBatch;
pub use quota::{ChargeError, Drift, Quota, QuotaExceeded};
pub use registries::{DeleteRegistry, NewRegistry, REGISTRIES, RegistryRow};
pub use repositories::{RepositoryRef, RepositoryRow, SearchRepositoryRow};
pub use robots::{NewRobot, RobotRow};
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
}

/// Whether an error is a unique-constraint violation (a duplicate name, for example).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

impl Db {
    /// Opens (creating if needed) the database at `url` and applies the migrations.
    pub async fn open(url: &str) -> Result<Db, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
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
        Ok(Db {
            write,
            read,
            projects: Arc::new(ReadCache::new(CACHE_TTL, 1024)),
            tagged_manifests: Arc::new(ReadCache::new(CACHE_TTL, 4096)),
            standings: Arc::new(ReadCache::new(CACHE_TTL, 4096)),
            immutable_rules: Arc::default(),
        })
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
