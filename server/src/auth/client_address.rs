//! Where a request comes from: its TCP peer, or, when that peer is one of the configured `trusted_proxies`,
//! the client the proxy names in `X-Forwarded-For` ([`crate::config::TrustedProxies`]).
//!
//! [`middleware`] works it out once per request, before any handler runs, and hands it on twice: as a request
//! extension ([`ClientAddress`]; the audit log's [`crate::events::audit::ClientIp`] and the sign-in throttle's
//! [`super::throttle::PeerIp`] read it) and as a task-local for code that sees only the headers (the `/v2`
//! handlers, through [`ClientAddress::current`]). The sign-in throttle and the audit log therefore always
//! agree on who a client is.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::app::AppState;
use crate::config::canonical_address;

/// The client address of the request being served; `None` when the server runs without connection info
/// (a router driven directly in a test).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

tokio::task_local! {
    static CURRENT: ClientAddress;
}

/// The address, or nothing when there is none (as the request span shows it).
impl std::fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => ip.fmt(f),
            None => Ok(()),
        }
    }
}

impl ClientAddress {
    /// The client address of the request this task serves (set by [`middleware`]); `None` outside one.
    pub fn current() -> ClientAddress {
        CURRENT.try_with(|address| *address).unwrap_or_default()
    }

    /// The address a request's extensions carry: the one [`middleware`] stored, else the TCP peer.
    pub fn of(extensions: &axum::http::Extensions) -> ClientAddress {
        if let Some(address) = extensions.get::<ClientAddress>() {
            return *address;
        }
        ClientAddress(
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| canonical_address(peer.ip())),
        )
    }
}

/// Middleware: works out the request's client address and makes it available to everything below.
pub async fn middleware(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let address = ClientAddress(peer.map(|peer| {
        state.config.trusted_proxies.client_address(
            peer,
            request
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok()),
        )
    }));
    // What a forwarding header says is believed only from a trusted proxy: from anyone else it is dropped here,
    // so nothing below (the token challenge's scheme in `registry::access::base_url`) can be misled by it.
    if !peer.is_some_and(|peer| state.config.trusted_proxies.contains(peer)) {
        let headers = request.headers_mut();
        headers.remove("x-forwarded-for");
        headers.remove("x-forwarded-proto");
        headers.remove("x-forwarded-host");
        headers.remove(axum::http::header::FORWARDED);
    }
    request.extensions_mut().insert(address);
    CURRENT.scope(address, next.run(request)).await
}
