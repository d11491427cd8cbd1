//! Running the server: open everything, do the first-start setup, serve until a shutdown signal.
//!
//! Shutdown is graceful: the listener closes, in-flight requests (uploads included) run to completion,
//! running jobs are asked to stop and released back to the queue, then pending pull statistics are written
//! and the database is closed. An upload cut short is never visible (see [`crate::storage`]).

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::app::{AppState, router};
use crate::auth::session;
use crate::config::Config;
use crate::jobs;
use crate::service::setup::{self, FirstStart};

/// Opens the state for `config` and performs the first-start setup.
pub async fn prepare(config: Config) -> anyhow::Result<(AppState, FirstStart)> {
    // A wrong online-refresh setting stops the start here rather than failing every refresh later.
    crate::scan::vulndb::online::Settings::from_config(&config.scan)?;
    let state = AppState::open(config).await?;
    let first = setup::first_start(&state.db, &state.config)
        .await
        .context("creating the admin user")?;
    Ok((state, first))
}

/// Serves `state` on `listener` until `shutdown` completes, then drains in-flight requests.
pub async fn run(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Bound first: a metrics address that is taken stops the start before anything runs.
    let metrics_listener = crate::metrics::listener::bind(&state).await?;
    let (metrics_stop, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics_server = metrics_listener.map(|listener| {
        crate::metrics::listener::serve(state.clone(), listener, async {
            let _ = metrics_stopped.await;
        })
    });
    let purge = tokio::spawn(jobs::upload_purge::run(state.clone()));
    let job_node = jobs::start(state.clone());
    let rematch_watch = tokio::spawn(crate::scan::scan_all::watch(state.clone()));
    let vulndb_watch = match crate::scan::vulndb::online::Settings::from_config(&state.config.scan)
    {
        Ok(Some(settings)) => Some(tokio::spawn(crate::scan::vulndb::online::job::watch(
            state.clone(),
            settings,
        ))),
        Ok(None) => None,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "the online refresh of the vulnerability database is off: its settings are wrong");
            None
        }
    };
    let session_sweep = tokio::spawn(session::sweep_expired(state.sessions.clone()));
    let signin_sweep = (state.db.backend() == crate::db::Backend::Postgres)
        .then(|| tokio::spawn(crate::auth::throttle::sweep_shared(state.db.clone())));
    // Connection info gives handlers the peer address, for the audit log.
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP");
    // Scrapes are answered until the main port has drained.
    let _ = metrics_stop.send(());
    if let Some(server) = metrics_server {
        let _ = server.await;
    }
    purge.abort();
    rematch_watch.abort();
    if let Some(watch) = vulndb_watch {
        watch.abort();
    }
    session_sweep.abort();
    if let Some(sweep) = signin_sweep {
        sweep.abort();
    }
    // Running jobs are asked to stop and go back to the queue (within `[jobs] shutdown_grace_secs`).
    job_node.shutdown().await;
    state.pulls.flush().await;
    state.db.close().await;
    tracing::info!("berth stopped");
    result
}

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
