//! Pulls what an adapter scan reads from the caller's registry: the manifest (bounded) and each layer as a
//! stream, with the caller's `Authorization` header.
//!
//! The client follows the proxy-cache upstream client's egress rules ([`crate::proxy::egress`]): the registry URL
//! the caller gave is allowed, but a redirect (a blob store) may go to a private address only when that URL is on
//! one, and to a loopback or link-local address only when it is that URL's own address; never from `https` to
//! `http`. reqwest drops `Authorization` on a redirect to another host. Connect and read timeouts come from
//! `[proxy]`; the manifest has a total timeout and at most [`MAX_MANIFEST_BYTES`].

use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt as _, TryStreamExt as _};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use tokio_util::io::{StreamReader, SyncIoBridge};

use crate::config::ProxyConfig;
use crate::oci::manifest::MAX_MANIFEST_BYTES;
use crate::proxy::egress::{Egress, GuardedResolver};
use crate::proxy::upstream::MANIFEST_ACCEPT;
use crate::scan::inventory::{LayerInventory, Limits, analyze_layer};
use crate::scan::layers::Layer;

/// The longest a manifest request may take in all.
const MANIFEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A registry a scan request names.
pub struct RemoteRegistry {
    http: reqwest::Client,
    /// `scheme://host[:port]`, without a trailing `/`.
    base: String,
    authorization: Option<String>,
}

impl std::fmt::Debug for RemoteRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteRegistry")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Checks a registry URL: `http` or `https` with a host, no credentials, query or fragment; returns it
/// without a trailing `/`.
pub fn check_registry_url(text: &str) -> Result<reqwest::Url, String> {
    if text.len() > 1024 {
        return Err("registry.url is longer than 1024 characters".to_owned());
    }
    let url = reqwest::Url::parse(text).map_err(|_| "registry.url is not a URL".to_owned())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err("registry.url must be http:// or https:// with a host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "registry.url must not hold credentials: use registry.authorization".to_owned(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("registry.url must have no query or fragment".to_owned());
    }
    Ok(url)
}

impl RemoteRegistry {
    pub fn new(
        url: &str,
        authorization: &str,
        config: &ProxyConfig,
    ) -> Result<RemoteRegistry, String> {
        let parsed = check_registry_url(url)?;
        let egress = Arc::new(Egress::new(&parsed));
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout())
            .read_timeout(config.read_timeout())
            .user_agent(concat!("berth-scanner-adapter/", env!("CARGO_PKG_VERSION")))
            .redirect(egress.redirect_policy(0))
            .dns_resolver(Arc::new(GuardedResolver {
                egress: egress.clone(),
                endpoint_id: 0,
            }))
            .build()
            .map_err(|e| format!("no HTTP client: {e}"))?;
        Ok(RemoteRegistry {
            http,
            base: parsed.as_str().trim_end_matches('/').to_owned(),
            authorization: (!authorization.is_empty()).then(|| authorization.to_owned()),
        })
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.get(format!("{}/v2/{path}", self.base));
        match &self.authorization {
            Some(value) => request.header(AUTHORIZATION, value),
            None => request,
        }
    }

    /// The manifest `reference` of `repository`: its bytes and media type.
    pub async fn manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<(Vec<u8>, String), String> {
        let fetch = async {
            let response = self
                .get(&format!("{repository}/manifests/{reference}"))
                .header(ACCEPT, MANIFEST_ACCEPT)
                .send()
                .await
                .map_err(|e| describe("the manifest request failed", &e))?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("the registry answered {status} for the manifest"));
            }
            let media_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned())
                .unwrap_or_default();
            if response
                .content_length()
                .is_some_and(|n| n > MAX_MANIFEST_BYTES as u64)
            {
                return Err(format!(
                    "the manifest is larger than {MAX_MANIFEST_BYTES} bytes"
                ));
            }
            let mut body = Vec::new();
            let mut stream = response.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| describe("reading the manifest failed", &e))?;
                if body.len() + chunk.len() > MAX_MANIFEST_BYTES {
                    return Err(format!(
                        "the manifest is larger than {MAX_MANIFEST_BYTES} bytes"
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok((body, media_type))
        };
        tokio::time::timeout(MANIFEST_TIMEOUT, fetch)
            .await
            .map_err(|_| "the manifest request timed out".to_owned())?
    }

    /// Streams layer `layer` of `repository` into the inventory reader, never storing it.
    pub async fn analyze(
        &self,
        repository: &str,
        layer: &Layer,
        limits: &Limits,
    ) -> Result<LayerInventory, String> {
        let response = self
            .get(&format!("{repository}/blobs/{}", layer.digest))
            .send()
            .await
            .map_err(|e| describe("the layer request failed", &e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!(
                "the registry answered {status} for layer {}",
                layer.digest
            ));
        }
        let reader = StreamReader::new(response.bytes_stream().map_err(std::io::Error::other));
        let reader = SyncIoBridge::new(reader);
        let media_type = layer.media_type.clone();
        let key = layer.digest.to_string();
        let limits = limits.clone();
        let analysis =
            tokio::task::spawn_blocking(move || analyze_layer(reader, &media_type, &key, &limits))
                .await
                .map_err(|e| format!("the layer reader stopped: {e}"))?
                .map_err(|e| format!("layer {}: {e}", layer.digest))?;
        analysis
            .finish()
            .await
            .map_err(|e| format!("layer {}: {e}", layer.digest))
    }
}

/// What went wrong with a request, for the scan's error (never the credential, which is a header).
fn describe(what: &str, error: &reqwest::Error) -> String {
    let why = if error.is_timeout() {
        "it timed out"
    } else if error.is_connect() {
        "the registry could not be reached"
    } else if error.is_redirect() {
        "a redirect was refused"
    } else {
        "the connection failed"
    };
    tracing::info!(error = %error, "adapter scan: {what}");
    format!("{what}: {why}")
}
