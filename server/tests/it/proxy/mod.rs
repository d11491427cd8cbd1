//! Proxy-cache projects (issue 5): pull-through from real upstreams started on loopback by the tests.
//!
//! `upstreams` holds the fixtures: Debian's `docker-registry` (CNCF distribution), a counting forwarder that sits in
//! front of any upstream, and a misbehaving registry written here; `hostile` serves a router each attack test
//! writes. The other modules are the behaviour tests: Harbor's five pull-through scenarios, upstream auth,
//! single-flight fetching and faults, and the attacks of issue 13 (what Berth trusts an upstream with, where an
//! upstream may send it, who sets the include and exclude patterns).
//!
//! Tests talk to Berth the way a registry client does: the token flow (anonymous unless credentials are given),
//! then `/v2/<proxy project>/<upstream repository>/…`.

mod auth;
mod egress;
mod faults;
pub mod hostile;
mod patterns;
mod scenarios;
mod single_flight;
mod trust;
pub mod upstreams;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::images::{Blob, Image};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer, sha256};

/// Every manifest type a client accepts.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// An HTTP client for the tests of this module: no proxy, no redirects, and a hard limit per request so a test
/// fails instead of hanging when a server never answers.
pub fn http_client() -> Client {
    Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"))
}

// ---------------------------------------------------------------------------------------------------------
// Berth's REST API: endpoints and proxy projects.

/// A Berth for proxy tests: pull counts flushed every 50 ms and short upstream timeouts (connect 1 s, request
/// 1.5 s, read pause 1 s), so outage tests finish quickly.
pub async fn start_berth() -> TestServer {
    TestServer::start_with(|config| {
        config.pull_stats_interval_ms = 50;
        config.proxy.connect_timeout_ms = 1000;
        config.proxy.request_timeout_ms = 1500;
        config.proxy.read_timeout_ms = 1000;
    })
    .await
}

/// The body of `POST /api/v2.0/registries` for an endpoint of `kind` at `url` (certificates checked).
pub fn endpoint_body(name: &str, kind: &str, url: &str, credential: Option<(&str, &str)>) -> Value {
    let mut body = json!({"name": name, "type": kind, "url": url, "insecure": false});
    if let Some((user, secret)) = credential {
        body["credential"] = json!({"type": "basic", "access_key": user, "access_secret": secret});
    }
    body
}

/// `POST /api/v2.0/registries` as admin; returns the new endpoint's id (from `Location`).
pub async fn create_endpoint(
    server: &TestServer,
    name: &str,
    kind: &str,
    url: &str,
    credential: Option<(&str, &str)>,
) -> i64 {
    post_endpoint(server, endpoint_body(name, kind, url, credential)).await
}

/// `POST /api/v2.0/registries` of `body` as admin; returns the new endpoint's id (from `Location`).
pub async fn post_endpoint(server: &TestServer, body: Value) -> i64 {
    let response = http_client()
        .post(server.url("/api/v2.0/registries"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = header(&response, "location");
    let text = response.text().await.unwrap_or_default();
    assert_eq!(
        status,
        StatusCode::CREATED,
        "create endpoint {body}: {text}"
    );
    location
        .strip_prefix("/api/v2.0/registries/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("endpoint Location {location:?}"))
}

/// `POST /api/v2.0/projects` as admin: a public proxy-cache project on endpoint `registry_id`. `metadata` is
/// merged into `{"public": "true"}`; `storage_limit` is sent when given.
pub async fn create_proxy_project(
    server: &TestServer,
    name: &str,
    registry_id: i64,
    metadata: Value,
    storage_limit: Option<i64>,
) {
    let mut meta = json!({"public": "true"});
    if let (Some(meta), Value::Object(extra)) = (meta.as_object_mut(), metadata) {
        meta.extend(extra);
    }
    let mut body = json!({"project_name": name, "registry_id": registry_id, "metadata": meta});
    if let Some(limit) = storage_limit {
        body["storage_limit"] = json!(limit);
    }
    let response = http_client()
        .post(server.url("/api/v2.0/projects"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(
        status,
        StatusCode::CREATED,
        "create proxy project {name}: {text}"
    );
}

/// An endpoint of `kind` at `url` and a public proxy project `project` on it.
pub async fn proxy_project(
    server: &TestServer,
    project: &str,
    kind: &str,
    url: &str,
    credential: Option<(&str, &str)>,
) -> i64 {
    let id = create_endpoint(server, &format!("ep-{project}"), kind, url, credential).await;
    create_proxy_project(server, project, id, json!({}), None).await;
    id
}

/// `GET /api/v2.0<path>` as admin, as JSON, asserting 200.
pub async fn api_get(server: &TestServer, path: &str) -> Value {
    let response = http_client()
        .get(server.url(&format!("/api/v2.0{path}")))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "GET {path}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path}: {e}: {text}"))
}

/// The artifacts of `project`/`repo` (Harbor's doubly encoded repository name), as admin. `None` when the
/// repository does not exist.
pub async fn artifacts(server: &TestServer, project: &str, repo: &str) -> Option<Vec<Value>> {
    let encoded = repo.replace('/', "%252F");
    let response = http_client()
        .get(server.url(&format!(
            "/api/v2.0/projects/{project}/repositories/{encoded}/artifacts"
        )))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    if response.status() == StatusCode::NOT_FOUND {
        return None;
    }
    assert_eq!(response.status(), StatusCode::OK);
    let list: Value = response.json().await.unwrap();
    Some(list.as_array().cloned().unwrap_or_default())
}

/// Polls `check` every 50 ms for up to 5 s; returns its last result.
pub async fn eventually<T, F, Fut>(mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (bool, T)>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (done, value) = check().await;
        if done || Instant::now() > deadline {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------------------------
// A registry client: the Docker token flow against any registry (Berth, distribution, the fault server).

/// A minimal pulling client. On `401` it answers the challenge: `Bearer` with a token from the realm (scope
/// `repository:<name>:pull`, Basic credentials if it has some), `Basic` with its credentials; tokens are kept per
/// repository.
pub struct RegistryClient {
    base: String,
    pub http: Client,
    creds: Option<(String, String)>,
    tokens: Mutex<HashMap<String, String>>,
}

/// What a blob download ended with.
#[derive(Debug)]
pub enum Download {
    /// A non-2xx status (with the OCI error code, if any).
    Status(StatusCode, String),
    /// The body broke off (reset, truncated, aborted) after `received` bytes.
    Broken { received: usize, error: String },
    /// The whole body arrived.
    Complete(StatusCode, Vec<u8>),
}

impl RegistryClient {
    /// `base` is `http://host:port`.
    pub fn new(base: &str, creds: Option<(&str, &str)>) -> RegistryClient {
        RegistryClient {
            base: base.trim_end_matches('/').to_owned(),
            http: http_client(),
            creds: creds.map(|(u, p)| (u.to_owned(), p.to_owned())),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// An anonymous client of `server`.
    pub fn anonymous(server: &TestServer) -> RegistryClient {
        RegistryClient::new(&server.url(""), None)
    }

    /// A client of `server` with the admin's credentials.
    pub fn admin(server: &TestServer) -> RegistryClient {
        RegistryClient::new(&server.url(""), Some((ADMIN_USER, ADMIN_PASSWORD)))
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends `method path` with `headers`, answering an auth challenge once.
    pub async fn send(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Response {
        self.send_body(method, path, headers, None).await
    }

    /// Like [`send`](Self::send), with a body.
    pub async fn send_body(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Response {
        let repo = repository_of(path);
        let saved = self.tokens.lock().unwrap().get(&repo).cloned();
        let response = self
            .send_once(&method, path, headers, body.clone(), saved.as_deref())
            .await;
        if response.status() != StatusCode::UNAUTHORIZED {
            return response;
        }
        let challenge = header(&response, "www-authenticate");
        let auth = if challenge.to_ascii_lowercase().starts_with("basic") {
            let Some((user, password)) = &self.creds else {
                return response;
            };
            crate::images::basic_auth(user, password)
        } else if let Some(realm) = challenge_param(&challenge, "realm") {
            let mut request = self.http.get(&realm);
            let mut query = Vec::new();
            if let Some(service) = challenge_param(&challenge, "service") {
                query.push(("service".to_owned(), service));
            }
            if !repo.is_empty() {
                let actions = if method == Method::GET || method == Method::HEAD {
                    "pull"
                } else {
                    "pull,push"
                };
                query.push(("scope".to_owned(), format!("repository:{repo}:{actions}")));
            }
            request = request.query(&query);
            if let Some((user, password)) = &self.creds {
                request = request.basic_auth(user, Some(password));
            }
            let token = request.send().await.unwrap();
            assert_eq!(token.status(), StatusCode::OK, "token from {realm}");
            let token: Value = token.json().await.unwrap();
            let token = token["token"]
                .as_str()
                .or(token["access_token"].as_str())
                .unwrap_or_else(|| panic!("no token in {token}"))
                .to_owned();
            format!("Bearer {token}")
        } else {
            return response;
        };
        self.tokens.lock().unwrap().insert(repo, auth.clone());
        self.send_once(&method, path, headers, body, Some(&auth))
            .await
    }

    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
        auth: Option<&str>,
    ) -> Response {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let mut request = self.http.request(method.clone(), &url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e:?}"))
    }

    /// `GET` (or `HEAD`) of manifest `reference` of `repo`, accepting every manifest type.
    pub async fn manifest(&self, method: Method, repo: &str, reference: &str) -> Response {
        self.send(
            method,
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("accept", MANIFEST_ACCEPT)],
        )
        .await
    }

    /// `GET` of manifest `reference`: status and bytes.
    pub async fn get_manifest(&self, repo: &str, reference: &str) -> (StatusCode, Vec<u8>) {
        let response = self.manifest(Method::GET, repo, reference).await;
        let status = response.status();
        (status, response.bytes().await.unwrap_or_default().to_vec())
    }

    /// `GET` of blob `digest`, read to the end (or to where it breaks).
    pub async fn download(&self, repo: &str, digest: &str, headers: &[(&str, &str)]) -> Download {
        use futures_util::StreamExt as _;
        let response = self
            .send(Method::GET, &format!("/v2/{repo}/blobs/{digest}"), headers)
            .await;
        let status = response.status();
        if !status.is_success() {
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let code = body["errors"][0]["code"].as_str().unwrap_or("").to_owned();
            return Download::Status(status, code);
        }
        let mut bytes = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(e) => {
                    return Download::Broken {
                        received: bytes.len(),
                        error: format!("{e:?}"),
                    };
                }
            }
        }
        Download::Complete(status, bytes)
    }

    /// Downloads blob `blob` and asserts it arrives whole and correct.
    pub async fn assert_blob(&self, repo: &str, blob: &Blob) {
        match self.download(repo, &blob.digest, &[]).await {
            Download::Complete(StatusCode::OK, bytes) => {
                assert_eq!(
                    sha256(&bytes),
                    blob.digest,
                    "blob {} of {repo}: wrong bytes ({} of {} bytes)",
                    blob.digest,
                    bytes.len(),
                    blob.size()
                );
            }
            other => panic!("blob {} of {repo}: {}", blob.digest, describe(&other)),
        }
    }

    /// Pulls `repo:reference` like a client: the manifest (asserting it is `image`'s), then every blob.
    pub async fn pull(&self, repo: &str, reference: &str, image: &Image) {
        self.assert_manifest(repo, reference, &image.manifest).await;
        for blob in image.referenced_blobs() {
            self.assert_blob(repo, blob).await;
        }
    }

    /// `GET` of manifest `reference` answers `expected`'s bytes, type and digest.
    pub async fn assert_manifest(&self, repo: &str, reference: &str, expected: &Blob) {
        let response = self.manifest(Method::GET, repo, reference).await;
        let status = response.status();
        let digest = header(&response, "docker-content-digest");
        let content_type = header(&response, "content-type");
        let body = response.bytes().await.unwrap_or_default();
        assert_eq!(
            status,
            StatusCode::OK,
            "manifest {repo}:{reference}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(
            sha256(&body),
            expected.digest,
            "manifest {repo}:{reference}: wrong bytes"
        );
        assert_eq!(digest, expected.digest, "Docker-Content-Digest");
        assert_eq!(content_type, expected.media_type, "Content-Type");
    }

    /// `GET /v2/<repo>/tags/list`: status and the sorted tags.
    pub async fn tags(&self, repo: &str) -> (StatusCode, Vec<String>) {
        let response = self
            .send(Method::GET, &format!("/v2/{repo}/tags/list"), &[])
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let mut tags: Vec<String> = body["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        tags.sort();
        (status, tags)
    }
}

/// A one-line description of a download for assertion messages.
pub fn describe(download: &Download) -> String {
    match download {
        Download::Status(status, code) => format!("status {status} {code}"),
        Download::Broken { received, error } => format!("broke after {received} bytes: {error}"),
        Download::Complete(status, bytes) => {
            format!("status {status}, {} bytes, {}", bytes.len(), sha256(bytes))
        }
    }
}

/// The repository named by a `/v2/<name>/…` path (empty for `/v2/` itself).
fn repository_of(path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let path = path.find("/v2/").map_or(path, |at| &path[at..]);
    let Some(rest) = path.strip_prefix("/v2/") else {
        return String::new();
    };
    for marker in ["/manifests/", "/blobs/", "/tags/list", "/referrers/"] {
        if let Some(at) = rest.rfind(marker) {
            return rest[..at].to_owned();
        }
    }
    String::new()
}

/// A parameter of a `WWW-Authenticate` challenge.
fn challenge_param(challenge: &str, name: &str) -> Option<String> {
    let needle = format!("{name}=\"");
    let start = challenge.find(&needle)? + needle.len();
    let end = challenge[start..].find('"')? + start;
    Some(challenge[start..end].to_owned())
}

/// A response header as a string ("" when absent).
pub fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// The status, code and message of an OCI error response.
pub async fn oci_error(response: Response) -> (StatusCode, String, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (
        status,
        body["errors"][0]["code"]
            .as_str()
            .unwrap_or("<none>")
            .to_owned(),
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
    )
}

/// Pushes `image` as `repo:tag` through the distribution API at `base` (`http://host:port`): a `POST` upload
/// then a `PUT` per blob, then the manifest. Works against distribution and Berth alike.
pub async fn push_image(
    base: &str,
    creds: Option<(&str, &str)>,
    repo: &str,
    tag: &str,
    image: &Image,
) {
    let client = RegistryClient::new(base, creds);
    for blob in image.referenced_blobs() {
        push_blob(&client, repo, blob).await;
    }
    push_manifest(&client, repo, tag, &image.manifest).await;
}

/// Uploads `blob` to `repo` (`POST` then `PUT ?digest=`).
pub async fn push_blob(client: &RegistryClient, repo: &str, blob: &Blob) {
    let response = client
        .send(Method::POST, &format!("/v2/{repo}/blobs/uploads/"), &[])
        .await;
    assert_eq!(
        response.status(),
        StatusCode::ACCEPTED,
        "start upload to {repo}"
    );
    let location = header(&response, "location");
    let separator = if location.contains('?') { '&' } else { '?' };
    let url = if location.starts_with("http") {
        location.clone()
    } else {
        format!("{}{location}", client.base())
    };
    let response = client
        .send_body(
            Method::PUT,
            &format!("{url}{separator}digest={}", blob.digest),
            &[("content-type", "application/octet-stream")],
            Some(blob.bytes.clone()),
        )
        .await;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::CREATED, "upload to {repo}: {text}");
}

/// Pushes manifest `manifest` as `repo:reference`.
pub async fn push_manifest(client: &RegistryClient, repo: &str, reference: &str, manifest: &Blob) {
    let response = client
        .send_body(
            Method::PUT,
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("content-type", manifest.media_type.as_str())],
            Some(manifest.bytes.clone()),
        )
        .await;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(
        status,
        StatusCode::CREATED,
        "push {repo}:{reference}: {text}"
    );
}

/// Pushes a multi-arch image: every child by digest, then the index as `repo:tag`.
pub async fn push_multi_arch(
    base: &str,
    creds: Option<(&str, &str)>,
    repo: &str,
    tag: &str,
    multi: &crate::images::MultiArch,
) {
    let client = RegistryClient::new(base, creds);
    for child in &multi.children {
        for blob in child.referenced_blobs() {
            push_blob(&client, repo, blob).await;
        }
        push_manifest(&client, repo, &child.manifest.digest, &child.manifest).await;
    }
    push_manifest(&client, repo, tag, &multi.index).await;
}
