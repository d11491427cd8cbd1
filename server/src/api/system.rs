//! `ping`, `health` and `systeminfo`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use berth_api::system::{ComponentHealthStatus, GeneralInfo, OverallHealthStatus};

use crate::app::AppState;
use crate::registry::access::base_url;
use crate::service::configurations::AuthMode;

/// `GET /ping`: "Pong", as Harbor answers.
pub async fn ping() -> &'static str {
    "Pong"
}

/// `GET /health`: the database and the blob store, each healthy or not. The answer is always 200, the status
/// in the body, as in Harbor (`src/server/v2.0/handler/health.go`): monitors read the body.
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let database = match state.db.ping().await {
        Ok(()) => ComponentHealthStatus::healthy("database"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            ComponentHealthStatus::unhealthy("database", "the database does not answer")
        }
    };
    let storage = match state.blobs.check().await {
        Ok(()) => ComponentHealthStatus::healthy("storage"),
        Err(e) => {
            tracing::error!(error = %e, backend = state.blobs.backend(), "health check: blob store unavailable");
            ComponentHealthStatus::unhealthy("storage", "the blob store is not available")
        }
    };
    let components = vec![database, storage];
    let healthy = components.iter().all(|c| c.status == "healthy");
    let status = if healthy { "healthy" } else { "unhealthy" };
    axum::Json(OverallHealthStatus {
        status: status.to_owned(),
        components,
    })
}

/// `GET /systeminfo`: what the console and clients need to know about this installation, the auth mode
/// included (anyone may ask: the sign-in page needs it). `oidc_provider_name` is given only in `oidc_auth`.
pub async fn info(State(state): State<AppState>, headers: HeaderMap) -> axum::Json<GeneralInfo> {
    let external_url = base_url(&state, &headers);
    let registry_url = external_url
        .split_once("://")
        .map_or(external_url.as_str(), |(_, host)| host)
        .to_owned();
    let settings = state.system_config.current();
    let oidc_provider_name =
        (settings.auth_mode == AuthMode::Oidc).then(|| settings.oidc.name.clone());
    axum::Json(GeneralInfo {
        current_time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        registry_url,
        external_url,
        auth_mode: settings.auth_mode.as_str().to_owned(),
        primary_auth_mode: settings.primary_auth_mode,
        project_creation_restriction: settings.project_creation_restriction.as_str().to_owned(),
        self_registration: settings.self_registration,
        has_ca_root: false,
        harbor_version: format!("berth-v{}", env!("CARGO_PKG_VERSION")),
        registry_storage_provider_name: "filesystem".to_owned(),
        read_only: settings.read_only,
        notification_enable: false,
        oidc_provider_name,
    })
}
