//! Proxy-cache projects: pulls through a registry endpoint, cached locally.
//!
//! A project with a `registry_id` is a read-only cache of that endpoint. `HOST/<project>/<path>` is the upstream's
//! `<path>` (on Docker Hub `nginx` is `library/nginx`). The registry handlers call [`pull`] for manifests, blobs
//! and tag lists of such projects.

pub mod egress;
pub mod endpoint;
mod flight;
pub mod pull;
pub mod upstream;

pub use endpoint::{Credential, Endpoint, EndpointKind};
pub use upstream::{Health, Upstream, UpstreamError};

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};
use reqwest::StatusCode;

pub use flight::{BlobFlight, FlightJob, Stage};

use crate::config::ProxyConfig;
use crate::oci::Digest;
use crate::patterns::RepositoryFilter;

/// Why a proxied pull could not be served. Cloneable, so one failed fetch can answer every client waiting on it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProxyError {
    /// The upstream does not have it (404).
    #[error("{0}")]
    NotFound(String),
    /// The upstream is unreachable, timing out, erroring or refusing Berth's credential.
    #[error("{0}")]
    Unavailable(String),
    /// The upstream answered 429.
    #[error("{0}")]
    RateLimited(String),
    /// The upstream sent content that does not match its digest or length.
    #[error("{0}")]
    Corrupt(String),
    /// The upstream sent something that is not what was asked for (a manifest that is no manifest): never
    /// served, never cached.
    #[error("{0}")]
    Invalid(String),
    /// Berth itself failed (logged where it happened).
    #[error("{0}")]
    Internal(String),
}

impl ProxyError {
    pub fn internal(context: &str, error: impl std::fmt::Display) -> ProxyError {
        tracing::error!(error = %error, "{context}");
        ProxyError::Internal(context.to_owned())
    }

    /// The error for an upstream answer `status` to a request for `what`.
    pub fn from_status(status: StatusCode, what: &str) -> ProxyError {
        match status {
            StatusCode::NOT_FOUND => {
                ProxyError::NotFound(format!("{what} is not in the upstream registry"))
            }
            StatusCode::TOO_MANY_REQUESTS => ProxyError::RateLimited(format!(
                "the upstream registry is rate-limiting requests for {what}"
            )),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ProxyError::Unavailable(format!(
                "the upstream registry refused access to {what} ({status}); check the endpoint's credential"
            )),
            status => ProxyError::Unavailable(format!(
                "the upstream registry answered {status} for {what}"
            )),
        }
    }

    /// Whether a cached copy should be served instead: every failure except "removed upstream".
    pub fn upstream_down(&self) -> bool {
        matches!(
            self,
            ProxyError::Unavailable(_) | ProxyError::RateLimited(_)
        )
    }
}

impl From<UpstreamError> for ProxyError {
    fn from(error: UpstreamError) -> Self {
        match error {
            UpstreamError::Unreachable(m) => ProxyError::Unavailable(m),
            UpstreamError::Unauthorized(m) | UpstreamError::Invalid(m) => {
                ProxyError::Unavailable(m)
            }
        }
    }
}

/// A fetched manifest: its bytes, media type and digest (verified).
#[derive(Debug, Clone)]
pub struct Fetched {
    pub digest: Digest,
    pub media_type: String,
    pub content: bytes::Bytes,
}

type ManifestFlight = Shared<BoxFuture<'static, Result<Fetched, ProxyError>>>;
/// (endpoint id, upstream repository, reference)
type ManifestKey = (i64, String, String);

/// How long a finished fetch stays joinable. A request that looked in the cache just before the fetch stored its
/// result, and asks for the fetch just after it ended, joins the finished one instead of fetching again.
const FINISHED_FLIGHT_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// The proxy cache's shared state: one upstream client per endpoint (keeping its auth tokens), and the fetches
/// in flight.
pub struct Proxy {
    config: ProxyConfig,
    /// Where blobs are staged while they download; emptied at start.
    staging: PathBuf,
    upstreams: Mutex<HashMap<i64, Arc<Upstream>>>,
    /// Blob downloads in flight, by (endpoint, upstream repository, digest): a client only joins a download from
    /// the upstream repository it may read.
    blob_flights: Mutex<HashMap<(i64, String, Digest), Arc<BlobFlight>>>,
    /// Manifest fetches in flight, by (endpoint, upstream repository, reference), each with a serial number.
    manifest_flights: Mutex<HashMap<ManifestKey, (u64, ManifestFlight)>>,
    next_flight: std::sync::atomic::AtomicU64,
    /// Compiled include/exclude patterns, by their text: a change of a project's patterns is a new key.
    filters: Mutex<HashMap<(String, String), Arc<RepositoryFilter>>>,
}

/// The most distinct pattern pairs kept compiled; past it the cache starts over.
const MAX_CACHED_FILTERS: usize = 1024;

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("config", &self.config)
            .field("staging", &self.staging)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Proxy {
    /// Creates the proxy state with its staging directory, removing what an earlier run left there.
    pub fn new(config: ProxyConfig, staging: PathBuf) -> std::io::Result<Proxy> {
        if staging.exists() {
            std::fs::remove_dir_all(&staging)?;
        }
        std::fs::create_dir_all(&staging)?;
        Ok(Proxy {
            config,
            staging,
            upstreams: Mutex::new(HashMap::new()),
            blob_flights: Mutex::new(HashMap::new()),
            manifest_flights: Mutex::new(HashMap::new()),
            next_flight: std::sync::atomic::AtomicU64::new(0),
            filters: Mutex::new(HashMap::new()),
        })
    }

    pub fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// The client for `endpoint`, reusing the one (and its tokens) made before.
    pub fn upstream(&self, endpoint: Endpoint) -> Result<Arc<Upstream>, UpstreamError> {
        let mut upstreams = lock(&self.upstreams);
        if let Some(upstream) = upstreams.get(&endpoint.id)
            && upstream.endpoint() == &endpoint
        {
            return Ok(upstream.clone());
        }
        let id = endpoint.id;
        let upstream = Arc::new(Upstream::new(endpoint, &self.config)?);
        upstreams.insert(id, upstream.clone());
        Ok(upstream)
    }

    /// The filter of a project's `proxy_include` and `proxy_exclude` patterns, compiled once and reused for
    /// every pull until the patterns change. The error names the bad pattern.
    pub fn repository_filter(
        &self,
        include: Option<&str>,
        exclude: Option<&str>,
    ) -> Result<Arc<RepositoryFilter>, String> {
        let key = (
            include.unwrap_or_default().to_owned(),
            exclude.unwrap_or_default().to_owned(),
        );
        if let Some(filter) = lock(&self.filters).get(&key) {
            return Ok(filter.clone());
        }
        let filter = Arc::new(RepositoryFilter::new(include, exclude)?);
        let mut filters = lock(&self.filters);
        if filters.len() >= MAX_CACHED_FILTERS {
            filters.clear();
        }
        filters.insert(key, filter.clone());
        Ok(filter)
    }

    /// The `ratelimit-remaining` endpoint `id`'s upstream sent last, if it is in use and sent one.
    pub fn ratelimit_remaining(&self, id: i64) -> Option<String> {
        let upstream = lock(&self.upstreams).get(&id).cloned()?;
        upstream.ratelimit_remaining()
    }

    /// Drops the client of endpoint `id` (after it was edited or deleted), so the next pull uses the new URL and
    /// credential. The cached content of its projects stays.
    pub fn forget_endpoint(&self, id: i64) {
        lock(&self.upstreams).remove(&id);
    }

    /// Joins the download of `digest`, starting it with `job` if none is running.
    pub fn blob_flight(
        self: &Arc<Self>,
        make_job: impl FnOnce(PathBuf) -> FlightJob,
    ) -> Result<Arc<BlobFlight>, ProxyError> {
        let job = make_job(self.staging.join(uuid::Uuid::new_v4().to_string()));
        let key = (
            job.upstream.endpoint().id,
            job.repository.clone(),
            job.digest.clone(),
        );
        let mut flights = lock(&self.blob_flights);
        // A failed flight is retried; a verified one still serves from its file.
        if let Some(flight) = flights.get(&key)
            && !matches!(flight.stage(), Stage::Failed(_))
        {
            return Ok(flight.clone());
        }
        let (flight, task) = BlobFlight::start(job)?;
        flights.insert(key.clone(), flight.clone());
        drop(flights);
        let proxy = self.clone();
        let ours = flight.clone();
        tokio::spawn(async move {
            let _ = task.await;
            if matches!(ours.stage(), Stage::Verified { .. }) {
                tokio::time::sleep(FINISHED_FLIGHT_GRACE).await;
            }
            let mut flights = lock(&proxy.blob_flights);
            if flights.get(&key).is_some_and(|f| Arc::ptr_eq(f, &ours)) {
                flights.remove(&key);
            }
        });
        Ok(flight)
    }

    /// Runs `fetch` for `key` unless a fetch for it is already running, in which case its result is shared.
    pub async fn manifest_flight(
        self: &Arc<Self>,
        key: ManifestKey,
        fetch: BoxFuture<'static, Result<Fetched, ProxyError>>,
    ) -> Result<Fetched, ProxyError> {
        let flight = {
            let mut flights = lock(&self.manifest_flights);
            match flights.get(&key) {
                Some((_, flight)) => flight.clone(),
                None => {
                    let proxy = self.clone();
                    let owned_key = key.clone();
                    let serial = self
                        .next_flight
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let flight = async move {
                        // Runs on its own task: a client hanging up does not cancel the fetch others wait on.
                        let result = tokio::spawn(fetch).await.unwrap_or_else(|e| {
                            Err(ProxyError::internal("manifest fetch task failed", e))
                        });
                        // A digest's content never changes, so a fetched one stays joinable for a while; a tag's
                        // answer may change, and a failure is retried, so those go at once.
                        let keep = result.is_ok() && owned_key.2.contains(':');
                        tokio::spawn(async move {
                            if keep {
                                tokio::time::sleep(FINISHED_FLIGHT_GRACE).await;
                            }
                            let mut flights = lock(&proxy.manifest_flights);
                            if flights.get(&owned_key).is_some_and(|(s, _)| *s == serial) {
                                flights.remove(&owned_key);
                            }
                        });
                        result
                    }
                    .boxed()
                    .shared();
                    flights.insert(key, (serial, flight.clone()));
                    flight
                }
            }
        };
        flight.await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_patterns_are_reused_until_they_change() {
        let dir = std::env::temp_dir().join(format!("berth-filters-{}", uuid::Uuid::new_v4()));
        let proxy = Proxy::new(ProxyConfig::default(), dir.clone())
            .unwrap_or_else(|e| unreachable!("staging: {e}"));
        let filter = |include: &str| {
            proxy
                .repository_filter(Some(include), None)
                .unwrap_or_else(|e| unreachable!("{e}"))
        };
        let first = filter("library/**");
        assert!(Arc::ptr_eq(&first, &filter("library/**")), "compiled once");
        let changed = filter("**");
        assert!(!Arc::ptr_eq(&first, &changed), "a change is a new filter");
        assert!(changed.allows("other/app") && !first.allows("other/app"));
        assert!(proxy.repository_filter(Some("lib[rary"), None).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
