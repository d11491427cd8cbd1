//! The data layer: every SQL query Berth runs lives under this module, and nothing here calls a service.
//!
//! Two backends run the same code through sqlx's `Any` driver: SQLite (the default, one file under the data
//! directory) and PostgreSQL (`database_url = "postgres://…"`, for several nodes). Where their SQL must differ,
//! a query asks [`Db::backend`] and carries both texts side by side.
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
pub mod copy;
mod cve_allowlists;
mod cve_exports;
pub mod gc;
mod immutable;
pub mod jobs;
mod keys;
mod labels;
pub mod list;
mod members;
pub mod metrics;
mod oidc_users;
mod peers;
mod projects;
mod pulls;
mod quota;
mod registries;
pub mod replication;
mod repositories;
pub mod retention;
mod robots;
mod scan_all;
mod scan_reports;
mod scanners;
mod search;
mod security_hub;
mod sessions;
mod signin_failures;
mod sql_builder;
mod text_search;
mod uploads;
mod usergroups;
mod users;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use cache::ReadCache;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

pub use access::UserStanding;
pub use adapter_scans::AdapterScanRow;
pub use artifact_rows::{ArtifactRow, ArtifactScope, TagRow};
pub use artifacts::{
    CopyArtifact, CopyError, DeleteArtifact, Manifest, NewArtifact, PutManifestError, Referrer,
};
pub use audit::{AuditEntry, NewAuditEntry};
pub use blobs::{FromUpload, LinkedBlob, PendingLink};
pub use configurations::{ConfigChange, ConfigRow, SaveConfig};
pub use cve_allowlists::{CveAllowlistRow, NewCveAllowlist};
pub use cve_exports::{CveExportRow, ExportArtifact, NewCveExport};
pub use immutable::{GuardedError, ImmutableRuleRow, NewImmutableRule, SaveRuleError};
pub use labels::{AttachLabelError, LabelRow, LabelScope, NewLabel, SaveLabelError};
pub use members::Member;
pub use oidc_users::{NewOidcUser, OidcUserRow};
pub use projects::{
    NewProject, Project, ProjectCounts, ProjectDetail, ProjectUsage, setting, setting_on,
};
pub use pulls::PullBatch;
pub use quota::{ChargeError, Drift, Quota, QuotaExceeded};
pub use registries::{DeleteRegistry, NewRegistry, REGISTRIES, RegistryRow};
pub use repositories::{RepositoryRef, RepositoryRow, SearchRepositoryRow};
pub use robots::{NewRobot, RobotRow};
pub use scan_all::{ArtifactHome, ScanAllArtifact};
pub use scan_reports::{NewScanReport, ReportCve, ScanReportRow};
pub use scanners::{BUILT_IN_UUID, DeleteScanner, NewScanner, SCANNERS, ScannerRow, SetDefault};
pub use search::SearchArtifactRow;
pub use security_hub::{
    DangerousArtifactRow, DangerousCveRow, SeverityCounts, VulnerabilityFilter, VulnerabilityRow,
};
pub use uploads::UploadSession;
pub use uploads::{Lease, Reserve};
pub use usergroups::{NewUserGroup, UserGroupFilter, UserGroupRow};
pub use users::{NewUser, User, UserDetail};

/// How long cached rows may be served without re-reading the database.
const CACHE_TTL: Duration = Duration::from_secs(5);

/// Which database engine a [`Db`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a `database_url` names: `postgres://` or `postgresql://` selects PostgreSQL, `sqlite:`
    /// SQLite; anything else is refused.
    pub fn of_url(url: &str) -> Result<Backend, sqlx::Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else {
            Err(sqlx::Error::Configuration(
                "database_url must start with sqlite:// or postgres://".into(),
            ))
        }
    }

    /// The backend a pool was opened on.
    pub(crate) fn of_pool(pool: &AnyPool) -> Backend {
        match pool.connect_options().database_url.scheme() {
            "postgres" | "postgresql" => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }
}

/// How many connections a node keeps to PostgreSQL (every node has its own pool).
const POSTGRES_CONNECTIONS: u32 = 16;

/// Handle to the metadata database.
#[derive(Clone, Debug)]
pub struct Db {
    backend: Backend,
    write: AnyPool,
    read: AnyPool,
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
    /// Projects' enabled webhook policies by project id, consulted by every event
    /// ([`Db::active_webhook_policies`]); forgotten by every write of a project's policies.
    webhook_policies: Arc<ReadCache<i64, Arc<Vec<webhooks::ActiveWebhookPolicy>>>>,
    /// The enabled event-based replication policies whose source is Berth, consulted after every push and
    /// delete ([`Db::event_replication_policies`]); forgotten by every write of a replication policy.
    replication_triggers: Arc<ReadCache<(), Arc<Vec<replication::ReplicationPolicyRow>>>>,
}

/// A flag column as read back: SQLite stores flags as 0/1 integers and PostgreSQL as booleans, and sqlx's `Any`
/// driver hands over whichever the engine had, so rows decode flags through this type
/// (`#[sqlx(try_from = "Flag")]` on a `bool` field, or `.0` of a scalar). Binding a plain `bool` works on both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag(pub bool);

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0
    }
}

impl sqlx::Type<sqlx::Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <bool as sqlx::Type<sqlx::Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <bool as sqlx::Type<sqlx::Any>>::compatible(ty)
            || <i64 as sqlx::Type<sqlx::Any>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Flag, sqlx::error::BoxDynError> {
        use sqlx::Value as _;
        let value = sqlx::ValueRef::to_owned(&value);
        match value.try_decode::<bool>() {
            Ok(flag) => Ok(Flag(flag)),
            Err(_) => Ok(Flag(value.try_decode::<i64>()? != 0)),
        }
    }
}

/// Whether an error is PostgreSQL giving up a transaction that ran into another (a deadlock, or a
/// serialization failure): nothing of it was written, and running it again normally succeeds.
pub fn is_transient_conflict(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e)
        if matches!(e.code().as_deref(), Some("40P01") | Some("40001")))
}

/// How often a write that ran into another node's is tried in all.
const CONFLICT_ATTEMPTS: usize = 4;

/// Errors that may be a [transient conflict](is_transient_conflict).
trait TransientConflict {
    fn is_transient_conflict(&self) -> bool;
}

impl TransientConflict for sqlx::Error {
    fn is_transient_conflict(&self) -> bool {
        is_transient_conflict(self)
    }
}

/// Runs `write` (one transaction) again when PostgreSQL gave it up as a deadlock or a serialization failure,
/// up to [`CONFLICT_ATTEMPTS`] times in all, logging each retry as `what`. Writers lock their project's row
/// first, so such conflicts are rare; SQLite's single writer never has them.
async fn retrying_conflicts<T, E, Fut>(what: &str, mut write: impl FnMut() -> Fut) -> Result<T, E>
where
    Fut: std::future::Future<Output = Result<T, E>>,
    E: TransientConflict,
{
    let mut attempt = 1;
    loop {
        match write().await {
            Err(e) if e.is_transient_conflict() && attempt < CONFLICT_ATTEMPTS => {
                tracing::info!(attempt, "{what} ran into another write; trying again");
                attempt += 1;
            }
            done => return done,
        }
    }
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
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let (write, read) = match backend {
            Backend::Sqlite => open_sqlite(url).await?,
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(POSTGRES_CONNECTIONS)
                    .acquire_timeout(Duration::from_secs(60))
                    .connect(url)
                    .await?;
                sqlx::migrate!("../migrations/postgres").run(&pool).await?;
                (pool.clone(), pool)
            }
        };
        // On PostgreSQL other nodes share the database: each write tells them which cache it made stale.
        let outbox = (backend == Backend::Postgres).then(|| Arc::new(peers::Outbox::default()));
        let outbox = outbox.as_ref();
        let db = Db {
            backend,
            write,
            read,
            projects: Arc::new(
                ReadCache::new(CACHE_TTL, 1024).announced(outbox, peers::CacheName::Projects),
            ),
            tagged_manifests: Arc::new(
                ReadCache::new(CACHE_TTL, 4096)
                    .announced(outbox, peers::CacheName::TaggedManifests),
            ),
            standings: Arc::new(
                ReadCache::new(CACHE_TTL, 4096).announced(outbox, peers::CacheName::Standings),
            ),
            project_settings: Arc::new(
                ReadCache::new(CACHE_TTL, 1024)
                    .announced(outbox, peers::CacheName::ProjectSettings),
            ),
            webhook_policies: Arc::new(
                ReadCache::new(CACHE_TTL, 1024)
                    .announced(outbox, peers::CacheName::WebhookPolicies),
            ),
            replication_triggers: Arc::new(
                ReadCache::new(CACHE_TTL, 1)
                    .announced(outbox, peers::CacheName::ReplicationTriggers),
            ),
            immutable_rules: Arc::default(),
        };
        if let Some(outbox) = outbox {
            db.keep_peers_informed(url, outbox);
        }
        db.ensure_built_in_scanner().await?;
        Ok(db)
    }

    /// The write pool, for integration tests that age rows with raw SQL; Berth's own code never uses it.
    #[doc(hidden)]
    pub fn raw_write_pool(&self) -> AnyPool {
        self.write.clone()
    }

    /// Starts this node's two cache-invalidation tasks (see [`peers`]); both end with the database handle.
    fn keep_peers_informed(&self, url: &str, outbox: &Arc<peers::Outbox>) {
        tokio::spawn(peers::send(Arc::downgrade(outbox), self.write.clone()));
        let pool = self.write.clone();
        let projects = Arc::downgrade(&self.projects);
        let alive = move || !pool.is_closed() && projects.strong_count() > 0;
        let caches = (
            Arc::downgrade(&self.projects),
            Arc::downgrade(&self.tagged_manifests),
            Arc::downgrade(&self.standings),
            Arc::downgrade(&self.project_settings),
            Arc::downgrade(&self.webhook_policies),
            Arc::downgrade(&self.replication_triggers),
        );
        let clear = move |cache: peers::CacheName| {
            match cache {
                peers::CacheName::Projects => caches.0.upgrade().map(|c| c.clear()),
                peers::CacheName::TaggedManifests => caches.1.upgrade().map(|c| c.clear()),
                peers::CacheName::Standings => caches.2.upgrade().map(|c| c.clear()),
                peers::CacheName::ProjectSettings => caches.3.upgrade().map(|c| c.clear()),
                peers::CacheName::WebhookPolicies => caches.4.upgrade().map(|c| c.clear()),
                peers::CacheName::ReplicationTriggers => caches.5.upgrade().map(|c| c.clear()),
            }
            .unwrap_or(())
        };
        tokio::spawn(peers::listen(url.to_owned(), alive, clear));
    }

    /// The engine this database runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes both pools, waiting for running queries.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// The writer connection's settings: WAL, foreign keys, a 30 s wait for the file lock, and the log cut back to
/// [`WAL_SIZE_LIMIT`] (checked by a test).
const SQLITE_WRITER_SETTINGS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
    PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000; PRAGMA journal_size_limit = 67108864;";
const SQLITE_READER_SETTINGS: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000;";

/// SQLite's pools: one writer, so writers queue in-process instead of failing with "database is locked", and
/// read-only readers. `Any` takes only the URL, so the file's settings are applied per connection.
async fn open_sqlite(url: &str) -> Result<(AnyPool, AnyPool), sqlx::Error> {
    let (path, _) = url.split_once('?').unwrap_or((url, ""));
    let write = AnyPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(60))
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::Executor::execute(conn, SQLITE_WRITER_SETTINGS).await?;
                Ok(())
            })
        })
        .connect(&format!("{path}?mode=rwc"))
        .await?;
    sqlx::migrate!("../migrations/sqlite").run(&write).await?;
    let readers = std::thread::available_parallelism()
        .map_or(4, |n| n.get() * 2)
        .max(4);
    let read = AnyPoolOptions::new()
        .max_connections(readers as u32)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::Executor::execute(conn, SQLITE_READER_SETTINGS).await?;
                Ok(())
            })
        })
        .connect(&format!("{path}?mode=ro"))
        .await?;
    Ok((write, read))
}

/// Timestamps are stored as fixed-width RFC 3339 UTC text, so they compare correctly as strings.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    // Parsed once: every pull formats a few of these, and parsing the format string was most of the cost.
    static ITEMS: std::sync::LazyLock<Vec<chrono::format::Item<'static>>> =
        std::sync::LazyLock::new(|| {
            chrono::format::StrftimeItems::new("%Y-%m-%dT%H:%M:%S%.6fZ")
                .parse_to_owned()
                .unwrap_or_default()
        });
    // Written straight into a string sized for its 27 bytes: one allocation. (`to_string` goes through
    // `Display`, which formats into a growing string of its own first.) Writing to a `String` cannot fail.
    let mut formatted = String::with_capacity(32);
    let _ = t.format_with_items(ITEMS.iter()).write_to(&mut formatted);
    formatted
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
mod timestamp_tests {
    use super::timestamp;

    #[test]
    fn timestamps_are_fixed_width_utc_with_microseconds() {
        use chrono::TimeZone as _;
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .map(|t| t + chrono::Duration::microseconds(60));
        assert_eq!(
            at.map(timestamp).as_deref(),
            Some("2026-01-02T03:04:05.000060Z")
        );
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
