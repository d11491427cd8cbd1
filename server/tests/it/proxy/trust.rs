//! What a proxy-cache project trusts its upstream with (issue 13): nothing it says is served unless it is a
//! manifest, and nothing in Berth's store is served through the project because the upstream claims to have it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode as AxumStatus;
use axum::response::{IntoResponse as _, Response};
use reqwest::{Method, StatusCode};

use super::hostile::Hostile;
use super::{
    Download, RegistryClient, artifacts, describe, header, oci_error, proxy_project, push_image,
    start_berth,
};
use crate::images::{Blob, Image};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer, sha256};

/// What a browser sends when it opens a link.
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// An upstream that answers every manifest request with `body` as `content_type` (and its true digest), and
/// `/v2/` with 200.
fn manifests_as(content_type: &'static str, body: Vec<u8>) -> Router {
    Router::new().fallback(move |request: Request| {
        let body = body.clone();
        async move {
            let path = request.uri().path();
            if path == "/v2/" {
                return (AxumStatus::OK, "{}").into_response();
            }
            if !path.contains("/manifests/") {
                return AxumStatus::NOT_FOUND.into_response();
            }
            (
                [
                    ("content-type", content_type.to_owned()),
                    ("docker-content-digest", sha256(&body)),
                ],
                body,
            )
                .into_response()
        }
    })
}

/// Stored XSS: an upstream answering a manifest GET with `text/html` and a script is refused with a
/// 502 OCI error; Berth never sends it, never as `text/html`, and caches nothing. A real manifest sent with a
/// wrong `Content-Type` is served as the manifest media type it declares.
#[tokio::test]
async fn html_from_an_upstream_is_never_served() {
    let page = b"<html><body><script>alert(document.domain)</script></body></html>".to_vec();
    let upstream = Hostile::start("127.0.0.1", manifests_as("text/html", page.clone())).await;
    let server = start_berth().await;
    proxy_project(&server, "evil", "docker-registry", &upstream.base(), None).await;
    let client = RegistryClient::anonymous(&server);

    for reference in ["latest".to_owned(), sha256(&page)] {
        let response = client
            .send(
                Method::GET,
                &format!("/v2/evil/web/app/manifests/{reference}"),
                &[("accept", BROWSER_ACCEPT)],
            )
            .await;
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert_eq!(header(&response, "content-security-policy"), "sandbox");
        let content_type = header(&response, "content-type");
        assert!(
            content_type.starts_with("application/json"),
            "{reference}: {content_type}"
        );
        let (status, code, message) = oci_error(response).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{reference}: {message}");
        assert_eq!(code, "MANIFEST_INVALID");
        assert!(!message.contains("<script"), "{message}");
        assert!(message.contains("text/html"), "says why: {message}");
    }
    assert!(
        artifacts(&server, "evil", "web/app")
            .await
            .unwrap_or_default()
            .is_empty(),
        "nothing cached"
    );

    // A real manifest with a wrong Content-Type is served as what it is.
    let image = Image::build(811, "amd64", &[100]);
    let honest = Hostile::start(
        "127.0.0.1",
        manifests_as("text/html", image.manifest.bytes.clone()),
    )
    .await;
    proxy_project(
        &server,
        "mislabelled",
        "docker-registry",
        &honest.base(),
        None,
    )
    .await;
    let response = client
        .send(
            Method::GET,
            "/v2/mislabelled/web/app/manifests/v1",
            &[("accept", BROWSER_ACCEPT)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), image.manifest.media_type);
    assert_eq!(
        response.bytes().await.unwrap().to_vec(),
        image.manifest.bytes
    );
    server.stop().await;
}

/// An upstream that claims every blob (a `HEAD` answers 200), serves `manifest` for every tag, and sends blob
/// bytes only once `serve_blobs` is set (then only those of `blobs`).
fn claims_everything(manifest: Blob, blobs: Vec<Blob>, serve_blobs: Arc<AtomicBool>) -> Router {
    Router::new().fallback(move |request: Request| {
        let (manifest, blobs, serve) = (manifest.clone(), blobs.clone(), serve_blobs.clone());
        async move {
            let path = request.uri().path().to_owned();
            if path == "/v2/" {
                return (AxumStatus::OK, "{}").into_response();
            }
            if path.contains("/manifests/") {
                return (
                    [
                        ("content-type", manifest.media_type.clone()),
                        ("docker-content-digest", manifest.digest.clone()),
                    ],
                    manifest.bytes.clone(),
                )
                    .into_response();
            }
            let Some((_, digest)) = path.rsplit_once("/blobs/") else {
                return AxumStatus::NOT_FOUND.into_response();
            };
            if request.method() == axum::http::Method::HEAD {
                return Response::builder()
                    .header("content-length", "1234")
                    .header("docker-content-digest", digest)
                    .body(axum::body::Body::empty())
                    .unwrap();
            }
            match blobs.iter().find(|b| b.digest == digest) {
                Some(blob) if serve.load(Ordering::SeqCst) => blob.bytes.clone().into_response(),
                _ => AxumStatus::NOT_FOUND.into_response(),
            }
        }
    })
}

/// A private project's image, pushed as admin.
async fn private_image(server: &TestServer, seed: u64) -> Image {
    server.create_project("secret", false).await;
    let image = Image::build(seed, "amd64", &[3000, 5000]);
    push_image(
        &server.url(""),
        Some((ADMIN_USER, ADMIN_PASSWORD)),
        "secret/app",
        "v1",
        &image,
    )
    .await;
    image
}

/// Cross-tenant reads: a blob of a private project is not served anonymously through a public proxy project
/// whose upstream claims it (`HEAD` 200) or lists it in a manifest. Once the upstream really serves it, it is
/// downloaded once, verified, and served; then it comes from the cache.
#[tokio::test]
async fn another_projects_blob_is_not_served_because_an_upstream_claims_it() {
    let server = start_berth().await;
    let secret = private_image(&server, 812).await;
    let serve = Arc::new(AtomicBool::new(false));
    let upstream = Hostile::start(
        "127.0.0.1",
        claims_everything(
            secret.manifest.clone(),
            secret.layers.clone(),
            serve.clone(),
        ),
    )
    .await;
    proxy_project(&server, "evil", "docker-registry", &upstream.base(), None).await;
    let client = RegistryClient::anonymous(&server);
    let (first, second) = (&secret.layers[0], &secret.layers[1]);

    // The upstream says it has the blob.
    let response = client
        .send(
            Method::HEAD,
            &format!("/v2/evil/x/blobs/{}", first.digest),
            &[],
        )
        .await;
    assert_ne!(
        header(&response, "content-length"),
        first.size().to_string(),
        "a HEAD tells nothing of Berth's store"
    );
    let outcome = client.download("evil/x", &first.digest, &[]).await;
    assert!(
        matches!(outcome, Download::Status(StatusCode::NOT_FOUND, ref code) if code == "BLOB_UNKNOWN"),
        "after a claimed HEAD: {}",
        describe(&outcome)
    );

    // The upstream lists the blobs in a manifest, which is cached.
    client
        .assert_manifest("evil/x", "v1", &secret.manifest)
        .await;
    let outcome = client.download("evil/x", &second.digest, &[]).await;
    assert!(
        matches!(outcome, Download::Status(StatusCode::NOT_FOUND, _)),
        "after a listing manifest: {}",
        describe(&outcome)
    );

    // An upstream that really has it: fetched once, verified, served, then cached.
    serve.store(true, Ordering::SeqCst);
    for _ in 0..2 {
        client.assert_blob("evil/x", second).await;
    }
    let fetched = upstream
        .seen()
        .iter()
        .filter(|s| s.method == "GET" && s.path.ends_with(&second.digest))
        .count();
    assert_eq!(fetched, 2, "one refused GET, then one real download");
    server.stop().await;
}

/// An upstream that names the digest of a manifest Berth holds for another project (its tag `HEAD` says so)
/// but cannot serve it: the manifest is not served through the proxy project, by tag or by digest.
#[tokio::test]
async fn another_projects_manifest_is_not_served_because_an_upstream_names_its_digest() {
    let server = start_berth().await;
    let secret = private_image(&server, 813).await;
    let digest = secret.manifest.digest.clone();
    let upstream = Hostile::start(
        "127.0.0.1",
        Router::new().fallback(move |request: Request| {
            let digest = digest.clone();
            async move {
                let path = request.uri().path();
                if path == "/v2/" {
                    return (AxumStatus::OK, "{}").into_response();
                }
                if path.contains("/manifests/") && request.method() == axum::http::Method::HEAD {
                    return Response::builder()
                        .header("docker-content-digest", digest)
                        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
                        .body(axum::body::Body::empty())
                        .unwrap();
                }
                AxumStatus::NOT_FOUND.into_response()
            }
        }),
    )
    .await;
    proxy_project(&server, "evil", "docker-registry", &upstream.base(), None).await;
    let client = RegistryClient::anonymous(&server);
    for reference in ["v1", secret.manifest.digest.as_str()] {
        let (status, body) = client.get_manifest("evil/app", reference).await;
        assert_ne!(status, StatusCode::OK, "{reference}");
        assert_ne!(body, secret.manifest.bytes, "{reference}");
    }
    server.stop().await;
}
