//! Application state and the router: every route Berth serves is registered here.

use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::client_address::{ClientAddress, ClientAddressLayer};
use crate::auth::password::PasswordChecker;
use crate::auth::token::TokenService;
use crate::auth::token_endpoint;
use crate::auth::{login_endpoint, oidc_endpoint, session};
use crate::config::Config;
use crate::crypto::SecretBox;
use crate::db::Db;
use crate::events::audit::clip;
use crate::jobs::Jobs;
use crate::proxy::Proxy;
use crate::scan::vulndb::VulnDb;
use crate::service::configurations::LiveConfig;
use crate::service::sign_up::SignUpLimit;
use crate::stats::PullStats;
use crate::storage::{BlobStore, UploadStaging};
use crate::webhooks::Notifier;
use crate::{api, console, read_only, registry};

/// Everything a request handler may use: one `Arc`, so a clone (several per request: the router, each
/// middleware with state, the handler's extractor) is one reference count, not one per service.
#[derive(Clone, Debug)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Debug)]
pub struct AppStateInner {
    pub config: Arc<Config>,
    pub db: Db,
    pub blobs: BlobStore,
    pub uploads: Arc<UploadStaging>,
    pub tokens: Arc<TokenService>,
    pub passwords: Arc<PasswordChecker>,
    /// Browser sessions (the `sessions` table).
    pub sessions: session::DbSessionStore,
    /// Pull counting, written in the background.
    pub pulls: PullStats,
    /// Proxy-cache upstream clients and fetches in flight.
    pub proxy: Arc<Proxy>,
    /// Seals and opens stored secrets (registry endpoint credentials).
    pub secrets: Arc<SecretBox>,
    /// The system configuration (`/configurations`): auth mode, LDAP, OIDC, token lifetime. Read its
    /// snapshot per request with [`LiveConfig::current`].
    pub system_config: Arc<LiveConfig>,
    /// Counts anonymous self-registrations (`POST /users` with `self_registration` on).
    pub sign_ups: Arc<SignUpLimit>,
    /// This node's part of the job system (its id, the jobs it runs).
    pub jobs: Arc<Jobs>,
    /// The local vulnerability database (its own SQLite file under `<data_dir>/vulndb`), following the
    /// generation `berth vulndb import` last published.
    pub vulndb: Arc<VulnDb>,
    /// Recent "prevent vulnerable images" verdicts (see [`crate::scan::service::pull_refusal`]).
    pub scan_verdicts: Arc<crate::scan::service::VerdictCache>,
    /// Sends projects' events to their webhook policies (see [`crate::webhooks`]).
    pub webhooks: Arc<Notifier>,
    /// This node's Prometheus metrics (served on `[metrics] listen`).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    /// Opens the database (applying migrations), the blob store and the upload staging area under the
    /// configured data directory, and loads (or creates) the token signing key.
    pub async fn open(config: Config) -> anyhow::Result<AppState> {
        // A storage setting that cannot work stops the start before anything is opened.
        let s3 = config
            .storage
            .validate()
            .context("the storage configuration ([storage], BERTH_STORAGE__*)")?;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
        let db = Db::open(&config.database_url())
            .await
            .with_context(|| format!("opening database {}", config.database_url()))?;
        let blobs = match &s3 {
            None => BlobStore::local(&config.data_dir.join("storage"))
                .context("opening the blob store")?,
            Some(settings) => BlobStore::s3(settings)
                .with_context(|| format!("opening the S3 blob store (bucket {})", settings.bucket))?
                .with_object_keys(Arc::new(db.clone())),
        };
        tracing::info!(backend = blobs.backend(), "blob store opened");
        if db.backend() == crate::db::Backend::Sqlite {
            let freed = db
                .release_all_upload_leases()
                .await
                .context("freeing the upload leases of the previous run")?;
            if freed > 0 {
                tracing::info!(
                    freed,
                    "uploads cut off by the last stop can be resumed at once"
                );
            }
        }
        let uploads = UploadStaging::new(config.data_dir.join("uploads"))
            .context("opening the upload staging area")?;
        uploads
            .restore(db.upload_projects().await.context("listing open uploads")?)
            .await
            .context("counting the staged bytes of open uploads")?;
        let tokens =
            TokenService::load_or_create(&db, &config.token_service, config.token_lifetime())
                .await
                .context("loading the token signing key")?;
        let sessions = session::DbSessionStore::new(&db);
        let jobs = Arc::new(Jobs::new(&config.jobs));
        let webhooks = Arc::new(
            Notifier::new(
                db.clone(),
                jobs.clone(),
                crate::webhooks::registry_host(config.external_url(), config.listen),
                &config.webhooks,
            )
            .context("creating the webhook HTTP clients")?,
        );
        let pulls = PullStats::start(
            db.clone(),
            config.pull_stats_interval(),
            Some(webhooks.clone()),
        );
        let proxy = Arc::new(
            Proxy::new(config.proxy.clone(), config.data_dir.join("proxy-staging"))
                .context("creating the proxy staging area")?,
        );
        let secrets = Arc::new(
            SecretBox::load_or_create(&db, config.secret_key.as_ref())
                .await
                .context("loading the key that seals stored secrets (secret_key)")?,
        );
        let system_config = Arc::new(
            LiveConfig::load(&db, &secrets, &config)
                .await
                .context("loading the system configuration")?,
        );
        let passwords = Arc::new(PasswordChecker::new(
            config.signin_throttle,
            system_config.clone(),
            secrets.clone(),
        ));
        let vulndb = Arc::new(
            VulnDb::open(&config.data_dir)
                .await
                .context("opening the vulnerability database")?,
        );
        let metrics = Arc::new(crate::metrics::Metrics::new(db.clone()));
        Ok(AppState(Arc::new(AppStateInner {
            config: Arc::new(config),
            db,
            blobs,
            uploads: Arc::new(uploads),
            tokens: Arc::new(tokens),
            passwords,
            sessions,
            pulls,
            proxy,
            secrets,
            system_config,
            sign_ups: Arc::new(SignUpLimit::default()),
            jobs,
            vulndb,
            scan_verdicts: Arc::default(),
            webhooks,
            metrics,
        })))
    }
}

/// Builds the router for `state`.
pub fn router(state: AppState) -> Router {
    // Only the REST API and the console's sign-in know about sessions; `/v2` and `/service/token` never read
    // the cookie.
    let with_sessions = Router::new()
        .merge(api::routes())
        .route("/c/login", post(login_endpoint::login))
        .route("/c/log_out", post(login_endpoint::log_out))
        .route("/c/oidc/login", get(oidc_endpoint::login))
        .route("/c/oidc/callback", get(oidc_endpoint::callback))
        .route("/c/oidc/onboard", post(oidc_endpoint::onboard))
        .layer(
            ServiceBuilder::new()
                .layer(session::layer(state.sessions.clone(), &state.config))
                .layer(axum::middleware::from_fn(console::quiet_browser_challenge))
                .layer(axum::middleware::from_fn(session::expose_csrf_token)),
        );
    Router::new()
        .merge(registry::routes())
        .merge(with_sessions)
        // Harbor's Pluggable Scanner API (Berth's scanner as an adapter): not part of the REST API v2.0.
        .merge(crate::scan::adapter::server::routes())
        .route("/service/token", get(token_endpoint::issue))
        // Readiness for load balancers: 503 while this node cannot reach its database or blob store.
        .route("/readyz", get(crate::api::system::ready))
        // Every path no route claims belongs to the console (its history-mode routes and assets).
        .fallback(console::serve)
        // One `layer` call for the whole stack: each call wraps every route in another boxed service that is
        // cloned on every request, so six calls cost six allocations per request. Listed outermost first.
        .layer(
            ServiceBuilder::new()
                // Outermost, so the latency covers every layer and a panic's 500 is counted.
                .layer(crate::metrics::http::TrackLayer::new(state.metrics.clone()))
                // `X-Content-Type-Options: nosniff` on every response (`/v2`, `/api`, the token service, the
                // console and even a panic's 500): a browser renders what Berth serves only as the type Berth
                // says it is.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(CatchPanicLayer::custom(|_| {
                    tracing::error!("request handler panicked");
                    (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response()
                }))
                // Outside the trace layer, so the span can name the client.
                .layer(ClientAddressLayer::new(state.clone()))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
                )
                // Harbor's read-only mode, before any handler.
                .layer(read_only::ReadOnlyLayer::new(state.clone())),
        )
        .with_state(state)
}

/// The span every log line of a request carries: method, path and client address. Never the query string,
/// which holds secrets on some paths (the OIDC callback's `code` and `state`), and never more than a bounded
/// part of the path, which the caller chooses.
fn request_span(request: &Request) -> tracing::Span {
    // The fields are only evaluated when the span is enabled (`log_level` at info or below).
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %clip(request.uri().path()),
        client = %ClientAddress::of(request.extensions()),
    )
}
