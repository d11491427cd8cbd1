//! Harbor's five pull-through scenarios against a real distribution registry, and the rest of the pull-through
//! contract: cached digests without upstream contact, multi-arch on demand, merged tag lists, Range and HEAD on
//! uncached blobs, include/exclude patterns, read-only projects, pull counts and quota.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::upstreams::{CountingForwarder, Distribution, FAULTY_TAG, Fault, FaultyUpstream};
use super::{
    RegistryClient, api_get, artifacts, create_endpoint, create_proxy_project, eventually, header,
    http_client, oci_error, proxy_project, start_berth,
};
use crate::images::{Image, MultiArch};
use crate::metrics::sample;
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer, sha256};

const REPO: &str = "library/app";
const PROXIED: &str = "hub/library/app";

/// Distribution with `image` as `library/app:v1`, a counting forwarder in front, and a Berth with a public proxy
/// project `hub` on the forwarder.
async fn setup(image: &Image) -> (Distribution, CountingForwarder, TestServer) {
    let registry = Distribution::start(None).await;
    registry.push_image(REPO, "v1", image).await;
    let forwarder = CountingForwarder::start(registry.addr()).await;
    let server = start_berth().await;
    proxy_project(&server, "hub", "docker-registry", &forwarder.base(), None).await;
    (registry, forwarder, server)
}

/// GETs of manifests or blobs the forwarder saw.
fn content_gets(forwarder: &CountingForwarder) -> usize {
    forwarder.count_where(|m, p| m == "GET" && (p.contains("/manifests/") || p.contains("/blobs/")))
}

// ---------------------------------------------------------------------------------------------------------
// The five scenarios.

/// 1. Not cached, exists upstream: fetched, cached (an artifact of the proxy project) and served.
#[tokio::test]
async fn not_cached_is_fetched_cached_and_served() {
    let image = Image::build(601, "amd64", &[3000, 40_000]);
    let (mut registry, forwarder, server) = setup(&image).await;
    let client = RegistryClient::anonymous(&server);
    client.pull(PROXIED, "v1", &image).await;
    for blob in image.referenced_blobs() {
        assert_eq!(
            forwarder.count("GET", &format!("/v2/{REPO}/blobs/{}", blob.digest)),
            1,
            "blob {} fetched once",
            blob.digest
        );
    }
    let listed = eventually(|| async {
        let list = artifacts(&server, "hub", REPO).await.unwrap_or_default();
        (!list.is_empty(), list)
    })
    .await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["digest"], image.manifest.digest.as_str());
    let tags: Vec<&str> = listed[0]["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(tags, ["v1"], "{}", listed[0]);

    // Cached for real: served with the upstream gone.
    registry.stop();
    client.pull(PROXIED, "v1", &image).await;
}

/// 2. Cached and unchanged upstream: served from the cache after a manifest HEAD by tag upstream, with no GET of
/// a manifest or blob (a HEAD does not count toward Docker Hub's pull limit).
#[tokio::test]
async fn cached_and_unchanged_is_checked_with_a_head_only() {
    let image = Image::build(602, "amd64", &[3000, 40_000]);
    let (_registry, forwarder, server) = setup(&image).await;
    let client = RegistryClient::anonymous(&server);
    client.pull(PROXIED, "v1", &image).await;
    forwarder.reset();
    client.pull(PROXIED, "v1", &image).await;
    let seen = forwarder.requests();
    assert!(
        forwarder.count("HEAD", &format!("/v2/{REPO}/manifests/v1")) >= 1,
        "the tag is checked upstream with a HEAD: {seen:?}"
    );
    assert_eq!(content_gets(&forwarder), 0, "no GET upstream: {seen:?}");
}

/// 3. Cached but changed upstream (the tag moved): the new content is fetched and served; the old one stays
/// available by digest.
#[tokio::test]
async fn moved_tag_upstream_serves_the_new_content() {
    let old = Image::build(603, "amd64", &[3000]);
    let new = Image::build(604, "amd64", &[5000]);
    let (registry, _forwarder, server) = setup(&old).await;
    let client = RegistryClient::anonymous(&server);
    client.pull(PROXIED, "v1", &old).await;
    registry.push_image(REPO, "v1", &new).await;
    client.pull(PROXIED, "v1", &new).await;
    client.pull(PROXIED, &old.manifest.digest, &old).await;
}

/// 4. Cached and upstream unreachable (stopped): the cached copy is served.
#[tokio::test]
async fn cached_is_served_when_the_upstream_is_stopped() {
    let image = Image::build(605, "amd64", &[3000, 40_000]);
    let (mut registry, _forwarder, server) = setup(&image).await;
    let client = RegistryClient::anonymous(&server);
    client.pull(PROXIED, "v1", &image).await;
    let metrics = server.state.metrics.scrape().await.unwrap();
    let proxied = |text: &str, kind, result| {
        sample(
            text,
            "berth_proxy_cache_requests_total",
            &[("kind", kind), ("result", result)],
        )
    };
    assert_eq!(proxied(&metrics, "manifest", "miss"), 1.0, "{metrics}");
    assert!(proxied(&metrics, "blob", "miss") >= 1.0, "{metrics}");
    assert_eq!(proxied(&metrics, "manifest", "stale"), 0.0);
    registry.stop();
    let started = Instant::now();
    client.pull(PROXIED, "v1", &image).await;
    client.pull(PROXIED, &image.manifest.digest, &image).await;
    let response = client.manifest(Method::HEAD, PROXIED, "v1").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "docker-content-digest"),
        image.manifest.digest
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "an unreachable upstream must not stall cached pulls"
    );
    // Served from the cache: stale by tag (the upstream was asked and failed), a hit by digest.
    let metrics = server.state.metrics.scrape().await.unwrap();
    assert!(proxied(&metrics, "manifest", "stale") >= 2.0, "{metrics}");
    assert!(proxied(&metrics, "manifest", "hit") >= 1.0, "{metrics}");
    assert!(
        sample(
            &metrics,
            "berth_proxy_upstream_errors_total",
            &[("kind", "manifest")]
        ) >= 2.0,
        "{metrics}"
    );

    // Back up: the tag is checked again and still served.
    registry.start_again().await;
    client.pull(PROXIED, "v1", &image).await;
}

/// 4. Cached and the upstream answers 500, 503 or 429, resets the connection, or hangs past the request timeout:
/// the cached copy is served.
#[tokio::test]
async fn cached_is_served_when_the_upstream_fails_or_rate_limits() {
    let image = Image::build(606, "amd64", &[3000, 40_000]);
    let upstream = FaultyUpstream::start(image.clone()).await;
    let server = start_berth().await;
    proxy_project(&server, "hub", "docker-registry", &upstream.base(), None).await;
    let client = RegistryClient::anonymous(&server);
    client.pull("hub/app", FAULTY_TAG, &image).await;
    for fault in [
        Fault::Status(500),
        Fault::Status(503),
        Fault::Status(429),
        Fault::Reset,
        Fault::Hang,
    ] {
        upstream.set_manifest_fault(fault);
        upstream.set_blob_fault(fault);
        let started = Instant::now();
        let response = client.manifest(Method::GET, "hub/app", FAULTY_TAG).await;
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        assert_eq!(
            status,
            StatusCode::OK,
            "{fault:?}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(sha256(&body), image.manifest.digest, "{fault:?}");
        for blob in image.referenced_blobs() {
            client.assert_blob("hub/app", blob).await;
        }
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{fault:?}: the request timeout (1.5 s) bounds the wait, took {:?}",
            started.elapsed()
        );
    }
}

/// 5. Cached but removed upstream (404): the pull by tag is refused.
#[tokio::test]
async fn removed_upstream_is_refused() {
    let image = Image::build(607, "amd64", &[3000]);
    let (registry, _forwarder, server) = setup(&image).await;
    let client = RegistryClient::anonymous(&server);
    client.pull(PROXIED, "v1", &image).await;
    registry.delete_manifest(REPO, &image.manifest.digest).await;
    let response = client.manifest(Method::GET, PROXIED, "v1").await;
    let (status, code, message) = oci_error(response).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{code}: {message}");
    assert_eq!(code, "MANIFEST_UNKNOWN");
    let response = client.manifest(Method::HEAD, PROXIED, "v1").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------------------------------------
// The rest of the pull-through contract.

/// A manifest and blobs cached by digest are served with the upstream stopped and no upstream contact at all.
#[tokio::test]
async fn cached_digests_are_served_without_upstream_contact() {
    let image = Image::build(608, "amd64", &[3000, 40_000]);
    let (mut registry, forwarder, server) = setup(&image).await;
    let client = RegistryClient::anonymous(&server);
    client.pull(PROXIED, "v1", &image).await;
    registry.stop();
    forwarder.reset();
    client.pull(PROXIED, &image.manifest.digest, &image).await;
    let response = client
        .send(
            Method::HEAD,
            &format!("/v2/{PROXIED}/blobs/{}", image.layers[1].digest),
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        forwarder.requests(),
        Vec::<(String, String)>::new(),
        "no upstream contact for cached digests"
    );
}

/// An image index is fetched by tag; a child is fetched on demand by digest, then both are cached.
#[tokio::test]
async fn multi_arch_index_and_children_are_fetched_on_demand() {
    let multi = MultiArch::build(609, &[2000, 20_000]);
    let mut registry = Distribution::start(None).await;
    registry.push_multi_arch(REPO, "v1", &multi).await;
    let forwarder = CountingForwarder::start(registry.addr()).await;
    let server = start_berth().await;
    proxy_project(&server, "hub", "docker-registry", &forwarder.base(), None).await;
    let client = RegistryClient::anonymous(&server);

    client.assert_manifest(PROXIED, "v1", &multi.index).await;
    let amd64 = &multi.children[0];
    client.pull(PROXIED, &amd64.manifest.digest, amd64).await;
    assert_eq!(
        forwarder.count(
            "GET",
            &format!("/v2/{REPO}/manifests/{}", amd64.manifest.digest)
        ),
        1,
        "the child is fetched once: {:?}",
        forwarder.requests()
    );

    registry.stop();
    client.assert_manifest(PROXIED, "v1", &multi.index).await;
    client.pull(PROXIED, &amd64.manifest.digest, amd64).await;
}

/// The tag list merges cached tags with upstream tags while the upstream answers, and is the cached tags alone
/// when it does not.
#[tokio::test]
async fn tags_list_merges_cached_and_upstream_tags() {
    let first = Image::build(610, "amd64", &[3000]);
    let second = Image::build(611, "amd64", &[3000]);
    let (mut registry, _forwarder, server) = setup(&first).await;
    let client = RegistryClient::anonymous(&server);
    client.pull(PROXIED, "v1", &first).await;
    // v1 now exists only in the cache; v2 only upstream.
    registry.delete_manifest(REPO, &first.manifest.digest).await;
    registry.push_image(REPO, "v2", &second).await;
    let (status, tags) = client.tags(PROXIED).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tags, ["v1", "v2"]);

    registry.stop();
    let (status, tags) = client.tags(PROXIED).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tags, ["v1"]);
}

/// `HEAD` and `Range` on a blob that is not cached behave as on a hosted project.
#[tokio::test]
async fn range_and_head_on_an_uncached_blob() {
    let image = Image::build(612, "amd64", &[50_000]);
    let (_registry, _forwarder, server) = setup(&image).await;
    let client = RegistryClient::anonymous(&server);
    let layer = &image.layers[0];
    let path = format!("/v2/{PROXIED}/blobs/{}", layer.digest);

    let response = client.send(Method::HEAD, &path, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-length"),
        layer.size().to_string()
    );
    assert_eq!(header(&response, "docker-content-digest"), layer.digest);

    let response = client
        .send(Method::GET, &path, &[("range", "bytes=10-99")])
        .await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&response, "content-range"),
        format!("bytes 10-99/{}", layer.size())
    );
    assert_eq!(header(&response, "content-length"), "90");
    assert_eq!(response.bytes().await.unwrap(), &layer.bytes[10..100]);

    // A suffix range on another uncached blob.
    let config = &image.config;
    let response = client
        .send(
            Method::GET,
            &format!("/v2/{PROXIED}/blobs/{}", config.digest),
            &[("range", "bytes=-16")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        response.bytes().await.unwrap(),
        &config.bytes[config.size() - 16..]
    );

    let missing = sha256(b"not upstream");
    let response = client
        .send(Method::HEAD, &format!("/v2/{PROXIED}/blobs/{missing}"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    client.pull(PROXIED, "v1", &image).await;
}

/// Include and exclude patterns: a refused repository gets `403 DENIED` naming the rule, and the upstream is
/// not asked.
#[tokio::test]
async fn include_and_exclude_patterns_refuse_repositories() {
    let image = Image::build(613, "amd64", &[1000]);
    let registry = Distribution::start(None).await;
    for repo in ["library/app", "library/secret-app", "other/app"] {
        registry.push_image(repo, "v1", &image).await;
    }
    let forwarder = CountingForwarder::start(registry.addr()).await;
    let server = start_berth().await;
    let id = create_endpoint(&server, "dist", "docker-registry", &forwarder.base(), None).await;
    create_proxy_project(
        &server,
        "hub",
        id,
        json!({"proxy_include": "library/**", "proxy_exclude": "library/secret*"}),
        None,
    )
    .await;
    let client = RegistryClient::anonymous(&server);
    client.pull("hub/library/app", "v1", &image).await;

    for (repo, rule) in [
        ("hub/other/app", "library/**"),
        ("hub/library/secret-app", "library/secret*"),
    ] {
        let (status, code, message) =
            oci_error(client.manifest(Method::GET, repo, "v1").await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{repo}: {code} {message}");
        assert_eq!(code, "DENIED", "{repo}");
        assert!(message.contains(rule), "{repo}: {message:?} names {rule}");
        let response = client
            .send(
                Method::GET,
                &format!("/v2/{repo}/blobs/{}", image.layers[0].digest),
                &[],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{repo} blob");
    }
    assert_eq!(
        forwarder.count_where(|_, p| p.contains("other/app") || p.contains("secret-app")),
        0,
        "refused names never reach the upstream"
    );
}

/// Clients cannot push to a proxy project, not even the admin.
#[tokio::test]
async fn push_to_a_proxy_project_is_refused() {
    let image = Image::build(614, "amd64", &[1000]);
    let (_registry, _forwarder, server) = setup(&image).await;
    let http = http_client();
    let response = http
        .post(server.url(&format!("/v2/{PROXIED}/blobs/uploads/")))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    let (status, code, _) = oci_error(response).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "DENIED"));
    let response = http
        .put(server.url(&format!("/v2/{PROXIED}/manifests/v2")))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .header("content-type", image.manifest.media_type.as_str())
        .body(image.manifest.bytes.clone())
        .send()
        .await
        .unwrap();
    let (status, code, _) = oci_error(response).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "DENIED"));
    // Nor by the token flow with push asked for.
    let client = RegistryClient::admin(&server);
    let response = client
        .send(Method::POST, &format!("/v2/{PROXIED}/blobs/uploads/"), &[])
        .await;
    assert!(
        matches!(
            response.status(),
            StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED
        ),
        "{}",
        response.status()
    );
}

/// Proxied pulls count in the artifact's pull count, and cached content counts toward the project's quota.
#[tokio::test]
async fn proxied_pulls_count_and_fill_the_quota() {
    let image = Image::build(615, "amd64", &[3000, 40_000]);
    let (_registry, _forwarder, server) = setup(&image).await;
    let client = RegistryClient::anonymous(&server);
    client.pull(PROXIED, "v1", &image).await;
    client.pull(PROXIED, "v1", &image).await;
    let count = eventually(|| async {
        let list = artifacts(&server, "hub", REPO).await.unwrap_or_default();
        let count = list
            .first()
            .and_then(|a| a["pull_count"].as_i64())
            .unwrap_or(0);
        (count >= 2, count)
    })
    .await;
    assert_eq!(count, 2, "two manifest GETs, two pulls");

    let total: usize = image
        .referenced_blobs()
        .iter()
        .map(|b| b.size())
        .sum::<usize>()
        + image.manifest.size();
    let used = eventually(|| async {
        let summary = api_get(&server, "/projects/hub/summary").await;
        let used = summary["quota"]["used"]["storage"].as_i64().unwrap_or(0);
        (used >= total as i64 - image.manifest.size() as i64, summary)
    })
    .await;
    let storage = used["quota"]["used"]["storage"].as_i64().unwrap_or(0);
    assert!(
        storage > 0 && storage >= (total - image.manifest.size()) as i64,
        "cached bytes count toward the quota ({total} pulled): {used}"
    );
}

/// A full quota never breaks a pull: it is served, and nothing is cached (with the upstream gone it fails).
#[tokio::test]
async fn full_quota_still_serves_and_caches_nothing() {
    let image = Image::build(616, "amd64", &[3000, 40_000]);
    let mut registry = Distribution::start(None).await;
    registry.push_image(REPO, "v1", &image).await;
    let server = start_berth().await;
    let id = create_endpoint(&server, "dist", "docker-registry", &registry.base(), None).await;
    create_proxy_project(&server, "tiny", id, json!({}), Some(1)).await;
    let client = RegistryClient::anonymous(&server);
    client.pull("tiny/library/app", "v1", &image).await;

    let summary: Value = api_get(&server, "/projects/tiny/summary").await;
    assert_eq!(summary["quota"]["used"]["storage"], 0, "{summary}");

    registry.stop();
    let (status, _) = client.get_manifest("tiny/library/app", "v1").await;
    let mut failed = status != StatusCode::OK;
    for blob in image.referenced_blobs() {
        failed |= !matches!(
            client.download("tiny/library/app", &blob.digest, &[]).await,
            super::Download::Complete(StatusCode::OK, _)
        );
    }
    assert!(failed, "nothing may be cached past the quota");
    assert!(
        artifacts(&server, "tiny", REPO)
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

/// Editing the endpoint, even its URL, keeps the project's cache: cached digests are still served, and tags are
/// checked against the new upstream from the next pull on.
#[tokio::test]
async fn editing_the_endpoint_keeps_the_cache() {
    let old = Image::build(620, "amd64", &[3000]);
    let new = Image::build(621, "amd64", &[4000]);
    let (mut first, _forwarder, server) = setup(&old).await;
    let client = RegistryClient::anonymous(&server);
    client.pull(PROXIED, "v1", &old).await;
    let second = Distribution::start(None).await;
    second.push_image(REPO, "v1", &new).await;
    let id = api_get(&server, "/registries").await[0]["id"]
        .as_i64()
        .expect("endpoint id");
    let response = http_client()
        .put(server.url(&format!("/api/v2.0/registries/{id}")))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&json!({"url": second.base()}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    first.stop();
    // The old image stays cached; the tag now follows the new upstream.
    client.pull(PROXIED, &old.manifest.digest, &old).await;
    client.pull(PROXIED, "v1", &new).await;
    let project = api_get(&server, "/projects/hub").await;
    assert_eq!(project["registry_id"], id, "{project}");
}
