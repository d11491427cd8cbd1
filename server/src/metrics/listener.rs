//! The metrics listener (`[metrics] listen`, Harbor's `metric.port`): `GET <path>` answers the scrape;
//! anything else is a 404. It serves nothing but the metrics, which name route templates, project names and
//! counts, never credentials, paths or users; it is not mounted on the main port. Bind it to an address only
//! Prometheus reaches.

use std::future::Future;

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::AppState;

/// Binds the metrics listener when `[metrics] listen` is set.
pub async fn bind(state: &AppState) -> anyhow::Result<Option<TcpListener>> {
    let Some(addr) = state.config.metrics.listen else {
        return Ok(None);
    };
    state
        .config
        .metrics
        .validate()
        .map_err(anyhow::Error::msg)?;
    if addr == state.config.listen {
        anyhow::bail!(
            "[metrics] listen {addr} is the main port's address; give the metrics a port of their own"
        );
    }
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the metrics listener to {addr} ([metrics] listen)"))?;
    tracing::info!(address = %addr, path = %state.config.metrics.path(), "serving Prometheus metrics");
    Ok(Some(listener))
}

/// The router of the metrics listener.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(state.config.metrics.path(), get(scrape))
        .with_state(state)
}

/// Serves the metrics on `listener` until `shutdown`.
pub fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let app = router(state);
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    })
}

/// `GET /metrics`: the Prometheus text format, version 0.0.4.
async fn scrape(State(state): State<AppState>) -> Response {
    match state.metrics.scrape().await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics: could not encode the scrape");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not encode the metrics",
            )
                .into_response()
        }
    }
}
