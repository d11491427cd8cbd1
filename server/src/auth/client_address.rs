//! Where a request comes from: its TCP peer, or, when that peer is one of the configured `trusted_proxies`,
//! the client the proxy names in `X-Forwarded-For` ([`crate::config::TrustedProxies`]).
//!
//! [`ClientAddressLayer`] works it out once per request, before any handler runs, and hands it on twice: as a request
//! extension ([`ClientAddress`]; the audit log's [`crate::events::audit::ClientIp`] and the sign-in throttle's
//! [`super::throttle::PeerIp`] read it) and as a task-local for code that sees only the headers (the `/v2`
//! handlers, through [`ClientAddress::current`]). The sign-in throttle and the audit log therefore always
//! agree on who a client is.

use std::net::{IpAddr, SocketAddr};
use std::task::{Context, Poll};

use axum::extract::{ConnectInfo, Request};
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};

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
    /// The client address of the request this task serves (set by [`ClientAddressLayer`]); `None` outside one.
    pub fn current() -> ClientAddress {
        CURRENT.try_with(|address| *address).unwrap_or_default()
    }

    /// The address a request's extensions carry: the one [`ClientAddressLayer`] stored, else the TCP peer.
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

/// The layer that works out each request's client address and makes it available to everything below.
///
/// A service of its own rather than `axum::middleware::from_fn`, which boxes every request's future.
#[derive(Clone, Debug)]
pub struct ClientAddressLayer {
    state: AppState,
}

impl ClientAddressLayer {
    pub fn new(state: AppState) -> ClientAddressLayer {
        ClientAddressLayer { state }
    }
}

impl<S> Layer<S> for ClientAddressLayer {
    type Service = WithClientAddress<S>;

    fn layer(&self, inner: S) -> WithClientAddress<S> {
        WithClientAddress {
            inner,
            state: self.state.clone(),
        }
    }
}

/// The service of [`ClientAddressLayer`].
#[derive(Clone, Debug)]
pub struct WithClientAddress<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request> for WithClientAddress<S>
where
    S: Service<Request>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<ClientAddress, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let trusted_proxies = &self.state.config.trusted_proxies;
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip());
        let address = ClientAddress(peer.map(|peer| {
            trusted_proxies.client_address(
                peer,
                request
                    .headers()
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok()),
            )
        }));
        // What a forwarding header says is believed only from a trusted proxy: from anyone else it is dropped
        // here, so nothing below (the token challenge's scheme in `registry::access::base_url`) can be misled
        // by it.
        if !peer.is_some_and(|peer| trusted_proxies.contains(peer)) {
            let headers = request.headers_mut();
            headers.remove("x-forwarded-for");
            headers.remove("x-forwarded-proto");
            headers.remove("x-forwarded-host");
            headers.remove(axum::http::header::FORWARDED);
        }
        request.extensions_mut().insert(address);
        // The task-local is set while the layers below build their future, and while it runs.
        let inner = CURRENT.sync_scope(address, || self.inner.call(request));
        CURRENT.scope(address, inner)
    }
}
