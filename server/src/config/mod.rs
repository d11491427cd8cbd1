//! Configuration: defaults, then an optional TOML file, then `BERTH_*` environment variables
//! (`__` separates nested keys). Every field has a default, so `berth serve` needs no configuration.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::auth::throttle::ThrottleConfig;
use crate::secret::Secret;
use crate::storage::UploadLimits;

mod storage;
mod trusted_proxies;
mod vulndb;
pub use storage::{S3Config, S3Settings, StorageConfig, StorageConfigError, StorageKind};
pub use trusted_proxies::{TrustedProxies, canonical as canonical_address};
pub use vulndb::{DEFAULT_ECOSYSTEMS, Ecosystems, Interval};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Berth's settings. Field names are the TOML keys; the env var is `BERTH_` + the upper-cased key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address the one HTTP port (console, REST API, `/v2`) listens on.
    pub listen: SocketAddr,
    /// The URL clients reach Berth at, e.g. `https://registry.example.com`. Used in token realms and
    /// `Location` headers; when unset it is derived from each request's `Host` header.
    pub external_url: Option<String>,
    /// Where the database, blobs and upload staging live.
    pub data_dir: PathBuf,
    /// `sqlite://PATH`; defaults to `<data_dir>/berth.db`.
    pub database_url: Option<String>,
    pub log_format: LogFormat,
    /// A `tracing` filter such as `info` or `berth=debug,tower_http=info`.
    pub log_level: String,
    /// The first `admin` user's password; generated and printed once when unset.
    pub admin_password: Option<Secret>,
    /// Idle upload sessions older than this many seconds are purged.
    pub upload_ttl_secs: u64,
    /// Caps on uploads in progress per project (`[uploads]`, `BERTH_UPLOADS__*`).
    pub uploads: UploadLimits,
    /// Lifetime of registry bearer tokens, in minutes (Harbor's `token_expiration`).
    pub token_expiration: u64,
    /// The `service` named in token challenges and the `aud` of issued tokens.
    pub token_service: String,
    /// The storage limit of new projects in bytes, -1 for unlimited (Harbor's `storage_per_project`). Only
    /// system admins may choose another limit when creating a project.
    pub storage_per_project: i64,
    /// Pull counts are written at most this many milliseconds after the pull (they are batched in memory).
    pub pull_stats_interval_ms: u64,
    /// A browser session ends after this many minutes without a request.
    pub session_idle_minutes: u64,
    /// A browser session ends this many minutes after its sign-in, however active (default 12 hours). A
    /// password change, and removing the user, end it earlier.
    pub session_lifetime_minutes: u64,
    /// Reverse proxies (CIDR blocks or addresses) whose `X-Forwarded-For` names the client: for the audit log
    /// and the sign-in throttle. Anyone else's `X-Forwarded-For` is ignored.
    pub trusted_proxies: TrustedProxies,
    /// Sign-in throttling: when failures slow attempts down and when they lock an account.
    pub signin_throttle: ThrottleConfig,
    /// Where the key that encrypts stored secrets (registry endpoint credentials) comes from: 64 hex digits.
    /// When unset, one is generated on first start and kept in the database.
    pub secret_key: Option<Secret>,
    /// Proxy-cache upstream timeouts.
    pub proxy: ProxyConfig,
    /// The background job system (`[jobs]`, `BERTH_JOBS__*`).
    pub jobs: JobsConfig,
    /// Garbage collection (`[gc]`, `BERTH_GC__*`).
    pub gc: GcConfig,
    /// Vulnerability scanning (`[scan]`, `BERTH_SCAN__*`).
    pub scan: ScanConfig,
    /// Where blobs live: the filesystem under `data_dir` or S3 (`[storage]`, `BERTH_STORAGE__*`).
    pub storage: StorageConfig,
    /// Prometheus metrics on a listener of their own (`[metrics]`, `BERTH_METRICS__*`); off by default.
    pub metrics: MetricsConfig,
    /// Webhook deliveries (`[webhooks]`, `BERTH_WEBHOOKS__*`).
    pub webhooks: WebhooksConfig,
}

/// Webhook deliveries (`[webhooks]` in TOML, `BERTH_WEBHOOKS__*` in the environment).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhooksConfig {
    /// Whether webhook targets may be on this machine or its link: loopback, link-local (such as the cloud
    /// metadata service 169.254.169.254), unspecified or multicast addresses, and `localhost`. Off by default,
    /// so a project admin cannot point Berth at services only the server can reach; private networks are
    /// always allowed.
    pub allow_local_targets: bool,
}

/// Prometheus metrics (`[metrics]` in TOML, `BERTH_METRICS__*` in the environment), Harbor's `metric`
/// section. See docs/monitoring.md.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    /// Address of the metrics listener, e.g. `127.0.0.1:9090`. Unset (the default), no metrics are served.
    /// Never the main port's address: the metrics are not served there.
    pub listen: Option<SocketAddr>,
    /// The path of the scrape (default `/metrics`).
    pub path: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            listen: None,
            path: "/metrics".to_owned(),
        }
    }
}

impl MetricsConfig {
    /// The scrape path: `path` with a leading `/`, `/metrics` when empty.
    pub fn path(&self) -> &str {
        match self.path.as_str() {
            "" => "/metrics",
            p => p,
        }
    }

    /// A path that would not route (no leading `/`, a `{` of a route parameter) is refused at start-up.
    pub fn validate(&self) -> Result<(), String> {
        let path = self.path();
        if !path.starts_with('/') || path.contains(['{', '}', '*', '?', '#']) {
            return Err(format!(
                "[metrics] path {path:?} must start with / and be a plain path"
            ));
        }
        Ok(())
    }
}

/// Vulnerability scanning (`[scan]` in TOML, `BERTH_SCAN__*` in the environment). Its `Debug` hides the
/// API key and any password in `vulndb_url`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ScanConfig {
    /// The one credential Berth's scanner adapter API (`/api/v1`, Harbor's Pluggable Scanner API) accepts,
    /// as `Authorization: Bearer <key>` or `X-ScannerAdapter-API-Key: <key>`. Unset, that API is off (404).
    pub adapter_api_key: Option<Secret>,
    /// The base URL of an OSV mirror in the bucket's layout (`<URL>/<ECOSYSTEM>/all.zip`,
    /// `…/modified_id.csv`, `…/<ID>.json`), e.g. `https://osv-vulnerabilities.storage.googleapis.com/`.
    /// Unset (the default), the database is only refreshed by `berth vulndb import`; set, the server refreshes
    /// it every `vulndb_refresh_interval` and `berth vulndb update` does it on demand. `https://`, or `http://`
    /// written out.
    pub vulndb_url: Option<String>,
    /// The OSV ecosystems refreshed online (default: every ecosystem Berth's inventory produces).
    pub vulndb_ecosystems: Ecosystems,
    /// How often the server refreshes the database online (default 24 h, at least 1 h).
    pub vulndb_refresh_interval: Interval,
    /// The largest file one online refresh downloads (an ecosystem's `all.zip`; npm's is the largest, a few
    /// hundred MB). Larger ones fail that ecosystem's refresh.
    pub vulndb_max_download_bytes: u64,
}

impl std::fmt::Debug for ScanConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanConfig")
            .field("adapter_api_key", &self.adapter_api_key)
            .field(
                "vulndb_url",
                &self.vulndb_url.as_deref().map(vulndb::without_password),
            )
            .field("vulndb_ecosystems", &self.vulndb_ecosystems)
            .field("vulndb_refresh_interval", &self.vulndb_refresh_interval)
            .field("vulndb_max_download_bytes", &self.vulndb_max_download_bytes)
            .finish()
    }
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            adapter_api_key: None,
            vulndb_url: None,
            vulndb_ecosystems: Ecosystems::default(),
            vulndb_refresh_interval: Interval(Duration::from_secs(24 * 60 * 60)),
            vulndb_max_download_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// Garbage collection (`[gc]` in TOML, `BERTH_GC__*` in the environment).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GcConfig {
    /// Blobs linked, and files written, less than this many seconds ago are never collected (Harbor's
    /// two-hour time window): an upload whose manifest is still coming keeps its blobs.
    pub blob_grace_secs: u64,
    /// Blobs (and links, and artifacts) one batch handles; each batch is a short transaction, and a stop
    /// request is seen between batches.
    pub batch: u32,
}

impl Default for GcConfig {
    fn default() -> Self {
        GcConfig {
            blob_grace_secs: 2 * 60 * 60,
            batch: 1000,
        }
    }
}

impl GcConfig {
    pub fn grace(&self) -> Duration {
        Duration::from_secs(self.blob_grace_secs)
    }

    /// The batch size, within 1..=10,000.
    pub fn batch(&self) -> i64 {
        i64::from(self.batch.clamp(1, 10_000))
    }
}

/// The job system of this node (`[jobs]` in TOML, `BERTH_JOBS__*` in the environment).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct JobsConfig {
    /// Jobs this node runs at once (its worker pool's size); 0 runs none here (other nodes do).
    pub workers: u32,
    /// How long a claimed job stays this node's without a heartbeat. When a node dies, its jobs are taken
    /// back by another node this long after its last heartbeat (renewed every third of it).
    pub lease_secs: u64,
    /// How often an idle node looks for due jobs and schedules, in milliseconds.
    pub poll_ms: u64,
    /// The first retry of a failed idempotent job waits this long; each further retry twice as long (at
    /// most an hour).
    pub retry_delay_secs: u64,
    /// On SIGTERM, running jobs are asked to stop and are released back to the queue; this is how long
    /// they get before being cut off.
    pub shutdown_grace_secs: u64,
    /// Audit-log entries the purge deletes per transaction, so it never holds the write lock for long.
    pub purge_batch: u32,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            workers: 4,
            lease_secs: 30,
            poll_ms: 1000,
            retry_delay_secs: 10,
            shutdown_grace_secs: 10,
            purge_batch: 1000,
        }
    }
}

impl JobsConfig {
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs.clamp(2, 3600))
    }

    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.poll_ms.clamp(50, 60_000))
    }

    pub fn retry_delay(&self) -> Duration {
        Duration::from_secs(self.retry_delay_secs.clamp(1, 3600))
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs.min(600))
    }

    /// Workers, at most 64.
    pub fn worker_count(&self) -> usize {
        self.workers.min(64) as usize
    }

    /// Rows per purge batch, between 1 and 100,000.
    pub fn purge_batch(&self) -> i64 {
        i64::from(self.purge_batch.clamp(1, 100_000))
    }
}

/// Timeouts for talking to proxy-cache upstreams (`[proxy]` in TOML, `BERTH_PROXY__*` in the environment).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ProxyConfig {
    /// Connecting (TCP and TLS) to an upstream.
    pub connect_timeout_ms: u64,
    /// A manifest, tag list or auth exchange, up to the response headers. When it runs out, a cached copy is
    /// served if there is one.
    pub request_timeout_ms: u64,
    /// The longest pause while reading a body (a stalled blob download fails after this).
    pub read_timeout_ms: u64,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            connect_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            read_timeout_ms: 60_000,
        }
    }
}

impl ProxyConfig {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms.max(1))
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms.max(1))
    }

    pub fn read_timeout(&self) -> Duration {
        Duration::from_millis(self.read_timeout_ms.max(1))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            external_url: None,
            data_dir: PathBuf::from("data"),
            database_url: None,
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
            admin_password: None,
            upload_ttl_secs: 24 * 60 * 60,
            uploads: UploadLimits::default(),
            token_expiration: 30,
            token_service: "berth-registry".to_owned(),
            storage_per_project: -1,
            pull_stats_interval_ms: 1000,
            session_idle_minutes: 30,
            session_lifetime_minutes: 12 * 60,
            trusted_proxies: TrustedProxies::default(),
            signin_throttle: ThrottleConfig::default(),
            secret_key: None,
            proxy: ProxyConfig::default(),
            jobs: JobsConfig::default(),
            gc: GcConfig::default(),
            scan: ScanConfig::default(),
            storage: StorageConfig::default(),
            metrics: MetricsConfig::default(),
            webhooks: WebhooksConfig::default(),
        }
    }
}

impl Config {
    /// Loads the configuration from `file` (if given, it must exist; else `berth.toml` if present)
    /// and the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        figment = match file {
            Some(path) => figment.merge(Toml::file_exact(path)),
            None => figment.merge(Toml::file("berth.toml")),
        };
        figment
            .merge(Env::prefixed("BERTH_").split("__"))
            .extract()
            .map_err(Box::new)
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("berth.db").display()))
    }

    pub fn upload_ttl(&self) -> Duration {
        Duration::from_secs(self.upload_ttl_secs)
    }

    pub fn token_lifetime(&self) -> Duration {
        Duration::from_secs(self.token_expiration.max(1) * 60)
    }

    pub fn pull_stats_interval(&self) -> Duration {
        Duration::from_millis(self.pull_stats_interval_ms.max(1))
    }

    pub fn session_idle(&self) -> Duration {
        Duration::from_secs(self.session_idle_minutes.max(1) * 60)
    }

    /// How long a browser session may last from its sign-in.
    pub fn session_lifetime(&self) -> Duration {
        Duration::from_secs(self.session_lifetime_minutes.max(1).saturating_mul(60))
    }

    /// The external URL without a trailing slash, if configured.
    pub fn external_url(&self) -> Option<&str> {
        self.external_url
            .as_deref()
            .map(|u| u.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment::Jail fixes the closure's error type"
    )]
    fn env_and_file_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                "listen = \"127.0.0.1:9000\"\nlog_format = \"json\"\n",
            )?;
            jail.set_env("BERTH_DATA_DIR", "/srv/berth");
            jail.set_env("BERTH_ADMIN_PASSWORD", "s3cret");
            jail.set_env("BERTH_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7");
            jail.set_env("BERTH_UPLOADS__MAX_SESSIONS_PER_PROJECT", "8");
            let config = Config::load(Some(Path::new("custom.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 9000)));
            assert_eq!(config.log_format, LogFormat::Json);
            assert_eq!(config.data_dir, PathBuf::from("/srv/berth"));
            assert_eq!(config.database_url(), "sqlite:///srv/berth/berth.db");
            assert!(config.trusted_proxies.contains([10, 1, 2, 3].into()));
            assert!(config.trusted_proxies.contains([192, 0, 2, 7].into()));
            assert!(!config.trusted_proxies.contains([192, 0, 2, 8].into()));
            assert_eq!(config.session_lifetime(), Duration::from_secs(12 * 3600));
            assert_eq!(config.uploads.max_sessions_per_project, 8);
            assert_eq!(
                config.uploads.max_staged_bytes_per_project,
                UploadLimits::default().max_staged_bytes_per_project
            );
            assert_eq!(
                config.admin_password.as_ref().map(Secret::expose),
                Some("s3cret")
            );
            assert!(
                !format!("{config:?}").contains("s3cret"),
                "secrets stay out of Debug"
            );
            Ok(())
        });
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment::Jail fixes the closure's error type"
    )]
    fn the_online_refresh_reads_toml_and_the_environment() {
        figment::Jail::expect_with(|jail| {
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.scan.vulndb_url, None);
            assert_eq!(config.scan.vulndb_ecosystems, Ecosystems::default());
            assert_eq!(
                config.scan.vulndb_refresh_interval.0,
                Duration::from_secs(86_400)
            );
            jail.create_file(
                "scan.toml",
                "[scan]\nvulndb_url = \"https://mirror.example/osv/\"\nvulndb_ecosystems = [\"Debian\", \"Rocky Linux\"]\nvulndb_refresh_interval = \"6h\"\n",
            )?;
            let config = Config::load(Some(Path::new("scan.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(
                config.scan.vulndb_url.as_deref(),
                Some("https://mirror.example/osv/")
            );
            assert_eq!(config.scan.vulndb_ecosystems.0, ["Debian", "Rocky Linux"]);
            assert_eq!(
                config.scan.vulndb_refresh_interval.0,
                Duration::from_secs(6 * 3600)
            );
            jail.set_env("BERTH_SCAN__VULNDB_ECOSYSTEMS", "PyPI, crates.io");
            jail.set_env("BERTH_SCAN__VULNDB_REFRESH_INTERVAL", "7200");
            jail.set_env("BERTH_SCAN__VULNDB_MAX_DOWNLOAD_BYTES", "1000");
            let config = Config::load(Some(Path::new("scan.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.scan.vulndb_ecosystems.0, ["PyPI", "crates.io"]);
            assert_eq!(
                config.scan.vulndb_refresh_interval.0,
                Duration::from_secs(7200)
            );
            assert_eq!(config.scan.vulndb_max_download_bytes, 1000);
            jail.set_env(
                "BERTH_SCAN__VULNDB_URL",
                "https://me:s3cret@mirror.example/",
            );
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert!(
                !format!("{config:?}").contains("s3cret"),
                "a password in vulndb_url stays out of Debug"
            );
            jail.set_env("BERTH_SCAN__VULNDB_REFRESH_INTERVAL", "soon");
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment::Jail fixes the closure's error type"
    )]
    fn metrics_are_off_until_a_listener_is_named() {
        figment::Jail::expect_with(|jail| {
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.metrics.listen, None);
            assert_eq!(config.metrics.path(), "/metrics");
            jail.create_file(
                "berth.toml",
                "[metrics]\nlisten = \"127.0.0.1:9090\"\npath = \"/prom\"\n",
            )?;
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(
                config.metrics.listen,
                Some(SocketAddr::from(([127, 0, 0, 1], 9090)))
            );
            assert_eq!(config.metrics.path(), "/prom");
            jail.set_env("BERTH_METRICS__LISTEN", "0.0.0.0:9100");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(
                config.metrics.listen,
                Some(SocketAddr::from(([0, 0, 0, 0], 9100)))
            );
            assert!(config.metrics.validate().is_ok());
            for bad in ["metrics", "/{x}", "/m?x"] {
                let metrics = MetricsConfig {
                    path: bad.to_owned(),
                    ..MetricsConfig::default()
                };
                assert!(metrics.validate().is_err(), "{bad}");
            }
            Ok(())
        });
    }

    #[test]
    #[expect(
        clippy::result_large_err,
        reason = "figment::Jail fixes the closure's error type"
    )]
    fn a_named_file_must_exist() {
        figment::Jail::expect_with(|_| {
            assert!(Config::load(Some(Path::new("missing.toml"))).is_err());
            assert!(Config::load(None).is_ok());
            Ok(())
        });
    }
}
