//! Harbor's read-only mode (`read_only` in `/configurations`): while it is on, every request that could
//! change something is refused before it reaches a handler, with Harbor's answer: 403 and
//! `{"errors":[{"code":"DENIED","message":"The system is in read only mode. Any modification is prohibited."}]}`
//! (Harbor's `src/server/middleware/readonly/readonly.go`). The body is valid on `/v2` too: `DENIED` is an
//! error code of the OCI distribution spec.
//!
//! Safe methods (GET, HEAD, OPTIONS) always pass, and so do the requests Harbor lets through
//! (`src/server/middlewares.go`, `readonlySkippers`): `PUT /api/v2.0/configurations` (to turn it off), signing
//! in and out, and OIDC onboarding.

use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_api::ErrorResponse;
use futures_util::future::{self, Either, Ready};
use tower::{Layer, Service};

use crate::app::AppState;

/// Harbor's message.
pub const MESSAGE: &str = "The system is in read only mode. Any modification is prohibited.";

/// Requests that pass even in read-only mode, as `(method, path)`.
const EXEMPT: &[(Method, &str)] = &[
    (Method::PUT, "/api/v2.0/configurations"),
    (Method::POST, "/c/login"),
    (Method::POST, "/c/log_out"),
    (Method::POST, "/c/oidc/onboard"),
];

fn passes(method: &Method, path: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let path = path.trim_end_matches('/');
    EXEMPT.iter().any(|(m, p)| m == method && *p == path)
}

/// The layer that refuses changes while the system configuration says `read_only`.
///
/// A service of its own rather than `axum::middleware::from_fn`, which boxes every request's future.
#[derive(Clone, Debug)]
pub struct ReadOnlyLayer {
    state: AppState,
}

impl ReadOnlyLayer {
    pub fn new(state: AppState) -> ReadOnlyLayer {
        ReadOnlyLayer { state }
    }
}

impl<S> Layer<S> for ReadOnlyLayer {
    type Service = RefuseChanges<S>;

    fn layer(&self, inner: S) -> RefuseChanges<S> {
        RefuseChanges {
            inner,
            state: self.state.clone(),
        }
    }
}

/// The service of [`ReadOnlyLayer`].
#[derive(Clone, Debug)]
pub struct RefuseChanges<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request> for RefuseChanges<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if !passes(request.method(), request.uri().path())
            && self.state.system_config.current().read_only
        {
            tracing::info!(method = %request.method(), path = %request.uri().path(), "refused: read-only mode is on");
            let refused = (
                StatusCode::FORBIDDEN,
                axum::Json(ErrorResponse::single("DENIED", MESSAGE)),
            )
                .into_response();
            return Either::Left(future::ready(Ok(refused)));
        }
        Either::Right(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reads_and_harbors_exceptions_pass() {
        assert!(passes(&Method::GET, "/v2/library/app/manifests/v1"));
        assert!(passes(&Method::HEAD, "/v2/library/app/blobs/sha256:00"));
        assert!(passes(&Method::PUT, "/api/v2.0/configurations"));
        assert!(passes(&Method::PUT, "/api/v2.0/configurations/"));
        assert!(passes(&Method::POST, "/c/login"));
        assert!(!passes(&Method::POST, "/api/v2.0/configurations"));
        assert!(!passes(&Method::PUT, "/v2/library/app/manifests/v1"));
        assert!(!passes(&Method::POST, "/v2/library/app/blobs/uploads/"));
        assert!(!passes(&Method::PATCH, "/api/v2.0/robots/1"));
        assert!(!passes(&Method::DELETE, "/api/v2.0/projects/1"));
        assert!(!passes(&Method::POST, "/api/v2.0/projects"));
    }
}
