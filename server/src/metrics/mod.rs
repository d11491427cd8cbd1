//! Prometheus metrics (Harbor's `metric.port`): counters and histograms this node keeps in memory, and
//! gauges read from the database at scrape time, served in the Prometheus text format on a listener of
//! their own (`[metrics] listen`), never on the main port.
//!
//! Rules: recording is cheap (atomics; label handles resolved once and kept, so the request path does no
//! allocation once a series exists); every label value is bounded: route templates, never paths; project
//! names that exist; job kinds and outcomes from the code. Counters are this node's; gauges from the
//! database ([`database`]) are the whole cluster's and are cached for a few seconds, so a burst of scrapes
//! costs one set of queries.
//!
//! Names follow <https://prometheus.io/docs/practices/naming/>.

pub mod database;
pub mod histogram;
pub mod http;
pub mod listener;

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::db::Db;
pub use histogram::Histogram;
pub use http::RouteTemplate;

/// Every metric of this node, and the registry that encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub http: http::HttpMetrics,
    /// Manifest pulls (`GET`, not `HEAD`) by project.
    pub pulls: ProjectCounters,
    /// Manifest pushes by project.
    pub pushes: ProjectCounters,
    blob_bytes_in: Counter,
    blob_bytes_out: Counter,
    proxy_requests: Family<ProxyLabels, Counter>,
    proxy_upstream_errors: Family<ProxyErrorLabels, Counter>,
    job_duration: Family<JobLabels, Histogram>,
    gc_runs: Family<OutcomeLabels, Counter>,
    gc_freed_bytes: Counter,
    scans: Family<OutcomeLabels, Counter>,
    pub database: Arc<database::DatabaseGauges>,
}

/// What a proxy-cache request was answered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProxyResult {
    /// From the cache, without fetching from the upstream.
    Hit,
    /// Fetched from the upstream.
    Miss,
    /// From the cache because the upstream could not be reached.
    Stale,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ProxyLabels {
    kind: &'static str,
    result: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ProxyErrorLabels {
    kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct JobLabels {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ProjectLabels {
    project: String,
}

/// A counter per project, whose handles are kept by name: counting for a project seen before is a map
/// lookup by `&str` and an atomic add, with no allocation.
#[derive(Debug, Default)]
pub struct ProjectCounters {
    family: Family<ProjectLabels, Counter>,
    handles: DashMap<Box<str>, Counter>,
}

impl ProjectCounters {
    /// Adds one for `project`, which must exist (the caller was let into it): names are bounded by the
    /// projects there are.
    pub fn inc(&self, project: &str) {
        if let Some(counter) = self.handles.get(project) {
            counter.inc();
            return;
        }
        let counter = self.family.get_or_create_owned(&ProjectLabels {
            project: project.to_owned(),
        });
        counter.inc();
        self.handles.insert(project.into(), counter);
    }

    /// The count of `project` (for tests).
    pub fn get(&self, project: &str) -> u64 {
        self.handles.get(project).map_or(0, |c| c.get())
    }
}

impl Metrics {
    /// Creates the metrics of a node whose database gauges read `db`.
    pub fn new(db: Db) -> Metrics {
        let mut registry = Registry::default();
        let http = http::HttpMetrics::default();
        registry.register(
            "berth_http_requests",
            "HTTP requests this node answered on the main port, by route template, method and status code",
            http.requests.clone(),
        );
        registry.register(
            "berth_http_request_duration_seconds",
            "Time from a request's arrival to its response headers (bodies stream after), by route template and method",
            http.duration.clone(),
        );
        let metrics = Metrics {
            http,
            pulls: ProjectCounters::default(),
            pushes: ProjectCounters::default(),
            blob_bytes_in: Counter::default(),
            blob_bytes_out: Counter::default(),
            proxy_requests: Family::default(),
            proxy_upstream_errors: Family::default(),
            job_duration: Family::default(),
            gc_runs: Family::default(),
            gc_freed_bytes: Counter::default(),
            scans: Family::default(),
            database: Arc::new(database::DatabaseGauges::new(db)),
            registry: Registry::default(),
        };
        registry.register(
            "berth_pulls",
            "Manifest pulls (GET) this node served, by project",
            metrics.pulls.family.clone(),
        );
        registry.register(
            "berth_pushes",
            "Manifest pushes this node accepted, by project",
            metrics.pushes.family.clone(),
        );
        registry.register(
            "berth_blob_upload_bytes",
            "Bytes this node received in blob upload requests (POST, PATCH and PUT bodies; refused chunks included)",
            metrics.blob_bytes_in.clone(),
        );
        registry.register(
            "berth_blob_download_bytes",
            "Bytes of blob downloads this node answered (the length of each GET response, ranges included)",
            metrics.blob_bytes_out.clone(),
        );
        registry.register(
            "berth_proxy_cache_requests",
            "Proxy-cache manifest and blob requests, by kind and result (hit: from the cache; miss: fetched upstream; stale: from the cache because the upstream was unreachable)",
            metrics.proxy_requests.clone(),
        );
        registry.register(
            "berth_proxy_upstream_errors",
            "Proxy-cache requests to an upstream registry that failed (unreachable, timed out, an error status), by kind",
            metrics.proxy_upstream_errors.clone(),
        );
        registry.register(
            "berth_job_duration_seconds",
            "Duration of background jobs this node ran, by kind and outcome",
            metrics.job_duration.clone(),
        );
        registry.register(
            "berth_gc_runs",
            "Garbage collection runs this node finished, by outcome",
            metrics.gc_runs.clone(),
        );
        registry.register(
            "berth_gc_freed_bytes",
            "Bytes of blobs garbage collection on this node deleted",
            metrics.gc_freed_bytes.clone(),
        );
        registry.register(
            "berth_scans",
            "Vulnerability scans of artifacts this node finished, by outcome",
            metrics.scans.clone(),
        );
        registry.register_collector(Box::new(metrics.database.clone()));
        Metrics {
            registry,
            ..metrics
        }
    }

    /// The registry, for encoding a scrape.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// `bytes` of a blob pushed.
    pub fn blob_uploaded(&self, bytes: u64) {
        self.blob_bytes_in.inc_by(bytes);
    }

    /// `bytes` of a blob download answered.
    pub fn blob_downloaded(&self, bytes: u64) {
        self.blob_bytes_out.inc_by(bytes);
    }

    /// Bytes of blob uploads so far (for tests).
    pub fn blob_bytes_in(&self) -> u64 {
        self.blob_bytes_in.get()
    }

    /// A proxy-cache request of `kind` ("manifest" or "blob") answered as `result`.
    pub fn proxy_request(&self, kind: &'static str, result: ProxyResult) {
        let result = match result {
            ProxyResult::Hit => "hit",
            ProxyResult::Miss => "miss",
            ProxyResult::Stale => "stale",
        };
        self.proxy_requests
            .get_or_create(&ProxyLabels { kind, result })
            .inc();
    }

    /// A proxy-cache request of `kind` to an upstream that failed.
    pub fn proxy_upstream_error(&self, kind: &'static str) {
        self.proxy_upstream_errors
            .get_or_create(&ProxyErrorLabels { kind })
            .inc();
    }

    /// A job of `kind` (a name from [`crate::jobs::KINDS`]) ran for `elapsed` and ended as `outcome`.
    pub fn job_finished(&self, kind: &'static str, outcome: &'static str, elapsed: Duration) {
        self.job_duration
            .get_or_create(&JobLabels { kind, outcome })
            .observe(elapsed);
    }

    /// A garbage collection run ended as `outcome` ("success" or "error"), having freed `freed` bytes.
    pub fn gc_finished(&self, outcome: &'static str, freed: u64) {
        self.gc_runs.get_or_create(&OutcomeLabels { outcome }).inc();
        self.gc_freed_bytes.inc_by(freed);
    }

    /// A scan of an artifact ended as `outcome` ("success", "error" or "unsupported").
    pub fn scan_finished(&self, outcome: &'static str) {
        self.scans.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// The scrape: everything in the Prometheus text format (version 0.0.4), database gauges refreshed
    /// if their cache is older than [`database::CACHE_FOR`].
    pub async fn scrape(&self) -> Result<String, std::fmt::Error> {
        self.database.refresh().await;
        let mut text = String::with_capacity(16 * 1024);
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
