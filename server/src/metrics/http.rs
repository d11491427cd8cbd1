//! Requests on the main port: a counter by route template, method and status code, and a latency
//! histogram by route template and method.
//!
//! The route is axum's [`MatchedPath`] (the template, e.g. `/api/v2.0/projects/{project_name}`), or the
//! [`RouteTemplate`] a handler that routes a wildcard itself puts on its response (`/v2` names
//! `/v2/{name}/manifests/{reference}`); a request no route matched (the console's pages and assets, unknown
//! paths) is `unmatched`. Never the path itself: its cardinality would be the caller's to choose.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use dashmap::DashMap;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tower::{Layer, Service};

use super::{Histogram, Metrics};

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// The route template a handler that dispatches a wildcard route itself names on its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteTemplate(pub &'static str);

/// An interned route template: cloning it is a reference count.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteLabel(Arc<str>);

impl EncodeLabelValue for RouteLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, &self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    route: RouteLabel,
    method: &'static str,
    code: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RouteLabels {
    route: RouteLabel,
    method: &'static str,
}

/// The HTTP metrics and the route templates seen so far.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    pub(super) requests: Family<RequestLabels, Counter>,
    pub(super) duration: Family<RouteLabels, Histogram>,
    routes: DashMap<Box<str>, RouteLabel>,
}

impl HttpMetrics {
    /// Records a request to `route` answered with `code` after `elapsed`.
    pub fn record(&self, route: &str, method: &'static str, code: u16, elapsed: Duration) {
        let route = self.intern(route);
        self.duration
            .get_or_create(&RouteLabels {
                route: route.clone(),
                method,
            })
            .observe(elapsed);
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                code,
            })
            .inc();
    }

    /// Requests to `route` by `method` answered with `code` so far (for tests).
    pub fn requests(&self, route: &str, method: &'static str, code: u16) -> u64 {
        self.requests
            .get(&RequestLabels {
                route: self.intern(route),
                method,
                code,
            })
            .map_or(0, |c| c.get())
    }

    /// The label of `route`, allocated the first time a template is seen (templates are the router's, so
    /// there are a bounded number of them).
    fn intern(&self, route: &str) -> RouteLabel {
        if let Some(label) = self.routes.get(route) {
            return label.clone();
        }
        self.routes
            .entry(route.into())
            .or_insert_with(|| RouteLabel(route.into()))
            .clone()
    }
}

/// The route label of a request: the handler's own template, else the router's, else [`UNMATCHED`].
pub fn route_label<'a>(
    template: Option<&RouteTemplate>,
    matched: Option<&'a MatchedPath>,
) -> &'a str {
    match (template, matched) {
        (Some(RouteTemplate(template)), _) => template,
        (None, Some(matched)) => matched.as_str(),
        (None, None) => UNMATCHED,
    }
}

/// The method label: the methods Berth serves by name, anything else `other` (methods are the caller's
/// to invent).
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The layer that times every request to its response headers and counts it.
///
/// A service of its own rather than `axum::middleware::from_fn`, which boxes the request's future and
/// clones a boxed service on every request; this one adds a few words to the future and allocates nothing.
#[derive(Clone, Debug)]
pub struct TrackLayer {
    metrics: Arc<Metrics>,
}

impl TrackLayer {
    pub fn new(metrics: Arc<Metrics>) -> TrackLayer {
        TrackLayer { metrics }
    }
}

impl<S> Layer<S> for TrackLayer {
    type Service = Track<S>;

    fn layer(&self, inner: S) -> Track<S> {
        Track {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service of [`TrackLayer`].
#[derive(Clone, Debug)]
pub struct Track<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B> Service<Request> for Track<S>
where
    S: Service<Request, Response = Response<B>>,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = TrackFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        TrackFuture {
            start: Instant::now(),
            method: method_label(request.method()),
            matched: request.extensions().get::<MatchedPath>().cloned(),
            metrics: self.metrics.clone(),
            inner: self.inner.call(request),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Track`]: records the request when its response is ready.
    pub struct TrackFuture<F> {
        #[pin]
        inner: F,
        start: Instant,
        method: &'static str,
        matched: Option<MatchedPath>,
        metrics: Arc<Metrics>,
    }
}

impl<F, B, E> Future for TrackFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Ok(response) = &result {
            let route = route_label(response.extensions().get(), this.matched.as_ref());
            this.metrics.http.record(
                route,
                this.method,
                response.status().as_u16(),
                this.start.elapsed(),
            );
        }
        Poll::Ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handlers_template_wins_then_the_routers() {
        assert_eq!(route_label(None, None), UNMATCHED);
        let template = RouteTemplate("/v2/{name}/manifests/{reference}");
        assert_eq!(
            route_label(Some(&template), None),
            "/v2/{name}/manifests/{reference}"
        );
    }

    #[test]
    fn unknown_methods_are_one_label() -> Result<(), axum::http::method::InvalidMethod> {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW")?), "other");
        assert_eq!(method_label(&Method::TRACE), "other");
        Ok(())
    }

    #[test]
    fn routes_are_interned_once() {
        let http = HttpMetrics::default();
        http.record("/v2/", "GET", 401, Duration::from_millis(1));
        http.record("/v2/", "GET", 401, Duration::from_millis(2));
        http.record("/v2/", "GET", 200, Duration::from_millis(2));
        assert_eq!(http.routes.len(), 1);
        assert_eq!(http.requests("/v2/", "GET", 401), 2);
        assert_eq!(http.requests("/v2/", "GET", 200), 1);
        assert_eq!(http.requests("/v2/", "HEAD", 200), 0);
    }
}
