//! Proxy-cache projects: pulls through a registry endpoint, cached locally.
//!
//! A project with a `registry_id` is a read-only cache of that endpoint. `HOST/<project>/<path>` is the upstream's
//! `<path>` (on Docker Hub `nginx` is `library/nginx`). The registry handlers call [`pull`] for manifests, blobs
//! and tag lists of such projects.

pub mod endpoint;
pub mod upstream;

pub use endpoint::{Credential, Endpoint, EndpointKind};
pub use upstream::{Health, Upstream, UpstreamError};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::config::ProxyConfig;

/// The proxy cache's shared state: one upstream client per endpoint (keeping its auth tokens), and the fetches
/// in flight.
#[derive(Debug)]
pub struct Proxy {
    config: ProxyConfig,
    upstreams: Mutex<HashMap<i64, Arc<Upstream>>>,
}

impl Proxy {
    pub fn new(config: ProxyConfig) -> Proxy {
        Proxy {
            config,
            upstreams: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// Drops the client of endpoint `id` (after it was edited or deleted), so the next pull uses the new URL and
    /// credential. The cached content of its projects stays.
    pub fn forget_endpoint(&self, id: i64) {
        self.upstreams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&id);
    }
}
