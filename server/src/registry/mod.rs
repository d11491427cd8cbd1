//! The OCI Distribution API v1.1 (`/v2`): one file per area of the spec.
//!
//! <https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md>
//! Repository names contain slashes, so everything under `/v2/` is routed by [`parse_route`], which reads
//! the path from its end (`…/manifests/<ref>`, `…/blobs/<digest>`, `…/blobs/uploads/<id>`, …).

pub mod access;
mod blobs;
mod catalog;
pub mod error;
mod manifests;
mod referrers;
pub(crate) mod s3_uploads;
mod tags;
mod uploads;

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::AppState;
use crate::events::audit::{self, ClientIp};
use crate::oci::{Digest, RepositoryName};
pub use blobs::parse_range;
pub use error::RegistryError;
pub use uploads::content_range_start;

/// The digest header of manifest and blob responses.
pub(crate) const DOCKER_CONTENT_DIGEST: HeaderName =
    HeaderName::from_static("docker-content-digest");

/// Query parameters of a `/v2` request.
pub type Params = HashMap<String, String>;

/// The `/v2` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2", get(base))
        .route("/v2/", get(base))
        .route("/v2/_catalog", get(catalog::list))
        .route("/v2/{*path}", any(dispatch))
        // The headers of every `/v2` response: the API version clients look for, and what keeps a browser from
        // running anything `/v2` serves on Berth's origin. Content here comes from pushers and upstreams, so it
        // is never sniffed into another type, and a document opened from it runs sandboxed (no scripts, an
        // opaque origin without Berth's cookies). Set over whatever a handler put there.
        .layer(
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    HeaderName::from_static("docker-distribution-api-version"),
                    HeaderValue::from_static("registry/2.0"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("sandbox"),
                )),
        )
}

/// `GET /v2/`: 200 for an authenticated caller, 401 with a token challenge otherwise.
async fn base(State(state): State<AppState>, client: ClientIp, headers: HeaderMap) -> Response {
    let caller = access::authenticate(&state, &headers).await;
    // Turned away as one sign-in too many at once (429): no password was checked, so nothing to audit.
    if !matches!(caller, Err(RegistryError::SignInBusy(_))) {
        audit::basic_sign_in(&state.db, &headers, caller.is_ok(), &client).await;
    }
    let unauthorized = |message: &str| {
        RegistryError::Unauthorized {
            message: message.to_owned(),
            challenge: access::challenge(&state, &headers, None, false),
        }
        .into_response()
    };
    match caller {
        Ok(access::Caller::User(_)) => axum::Json(serde_json::json!({})).into_response(),
        Ok(caller @ access::Caller::Token(_)) => {
            let access::Caller::Token(claims) = &caller else {
                return unauthorized("authentication required");
            };
            if claims.sub.is_empty() {
                return if claims.access.is_empty() {
                    unauthorized("authentication required")
                } else {
                    axum::Json(serde_json::json!({})).into_response()
                };
            }
            // The token's user or robot as it is now: one removed or disabled since is signed in no more.
            match caller.subject(&state).await {
                Ok(crate::auth::Subject::Anonymous) => unauthorized(
                    "the token's user or robot no longer exists or is disabled; log in again",
                ),
                Ok(_) => axum::Json(serde_json::json!({})).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Ok(access::Caller::Anonymous) => unauthorized("authentication required"),
        Err(e) => e.into_response(),
    }
}

/// A parsed `/v2/<name>/…` path.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// The reference is kept raw: an invalid one is a 404 on reads and a 400 on writes.
    Manifest(RepositoryName, String),
    Blob(RepositoryName, Digest),
    UploadStart(RepositoryName),
    Upload(RepositoryName, String),
    Tags(RepositoryName),
    Referrers(RepositoryName, Digest),
}

fn parse_name(segments: &[&str]) -> Result<RepositoryName, RegistryError> {
    segments
        .join("/")
        .parse()
        .map_err(|e: crate::oci::name::NameError| RegistryError::NameInvalid(e.to_string()))
}

fn parse_digest(s: &str) -> Result<Digest, RegistryError> {
    s.parse().map_err(|e: crate::oci::digest::DigestError| {
        RegistryError::DigestInvalid(format!("{s:?}: {e}"))
    })
}

/// Parses the part of the path after `/v2/`.
pub fn parse_route(path: &str) -> Result<Route, RegistryError> {
    let segments: Vec<&str> = path.split('/').collect();
    let n = segments.len();
    let at = |i: usize| if i < n { segments[i] } else { "" };
    if n >= 3 && at(n - 2) == "tags" && at(n - 1) == "list" {
        return Ok(Route::Tags(parse_name(&segments[..n - 2])?));
    }
    if n >= 4 && at(n - 3) == "blobs" && at(n - 2) == "uploads" {
        let name = parse_name(&segments[..n - 3])?;
        return Ok(match at(n - 1) {
            "" => Route::UploadStart(name),
            id => Route::Upload(name, id.to_owned()),
        });
    }
    if n >= 3 && at(n - 2) == "blobs" && at(n - 1) == "uploads" {
        return Ok(Route::UploadStart(parse_name(&segments[..n - 2])?));
    }
    if n >= 3 && at(n - 2) == "manifests" {
        return Ok(Route::Manifest(
            parse_name(&segments[..n - 2])?,
            at(n - 1).to_owned(),
        ));
    }
    if n >= 3 && at(n - 2) == "blobs" {
        return Ok(Route::Blob(
            parse_name(&segments[..n - 2])?,
            parse_digest(at(n - 1))?,
        ));
    }
    if n >= 3 && at(n - 2) == "referrers" {
        return Ok(Route::Referrers(
            parse_name(&segments[..n - 2])?,
            parse_digest(at(n - 1))?,
        ));
    }
    Err(RegistryError::NotFound(format!(
        "no registry endpoint at /v2/{path}"
    )))
}

async fn dispatch(
    State(state): State<AppState>,
    method: Method,
    Path(path): Path<String>,
    Query(params): Query<Params>,
    client: ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (result, template) = match parse_route(&path) {
        Err(e) => (Err(e), None),
        Ok(route) => {
            let template = route.template();
            let result =
                route_request(&state, method, route, &params, &headers, &client, body).await;
            (result, Some(template))
        }
    };
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    // The metrics name the route's template, never the repository (see `crate::metrics::http`).
    if let Some(template) = template {
        response.extensions_mut().insert(template);
    }
    response
}

impl Route {
    /// The route's template, as the OCI distribution spec writes its endpoints.
    pub fn template(&self) -> crate::metrics::RouteTemplate {
        crate::metrics::RouteTemplate(match self {
            Route::Manifest(..) => "/v2/{name}/manifests/{reference}",
            Route::Blob(..) => "/v2/{name}/blobs/{digest}",
            Route::UploadStart(..) => "/v2/{name}/blobs/uploads/",
            Route::Upload(..) => "/v2/{name}/blobs/uploads/{reference}",
            Route::Tags(..) => "/v2/{name}/tags/list",
            Route::Referrers(..) => "/v2/{name}/referrers/{digest}",
        })
    }
}

async fn route_request(
    state: &AppState,
    method: Method,
    route: Route,
    params: &Params,
    headers: &HeaderMap,
    client: &ClientIp,
    body: Body,
) -> Result<Response, RegistryError> {
    match (route, method) {
        (Route::Manifest(name, reference), Method::GET) => {
            manifests::get(state, headers, client, &name, &reference, false).await
        }
        (Route::Manifest(name, reference), Method::HEAD) => {
            manifests::get(state, headers, client, &name, &reference, true).await
        }
        (Route::Manifest(name, reference), Method::PUT) => {
            manifests::put(state, headers, client, &name, &reference, body).await
        }
        (Route::Manifest(name, reference), Method::DELETE) => {
            manifests::delete(state, headers, client, &name, &reference).await
        }
        (Route::Blob(name, digest), Method::GET) => {
            blobs::get(state, headers, &name, &digest, false).await
        }
        (Route::Blob(name, digest), Method::HEAD) => {
            blobs::get(state, headers, &name, &digest, true).await
        }
        (Route::Blob(name, digest), Method::DELETE) => {
            blobs::delete(state, headers, client, &name, &digest).await
        }
        (Route::UploadStart(name), Method::POST) => {
            uploads::start(state, headers, &name, params, body).await
        }
        (Route::Upload(name, id), Method::GET) => uploads::status(state, headers, &name, &id).await,
        (Route::Upload(name, id), Method::PATCH) => {
            uploads::patch(state, headers, &name, &id, body).await
        }
        (Route::Upload(name, id), Method::PUT) => {
            uploads::finish(state, headers, &name, &id, params, body).await
        }
        (Route::Upload(name, id), Method::DELETE) => {
            uploads::cancel(state, headers, &name, &id).await
        }
        (Route::Tags(name), Method::GET) => tags::list(state, headers, &name, params).await,
        (Route::Referrers(name, digest), Method::GET) => {
            referrers::list(state, headers, &name, &digest, params).await
        }
        (_, method) => Err(RegistryError::Unsupported(format!(
            "method {method} is not allowed here"
        ))),
    }
}

/// Builds a response with an empty body from a status and headers.
fn empty(status: StatusCode, headers: &[(&str, String)]) -> Response {
    let mut response = (status, Body::empty()).into_response();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Reads `n` and `last` pagination parameters. `n` is capped at 10,000 per page.
fn pagination(params: &Params) -> Result<(Option<i64>, Option<&str>), RegistryError> {
    let n = match params.get("n") {
        None => None,
        Some(n) => Some(
            n.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    RegistryError::PaginationInvalid(format!("invalid page size n={n:?}"))
                })?
                .min(10_000),
        ),
    };
    Ok((
        n,
        params
            .get("last")
            .map(String::as_str)
            .filter(|l| !l.is_empty()),
    ))
}

/// Cuts a page fetched with `n + 1` rows down to `n`, returning the `Link` header of the next page
/// when there is one (`<base?n=N&last=LAST>; rel="next"`).
fn next_page(items: &mut Vec<String>, n: Option<i64>, base: &str) -> Option<HeaderValue> {
    let n = usize::try_from(n?).ok()?;
    if items.len() <= n {
        return None;
    }
    items.truncate(n);
    let last = items.last()?;
    HeaderValue::from_str(&format!("<{base}?n={n}&last={last}>; rel=\"next\"")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> RepositoryName {
        s.parse().unwrap_or_else(|_| unreachable!("{s}"))
    }

    #[test]
    fn routes_are_read_from_the_end() {
        let d = Digest::sha256_of(b"x");
        assert_eq!(
            parse_route("p/a/b/manifests/latest").ok(),
            Some(Route::Manifest(name("p/a/b"), "latest".into()))
        );
        assert_eq!(
            parse_route(&format!("p/blobs/blobs/{d}")).ok(),
            Some(Route::Blob(name("p/blobs"), d.clone()))
        );
        assert_eq!(
            parse_route("p/r/blobs/uploads/").ok(),
            Some(Route::UploadStart(name("p/r")))
        );
        assert_eq!(
            parse_route("p/r/blobs/uploads").ok(),
            Some(Route::UploadStart(name("p/r")))
        );
        assert_eq!(
            parse_route("p/r/blobs/uploads/abc").ok(),
            Some(Route::Upload(name("p/r"), "abc".into()))
        );
        assert_eq!(
            parse_route("p/manifests/tags/list").ok(),
            Some(Route::Tags(name("p/manifests")))
        );
        assert_eq!(
            parse_route(&format!("p/r/referrers/{d}")).ok(),
            Some(Route::Referrers(name("p/r"), d))
        );
        assert!(matches!(
            parse_route("P/r/tags/list"),
            Err(RegistryError::NameInvalid(_))
        ));
        assert!(matches!(
            parse_route("p/r/blobs/sha256:zz"),
            Err(RegistryError::DigestInvalid(_))
        ));
        assert!(matches!(
            parse_route("p/r/whatever"),
            Err(RegistryError::NotFound(_))
        ));
    }

    #[test]
    fn pagination_is_validated() {
        let params = |n: &str| Params::from([("n".to_owned(), n.to_owned())]);
        assert!(matches!(pagination(&params("5")), Ok((Some(5), None))));
        assert!(matches!(
            pagination(&params("-1")),
            Err(RegistryError::PaginationInvalid(_))
        ));
        assert!(matches!(
            pagination(&params("x")),
            Err(RegistryError::PaginationInvalid(_))
        ));
    }
}
