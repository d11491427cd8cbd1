//! Where an upstream can send Berth (issue 13): redirects to machine-local addresses, by literal or by a name
//! resolving to one, and from https to plain http are refused; the endpoint's credential goes only to the
//! endpoint and to a token service on its host, never over a downgrade, never to a host a redirect led to.
//! Redirects to another server that is allowed (an object store) keep working, without the credential.
//!
//! The "secret" servers stand for what an attacker wants Berth to reach: a metadata service or an admin API
//! on a machine-local address. Each test shows Berth never contacted them.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::{IntoResponse as _, Response};
use reqwest::StatusCode;
use serde_json::json;

use super::hostile::Hostile;
use super::{
    Download, RegistryClient, create_proxy_project, describe, endpoint_body, post_endpoint,
    proxy_project, start_berth,
};
use crate::images::Image;
use crate::support::{TestServer, sha256};

const USER: &str = "puller";
const PASSWORD: &str = "Pull3rPass";

/// What the attacker wants to read.
const SECRET: &[u8] = b"INTERNAL-ONLY: metadata service credentials";

/// A server that answers every request with [`SECRET`].
async fn secret_server(ip: &str) -> Hostile {
    Hostile::start(ip, Router::new().fallback(|| async { SECRET })).await
}

/// Asserts Berth never sent `server` a request.
fn assert_untouched(server: &Hostile, what: &str) {
    assert!(
        server.seen().is_empty(),
        "Berth contacted {what}: {:?}",
        server.seen()
    );
}

/// Asserts no request to `server` carried credentials.
fn assert_no_credential(server: &Hostile, what: &str) {
    assert!(
        server.authorizations().is_empty(),
        "the credential went to {what}: {:?}",
        server.authorizations()
    );
}

/// An upstream that answers `/v2/` with 200 and every blob and manifest request with a redirect to `target`.
fn redirecting_to(target: String) -> Router {
    Router::new().fallback(move |request: Request| {
        let target = target.clone();
        async move {
            if request.uri().path() == "/v2/" {
                return (AxumStatus::OK, "{}").into_response();
            }
            redirect(&target)
        }
    })
}

fn redirect(target: &str) -> Response {
    Response::builder()
        .status(AxumStatus::TEMPORARY_REDIRECT)
        .header("location", target)
        .body(axum::body::Body::empty())
        .unwrap()
}

/// A blob and a manifest pulled anonymously through proxy project `project`: neither is a success, and the
/// blob's body carries nothing of [`SECRET`].
async fn pull_fails(server: &TestServer, project: &str) {
    let client = RegistryClient::anonymous(server);
    let repo = format!("{project}/app");
    let outcome = client.download(&repo, &sha256(b"any blob"), &[]).await;
    match &outcome {
        Download::Status(status, _) => assert!(!status.is_success(), "{}", describe(&outcome)),
        Download::Broken { received, .. } => assert_eq!(*received, 0, "{}", describe(&outcome)),
        Download::Complete(..) => panic!("{}", describe(&outcome)),
    }
    let (status, body) = client.get_manifest(&repo, "v1").await;
    assert!(!status.is_success(), "manifest: {status}");
    assert!(!String::from_utf8_lossy(&body).contains("INTERNAL-ONLY"));
}

/// SSRF: an upstream redirecting blob and manifest GETs to another loopback address (127.0.0.2 here; the
/// metadata service's 169.254.169.254 is refused the same way) does not make Berth fetch it.
#[tokio::test]
async fn a_redirect_to_another_machine_local_address_is_refused() {
    let secret = secret_server("127.0.0.2").await;
    let upstream =
        Hostile::start("127.0.0.1", redirecting_to(secret.url("/latest/meta-data"))).await;
    let server = start_berth().await;
    proxy_project(&server, "evil", "docker-registry", &upstream.base(), None).await;
    pull_fails(&server, "evil").await;
    assert!(upstream.seen().len() >= 2, "the upstream was asked");
    assert_untouched(&secret, "the secret server");
    server.stop().await;
}

/// SSRF through DNS: a redirect to a name that resolves to a loopback address other than the endpoint's
/// (`localhost`, for an endpoint on 127.0.0.2) is refused on the resolved address.
#[tokio::test]
async fn a_redirect_to_a_name_resolving_to_a_local_address_is_refused() {
    let secret = secret_server("127.0.0.1").await;
    let target = format!("http://localhost:{}/admin", secret.addr.port());
    let upstream = Hostile::start("127.0.0.2", redirecting_to(target)).await;
    let server = start_berth().await;
    proxy_project(&server, "evil", "docker-registry", &upstream.base(), None).await;
    pull_fails(&server, "evil").await;
    assert_untouched(&secret, "the secret server");
    server.stop().await;
}

/// An upstream needing `Basic` credentials that redirects blob GETs to `cdn`'s `/blob/<digest>`.
fn basic_auth_redirecting(cdn: String) -> Router {
    let expected = crate::images::basic_auth(USER, PASSWORD);
    Router::new().fallback(move |headers: HeaderMap, request: Request| {
        let (cdn, expected) = (cdn.clone(), expected.clone());
        async move {
            let authorized = headers
                .get("authorization")
                .is_some_and(|v| v.as_bytes() == expected.as_bytes());
            if !authorized {
                return Response::builder()
                    .status(AxumStatus::UNAUTHORIZED)
                    .header("www-authenticate", "Basic realm=\"upstream\"")
                    .body(axum::body::Body::empty())
                    .unwrap();
            }
            match request.uri().path().rsplit_once("/blobs/") {
                Some((_, digest)) => redirect(&format!("{cdn}/blob/{digest}")),
                None => (AxumStatus::OK, "{}").into_response(),
            }
        }
    })
}

/// A Berth with the public proxy project `hub` on `upstream`, its endpoint holding the credential.
async fn berth_with_credential(upstream: &Hostile) -> TestServer {
    let server = start_berth().await;
    let credential = Some((USER, PASSWORD));
    proxy_project(
        &server,
        "hub",
        "docker-registry",
        &upstream.base(),
        credential,
    )
    .await;
    server
}

/// A server that serves `image`'s blobs at `/blob/<digest>`, to anyone.
async fn object_store(ip: &str, image: &Image) -> Hostile {
    let blobs: Vec<(String, Vec<u8>)> = image
        .referenced_blobs()
        .into_iter()
        .map(|b| (b.digest.clone(), b.bytes.clone()))
        .collect();
    Hostile::start(
        ip,
        Router::new().fallback(move |request: Request| {
            let blobs = blobs.clone();
            async move {
                let digest = request.uri().path().trim_start_matches("/blob/").to_owned();
                match blobs.into_iter().find(|(d, _)| *d == digest) {
                    Some((_, bytes)) => bytes.into_response(),
                    None => AxumStatus::NOT_FOUND.into_response(),
                }
            }
        }),
    )
    .await
}

/// Redirects to an object store keep working (Docker Hub's CDN): the blob is fetched from where the
/// upstream sends Berth, verified and served, and the endpoint's credential is not sent along.
#[tokio::test]
async fn a_redirect_to_an_object_store_works_without_the_credential() {
    let image = Image::build(821, "amd64", &[20_000]);
    let cdn = object_store("127.0.0.1", &image).await;
    let upstream = Hostile::start("127.0.0.1", basic_auth_redirecting(cdn.base())).await;
    let server = berth_with_credential(&upstream).await;
    let client = RegistryClient::anonymous(&server);
    client.assert_blob("hub/app", &image.layers[0]).await;
    assert_eq!(cdn.seen().len(), 1);
    assert_no_credential(&cdn, "the redirect target");
    assert!(!upstream.authorizations().is_empty(), "the upstream got it");
    server.stop().await;
}

/// An endpoint with `insecure` (the tests' self-signed certificates) and a public proxy project on it.
async fn insecure_proxy_project(
    server: &TestServer,
    project: &str,
    url: &str,
    credential: Option<(&str, &str)>,
) {
    let mut body = endpoint_body(&format!("ep-{project}"), "docker-registry", url, credential);
    body["insecure"] = json!(true);
    let id = post_endpoint(server, body).await;
    create_proxy_project(server, project, id, json!({}), None).await;
}

/// An https upstream redirecting to plain http (the same host, so only the downgrade is wrong) is refused.
#[tokio::test]
async fn a_redirect_from_https_to_plain_http_is_refused() {
    let image = Image::build(822, "amd64", &[1000]);
    let plain = object_store("127.0.0.1", &image).await;
    let digest = image.layers[0].digest.clone();
    let upstream = Hostile::start_tls(
        "127.0.0.1",
        redirecting_to(format!("{}/blob/{digest}", plain.base())),
    )
    .await;
    let server = start_berth().await;
    insecure_proxy_project(&server, "tls", &upstream.base(), None).await;
    let client = RegistryClient::anonymous(&server);
    let outcome = client.download("tls/app", &digest, &[]).await;
    assert!(
        matches!(
            outcome,
            Download::Status(StatusCode::SERVICE_UNAVAILABLE, _)
        ),
        "{}",
        describe(&outcome)
    );
    assert!(!upstream.seen().is_empty(), "the upstream was asked");
    assert_untouched(&plain, "a plain-http server, following a downgrade");
    server.stop().await;
}

/// A token service that issues `good` to anyone.
async fn token_service(ip: &str) -> Hostile {
    Hostile::start(
        ip,
        Router::new().fallback(|| async { axum::Json(json!({"token": "good"})) }),
    )
    .await
}

/// An upstream answering every request without `Bearer good` with a challenge naming `realm`; with it, `/v2/`
/// and manifests answer 200 (a manifest of `image`).
fn bearer_upstream(realm: String, image: &Image) -> Router {
    let manifest = image.manifest.clone();
    Router::new().fallback(move |headers: HeaderMap, request: Request| {
        let (realm, manifest) = (realm.clone(), manifest.clone());
        async move {
            if headers.get("authorization").map(|v| v.as_bytes()) != Some(b"Bearer good") {
                return Response::builder()
                    .status(AxumStatus::UNAUTHORIZED)
                    .header(
                        "www-authenticate",
                        format!("Bearer realm=\"{realm}\",service=\"upstream\""),
                    )
                    .body(axum::body::Body::empty())
                    .unwrap();
            }
            if request.uri().path().contains("/manifests/") {
                return (
                    [
                        ("content-type", manifest.media_type.clone()),
                        ("docker-content-digest", manifest.digest.clone()),
                    ],
                    manifest.bytes.clone(),
                )
                    .into_response();
            }
            (AxumStatus::OK, "{}").into_response()
        }
    })
}

/// The endpoint's credential is not sent to a token realm on another host (`localhost` is not the endpoint's
/// `127.0.0.1`, though it resolves to it); a realm on the endpoint's host, another port, gets it and works.
#[tokio::test]
async fn the_credential_goes_only_to_a_token_service_on_the_endpoints_host() {
    let image = Image::build(823, "amd64", &[1000]);
    let realm = token_service("127.0.0.1").await;
    let elsewhere = format!("http://localhost:{}/token", realm.addr.port());
    let foreign = Hostile::start("127.0.0.1", bearer_upstream(elsewhere, &image)).await;
    let own = Hostile::start("127.0.0.1", bearer_upstream(realm.url("/token"), &image)).await;
    let server = start_berth().await;
    let credential = Some((USER, PASSWORD));
    proxy_project(
        &server,
        "foreign",
        "docker-registry",
        &foreign.base(),
        credential,
    )
    .await;
    proxy_project(&server, "own", "docker-registry", &own.base(), credential).await;
    let client = RegistryClient::anonymous(&server);

    let (status, _) = client.get_manifest("foreign/app", "v1").await;
    assert!(!status.is_success(), "{status}");
    assert_no_credential(&realm, "another host's token service");

    client
        .assert_manifest("own/app", "v1", &image.manifest)
        .await;
    assert_eq!(
        realm.authorizations(),
        [crate::images::basic_auth(USER, PASSWORD)],
        "the endpoint's own token service gets it"
    );
    server.stop().await;
}

/// An https endpoint's credential is not sent to a token realm over plain http, even on its own host.
#[tokio::test]
async fn the_credential_of_an_https_endpoint_never_goes_over_plain_http() {
    let image = Image::build(824, "amd64", &[1000]);
    let realm = token_service("127.0.0.1").await;
    let upstream =
        Hostile::start_tls("127.0.0.1", bearer_upstream(realm.url("/token"), &image)).await;
    let server = start_berth().await;
    insecure_proxy_project(&server, "tls", &upstream.base(), Some((USER, PASSWORD))).await;
    let (status, _) = RegistryClient::anonymous(&server)
        .get_manifest("tls/app", "v1")
        .await;
    assert!(!status.is_success(), "{status}");
    assert!(!upstream.seen().is_empty(), "the upstream was asked");
    assert_no_credential(&realm, "a token service over plain http");
    server.stop().await;
}

/// A `401` from a host a redirect led to is not the endpoint's challenge: Berth does not answer it with the
/// endpoint's credential, whatever token service it names.
#[tokio::test]
async fn a_challenge_from_a_redirect_target_gets_no_credential() {
    let image = Image::build(825, "amd64", &[1000]);
    // The redirect target challenges for a token from itself.
    let target = Hostile::start(
        "127.0.0.1",
        Router::new().fallback(|request: Request| async move {
            if request.uri().path() == "/token" {
                return axum::Json(json!({"token": "stolen"})).into_response();
            }
            let realm = format!(
                "http://{}/token",
                request
                    .headers()
                    .get("host")
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or_default()
            );
            Response::builder()
                .status(AxumStatus::UNAUTHORIZED)
                .header("www-authenticate", format!("Bearer realm=\"{realm}\""))
                .body(axum::body::Body::empty())
                .unwrap()
        }),
    )
    .await;
    let digest = image.layers[0].digest.clone();
    let upstream = Hostile::start(
        "127.0.0.1",
        redirecting_to(format!("{}/blob/{digest}", target.base())),
    )
    .await;
    let server = berth_with_credential(&upstream).await;
    let outcome = RegistryClient::anonymous(&server)
        .download("hub/app", &digest, &[])
        .await;
    assert!(
        !matches!(outcome, Download::Complete(StatusCode::OK, _)),
        "{}",
        describe(&outcome)
    );
    assert!(!target.seen().is_empty(), "the redirect was followed");
    assert_no_credential(&target, "the redirect target's token service");
    server.stop().await;
}

/// A token service that says its token lives for ever (`expires_in` of `u64::MAX` seconds) gets its token kept for
/// a bounded while; the pull is served, and the next one still is.
#[tokio::test]
async fn a_token_said_to_live_for_ever_is_kept_a_bounded_while() {
    let image = Image::build(826, "amd64", &[1000]);
    let realm = Hostile::start(
        "127.0.0.1",
        Router::new()
            .fallback(|| async { axum::Json(json!({"token": "good", "expires_in": u64::MAX})) }),
    )
    .await;
    let upstream = Hostile::start("127.0.0.1", bearer_upstream(realm.url("/token"), &image)).await;
    let server = start_berth().await;
    proxy_project(
        &server,
        "forever",
        "docker-registry",
        &upstream.base(),
        None,
    )
    .await;
    let client = RegistryClient::anonymous(&server);
    for _ in 0..2 {
        client
            .assert_manifest("forever/app", "v1", &image.manifest)
            .await;
    }
    server.stop().await;
}
