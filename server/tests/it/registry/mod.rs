//! OCI `/v2` API tests over HTTP, one file per area of the spec, against an in-process server.

mod auth;
mod blob_links;
mod blobs;
mod catalog;
mod headers;
mod manifests;
mod referrers;
mod signin_limits;
mod tags;
mod upload_limits;
mod uploads;

use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer, client};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

pub use crate::support::sha256;

/// `sha512:<hex>` of `data`.
pub fn sha512(data: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha512:{}", hex::encode(sha2::Sha512::digest(data)))
}

pub trait AsAdmin {
    fn admin(self) -> Self;
}

impl AsAdmin for RequestBuilder {
    fn admin(self) -> Self {
        self.basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
    }
}

/// The first error code of an OCI error body.
pub async fn error_code(response: Response) -> String {
    let body: Value = response.json().await.unwrap_or(Value::Null);
    body["errors"][0]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned()
}

pub fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Uploads `data` to `repo` with a monolithic `POST ?digest=`; returns the digest.
pub async fn upload_blob(server: &TestServer, http: &Client, repo: &str, data: &[u8]) -> String {
    let digest = sha256(data);
    let response = http
        .post(server.url(&format!("/v2/{repo}/blobs/uploads/?digest={digest}")))
        .admin()
        .header("content-type", "application/octet-stream")
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "upload to {repo}");
    digest
}

/// An image manifest over a config and the given layers (each `(digest, size)`).
pub fn image_manifest(config: (&str, usize), layers: &[(&str, usize)], extra: Value) -> Vec<u8> {
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": { "mediaType": OCI_CONFIG, "digest": config.0, "size": config.1 },
        "layers": layers.iter().map(|(d, s)| json!({ "mediaType": OCI_LAYER, "digest": d, "size": s })).collect::<Vec<_>>(),
    });
    if let (Some(object), Value::Object(extra)) = (manifest.as_object_mut(), extra) {
        object.extend(extra);
    }
    serde_json::to_vec(&manifest).unwrap()
}

/// Uploads a config and a layer (made from `seed`) and pushes a manifest for them as `reference`.
/// Returns the manifest bytes and digest.
pub async fn push_image(
    server: &TestServer,
    http: &Client,
    repo: &str,
    reference: &str,
    seed: &str,
) -> (Vec<u8>, String) {
    let config =
        format!("{{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\"{seed}\"}}").into_bytes();
    let layer = format!("layer bytes for {seed}").repeat(100).into_bytes();
    let config_digest = upload_blob(server, http, repo, &config).await;
    let layer_digest = upload_blob(server, http, repo, &layer).await;
    let manifest = image_manifest(
        (&config_digest, config.len()),
        &[(&layer_digest, layer.len())],
        json!({}),
    );
    let digest = put_manifest(server, http, repo, reference, OCI_MANIFEST, &manifest).await;
    (manifest, digest)
}

/// Pushes `body` as `reference`, asserting `201 Created`; returns the digest.
pub async fn put_manifest(
    server: &TestServer,
    http: &Client,
    repo: &str,
    reference: &str,
    media_type: &str,
    body: &[u8],
) -> String {
    let response = http
        .put(server.url(&format!("/v2/{repo}/manifests/{reference}")))
        .admin()
        .header("content-type", media_type)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "push {repo}:{reference}"
    );
    let digest = sha256(body);
    assert_eq!(header(&response, "docker-content-digest"), digest);
    assert_eq!(
        header(&response, "location"),
        format!("/v2/{repo}/manifests/{digest}")
    );
    digest
}

/// A server with an admin HTTP client.
pub async fn setup() -> (TestServer, Client) {
    (TestServer::start().await, client())
}

#[tokio::test]
async fn unknown_endpoints_and_methods_are_refused() {
    let (server, http) = setup().await;
    let response = http
        .get(server.url("/v2/library/app/nothing"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http
        .post(server.url("/v2/library/app/tags/list"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(response).await, "UNSUPPORTED");
    server.stop().await;
}

#[tokio::test]
async fn names_are_validated_and_the_project_must_exist() {
    let (server, http) = setup().await;
    for bad in ["Library/App", "library/a..b", "library//x"] {
        let response = http
            .get(server.url(&format!("/v2/{bad}/tags/list")))
            .admin()
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error_code(response).await, "NAME_INVALID");
    }
    let response = http
        .post(server.url("/v2/app/blobs/uploads/"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        "NAME_INVALID",
        "a name needs a project"
    );
    let response = http
        .post(server.url("/v2/nosuchproject/app/blobs/uploads/"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "NAME_UNKNOWN");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nosuchproject")
    );
    // Nested names work.
    let (manifest, _) = push_image(&server, &http, "library/a/b/c", "v1", "nested").await;
    let response = http
        .get(server.url("/v2/library/a/b/c/manifests/v1"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        manifest.as_slice()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_all_succeed() {
    let (server, http) = setup().await;
    let server = std::sync::Arc::new(server);
    let mut tasks = Vec::new();
    for client_no in 0..8 {
        let (server, http) = (server.clone(), http.clone());
        tasks.push(tokio::spawn(async move {
            for image in 0..10 {
                // Shared layers across clients exercise the same rows concurrently.
                let repo = format!("library/concurrent{}", client_no % 3);
                let seed = format!("{}-{image}", client_no % 2);
                push_image(
                    &server,
                    &http,
                    &repo,
                    &format!("c{client_no}-{image}"),
                    &seed,
                )
                .await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let body: Value = http
        .get(server.url("/v2/_catalog"))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["repositories"].as_array().unwrap().len(), 3);
    let tags: Value = http
        .get(server.url("/v2/library/concurrent0/tags/list"))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        tags["tags"].as_array().unwrap().len(),
        30,
        "clients 0, 3 and 6 pushed 10 tags each"
    );
    std::sync::Arc::into_inner(server).unwrap().stop().await;
}
