//! Upstream registries for the proxy tests, all on 127.0.0.1 with free ports, cleaned up on drop:
//!
//! - [`Distribution`]: Debian's `docker-registry` (CNCF distribution 2.8) in a temporary directory, optionally
//!   with htpasswd (Basic) auth; it can be stopped and started again on the same port and data.
//! - [`CountingForwarder`]: an HTTP forwarder in front of any upstream that records every request line, so tests
//!   can count blob GETs, manifest HEADs and token requests. It passes `Host` through unchanged (an upstream
//!   Berth then names the forwarder in its token realm, and token requests are counted too).
//! - [`FaultyUpstream`]: a registry serving one image that can be switched at runtime into faults: truncated or
//!   wrong bodies, stalls, hangs, error statuses and connection resets.

#![allow(dead_code, reason = "not every test uses every fixture method")]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use super::{RegistryClient, http_client, push_image, push_multi_arch};
use crate::images::{Image, MultiArch, require_tool, run_ok};
use crate::support::{free_port, sha256};

/// One recorded request: method and path with query.
pub type RequestLine = (String, String);

/// Polls `url` until it answers with one of the `ok` statuses.
async fn wait_for_http(url: &str, ok: &[u16], what: &str) {
    let http = http_client();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(response) = http.get(url).send().await
            && ok.contains(&response.status().as_u16())
        {
            return;
        }
        assert!(Instant::now() < deadline, "{what} did not answer at {url}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Distribution

/// Debian's `docker-registry` serving a temporary directory on a free loopback port.
pub struct Distribution {
    pub port: u16,
    dir: TempDir,
    auth: Option<(String, String)>,
    child: Option<Child>,
}

impl Distribution {
    /// Starts a registry, with htpasswd auth for `auth` (user, password) if given, and waits until `/v2/` answers.
    pub async fn start(auth: Option<(&str, &str)>) -> Distribution {
        require_tool("docker-registry");
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let port = free_port();
        let mut config = format!(
            "version: 0.1\n\
             log: {{level: warn, accesslog: {{disabled: true}}}}\n\
             storage: {{filesystem: {{rootdirectory: {}}}, delete: {{enabled: true}}, cache: {{blobdescriptor: inmemory}}}}\n\
             http: {{addr: 127.0.0.1:{port}}}\n",
            dir.path().join("data").display()
        );
        if let Some((user, password)) = auth {
            require_tool("htpasswd");
            let line = run_ok(Command::new("htpasswd").args(["-Bbn", user, password])).stdout;
            let htpasswd = dir.path().join("htpasswd");
            std::fs::write(&htpasswd, line.trim_ascii())
                .unwrap_or_else(|e| panic!("htpasswd: {e}"));
            config.push_str(&format!(
                "auth: {{htpasswd: {{realm: basic-realm, path: {}}}}}\n",
                htpasswd.display()
            ));
        }
        std::fs::write(dir.path().join("config.yml"), config)
            .unwrap_or_else(|e| panic!("config.yml: {e}"));
        let mut registry = Distribution {
            port,
            dir,
            auth: auth.map(|(u, p)| (u.to_owned(), p.to_owned())),
            child: None,
        };
        registry.start_again().await;
        registry
    }

    /// (Re)starts the registry on the same port and data; waits until it answers.
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "the registry is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("registry.log"))
            .unwrap_or_else(|e| panic!("log: {e}"));
        // `env -i`: the registry takes every REGISTRY_* variable as a config override.
        let child = Command::new("env")
            .arg("-i")
            .arg(format!(
                "PATH={}",
                std::env::var("PATH").unwrap_or_default()
            ))
            .arg("docker-registry")
            .arg("serve")
            .arg(self.dir.path().join("config.yml"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn docker-registry: {e}"));
        self.child = Some(child);
        wait_for_http(&self.url("/v2/"), &[200, 401], "docker-registry").await;
    }

    /// Kills the registry (its data stays); the port stops answering.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `http://127.0.0.1:PORT`: an endpoint URL.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// The registry's log (errors only; access logs are off).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    fn creds(&self) -> Option<(&str, &str)> {
        self.auth.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// A client of this registry, with its credentials.
    pub fn client(&self) -> RegistryClient {
        RegistryClient::new(&self.base(), self.creds())
    }

    /// Pushes `image` as `repo:tag`.
    pub async fn push_image(&self, repo: &str, tag: &str, image: &Image) {
        push_image(&self.base(), self.creds(), repo, tag, image).await;
    }

    /// Pushes a multi-arch image (children by digest, the index as `repo:tag`).
    pub async fn push_multi_arch(&self, repo: &str, tag: &str, multi: &MultiArch) {
        push_multi_arch(&self.base(), self.creds(), repo, tag, multi).await;
    }

    /// Deletes manifest `digest` of `repo` (distribution untags every tag pointing at it).
    pub async fn delete_manifest(&self, repo: &str, digest: &str) {
        let response = self
            .client()
            .send(
                reqwest::Method::DELETE,
                &format!("/v2/{repo}/manifests/{digest}"),
                &[],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::ACCEPTED,
            "delete {repo}@{digest}"
        );
    }
}

impl Drop for Distribution {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------------------------------------
// CountingForwarder

#[derive(Clone)]
struct ForwarderState {
    upstream: String,
    http: reqwest::Client,
    log: Arc<Mutex<Vec<RequestLine>>>,
}

/// An HTTP forwarder on a free loopback port in front of `upstream`, recording every request.
pub struct CountingForwarder {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<RequestLine>>>,
    task: tokio::task::JoinHandle<()>,
}

/// Headers that belong to one connection, not to the message.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn copy_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            to.append(name.clone(), value.clone());
        }
    }
}

impl CountingForwarder {
    /// Starts forwarding to `upstream` (`host:port`).
    pub async fn start(upstream: SocketAddr) -> CountingForwarder {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let state = ForwarderState {
            upstream: format!("http://{upstream}"),
            http: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            log: log.clone(),
        };
        let app = axum::Router::new().fallback(forward).with_state(state);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        CountingForwarder { addr, log, task }
    }

    /// `http://127.0.0.1:PORT`: an endpoint URL.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<RequestLine> {
        self.log.lock().unwrap().clone()
    }

    /// Forgets the requests so far.
    pub fn reset(&self) {
        self.log.lock().unwrap().clear();
    }

    /// How many `method` requests had a path (with query) starting with `prefix`. `method` "*" is any.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.count_where(|m, p| (method == "*" || m == method) && p.starts_with(prefix))
    }

    /// How many requests satisfy `matches(method, path)`.
    pub fn count_where(&self, matches: impl Fn(&str, &str) -> bool) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, p)| matches(m, p))
            .count()
    }
}

impl Drop for CountingForwarder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(State(state): State<ForwarderState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    state
        .log
        .lock()
        .unwrap()
        .push((parts.method.as_str().to_owned(), path.clone()));
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let mut headers = HeaderMap::new();
    copy_headers(&parts.headers, &mut headers);
    // `Host` is kept as the client sent it (reqwest only sets one when there is none).
    let upstream = state
        .http
        .request(parts.method.clone(), format!("{}{path}", state.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let upstream = match upstream {
        Ok(response) => response,
        Err(e) => {
            return Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Body::from(format!("forwarder: {e}")))
                .unwrap();
        }
    };
    let mut response = Response::builder().status(upstream.status());
    if let Some(headers) = response.headers_mut() {
        copy_headers(upstream.headers(), headers);
    }
    response
        .body(Body::from_stream(upstream.bytes_stream()))
        .unwrap()
}

// ---------------------------------------------------------------------------------------------------------
// FaultyUpstream

/// How [`FaultyUpstream`] answers a blob or manifest request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Healthy,
    /// The full `Content-Length`, then half the body, then the connection is closed.
    Truncate,
    /// Other bytes of the same length (with the real digest in `Docker-Content-Digest`).
    WrongDigest,
    /// Half the body, then nothing for [`STALL`], then the connection is closed.
    Stall,
    /// No response at all for [`STALL`] (not even headers), then the connection is closed.
    Hang,
    /// This status with an OCI error body.
    Status(u16),
    /// Half the body, then a TCP reset (a reset before any response for `HEAD`).
    Reset,
}

/// How long a stall or hang lasts: far beyond the timeouts the tests configure.
pub const STALL: Duration = Duration::from_secs(20);

/// The tag [`FaultyUpstream`] serves its image under.
pub const FAULTY_TAG: &str = "v1";

struct FaultyState {
    image: Image,
    blob_fault: Fault,
    manifest_fault: Fault,
    log: Vec<RequestLine>,
}

/// A registry written for the tests: serves one image (as `FAULTY_TAG` and by digest, under any repository
/// name, anonymously), one request per connection, with switchable faults for blob GETs and manifest requests.
pub struct FaultyUpstream {
    pub addr: SocketAddr,
    state: Arc<Mutex<FaultyState>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultyUpstream {
    pub async fn start(image: Image) -> FaultyUpstream {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(FaultyState {
            image,
            blob_fault: Fault::Healthy,
            manifest_fault: Fault::Healthy,
            log: Vec::new(),
        }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_faulty(stream, shared.clone()));
            }
        });
        FaultyUpstream { addr, state, task }
    }

    /// `http://127.0.0.1:PORT`: an endpoint URL.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How blob `GET`s (and `HEAD`s, for statuses, hangs and resets) are answered from now on.
    pub fn set_blob_fault(&self, fault: Fault) {
        self.state.lock().unwrap().blob_fault = fault;
    }

    /// How manifest `GET`s and `HEAD`s are answered from now on.
    pub fn set_manifest_fault(&self, fault: Fault) {
        self.state.lock().unwrap().manifest_fault = fault;
    }

    /// Serves `image` from now on (a moved tag).
    pub fn set_image(&self, image: Image) {
        self.state.lock().unwrap().image = image;
    }

    pub fn requests(&self) -> Vec<RequestLine> {
        self.state.lock().unwrap().log.clone()
    }

    /// How many `method` requests had a path starting with `prefix` ("*" is any method).
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|(m, p)| (method == "*" || m == method) && p.starts_with(prefix))
            .count()
    }
}

impl Drop for FaultyUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What to send for one request.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    fault: Fault,
}

impl Reply {
    fn error(status: u16, code: &str) -> Reply {
        let body = format!(r#"{{"errors":[{{"code":"{code}","message":"{code}"}}]}}"#).into_bytes();
        Reply {
            status,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body,
            fault: Fault::Healthy,
        }
    }
}

/// `bytes` with one byte changed in the middle; for JSON, a hex digit of the first digest, so it stays JSON.
fn corrupt(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let at = out
        .windows(7)
        .position(|w| w == b"sha256:")
        .map_or(out.len() / 2, |p| p + 7);
    if let Some(byte) = out.get_mut(at) {
        *byte = if *byte == b'0' {
            b'1'
        } else if byte.is_ascii_hexdigit() {
            b'0'
        } else {
            *byte ^ 0xff
        };
    }
    out
}

fn route(state: &Mutex<FaultyState>, method: &str, path: &str) -> Reply {
    let mut state = state.lock().unwrap();
    state.log.push((method.to_owned(), path.to_owned()));
    let path = path.split('?').next().unwrap_or_default();
    let image = &state.image;
    if path == "/v2/" || path == "/v2" {
        return Reply {
            status: 200,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: b"{}".to_vec(),
            fault: Fault::Healthy,
        };
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return Reply::error(404, "NOT_FOUND");
    };
    if let Some(at) = rest.rfind("/manifests/") {
        let reference = &rest[at + "/manifests/".len()..];
        let known = reference == FAULTY_TAG || reference == image.manifest.digest;
        if !known {
            return Reply::error(404, "MANIFEST_UNKNOWN");
        }
        let mut reply = Reply {
            status: 200,
            headers: vec![
                ("Content-Type".to_owned(), image.manifest.media_type.clone()),
                (
                    "Docker-Content-Digest".to_owned(),
                    image.manifest.digest.clone(),
                ),
                // As Docker Hub sends on manifest requests.
                ("RateLimit-Remaining".to_owned(), "97;w=21600".to_owned()),
            ],
            body: image.manifest.bytes.clone(),
            fault: state.manifest_fault,
        };
        apply_fault(&mut reply);
        return reply;
    }
    if let Some(at) = rest.rfind("/blobs/") {
        let digest = &rest[at + "/blobs/".len()..];
        let Some(blob) = image
            .referenced_blobs()
            .into_iter()
            .find(|b| b.digest == digest)
        else {
            return Reply::error(404, "BLOB_UNKNOWN");
        };
        let mut reply = Reply {
            status: 200,
            headers: vec![
                (
                    "Content-Type".to_owned(),
                    "application/octet-stream".to_owned(),
                ),
                ("Docker-Content-Digest".to_owned(), blob.digest.clone()),
            ],
            body: blob.bytes.clone(),
            fault: state.blob_fault,
        };
        apply_fault(&mut reply);
        return reply;
    }
    if let Some(name) = rest.strip_suffix("/tags/list") {
        let body = format!(r#"{{"name":"{name}","tags":["{FAULTY_TAG}"]}}"#).into_bytes();
        return Reply {
            status: 200,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body,
            fault: Fault::Healthy,
        };
    }
    Reply::error(404, "NOT_FOUND")
}

/// Turns status and wrong-digest faults into the reply; the others are carried out while sending.
fn apply_fault(reply: &mut Reply) {
    match reply.fault {
        Fault::Status(status) => {
            let code = match status {
                429 => "TOOMANYREQUESTS",
                401 => "UNAUTHORIZED",
                _ => "UNKNOWN",
            };
            let mut error = Reply::error(status, code);
            if status == 429 {
                error
                    .headers
                    .push(("Retry-After".to_owned(), "60".to_owned()));
            }
            *reply = error;
        }
        Fault::WrongDigest => {
            reply.body = corrupt(&reply.body);
            reply.fault = Fault::Healthy;
        }
        _ => {}
    }
}

async fn serve_faulty(mut stream: TcpStream, state: Arc<Mutex<FaultyState>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 1 << 20 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut words = head.lines().next().unwrap_or_default().split(' ');
    let method = words.next().unwrap_or_default().to_owned();
    let path = words.next().unwrap_or_default().to_owned();
    let reply = route(&state, &method, &path);
    let is_head = method == "HEAD";

    match reply.fault {
        Fault::Hang => {
            tokio::time::sleep(STALL).await;
            return;
        }
        Fault::Reset if is_head => {
            reset(stream);
            return;
        }
        _ => {}
    }
    let reason = match reply.status {
        200 => "OK",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let mut out = format!("HTTP/1.1 {} {reason}\r\n", reply.status);
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nDocker-Distribution-API-Version: registry/2.0\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    if stream.write_all(out.as_bytes()).await.is_err() || is_head {
        let _ = stream.shutdown().await;
        return;
    }
    let half = &reply.body[..reply.body.len() / 2];
    match reply.fault {
        Fault::Truncate => {
            let _ = stream.write_all(half).await;
            let _ = stream.flush().await;
            let _ = stream.shutdown().await;
        }
        Fault::Stall => {
            let _ = stream.write_all(half).await;
            let _ = stream.flush().await;
            tokio::time::sleep(STALL).await;
        }
        Fault::Reset => {
            let _ = stream.write_all(half).await;
            let _ = stream.flush().await;
            // Give the bytes a moment to leave before the reset discards the send queue.
            tokio::time::sleep(Duration::from_millis(50)).await;
            reset(stream);
        }
        _ => {
            let _ = stream.write_all(&reply.body).await;
            let _ = stream.shutdown().await;
        }
    }
}

/// Closes `stream` with a TCP RST (`SO_LINGER` of zero).
fn reset(stream: TcpStream) {
    #[allow(deprecated, reason = "a zero linger is exactly what forces the reset")]
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

// ---------------------------------------------------------------------------------------------------------
// Self-checks of the fixtures: they must work before the proxy does.

#[tokio::test]
async fn distribution_serves_pushed_images_and_restarts_with_its_data() {
    let mut registry = Distribution::start(None).await;
    let image = Image::build(501, "amd64", &[2000, 30_000]);
    registry.push_image("library/app", "v1", &image).await;
    let multi = MultiArch::build(502, &[1000]);
    registry
        .push_multi_arch("library/multi", "all", &multi)
        .await;
    let client = registry.client();
    client.pull("library/app", "v1", &image).await;
    client
        .pull("library/app", &image.manifest.digest, &image)
        .await;
    client
        .assert_manifest("library/multi", "all", &multi.index)
        .await;
    client
        .pull(
            "library/multi",
            &multi.children[1].manifest.digest,
            &multi.children[1],
        )
        .await;
    assert_eq!(
        client.tags("library/app").await,
        (reqwest::StatusCode::OK, vec!["v1".to_owned()])
    );

    registry.stop();
    assert!(
        http_client()
            .get(registry.url("/v2/"))
            .send()
            .await
            .is_err(),
        "a stopped registry does not answer"
    );
    registry.start_again().await;
    client.pull("library/app", "v1", &image).await;

    registry
        .delete_manifest("library/app", &image.manifest.digest)
        .await;
    let (status, _) = client.get_manifest("library/app", "v1").await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND, "deleting untags");
}

#[tokio::test]
async fn distribution_with_htpasswd_needs_the_credential() {
    let registry = Distribution::start(Some(("puller", "s3cret-pass"))).await;
    let image = Image::build(503, "amd64", &[1000]);
    registry.push_image("team/app", "v1", &image).await;
    registry.client().pull("team/app", "v1", &image).await;
    let anonymous = RegistryClient::new(&registry.base(), None);
    let (status, _) = anonymous.get_manifest("team/app", "v1").await;
    assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
    let wrong = RegistryClient::new(&registry.base(), Some(("puller", "wrong")));
    let (status, _) = wrong.get_manifest("team/app", "v1").await;
    assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn forwarder_counts_requests_and_passes_everything_through() {
    let registry = Distribution::start(None).await;
    let image = Image::build(504, "amd64", &[100_000]);
    registry.push_image("library/app", "v1", &image).await;
    let forwarder = CountingForwarder::start(registry.addr()).await;
    let client = RegistryClient::new(&forwarder.base(), None);
    client.pull("library/app", "v1", &image).await;
    client.pull("library/app", "v1", &image).await;
    let layer = &image.layers[0].digest;
    assert_eq!(
        forwarder.count("GET", &format!("/v2/library/app/blobs/{layer}")),
        2
    );
    assert_eq!(forwarder.count("GET", "/v2/library/app/manifests/v1"), 2);
    assert_eq!(forwarder.count("GET", "/v2/library/app/blobs/"), 4);

    // HEAD keeps Content-Length and the digest header.
    let response = client
        .send(
            reqwest::Method::HEAD,
            &format!("/v2/library/app/blobs/{layer}"),
            &[],
        )
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(
        super::header(&response, "content-length"),
        image.layers[0].size().to_string()
    );
    assert_eq!(super::header(&response, "docker-content-digest"), *layer);
    assert_eq!(forwarder.count("HEAD", "/v2/library/app/blobs/"), 1);
    forwarder.reset();
    assert!(forwarder.requests().is_empty());
}

#[tokio::test]
async fn forwarder_keeps_the_host_so_berth_names_it_in_the_token_realm() {
    let upstream = crate::support::TestServer::start().await;
    let forwarder = CountingForwarder::start(upstream.addr).await;
    let response = http_client()
        .get(format!("{}/v2/", forwarder.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
    let challenge = super::header(&response, "www-authenticate");
    assert!(
        challenge.contains(&format!(
            "realm=\"http://{}/service/token\"",
            forwarder.addr
        )),
        "{challenge}"
    );
    // The token flow through the forwarder: the token request is seen and counted.
    upstream.create_project("secret", false).await;
    let image = Image::build(505, "amd64", &[1000]);
    push_image(
        &upstream.url(""),
        Some((crate::support::ADMIN_USER, crate::support::ADMIN_PASSWORD)),
        "secret/app",
        "v1",
        &image,
    )
    .await;
    let client = RegistryClient::new(
        &forwarder.base(),
        Some((crate::support::ADMIN_USER, crate::support::ADMIN_PASSWORD)),
    );
    client.pull("secret/app", "v1", &image).await;
    assert_eq!(forwarder.count("GET", "/service/token"), 1);
    drop(forwarder);
    upstream.stop().await;
}

#[tokio::test]
async fn faulty_upstream_serves_and_misbehaves_on_demand() {
    let image = Image::build(506, "amd64", &[50_000]);
    let upstream = FaultyUpstream::start(image.clone()).await;
    let client = RegistryClient::new(&upstream.base(), None);
    client.pull("any/name", FAULTY_TAG, &image).await;
    let layer = &image.layers[0];

    for fault in [Fault::Truncate, Fault::Reset] {
        upstream.set_blob_fault(fault);
        let outcome = client.download("any/name", &layer.digest, &[]).await;
        assert!(
            matches!(outcome, super::Download::Broken { .. }),
            "{fault:?}: {}",
            super::describe(&outcome)
        );
    }
    upstream.set_blob_fault(Fault::WrongDigest);
    match client.download("any/name", &layer.digest, &[]).await {
        super::Download::Complete(_, bytes) => {
            assert_eq!(bytes.len(), layer.size());
            assert_ne!(sha256(&bytes), layer.digest);
        }
        other => panic!("{}", super::describe(&other)),
    }
    for status in [500, 429] {
        upstream.set_blob_fault(Fault::Status(status));
        let outcome = client.download("any/name", &layer.digest, &[]).await;
        assert!(
            matches!(outcome, super::Download::Status(s, _) if s.as_u16() == status),
            "{}",
            super::describe(&outcome)
        );
    }
    upstream.set_blob_fault(Fault::Stall);
    let quick = reqwest::Client::builder()
        .no_proxy()
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let response = quick
        .get(format!(
            "{}/v2/any/name/blobs/{}",
            upstream.base(),
            layer.digest
        ))
        .send()
        .await
        .unwrap();
    assert!(response.bytes().await.is_err(), "a stalled body times out");
    assert!(started.elapsed() < Duration::from_secs(5));

    upstream.set_manifest_fault(Fault::WrongDigest);
    let (status, bytes) = client
        .get_manifest("any/name", &image.manifest.digest)
        .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(bytes.len(), image.manifest.size());
    assert_ne!(sha256(&bytes), image.manifest.digest);
    assert!(
        serde_json::from_slice::<serde_json::Value>(&bytes).is_ok(),
        "still JSON"
    );

    upstream.set_manifest_fault(Fault::Healthy);
    upstream.set_blob_fault(Fault::Healthy);
    client.pull("any/name", FAULTY_TAG, &image).await;
    assert!(upstream.count("GET", &format!("/v2/any/name/blobs/{}", layer.digest)) >= 8);
}
