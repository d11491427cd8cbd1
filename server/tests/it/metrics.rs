//! `/metrics` on the metrics listener (`[metrics] listen`, Harbor's `metric.port`): what a push and a pull
//! move, that the scrape is valid Prometheus text (`promtool check metrics`), and that the main port does
//! not serve it.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::Value;

use crate::registry::{AsAdmin, OCI_MANIFEST, push_image};
use crate::support::{BinaryServer, TestServer, client, free_port};

/// A Berth with its metrics listener on a free port; returns the server and the scrape URL.
///
/// The port is free when picked, but another test's socket may take it before the server binds it; the
/// server then stops at once (a taken metrics address stops the start), and a new port is tried.
async fn start() -> (TestServer, String) {
    for _ in 0..5 {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let server = TestServer::start_with(|config| config.metrics.listen = Some(addr)).await;
        if wait_for(addr, || server.has_stopped()).await {
            return (server, format!("http://{addr}/metrics"));
        }
        server.stop().await;
    }
    panic!("no metrics listener after 5 ports");
}

/// Waits for the metrics listener, which a server binds as it starts serving: true once it answers, false
/// when `stopped` says the server stopped instead (its port was taken).
async fn wait_for(addr: SocketAddr, stopped: impl Fn() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        if stopped() {
            return false;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no metrics listener at {addr}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    true
}

/// A metrics address another socket holds stops the server at start, saying so (what [`start`]'s retry relies
/// on).
#[tokio::test]
async fn a_taken_metrics_address_stops_the_server() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let server = TestServer::start_with(|config| config.metrics.listen = Some(addr)).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !server.has_stopped() {
        assert!(std::time::Instant::now() < deadline, "still running");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let error = format!("{:#}", server.outcome().await.unwrap_err());
    assert!(
        error.contains(&format!("binding the metrics listener to {addr}")),
        "{error}"
    );
}

async fn scrape(url: &str) -> String {
    let response = client().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    response.text().await.unwrap()
}

/// The value of sample `name` whose labels include all of `labels` (0 when there is none; the sum when
/// several match).
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            (metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

/// `promtool check metrics` on `text`. Without promtool the check is skipped, except under CI (`CI` set),
/// where it must run (scripts/test.sh installs Debian's `prometheus` package for it).
fn promtool_check(text: &str) {
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "promtool is not installed; under CI it must be (apt-get install prometheus)"
        );
        eprintln!(
            "SKIPPED promtool check metrics: promtool is not installed (apt-get install prometheus)"
        );
        return;
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(text.as_bytes()).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics failed:\n{}{}\n--- scrape ---\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

const MANIFESTS: &str = "/v2/{name}/manifests/{reference}";
const BLOBS: &str = "/v2/{name}/blobs/{digest}";
const UPLOADS: &str = "/v2/{name}/blobs/uploads/";

#[tokio::test]
async fn a_push_and_a_pull_move_the_counters() {
    let (server, url) = start().await;
    let http = client();
    let before = scrape(&url).await;
    promtool_check(&before);
    assert_eq!(sample(&before, "berth_pushes_total", &[]), 0.0);
    assert_eq!(sample(&before, "berth_blob_upload_bytes_total", &[]), 0.0);

    let (manifest, digest) = push_image(&server, &http, "library/metered", "v1", "metrics").await;
    let manifest: Value = serde_json::from_slice(&manifest).unwrap();
    let size = |d: &Value| d["size"].as_u64().unwrap();
    let layer = &manifest["layers"][0];
    let pushed = size(&manifest["config"]) + size(layer);
    let response = http
        .get(server.url(&format!("/v2/library/metered/manifests/{digest}")))
        .admin()
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let layer_digest = layer["digest"].as_str().unwrap();
    let response = http
        .get(server.url(&format!("/v2/library/metered/blobs/{layer_digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.unwrap().len() as u64, size(layer));
    // A HEAD is no pull; a miss of an unknown manifest is a 404 of the same route.
    let response = http
        .head(server.url("/v2/library/metered/manifests/v1"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .get(server.url("/v2/library/metered/manifests/nope"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let after = scrape(&url).await;
    promtool_check(&after);
    let library = [("project", "library")];
    assert_eq!(sample(&after, "berth_pushes_total", &library), 1.0);
    assert_eq!(sample(&after, "berth_pulls_total", &library), 1.0);
    assert_eq!(
        sample(&after, "berth_blob_upload_bytes_total", &[]),
        pushed as f64
    );
    assert_eq!(
        sample(&after, "berth_blob_download_bytes_total", &[]),
        size(layer) as f64
    );
    let requests = |route, method, code| {
        sample(
            &after,
            "berth_http_requests_total",
            &[("route", route), ("method", method), ("code", code)],
        )
    };
    assert_eq!(requests(UPLOADS, "POST", "201"), 2.0, "{after}");
    assert_eq!(requests(MANIFESTS, "PUT", "201"), 1.0);
    assert_eq!(requests(MANIFESTS, "GET", "200"), 1.0);
    assert_eq!(requests(MANIFESTS, "HEAD", "200"), 1.0);
    assert_eq!(requests(MANIFESTS, "GET", "404"), 1.0);
    assert_eq!(requests(BLOBS, "GET", "200"), 1.0);
    assert_eq!(
        sample(
            &after,
            "berth_http_request_duration_seconds_count",
            &[("route", MANIFESTS), ("method", "GET")]
        ),
        2.0
    );
    // Routes are templates: no repository, tag or digest is ever a label.
    for leak in ["metered", digest.as_str(), layer_digest, "nope"] {
        assert!(!after.contains(leak), "{leak} leaked into the metrics");
    }

    // The database gauges are cached for a few seconds; once that has passed, the push shows.
    tokio::time::sleep(berth::metrics::database::CACHE_FOR).await;
    let later = scrape(&url).await;
    assert!(sample(&later, "berth_project_storage_used_bytes", &library) >= pushed as f64);
    assert_eq!(sample(&later, "berth_upload_sessions", &[]), 0.0);
    assert_eq!(
        sample(
            &later,
            "berth_jobs",
            &[("kind", "GARBAGE_COLLECTION"), ("state", "pending")]
        ),
        0.0
    );
    assert!(sample(&later, "berth_database_connections", &[]) >= 1.0);
    server.stop().await;
}

#[tokio::test]
async fn only_the_metrics_listener_serves_them() {
    let (server, url) = start().await;
    let http = client();
    // The main port's `/metrics` is the console's (history-mode) page, never the metrics.
    let response = http.get(server.url("/metrics")).send().await.unwrap();
    let body = response.text().await.unwrap();
    assert!(!body.contains("berth_http_requests_total"), "{body}");
    // The metrics listener serves its path and nothing else.
    let base = url.trim_end_matches("/metrics");
    for path in ["/", "/v2/", "/api/v2.0/systeminfo", "/metrics/x"] {
        let response = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The main port's requests are counted, the scrapes are not.
    scrape(&url).await;
    let text = scrape(&url).await;
    assert!(
        sample(
            &text,
            "berth_http_requests_total",
            &[("route", "unmatched")]
        ) >= 1.0
    );
    assert_eq!(
        sample(&text, "berth_http_requests_total", &[("route", "/metrics")]),
        0.0
    );
    server.stop().await;
}

#[tokio::test]
async fn the_listener_and_path_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let server = BinaryServer::start_with_env(
        &dir.path().join("data"),
        &[
            ("BERTH_METRICS__LISTEN", listen.as_str()),
            ("BERTH_METRICS__PATH", "/internal/metrics"),
        ],
    );
    let http = client();
    let response = http.get(server.url("/v2/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(wait_for(listen.parse().unwrap(), || false).await);
    let text = scrape(&format!("http://{listen}/internal/metrics")).await;
    assert_eq!(
        sample(
            &text,
            "berth_http_requests_total",
            &[("route", "/v2/"), ("method", "GET"), ("code", "401")]
        ),
        1.0
    );
    let response = http
        .get(format!("http://{listen}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    drop(server);
}
