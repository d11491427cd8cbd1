//! A misbehaving upstream: truncated bodies, wrong digests, stalls, resets and error statuses. A client never
//! receives a complete body with the wrong digest, nothing corrupt is cached, and once the upstream is healthy
//! again the content is fetched anew and served correctly.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

use super::upstreams::{FAULTY_TAG, Fault, FaultyUpstream};
use super::{Download, RegistryClient, describe, oci_error, proxy_project, start_berth};
use crate::images::Image;
use crate::support::{TestServer, free_port, sha256};

const REPO: &str = "hub/app";

async fn setup(seed: u64) -> (Image, FaultyUpstream, TestServer, RegistryClient) {
    let image = Image::build(seed, "amd64", &[200_000]);
    let upstream = FaultyUpstream::start(image.clone()).await;
    let server = start_berth().await;
    proxy_project(&server, "hub", "docker-registry", &upstream.base(), None).await;
    let client = RegistryClient::anonymous(&server);
    (image, upstream, server, client)
}

/// The blob fault `fault` on a cold blob: the client gets an error status or a broken body, quickly; nothing is
/// cached; once healthy the blob is fetched from upstream again and served correctly, and then from the cache.
async fn blob_fault_is_never_served_nor_cached(seed: u64, fault: Fault) {
    let (image, upstream, _server, client) = setup(seed).await;
    client
        .assert_manifest(REPO, FAULTY_TAG, &image.manifest)
        .await;
    let layer = &image.layers[0];
    let upstream_path = format!("/v2/app/blobs/{}", layer.digest);

    upstream.set_blob_fault(fault);
    let started = Instant::now();
    let outcome = client.download(REPO, &layer.digest, &[]).await;
    let elapsed = started.elapsed();
    match (&outcome, fault) {
        (Download::Status(status, code), Fault::Status(500)) => {
            assert_eq!(
                (*status, code.as_str()),
                (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE")
            );
        }
        (Download::Status(status, code), Fault::Status(429)) => {
            assert_eq!(
                (*status, code.as_str()),
                (StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS")
            );
        }
        (Download::Status(status, _), _) => {
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{fault:?}: {status}"
            );
            assert_ne!(*status, StatusCode::NOT_FOUND, "{fault:?}: the blob exists");
        }
        (Download::Broken { received, .. }, _) => {
            assert!(
                *received < layer.size(),
                "{fault:?}: {}",
                describe(&outcome)
            );
        }
        (Download::Complete(..), _) => panic!(
            "{fault:?}: a complete body was served for a failed upstream fetch: {}",
            describe(&outcome)
        ),
    }
    assert!(
        elapsed < Duration::from_secs(10),
        "{fault:?}: the failure must come within the timeouts (read 1 s), took {elapsed:?}"
    );
    assert!(
        upstream.count("GET", &upstream_path) >= 1,
        "{fault:?}: the upstream was asked"
    );

    let asked = upstream.count("GET", &upstream_path);
    upstream.set_blob_fault(Fault::Healthy);
    client.assert_blob(REPO, layer).await;
    assert!(
        upstream.count("GET", &upstream_path) > asked,
        "{fault:?}: nothing was cached, so the blob is fetched again"
    );

    // Verified and cached now: served whatever the upstream does (only this layer was fetched whole).
    upstream.set_blob_fault(fault);
    client.assert_blob(REPO, layer).await;
}

#[tokio::test]
async fn truncated_blob_is_not_served_nor_cached() {
    blob_fault_is_never_served_nor_cached(901, Fault::Truncate).await;
}

#[tokio::test]
async fn wrong_digest_blob_is_not_served_nor_cached() {
    blob_fault_is_never_served_nor_cached(902, Fault::WrongDigest).await;
}

#[tokio::test]
async fn stalled_blob_is_not_served_nor_cached() {
    blob_fault_is_never_served_nor_cached(903, Fault::Stall).await;
}

#[tokio::test]
async fn reset_blob_is_not_served_nor_cached() {
    blob_fault_is_never_served_nor_cached(904, Fault::Reset).await;
}

#[tokio::test]
async fn blob_upstream_500_is_503_and_not_cached() {
    blob_fault_is_never_served_nor_cached(905, Fault::Status(500)).await;
}

#[tokio::test]
async fn blob_upstream_429_is_429_and_not_cached() {
    blob_fault_is_never_served_nor_cached(906, Fault::Status(429)).await;
}

/// Clients waiting on one failing fetch all see the failure; none gets a complete body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_shared_fetch_fails_every_waiter() {
    let (image, upstream, server, _client) = setup(907).await;
    let layer = image.layers[0].clone();
    upstream.set_blob_fault(Fault::WrongDigest);
    let base = server.url("");
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let base = base.clone();
            let digest = layer.digest.clone();
            tokio::spawn(async move {
                RegistryClient::new(&base, None)
                    .download(REPO, &digest, &[])
                    .await
            })
        })
        .collect();
    for task in tasks {
        let outcome = task.await.unwrap();
        assert!(
            !matches!(outcome, Download::Complete(..)),
            "{}",
            describe(&outcome)
        );
    }
    upstream.set_blob_fault(Fault::Healthy);
    RegistryClient::new(&base, None)
        .assert_blob(REPO, &layer)
        .await;
}

/// A manifest fetched by digest whose upstream bytes do not match the digest is refused and not cached.
#[tokio::test]
async fn wrong_digest_manifest_by_digest_is_refused() {
    let (image, upstream, _server, client) = setup(910).await;
    upstream.set_manifest_fault(Fault::WrongDigest);
    let (status, body) = client.get_manifest(REPO, &image.manifest.digest).await;
    assert!(
        !status.is_success(),
        "{status}: served {} for {}",
        sha256(&body),
        image.manifest.digest
    );
    let asked = upstream.count("GET", "/v2/app/manifests/");
    upstream.set_manifest_fault(Fault::Healthy);
    client
        .assert_manifest(REPO, &image.manifest.digest, &image.manifest)
        .await;
    assert!(
        upstream.count("GET", "/v2/app/manifests/") > asked,
        "the bad manifest was not cached"
    );
}

/// Cold manifest, upstream 500 (or 503): `503 UNAVAILABLE`, for GET and HEAD.
#[tokio::test]
async fn cold_manifest_upstream_500_is_503() {
    let (_image, upstream, _server, client) = setup(911).await;
    for status in [500, 503] {
        upstream.set_manifest_fault(Fault::Status(status));
        let (got, code, _) = oci_error(client.manifest(Method::GET, REPO, FAULTY_TAG).await).await;
        assert_eq!(
            (got, code.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
            "upstream {status}"
        );
        let response = client.manifest(Method::HEAD, REPO, FAULTY_TAG).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}

/// Cold manifest, upstream 429: `429 TOOMANYREQUESTS`.
#[tokio::test]
async fn cold_manifest_upstream_429_is_429() {
    let (_image, upstream, _server, client) = setup(912).await;
    upstream.set_manifest_fault(Fault::Status(429));
    let (got, code, _) = oci_error(client.manifest(Method::GET, REPO, FAULTY_TAG).await).await;
    assert_eq!(
        (got, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS")
    );
}

/// Cold manifest, upstream hangs past the request timeout or resets: `503 UNAVAILABLE`, within the timeout.
#[tokio::test]
async fn cold_manifest_upstream_hang_or_reset_is_503() {
    let (image, upstream, _server, client) = setup(913).await;
    for fault in [Fault::Hang, Fault::Reset] {
        upstream.set_manifest_fault(fault);
        let started = Instant::now();
        let (got, code, _) = oci_error(client.manifest(Method::GET, REPO, FAULTY_TAG).await).await;
        assert_eq!(
            (got, code.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
            "{fault:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{fault:?}: request timeout is 1.5 s, took {:?}",
            started.elapsed()
        );
    }
    upstream.set_manifest_fault(Fault::Healthy);
    client.pull(REPO, FAULTY_TAG, &image).await;
}

/// Cold pull from an upstream that is not listening at all: `503 UNAVAILABLE`.
#[tokio::test]
async fn cold_manifest_unreachable_upstream_is_503() {
    let server = start_berth().await;
    let url = format!("http://127.0.0.1:{}", free_port());
    proxy_project(&server, "hub", "docker-registry", &url, None).await;
    let client = RegistryClient::anonymous(&server);
    let (got, code, _) = oci_error(client.manifest(Method::GET, REPO, "v1").await).await;
    assert_eq!(
        (got, code.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE")
    );
}

/// What the upstream does not have: `404 MANIFEST_UNKNOWN` / `404 BLOB_UNKNOWN`.
#[tokio::test]
async fn unknown_upstream_content_is_404() {
    let (_image, _upstream, _server, client) = setup(914).await;
    let (got, code, _) = oci_error(client.manifest(Method::GET, REPO, "nope").await).await;
    assert_eq!(
        (got, code.as_str()),
        (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN")
    );
    let missing = sha256(b"missing");
    let (got, code, _) = oci_error(
        client
            .send(Method::GET, &format!("/v2/{REPO}/blobs/{missing}"), &[])
            .await,
    )
    .await;
    assert_eq!(
        (got, code.as_str()),
        (StatusCode::NOT_FOUND, "BLOB_UNKNOWN")
    );
}

/// The upstream's `RateLimit-Remaining` (Docker Hub sends it on manifest requests) shows on the endpoint after a
/// pull, for the console's Registries page.
#[tokio::test]
async fn the_upstream_rate_limit_shows_on_the_endpoint() {
    let (image, _upstream, server, client) = setup(640).await;
    let before = super::api_get(&server, "/registries").await;
    assert!(before[0]["ratelimit_remaining"].is_null(), "{before}");
    client
        .assert_manifest(REPO, FAULTY_TAG, &image.manifest)
        .await;
    let after = super::api_get(&server, "/registries").await;
    assert_eq!(after[0]["ratelimit_remaining"], "97;w=21600", "{after}");
}
