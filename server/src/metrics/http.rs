//! Requests on the main port: a counter by route template, method and status code, and a latency
//! histogram by route template and method.
//!
//! The route is axum's [`MatchedPath`] (the template, e.g. `/api/v2.0/projects/{project_name}`), or the
//! [`RouteTemplate`] a handler that routes a wildcard itself puts on its response (`/v2` names
//! `/v2/{name}/manifests/{reference}`); a request no route matched (the console's pages and assets, unknown
//! paths) is `unmatched`. Never the path itself: its cardinality would be the caller's to choose.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use dashmap::DashMap;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use super::Histogram;
use crate::app::AppState;

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

/// The middleware: times the request to its response headers and counts it.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(request.method());
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let route = route_label(response.extensions().get(), matched.as_ref());
    state
        .metrics
        .http
        .record(route, method, response.status().as_u16(), start.elapsed());
    response
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
