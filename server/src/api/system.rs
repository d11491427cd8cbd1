//! `ping`, `health` and `systeminfo` (with its `volumes` and `getcert`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use berth_api::system::{
    ComponentHealthStatus, GeneralInfo, OverallHealthStatus, Storage, SystemInfo,
};

use super::{ApiError, Caller};

use crate::app::AppState;
use crate::registry::access::base_url;
use crate::service::configurations::AuthMode;

/// `GET /ping`: "Pong", as Harbor answers.
pub async fn ping() -> &'static str {
    "Pong"
}

/// How long a health or readiness check waits for the database or the blob store.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// This node's view of the database and the blob store, each healthy or not (with a log line saying why not).
async fn components(state: &AppState) -> Vec<ComponentHealthStatus> {
    let database = match tokio::time::timeout(CHECK_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => ComponentHealthStatus::healthy("database"),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check: database unreachable");
            ComponentHealthStatus::unhealthy("database", "the database does not answer")
        }
        Err(_) => {
            tracing::error!(timeout = ?CHECK_TIMEOUT, "health check: database did not answer in time");
            ComponentHealthStatus::unhealthy("database", "the database does not answer")
        }
    };
    let storage = match tokio::time::timeout(CHECK_TIMEOUT, state.blobs.check()).await {
        Ok(Ok(())) => ComponentHealthStatus::healthy("storage"),
        Ok(Err(e)) => {
            tracing::error!(error = %e, backend = state.blobs.backend(), "health check: blob store unavailable");
            ComponentHealthStatus::unhealthy("storage", "the blob store is not available")
        }
        Err(_) => {
            tracing::error!(timeout = ?CHECK_TIMEOUT, backend = state.blobs.backend(), "health check: blob store did not answer in time");
            ComponentHealthStatus::unhealthy("storage", "the blob store is not available")
        }
    };
    vec![database, storage]
}

/// `GET /health`: the database and the blob store, each healthy or not. The answer is always 200, the status
/// in the body, as in Harbor (`src/server/v2.0/handler/health.go`): monitors read the body.
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let components = components(&state).await;
    let healthy = components.iter().all(|c| c.status == "healthy");
    let status = if healthy { "healthy" } else { "unhealthy" };
    axum::Json(OverallHealthStatus {
        status: status.to_owned(),
        components,
    })
}

/// `GET /readyz` (outside the API, for load balancers and Kubernetes): 200 while this node reaches its
/// database and blob store, 503 naming what it cannot reach otherwise, so the node is taken out of rotation.
pub async fn ready(State(state): State<AppState>) -> axum::response::Response {
    let down: Vec<String> = components(&state)
        .await
        .into_iter()
        .filter(|c| c.status != "healthy")
        .map(|c| c.name)
        .collect();
    if down.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {} unreachable\n", down.join(", ")),
        )
            .into_response()
    }
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

/// `GET /systeminfo/volumes`: the size and free space of the disk holding the blobs (system admins, and
/// robots given `system-volumes:read`). As Harbor's, the answer reflects the local disk only: on S3 it is the
/// disk of the data directory (the database, upload staging), not the bucket, which has no size to report.
pub async fn volumes(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<SystemInfo>, ApiError> {
    caller.system("system-volumes", "read")?;
    let path = state
        .blobs
        .local_root()
        .unwrap_or(&state.config.data_dir)
        .to_owned();
    let found = tokio::task::spawn_blocking(move || crate::storage::capacity(&path))
        .await
        .map_err(|e| ApiError::internal("reading the size of the data volume", e))?
        .map_err(|e| ApiError::internal("reading the size of the data volume", e))?;
    Ok(axum::Json(SystemInfo {
        storage: vec![Storage {
            total: found.total,
            free: found.free,
        }],
    }))
}

/// `GET /systeminfo/getcert`: Harbor's download of the registry's root CA certificate. Berth generates no CA
/// (`has_ca_root` is false in `/systeminfo`): its TLS certificate is the operator's, so the answer is
/// Harbor's 404 for a missing certificate.
pub async fn get_cert() -> ApiError {
    ApiError::NotFound(
        "no default root certificate: Berth does not issue one, its TLS certificate is the operator's"
            .to_owned(),
    )
}
