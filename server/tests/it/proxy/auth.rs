//! Upstream auth: distribution with htpasswd (Basic), and a second Berth (the Bearer token challenge) whose token
//! is reused instead of logging in on every pull.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::upstreams::{CountingForwarder, Distribution};
use super::{
    RegistryClient, artifacts, create_endpoint, create_proxy_project, http_client, oci_error,
    proxy_project, push_image, start_berth,
};
use crate::images::Image;
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer};

const USER: &str = "puller";
const PASSWORD: &str = "Pull3rPass";

/// Basic auth: with the endpoint's credential the pull works; without it, or with a wrong one, the client gets an
/// error (never an empty success) and nothing is cached.
#[tokio::test]
async fn basic_auth_upstream_needs_the_endpoint_credential() {
    let image = Image::build(701, "amd64", &[2000, 20_000]);
    let registry = Distribution::start(Some((USER, PASSWORD))).await;
    registry.push_image("team/app", "v1", &image).await;
    let server = start_berth().await;
    proxy_project(
        &server,
        "good",
        "docker-registry",
        &registry.base(),
        Some((USER, PASSWORD)),
    )
    .await;
    proxy_project(&server, "anon", "docker-registry", &registry.base(), None).await;
    proxy_project(
        &server,
        "wrong",
        "docker-registry",
        &registry.base(),
        Some((USER, "nope")),
    )
    .await;
    let client = RegistryClient::anonymous(&server);

    client.pull("good/team/app", "v1", &image).await;

    for project in ["anon", "wrong"] {
        let repo = format!("{project}/team/app");
        let response = client.manifest(Method::GET, &repo, "v1").await;
        let (status, code, message) = oci_error(response).await;
        assert!(
            status.is_client_error() || status.is_server_error(),
            "{project}: {status}"
        );
        assert_ne!(code, "<none>", "{project}: an OCI error body ({status})");
        assert!(
            status != StatusCode::NOT_FOUND,
            "{project}: an auth failure is not 'unknown' ({code}: {message})"
        );
        let response = client
            .send(
                Method::GET,
                &format!("/v2/{repo}/blobs/{}", image.layers[0].digest),
                &[],
            )
            .await;
        assert!(!response.status().is_success(), "{project} blob");
        assert!(
            artifacts(&server, project, "team/app")
                .await
                .unwrap_or_default()
                .is_empty(),
            "{project}: nothing cached"
        );
    }
}

/// A second Berth as a `harbor` upstream, behind a counting forwarder: the Bearer challenge (realm on the
/// upstream) is answered with the endpoint's credential, pulls of a private project work, and pulling three tags
/// and all their blobs of one repository asks the token service exactly once.
#[tokio::test]
async fn bearer_upstream_berth_token_is_reused() {
    let upstream = TestServer::start().await;
    upstream.create_project("secret", false).await;
    upstream.create_user(USER, PASSWORD, false).await;
    let response = http_client()
        .post(upstream.url("/api/v2.0/projects/secret/members"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&json!({"role_id": 3, "member_user": {"username": USER}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "guest member");
    let images: Vec<Image> = (0..3)
        .map(|i| Image::build(710 + i, "amd64", &[2000, 10_000]))
        .collect();
    for (i, image) in images.iter().enumerate() {
        push_image(
            &upstream.url(""),
            Some((ADMIN_USER, ADMIN_PASSWORD)),
            "secret/app",
            &format!("v{i}"),
            image,
        )
        .await;
    }
    let forwarder = CountingForwarder::start(upstream.addr).await;

    let server = start_berth().await;
    let id = create_endpoint(
        &server,
        "berth",
        "harbor",
        &forwarder.base(),
        Some((USER, PASSWORD)),
    )
    .await;
    create_proxy_project(&server, "mirror", id, json!({}), None).await;
    let client = RegistryClient::anonymous(&server);
    for (i, image) in images.iter().enumerate() {
        client
            .pull("mirror/secret/app", &format!("v{i}"), image)
            .await;
    }
    let seen = forwarder.requests();
    assert_eq!(
        forwarder.count("GET", "/service/token"),
        1,
        "one token for the repository, reused: {seen:?}"
    );
    for image in &images {
        for blob in image.referenced_blobs() {
            assert_eq!(
                forwarder.count("GET", &format!("/v2/secret/app/blobs/{}", blob.digest)),
                1,
                "{seen:?}"
            );
        }
    }

    // Anonymous access to the private upstream project fails with an error, and caches nothing.
    let anon = create_endpoint(&server, "berth-anon", "harbor", &forwarder.base(), None).await;
    create_proxy_project(&server, "anon", anon, json!({}), None).await;
    let (status, _) = client.get_manifest("anon/secret/app", "v0").await;
    assert!(!status.is_success(), "{status}");
    assert!(
        artifacts(&server, "anon", "secret/app")
            .await
            .unwrap_or_default()
            .is_empty()
    );
    drop(forwarder);
    upstream.stop().await;
}
