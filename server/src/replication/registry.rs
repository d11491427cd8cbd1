//! The two sides of a copy: Berth itself ([`Local`]) and a registry endpoint ([`Remote`]), behind one
//! distribution-API client ([`Side`]).
//!
//! Berth as a destination is written through its own `/v2` router, in process: a replicated push takes the
//! path a client's takes (auth as the policy's creator, quotas, immutable tags, events, scan on push). Berth as
//! a source is read from its database and blob store (a replication read is not a pull: no pull counts or
//! pull events). A remote endpoint is reached through the proxy's upstream client (its token flow and egress
//! guards), with push rights when it is the destination.

use std::pin::Pin;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use tower::ServiceExt;

use crate::app::AppState;
use crate::auth::token::Grant;
use crate::oci::Digest;
use crate::proxy::Endpoint;
use crate::proxy::upstream::{RequestBody, Upstream};

/// A body being read: chunks, or an error text.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, String>> + Send>>;

/// A request's body, for either side.
pub enum Payload {
    Empty,
    Bytes(Bytes),
    /// A stream of known length.
    Stream(ByteStream, u64),
}

/// An answer from either side.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: ByteStream,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Reads the body, at most `limit` bytes.
    pub async fn bytes(mut self, limit: usize) -> Result<Bytes, String> {
        let mut out = Vec::new();
        while let Some(chunk) = self.body.next().await {
            let chunk = chunk?;
            if out.len() + chunk.len() > limit {
                return Err(format!("the answer is larger than {limit} bytes"));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(out))
    }
}

/// Berth itself.
pub struct Local {
    pub state: AppState,
    router: axum::Router,
    /// Who the writes are made as: the policy's creator.
    operator: String,
    /// The token of each repository written, with when to sign a new one: one per repository, not one per
    /// request (each verified token takes room in the token service's cache).
    tokens: std::sync::Mutex<std::collections::HashMap<String, (String, std::time::Instant)>>,
    /// Projects this side created for pulled repositories (see [`MAX_PROJECTS_CREATED`]).
    projects_created: Budget,
}

/// A count of things one execution may still do, shared by its tasks.
#[derive(Debug)]
pub struct Budget {
    used: std::sync::atomic::AtomicUsize,
    limit: usize,
}

impl Budget {
    pub fn new(limit: usize) -> Budget {
        Budget {
            used: std::sync::atomic::AtomicUsize::new(0),
            limit,
        }
    }

    /// Takes one; false when none is left.
    pub fn take(&self) -> bool {
        use std::sync::atomic::Ordering;
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .is_ok()
    }
}

/// The most projects one execution creates in Berth: a pull source names the repositories, so a hostile one
/// could otherwise have Berth create a project per repository it lists.
pub const MAX_PROJECTS_CREATED: usize = 100;

/// The most repositories whose tokens one side keeps (a run writes one at a time; this only bounds memory).
const MAX_TOKENS: usize = 64;

/// A registry endpoint.
pub struct Remote {
    pub endpoint: Endpoint,
    pub upstream: std::sync::Arc<Upstream>,
}

/// One side of a copy.
pub enum Side {
    Local(Local),
    Remote(Remote),
}

impl Local {
    pub fn new(state: &AppState, operator: &str) -> Local {
        Local {
            router: crate::app::router(state.clone()),
            state: state.clone(),
            operator: operator.to_owned(),
            tokens: std::sync::Mutex::default(),
            projects_created: Budget::new(MAX_PROJECTS_CREATED),
        }
    }

    /// Who writes are made as.
    pub fn operator(&self) -> &str {
        &self.operator
    }

    /// Takes one of this execution's [`MAX_PROJECTS_CREATED`] project creations; false when none is left.
    pub fn may_create_project(&self) -> bool {
        self.projects_created.take()
    }

    /// A token for writing `repository` as the operator, reused until half its lifetime is gone.
    fn token(&self, repository: &str) -> Result<String, String> {
        let mut tokens = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((token, renew)) = tokens.get(repository)
            && std::time::Instant::now() < *renew
        {
            return Ok(token.clone());
        }
        let grant = Grant {
            kind: "repository".to_owned(),
            name: repository.to_owned(),
            actions: vec!["pull".to_owned(), "push".to_owned(), "delete".to_owned()],
        };
        let issued = self
            .state
            .tokens
            .issue(&self.operator, vec![grant])
            .map_err(|e| format!("could not sign a token for the local write: {e}"))?;
        if tokens.len() >= MAX_TOKENS {
            tokens.clear();
        }
        let renew = std::time::Instant::now() + issued.expires_in / 2;
        tokens.insert(repository.to_owned(), (issued.token.clone(), renew));
        Ok(issued.token)
    }

    async fn call(
        &self,
        method: Method,
        repository: &str,
        path: &str,
        headers: HeaderMap,
        body: Payload,
    ) -> Result<Reply, String> {
        let token = self.token(repository)?;
        let body = match body {
            Payload::Empty => Body::empty(),
            Payload::Bytes(bytes) => Body::from(bytes),
            Payload::Stream(stream, _) => Body::from_stream(stream.map_err(std::io::Error::other)),
        };
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .body(body)
            .map_err(|e| format!("bad local request {path}: {e}"))?;
        *request.headers_mut() = headers;
        let bearer =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?;
        request.headers_mut().insert(header::AUTHORIZATION, bearer);
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| format!("local request failed: {e}"))?;
        let (parts, body) = response.into_parts();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body: Box::pin(body.into_data_stream().map_err(|e| e.to_string())),
        })
    }
}

impl Side {
    /// Whether this side is Berth or a Harbor (cross-repository mounts work there).
    pub fn mounts(&self) -> bool {
        match self {
            Side::Local(_) => true,
            Side::Remote(remote) => remote.endpoint.kind == crate::proxy::EndpointKind::Harbor,
        }
    }

    /// Sends a distribution-API request for `repository` (with push rights when `write`).
    pub async fn call(
        &self,
        method: Method,
        repository: &str,
        path: &str,
        headers: HeaderMap,
        body: Payload,
        write: bool,
    ) -> Result<Reply, String> {
        match self {
            Side::Local(local) => local.call(method, repository, path, headers, body).await,
            Side::Remote(remote) => {
                let body = match body {
                    Payload::Empty => RequestBody::Empty,
                    Payload::Bytes(bytes) => RequestBody::Bytes(bytes),
                    Payload::Stream(stream, _) => {
                        RequestBody::Stream(reqwest::Body::wrap_stream(stream))
                    }
                };
                let actions = if write { "pull,push" } else { "pull" };
                let response = remote
                    .upstream
                    .exchange(method, Some(repository), actions, path, headers, body)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Reply {
                    status: response.status(),
                    headers: response.headers().clone(),
                    body: Box::pin(response.bytes_stream().map_err(|e| e.to_string())),
                })
            }
        }
    }

    /// [`Side::call`] without headers or body.
    pub async fn bare(
        &self,
        method: Method,
        repository: &str,
        path: &str,
        write: bool,
    ) -> Result<Reply, String> {
        self.call(
            method,
            repository,
            path,
            HeaderMap::new(),
            Payload::Empty,
            write,
        )
        .await
    }

    /// Reads a blob of a source repository: its size and bytes.
    pub async fn blob(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<(u64, ByteStream), String> {
        match self {
            Side::Local(local) => {
                let size = local
                    .state
                    .blobs
                    .size(digest)
                    .await
                    .map_err(|e| format!("reading blob {digest}: {e}"))?
                    .ok_or_else(|| format!("blob {digest} is not in Berth's store"))?;
                let body = local
                    .state
                    .blobs
                    .read(digest, None)
                    .await
                    .map_err(|e| format!("reading blob {digest}: {e}"))?;
                Ok((
                    size,
                    Box::pin(body.into_data_stream().map_err(|e| e.to_string())),
                ))
            }
            Side::Remote(_) => {
                let path = format!("/v2/{repository}/blobs/{digest}");
                let reply = self.bare(Method::GET, repository, &path, false).await?;
                if reply.status != StatusCode::OK {
                    return Err(format!(
                        "GET blob {digest} of {repository} answered {}",
                        reply.status
                    ));
                }
                let size = reply
                    .header("content-length")
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| format!("GET blob {digest} of {repository} stated no length"))?;
                Ok((size, reply.body))
            }
        }
    }
}

/// The path and query of an upload `Location`, which may be absolute; an absolute one must stay on the
/// side's own origin (`base`), so a hostile registry cannot send the upload (and the credential) elsewhere.
pub fn location_path(location: &str, base: Option<&str>) -> Result<String, String> {
    if location.starts_with('/') {
        return Ok(location.to_owned());
    }
    let url =
        url::Url::parse(location).map_err(|e| format!("bad upload location {location:?}: {e}"))?;
    if let Some(base) = base
        && let Ok(base) = url::Url::parse(base)
        && url.origin() == base.origin()
    {
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        return Ok(path);
    }
    Err(format!(
        "the registry sent the upload to another origin ({}); refused",
        crate::proxy::egress::origin(&url)
    ))
}

impl Side {
    /// The base URL, for [`location_path`].
    pub fn base(&self) -> Option<String> {
        match self {
            Side::Local(_) => None,
            Side::Remote(remote) => Some(remote.endpoint.api_base()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_runs_out_and_stays_out() {
        let budget = Budget::new(2);
        assert!(budget.take());
        assert!(budget.take());
        assert!(!budget.take());
        assert!(!budget.take());
    }

    #[test]
    fn upload_locations_stay_on_the_registrys_origin() -> Result<(), String> {
        let base = Some("http://127.0.0.1:5000");
        assert_eq!(
            location_path("/v2/a/blobs/uploads/1?x=y", base)?,
            "/v2/a/blobs/uploads/1?x=y"
        );
        assert_eq!(
            location_path("http://127.0.0.1:5000/v2/a/blobs/uploads/1?s=2", base)?,
            "/v2/a/blobs/uploads/1?s=2"
        );
        assert!(location_path("http://169.254.169.254/v2/a", base).is_err());
        assert!(location_path("http://127.0.0.1:5001/v2/a", base).is_err());
        assert!(location_path("v2/a", base).is_err());
        Ok(())
    }
}
