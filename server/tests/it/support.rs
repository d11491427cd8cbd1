//! Test servers and fixtures.

#![allow(dead_code, reason = "not every test module uses every helper")]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::response::IntoResponse as _;
use berth::app::AppState;
use berth::config::{Config, S3Config, StorageKind};
use berth::secret::Secret;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASSWORD: &str = "Admin12345";

/// A Berth running inside the test process on an ephemeral port, with a fresh data directory.
pub struct TestServer {
    pub addr: SocketAddr,
    /// Where clients reach it when not at `addr` (a load balancer in front of several nodes, [`RoundRobin`]):
    /// [`TestServer::url`] and [`TestServer::host`] name this instead.
    pub front: Option<SocketAddr>,
    pub state: AppState,
    pub dir: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after letting `configure` adjust the default test configuration.
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> TestServer {
        Self::start_bound(|config, _| configure(config)).await
    }

    /// [`TestServer::start_with`], where `configure` also gets the address the server will listen on (for
    /// settings that name it, such as `external_url` or `listen`).
    pub async fn start_bound(configure: impl FnOnce(&mut Config, SocketAddr)) -> TestServer {
        Self::start_inner(configure, true).await
    }

    /// A server on SQLite and the filesystem under its data directory, Berth's defaults, whatever
    /// `BERTH_TEST_DATABASE` and `BERTH_TEST_STORAGE` say (a single node to migrate from, say).
    pub async fn start_local(configure: impl FnOnce(&mut Config)) -> TestServer {
        Self::start_inner(
            |config, _| {
                configure(config);
                config.database_url = Some(format!(
                    "sqlite://{}",
                    config.data_dir.join("berth.db").display()
                ));
            },
            false,
        )
        .await
    }

    async fn start_inner(
        configure: impl FnOnce(&mut Config, SocketAddr),
        env_backends: bool,
    ) -> TestServer {
        // `BERTH_TEST_LOG=warn` (a tracing filter, e.g. `warn,sqlx=debug`) shows the servers' logs with the
        // failing test's output.
        if let Ok(filter) = std::env::var("BERTH_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(false)
                .with_test_writer()
                .try_init();
        }
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"));
        let mut config = Config {
            data_dir: dir.path().join("data"),
            admin_password: Some(Secret::new(ADMIN_PASSWORD)),
            ..Config::default()
        };
        configure(&mut config, addr);
        if env_backends
            && std::env::var("BERTH_TEST_STORAGE").as_deref() == Ok("s3")
            && config.storage.kind == StorageKind::Filesystem
        {
            assert!(
                use_test_s3(&mut config),
                "BERTH_TEST_STORAGE=s3 needs BERTH_TEST_S3_ENDPOINT and the other BERTH_TEST_S3_* variables \
                 (eval \"$(scripts/s3-test-server.sh up)\")"
            );
            // Named after the data directory, so a server restarted on it finds its blobs again.
            config.storage.s3.prefix = s3_prefix_for(&config.data_dir);
        }
        if config.database_url.is_none() {
            config.database_url = database_url_for(&config.data_dir);
        }
        let (state, _) = berth::serve::prepare(config)
            .await
            .unwrap_or_else(|e| panic!("prepare: {e:#}"));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(berth::serve::run(state.clone(), listener, async {
            let _ = rx.await;
        }));
        TestServer {
            addr,
            front: None,
            state,
            dir,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Whether the server's task has ended (it stopped, or never started serving: a listener it binds itself
    /// was taken).
    pub fn has_stopped(&self) -> bool {
        self.task.as_ref().is_none_or(|task| task.is_finished())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.front.unwrap_or(self.addr))
    }

    /// `host:port`, as registry clients name the registry.
    pub fn host(&self) -> String {
        self.front.unwrap_or(self.addr).to_string()
    }

    pub async fn create_project(&self, name: &str, public: bool) {
        berth::service::projects::create(&self.state.db, name, ADMIN_USER, public)
            .await
            .unwrap_or_else(|e| panic!("create project {name}: {e}"));
    }

    pub async fn create_user(&self, name: &str, password: &str, admin: bool) {
        let user = berth::service::users::UserSpec {
            username: name,
            password,
            email: None,
            realname: "",
            sysadmin: admin,
        };
        berth::service::users::create(&self.state.db, &user)
            .await
            .unwrap_or_else(|e| panic!("create user {name}: {e}"));
    }

    /// Stops accepting connections and waits for in-flight requests to finish.
    /// Asserts that every project's quota ledger equals what its references add up to (`berth quota reconcile`
    /// finds no drift).
    pub async fn assert_quota_ledger_agrees(&self) {
        let drift = self.state.db.reconcile_quotas(false).await.unwrap();
        assert!(drift.is_empty(), "the quota ledger drifted: {drift:?}");
    }

    pub async fn stop(self) {
        let _ = self.outcome().await;
    }

    /// Stops the server as [`TestServer::stop`] does, and returns how its serving ended (an error when it
    /// could not start, or failed while serving).
    pub async fn outcome(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => task
                .await
                .unwrap_or_else(|e| Err(anyhow::anyhow!("task: {e}"))),
            None => Ok(()),
        }
    }
}

/// A load balancer without sticky sessions in front of several servers: each request (not each connection)
/// goes to the next server in turn, streamed both ways, with its `Host` header kept.
pub struct RoundRobin {
    pub addr: SocketAddr,
    /// Requests sent to each backend, in the order given.
    pub sent: Arc<Vec<AtomicUsize>>,
    task: tokio::task::JoinHandle<()>,
}

impl RoundRobin {
    pub async fn start(backends: Vec<SocketAddr>) -> RoundRobin {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sent: Arc<Vec<AtomicUsize>> =
            Arc::new(backends.iter().map(|_| AtomicUsize::new(0)).collect());
        let next = Arc::new(AtomicUsize::new(0));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .unwrap();
        let counts = sent.clone();
        let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let (http, backends, next, counts) =
                (http.clone(), backends.clone(), next.clone(), counts.clone());
            async move {
                let i = next.fetch_add(1, Ordering::Relaxed) % backends.len();
                counts[i].fetch_add(1, Ordering::Relaxed);
                let (parts, body) = request.into_parts();
                let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let mut headers = parts.headers;
                headers.remove(axum::http::header::CONNECTION);
                let forwarded = http
                    .request(parts.method, format!("http://{}{path}", backends[i]))
                    .headers(headers)
                    .body(reqwest::Body::wrap_stream(body.into_data_stream()))
                    .send()
                    .await;
                let Ok(response) = forwarded else {
                    return axum::http::StatusCode::BAD_GATEWAY.into_response();
                };
                let mut out = axum::http::Response::builder().status(response.status());
                for (name, value) in response.headers() {
                    if name != axum::http::header::TRANSFER_ENCODING
                        && name != axum::http::header::CONNECTION
                    {
                        out = out.header(name, value);
                    }
                }
                out.body(axum::body::Body::from_stream(response.bytes_stream()))
                    .unwrap()
            }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        RoundRobin { addr, sent, task }
    }

    /// Requests each backend got.
    pub fn counts(&self) -> Vec<usize> {
        self.sent
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect()
    }
}

impl Drop for RoundRobin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Points `config` at the test S3 server named by `BERTH_TEST_S3_ENDPOINT`, `BERTH_TEST_S3_BUCKET`,
/// `BERTH_TEST_S3_ACCESS_KEY` and `BERTH_TEST_S3_SECRET_KEY` (what `scripts/s3-test-server.sh up` prints), under
/// a fresh random prefix, so each server has its own namespace in the one bucket. Returns false when
/// `BERTH_TEST_S3_ENDPOINT` is unset. `BERTH_TEST_STORAGE=s3` makes every [`TestServer`] do this.
pub fn use_test_s3(config: &mut Config) -> bool {
    let Ok(endpoint) = std::env::var("BERTH_TEST_S3_ENDPOINT") else {
        return false;
    };
    let var =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    config.storage.kind = StorageKind::S3;
    config.storage.s3 = S3Config {
        allow_http: endpoint.starts_with("http://"),
        endpoint: Some(endpoint),
        bucket: Some(var("BERTH_TEST_S3_BUCKET", "berth")),
        access_key: Some(var("BERTH_TEST_S3_ACCESS_KEY", "berthtest")),
        secret_key: Some(Secret::new(var(
            "BERTH_TEST_S3_SECRET_KEY",
            "berthtestsecret",
        ))),
        path_style: Some(true),
        prefix: format!("test-{}", uuid::Uuid::new_v4().simple()),
        ..S3Config::default()
    };
    true
}

/// With `BERTH_TEST_STORAGE=s3`, the `BERTH_STORAGE__*` variables that put a `berth` process of data directory
/// `data_dir` on the test S3 server, under a prefix derived from `data_dir` (so a restart, or a CLI command on
/// the same data, finds the same blobs). Empty otherwise.
pub fn binary_s3_env(data_dir: &Path) -> Vec<(String, String)> {
    if std::env::var("BERTH_TEST_STORAGE").as_deref() != Ok("s3") {
        return Vec::new();
    }
    s3_env(data_dir).unwrap_or_default()
}

/// The `BERTH_STORAGE__*` variables of [`binary_s3_env`], whatever `BERTH_TEST_STORAGE` says; `None` without a
/// test S3 server.
pub fn s3_env(data_dir: &Path) -> Option<Vec<(String, String)>> {
    let mut config = Config::default();
    if !use_test_s3(&mut config) {
        return None;
    }
    let s3 = config.storage.s3;
    let mut env = vec![
        ("BERTH_STORAGE__KIND", "s3".to_owned()),
        ("BERTH_STORAGE__S3__BUCKET", s3.bucket.unwrap_or_default()),
        (
            "BERTH_STORAGE__S3__ACCESS_KEY",
            s3.access_key.unwrap_or_default(),
        ),
        ("BERTH_STORAGE__S3__ALLOW_HTTP", s3.allow_http.to_string()),
        ("BERTH_STORAGE__S3__PATH_STYLE", "true".to_owned()),
        ("BERTH_STORAGE__S3__PREFIX", s3_prefix_for(data_dir)),
    ];
    env.extend(s3.endpoint.map(|e| ("BERTH_STORAGE__S3__ENDPOINT", e)));
    env.extend(
        s3.secret_key
            .map(|k| ("BERTH_STORAGE__S3__SECRET_KEY", k.expose().to_owned())),
    );
    Some(env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// The S3 prefix of the server or `berth` process whose data directory is `data_dir`.
fn s3_prefix_for(data_dir: &Path) -> String {
    let hash = sha256(data_dir.to_string_lossy().as_bytes());
    format!("test-dir-{}", &hash["sha256:".len()..][..32])
}

/// With `BERTH_TEST_STORAGE=s3`, the S3 blob store of the server or `berth` process on data directory `data`
/// (its prefix is named after the directory); `None` on the filesystem.
pub fn s3_store_of(data: &Path) -> Option<berth::storage::BlobStore> {
    if std::env::var("BERTH_TEST_STORAGE").as_deref() != Ok("s3") {
        return None;
    }
    let mut config = Config::default();
    assert!(use_test_s3(&mut config));
    config.storage.s3.prefix = s3_prefix_for(data);
    let settings = config.storage.validate().unwrap().unwrap();
    Some(berth::storage::BlobStore::s3(&settings).unwrap())
}

/// What a server's blob store holds, whichever the backend, as `(key, size)`: the stored blobs (files under
/// `<data>/storage`, or objects at blob or completed-upload keys on S3) and the bytes of open uploads (files
/// under `<data>/uploads`, or uploads' tail objects on S3; parts of S3 multipart uploads in progress are not
/// objects and not listed).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stored {
    pub blobs: BTreeSet<(String, u64)>,
    pub staged: BTreeSet<(String, u64)>,
}

pub async fn stored(server: &TestServer) -> Stored {
    let mut stored = Stored::default();
    if server.state.blobs.backend() == "s3" {
        let objects: Vec<(String, u64)> =
            futures_util::TryStreamExt::try_collect(server.state.blobs.list_objects())
                .await
                .unwrap();
        for (key, size) in objects {
            if key.contains("/tail-") {
                stored.staged.insert((key, size));
            } else {
                stored.blobs.insert((key, size));
            }
        }
        return stored;
    }
    fn walk(dir: &Path, root: &Path, out: &mut BTreeSet<(String, u64)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                out.insert((name, std::fs::metadata(&path).unwrap().len()));
            }
        }
    }
    let data = &server.state.config.data_dir;
    walk(&data.join("storage"), data, &mut stored.blobs);
    walk(&data.join("uploads"), data, &mut stored.staged);
    stored
}

/// Bytes the open uploads of project `project_id` hold against its staging cap, whichever the backend.
pub async fn staged_bytes(server: &TestServer, project_id: i64) -> u64 {
    if server.state.blobs.backend() == "s3" {
        server
            .state
            .db
            .staged_upload_bytes(project_id)
            .await
            .unwrap()
    } else {
        server.state.uploads.staged_bytes(project_id)
    }
}

/// Whether a test S3 server is configured (`BERTH_TEST_S3_ENDPOINT`). Without one, prints a loud line saying
/// that `test` did not run (even when the harness captures the test's output).
pub fn s3_available(test: &str) -> bool {
    if std::env::var_os("BERTH_TEST_S3_ENDPOINT").is_some() {
        return true;
    }
    let line = format!(
        "SKIPPED {test}: no S3 server (BERTH_TEST_S3_ENDPOINT is unset; scripts/test.sh starts one, or run \
         eval \"$(scripts/s3-test-server.sh up)\")"
    );
    // Straight to the process's stderr, past the test harness's capture, so the skip shows in every run.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
    false
}

/// A request body that sends `first` at once and `rest` only once the returned sender fires, as a client that
/// stalls mid-body; dropped, the sender leaves it stalled for good.
pub fn held_body(first: &[u8], rest: &[u8]) -> (reqwest::Body, tokio::sync::oneshot::Sender<()>) {
    let (release, held) = tokio::sync::oneshot::channel::<()>();
    let (first, rest) = (
        bytes::Bytes::copy_from_slice(first),
        bytes::Bytes::copy_from_slice(rest),
    );
    let body = futures_util::StreamExt::chain(
        futures_util::stream::iter([Ok::<_, std::io::Error>(first)]),
        futures_util::stream::once(async move {
            if held.await.is_err() {
                std::future::pending::<()>().await;
            }
            Ok(rest)
        }),
    );
    (reqwest::Body::wrap_stream(body), release)
}

/// `len` bytes that do not repeat within an S3 part (xorshift from `seed`), so a part sent twice or out of place
/// changes the digest.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// `sha256:<hex>` of `data`: the digest tests expect the registry to compute.
/// The metadata database of a server whose data directory is `data_dir`: `None` (SQLite under the directory,
/// Berth's default) unless `BERTH_TEST_DATABASE=postgres`, when it is a database of its own, named after the
/// directory, on the PostgreSQL at `BERTH_TEST_POSTGRES_URL` (`scripts/pg-test-server.sh`); a server restarted
/// on the same directory finds its database again.
pub fn database_url_for(data_dir: &Path) -> Option<String> {
    if std::env::var("BERTH_TEST_DATABASE").ok()? != "postgres" {
        return None;
    }
    let admin = std::env::var("BERTH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| panic!("BERTH_TEST_DATABASE=postgres needs BERTH_TEST_POSTGRES_URL"));
    let name = format!(
        "berth_{}",
        &sha256(data_dir.to_string_lossy().as_bytes())["sha256:".len()..][..20]
    );
    let psql = |sql: &str| {
        let out = Command::new("psql")
            .args([
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                &admin,
                "-c",
                sql,
            ])
            .output()
            .unwrap_or_else(|e| panic!("psql: {e}"));
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    if psql(&format!(
        "SELECT 1 FROM pg_database WHERE datname = '{name}'"
    ))
    .is_empty()
    {
        psql(&format!("CREATE DATABASE {name}"));
    }
    let (base, _) = admin.rsplit_once('/').unwrap_or((&admin, ""));
    Some(format!("{base}/{name}"))
}

/// The `database_url` of a server on `data_dir` (see [`database_url_for`]; SQLite's default otherwise).
pub fn database_url(data_dir: &Path) -> String {
    database_url_for(data_dir)
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("berth.db").display()))
}

/// Everything the server's database holds, as bytes: SQLite's files, or a `pg_dump` of its PostgreSQL
/// database. For tests that a secret is never stored in clear.
pub fn database_bytes(config: &Config) -> Vec<u8> {
    if let Some(url) = config
        .database_url
        .as_deref()
        .filter(|u| u.starts_with("postgres"))
    {
        let out = Command::new("pg_dump")
            .args(["--data-only", url])
            .output()
            .unwrap_or_else(|e| panic!("pg_dump: {e}"));
        assert!(
            out.status.success(),
            "pg_dump: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return out.stdout;
    }
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&config.data_dir).unwrap_or_else(|e| panic!("data dir: {e}")) {
        let path = entry.unwrap_or_else(|e| panic!("data dir: {e}")).path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("berth.db"))
        {
            bytes
                .extend(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
        }
    }
    bytes
}

pub fn sha256(data: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

/// An HTTP client for tests: no proxy, no redirects followed.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"))
}

/// A browser-like client for console tests: keeps cookies, no proxy, no redirects followed.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("browser client: {e}"))
}

/// The `berth` binary built for these tests.
pub fn berth_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_berth"))
}

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("free port: {e}"))
}

/// The real `berth` binary running as a child process.
pub struct BinaryServer {
    pub port: u16,
    pub data_dir: PathBuf,
    child: Option<Child>,
}

impl BinaryServer {
    /// Runs `berth serve` on a free port with `data_dir`, and waits until it answers.
    pub fn start(data_dir: &Path) -> BinaryServer {
        Self::start_with_env(data_dir, &[])
    }

    /// [`Self::start`] with more environment variables (e.g. `BERTH_JOBS__LEASE_SECS`).
    pub fn start_with_env(data_dir: &Path, env: &[(&str, &str)]) -> BinaryServer {
        let port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.with_extension("log"))
            .unwrap_or_else(|e| panic!("log file: {e}"));
        let mut command = Command::new(berth_binary());
        if let Some(url) = database_url_for(data_dir) {
            command.env("BERTH_DATABASE_URL", url);
        }
        let child = command
            .arg("serve")
            .env("BERTH_LISTEN", format!("127.0.0.1:{port}"))
            .env("BERTH_DATA_DIR", data_dir)
            .env("BERTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("BERTH_LOG_LEVEL", "info")
            .envs(binary_s3_env(data_dir))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn berth: {e}"));
        let server = BinaryServer {
            port,
            data_dir: data_dir.to_owned(),
            child: Some(child),
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("berth did not start listening on port {}", self.port);
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Sends `signal` (e.g. "KILL", "TERM") and waits for the process to exit.
    pub fn signal_and_wait(&mut self, signal: &str) -> std::process::ExitStatus {
        let mut child = self
            .child
            .take()
            .unwrap_or_else(|| panic!("server already stopped"));
        let _ = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status();
        child.wait().unwrap_or_else(|e| panic!("wait: {e}"))
    }

    /// Runs a `berth` CLI command against this server's data directory.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        berth_cli(&self.data_dir, args)
    }
}

impl Drop for BinaryServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs a `berth` CLI command with `BERTH_DATA_DIR=data_dir`.
pub fn berth_cli(data_dir: &Path, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(berth_binary());
    if let Some(url) = database_url_for(data_dir) {
        command.env("BERTH_DATABASE_URL", url);
    }
    command
        .args(args)
        .env("BERTH_DATA_DIR", data_dir)
        .env("BERTH_LOG_LEVEL", "warn")
        .envs(binary_s3_env(data_dir))
        .output()
        .unwrap_or_else(|e| panic!("berth {args:?}: {e}"))
}
