//! The online refresh of the vulnerability database from an OSV mirror: a real HTTP server started here (axum on
//! 127.0.0.1, a random port) serves the bucket's layout (`crates.io/modified_id.csv`, `all.zip`, `<ID>.json`)
//! built from the real RustSec records in `tests/data/vulndata/osv/rustsec`, and records every request it gets.
//! `berth vulndb update` reads `all.zip` the first time, then only the records the feed lists as changed, keeps
//! the generation in force when the mirror is unreachable, too large or loops; a running server refreshes on its
//! own (`VULNDB_UPDATE`) and finds the new vulnerability in an image without a restart.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use berth::config::Ecosystems;
use berth::scan::scan_all::REMATCH;
use berth::scan::vulndb::VulnDb;
use berth::scan::vulndb::online::job;
use serde_json::json;

use super::*;
use crate::support::berth_binary;

const ECOSYSTEM: &str = "crates.io";
/// Held back from the first dump: the advisory the refresh brings (net2's memory layout bug).
const NEW: &str = "RUSTSEC-2020-0078";
/// Changed in the mirror after the first dump.
const CHANGED: &str = "RUSTSEC-2024-0421";
const CHANGED_SUMMARY: &str =
    "idna accepts Punycode labels that do not produce any non-ASCII (updated)";

/// One file the mirror serves.
#[derive(Clone)]
struct File {
    body: Vec<u8>,
    etag: Option<String>,
}

#[derive(Default)]
struct MirrorState {
    files: BTreeMap<String, File>,
    requests: Vec<String>,
}

/// An OSV mirror: files by path, and the requests it got (`GET /crates.io/all.zip`, with
/// ` If-None-Match "v1"` when sent).
#[derive(Clone)]
struct Mirror {
    state: Arc<Mutex<MirrorState>>,
    url: String,
}

async fn serve_file(state: Arc<Mutex<MirrorState>>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().to_owned();
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let file = {
        let mut state = state.lock().unwrap();
        state.requests.push(match &if_none_match {
            Some(etag) => format!("GET {path} If-None-Match {etag}"),
            None => format!("GET {path}"),
        });
        state.files.get(&path).cloned()
    };
    // A redirect loop under /loop/.
    if path.starts_with("/loop/") {
        return Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, path)
            .body(Body::empty())
            .unwrap();
    }
    let Some(file) = file else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::empty())
            .unwrap();
    };
    let mut response = Response::builder();
    if let Some(etag) = &file.etag {
        if if_none_match.as_deref() == Some(etag.as_str()) {
            return Response::builder()
                .status(StatusCode::NOT_MODIFIED)
                .header(header::ETAG, etag)
                .body(Body::empty())
                .unwrap();
        }
        response = response.header(header::ETAG, etag);
    }
    if path.ends_with(".zip") {
        // Dumps come chunked, with no Content-Length: the size limit must hold while reading.
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            file.body.chunks(512).map(|c| Ok(c.to_vec())).collect();
        return response
            .body(Body::from_stream(futures_util::stream::iter(chunks)))
            .unwrap();
    }
    response.body(Body::from(file.body)).unwrap()
}

impl Mirror {
    async fn start() -> Mirror {
        let state = Arc::new(Mutex::new(MirrorState::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = state.clone();
        let app = axum::Router::new()
            .fallback(move |uri: Uri, headers: HeaderMap| serve_file(shared.clone(), uri, headers));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Mirror {
            state,
            url: format!("http://{addr}/"),
        }
    }

    /// Publishes `records` as the ecosystem's folder: each record, `modified_id.csv` (newest first) and
    /// `all.zip` with ETag `etag`.
    fn publish(&self, records: &[Value], etag: &str) {
        let mut state = self.state.lock().unwrap();
        state.files.clear();
        let mut lines: Vec<(String, String)> = Vec::new();
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for record in records {
            let id = record["id"].as_str().unwrap().to_owned();
            let body = serde_json::to_vec_pretty(record).unwrap();
            zip.start_file(format!("{id}.json"), options).unwrap();
            zip.write_all(&body).unwrap();
            state
                .files
                .insert(format!("/{ECOSYSTEM}/{id}.json"), File { body, etag: None });
            lines.push((record["modified"].as_str().unwrap().to_owned(), id));
        }
        // Newest first; all these times are written the same way, so text order is time order.
        lines.sort_by(|a, b| b.cmp(a));
        let csv: String = lines.iter().map(|(m, id)| format!("{m},{id}\n")).collect();
        state.files.insert(
            format!("/{ECOSYSTEM}/modified_id.csv"),
            File {
                body: csv.into_bytes(),
                etag: None,
            },
        );
        state.files.insert(
            format!("/{ECOSYSTEM}/all.zip"),
            File {
                body: zip.finish().unwrap().into_inner(),
                etag: Some(format!("\"{etag}\"")),
            },
        );
    }

    /// Replaces one file (a broken dump or record).
    fn put(&self, path: &str, body: &[u8], etag: Option<&str>) {
        self.state.lock().unwrap().files.insert(
            path.to_owned(),
            File {
                body: body.to_vec(),
                etag: etag.map(str::to_owned),
            },
        );
    }

    /// The requests since the last call, sorted (records are fetched concurrently).
    fn take_requests(&self) -> Vec<String> {
        let mut requests = std::mem::take(&mut self.state.lock().unwrap().requests);
        requests.sort();
        requests
    }

    /// Asserts the requests since the last call were exactly `expected` (in any order).
    fn assert_requests(&self, expected: &[String]) {
        let mut expected = expected.to_vec();
        expected.sort();
        assert_eq!(self.take_requests(), expected);
    }

    fn dump_size(&self) -> usize {
        self.state.lock().unwrap().files[&format!("/{ECOSYSTEM}/all.zip")]
            .body
            .len()
    }
}

/// The real RustSec records, by id.
fn rustsec() -> BTreeMap<String, Value> {
    let dir = vulndata("osv/rustsec");
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            let record: Value = serde_json::from_slice(&bytes).unwrap();
            (record["id"].as_str().unwrap().to_owned(), record)
        })
        .collect()
}

/// The mirror's first state: every record but [`NEW`].
fn first_records() -> Vec<Value> {
    rustsec()
        .into_iter()
        .filter(|(id, _)| id != NEW)
        .map(|(_, r)| r)
        .collect()
}

/// The second state: [`NEW`] published and [`CHANGED`] edited, both modified after everything else.
fn second_records() -> Vec<Value> {
    rustsec()
        .into_iter()
        .map(|(id, mut record)| {
            if id == NEW {
                record["modified"] = json!("2026-12-06T09:00:00Z");
            }
            if id == CHANGED {
                record["modified"] = json!("2026-12-06T09:00:01Z");
                record["summary"] = json!(CHANGED_SUMMARY);
            }
            record
        })
        .collect()
}

/// Runs `berth` with `BERTH_DATA_DIR=data_dir` and `env`; returns (success, stdout, stderr).
fn cli(data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let out = Command::new(berth_binary())
        .args(args)
        .env("BERTH_DATA_DIR", data_dir)
        .env("BERTH_DATABASE_URL", crate::support::database_url(data_dir))
        .env("BERTH_LOG_LEVEL", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn status(data_dir: &Path) -> String {
    let (ok, out, err) = cli(data_dir, &[], &["vulndb", "status"]);
    assert!(ok, "{err}");
    out
}

/// The summary the generation in force holds for `id`.
async fn summary_of(data_dir: &Path, id: &str) -> Option<String> {
    let db = VulnDb::open(data_dir).await.unwrap();
    db.advisories(&[id.to_owned()])
        .await
        .unwrap()
        .remove(id)
        .and_then(|a| a.summary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_reads_the_dump_first_then_only_changed_records_and_failures_change_nothing() {
    let mirror = Mirror::start().await;
    mirror.publish(&first_records(), "v1");
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    std::fs::create_dir(&data_dir).unwrap();
    let env = [
        ("BERTH_SCAN__VULNDB_URL", mirror.url.as_str()),
        ("BERTH_SCAN__VULNDB_ECOSYSTEMS", ECOSYSTEM),
    ];
    let csv = format!("GET /{ECOSYSTEM}/modified_id.csv");
    let dump = format!("GET /{ECOSYSTEM}/all.zip");

    // Off unless configured, and it says how to turn it on.
    let (ok, _, err) = cli(&data_dir, &[], &["vulndb", "update"]);
    assert!(!ok);
    assert!(err.contains("set [scan] vulndb_url"), "{err}");

    // A first refresh whose dump is not a zip archive: nothing is built, and the status says why.
    mirror.put(
        &format!("/{ECOSYSTEM}/all.zip"),
        b"<html>maintenance</html>",
        Some("\"v0\""),
    );
    let (ok, out, _) = cli(&data_dir, &env, &["vulndb", "update"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "crates.io: FAILED: GET {}crates.io/all.zip: the 24 bytes read: not a zip archive",
            mirror.url
        )),
        "{out}"
    );
    mirror.assert_requests(&[csv.clone(), dump.clone()]);
    let said = status(&data_dir);
    assert!(
        said.starts_with("no vulnerability database yet")
            && said.contains("online crates.io: never refreshed; last check: FAILED: GET"),
        "{said}"
    );
    mirror.publish(&first_records(), "v1");

    // First refresh: the feed's head, then the whole dump.
    let (ok, out, err) = cli(&data_dir, &env, &["vulndb", "update"]);
    assert!(ok, "{out}{err}");
    mirror.assert_requests(&[csv.clone(), dump.clone()]);
    assert!(
        out.contains("crates.io: all.zip (")
            && out.contains("first refresh) read; watermark 2026-07-17T15:52:38Z"),
        "{out}"
    );
    assert!(out.contains("generation 1 in force: 13 record(s)"), "{out}");
    let said = status(&data_dir);
    assert!(
        said.contains("online crates.io: refreshed 20")
            && said.contains(&format!("from {} by all.zip", mirror.url))
            && said.contains("watermark 2026-07-17T15:52:38Z; last check: all.zip"),
        "{said}"
    );
    assert!(
        said.contains("source osv:crates.io: 13 record(s)"),
        "{said}"
    );
    assert_eq!(summary_of(&data_dir, NEW).await, None);

    // Nothing new: one read of the feed's head, no generation.
    let (ok, out, err) = cli(&data_dir, &env, &["vulndb", "update"]);
    assert!(ok, "{out}{err}");
    mirror.assert_requests(std::slice::from_ref(&csv));
    assert!(
        out.contains("crates.io: up to date (watermark 2026-07-17T15:52:38Z)")
            && out.contains("nothing changed; generation 1 stays in force"),
        "{out}"
    );

    // The mirror lists two changed records but serves an error page for one: nothing is stored, and the
    // watermark stays where it was, so the next refresh asks for both again.
    mirror.publish(&second_records(), "v2");
    mirror.put(
        &format!("/{ECOSYSTEM}/{NEW}.json"),
        b"<html>oops</html>",
        None,
    );
    let (ok, out, _) = cli(&data_dir, &env, &["vulndb", "update"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "crates.io: FAILED: GET {}crates.io/{NEW}.json: not an OSV record",
            mirror.url
        )) && out.contains("nothing changed; generation 1 stays in force"),
        "{out}"
    );
    mirror.take_requests();
    assert!(
        status(&data_dir).contains("by all.zip ("),
        "the data still comes from the first dump"
    );

    // One record added and one changed: exactly those two are fetched.
    mirror.publish(&second_records(), "v2");
    let (ok, out, err) = cli(&data_dir, &env, &["vulndb", "update"]);
    assert!(ok, "{out}{err}");
    mirror.assert_requests(&[
        csv.clone(),
        format!("GET /{ECOSYSTEM}/{NEW}.json"),
        format!("GET /{ECOSYSTEM}/{CHANGED}.json"),
    ]);
    assert!(
        out.contains("crates.io: 2 changed record(s) fetched; watermark 2026-12-06T09:00:01Z"),
        "{out}"
    );
    assert!(
        out.contains("generation 2 in force: 2 record(s) read from 1 input(s) (2 new or changed"),
        "{out}"
    );
    assert_eq!(
        summary_of(&data_dir, CHANGED).await.as_deref(),
        Some(CHANGED_SUMMARY)
    );
    assert!(summary_of(&data_dir, NEW).await.is_some());
    let said = status(&data_dir);
    assert!(
        said.contains("source osv:crates.io: 14 record(s)"),
        "{said}"
    );
    assert!(
        said.contains("by records (2 changed record(s)), watermark 2026-12-06T09:00:01Z"),
        "{said}"
    );

    // --full reads the dump (sending the ETag of the last one read); the next --full finds it unchanged.
    let (ok, out, err) = cli(&data_dir, &env, &["vulndb", "update", "--full"]);
    assert!(ok, "{out}{err}");
    mirror.assert_requests(&[csv.clone(), format!("{dump} If-None-Match \"v1\"")]);
    assert!(out.contains("generation 3 in force: 14 record(s)"), "{out}");
    let (ok, out, err) = cli(&data_dir, &env, &["vulndb", "update", "--full"]);
    assert!(ok, "{out}{err}");
    mirror.assert_requests(&[csv.clone(), format!("{dump} If-None-Match \"v2\"")]);
    assert!(
        out.contains("all.zip unchanged since the last refresh (ETag")
            && out.contains("nothing changed; generation 3 stays in force"),
        "{out}"
    );

    // Failures leave generation 3 in force, say what failed and why, and show in the status.
    let before = status(&data_dir);
    // "generation 3 built <time>", without the age that follows.
    let generation_line = |s: &str| {
        let line = s.lines().next().unwrap_or_default();
        line.split(" (").next().unwrap_or_default().to_owned()
    };

    // A dump larger than the limit (read chunked: the limit holds while reading).
    mirror.publish(&second_records(), "v3");
    let limit = (mirror.dump_size() / 2).to_string();
    let mut small = env.to_vec();
    small.push(("BERTH_SCAN__VULNDB_MAX_DOWNLOAD_BYTES", limit.as_str()));
    let (ok, out, err) = cli(&data_dir, &small, &["vulndb", "update", "--full"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "crates.io: FAILED: GET {}crates.io/all.zip: larger than {limit} bytes, the limit ([scan] vulndb_max_download_bytes)",
            mirror.url
        )),
        "{out}"
    );
    assert!(
        err.contains("the refresh of crates.io failed; nothing changed"),
        "{err}"
    );
    // The ETag of the dump read last is still the one asked with.
    mirror.assert_requests(&[csv.clone(), format!("{dump} If-None-Match \"v2\"")]);
    assert_eq!(
        generation_line(&status(&data_dir)),
        generation_line(&before)
    );

    // An unreachable mirror.
    let closed = format!("http://127.0.0.1:{}/", crate::support::free_port());
    let (ok, out, err) = cli(&data_dir, &env, &["vulndb", "update", "--url", &closed]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "crates.io: FAILED: GET {closed}crates.io/modified_id.csv: "
        )) && out.contains("Connection refused"),
        "{out}"
    );
    assert!(
        err.contains("vulnerability database refresh failed for this ecosystem"),
        "one log line says what failed: {err}"
    );
    let said = status(&data_dir);
    assert_eq!(generation_line(&said), generation_line(&before));
    assert!(
        said.contains("online refresh: last checked ")
            && said.contains(&format!("from {closed}"))
            && said.contains("last check: FAILED: GET"),
        "{said}"
    );

    // A redirect loop is cut short.
    let looping = format!("{}loop/", mirror.url);
    let (ok, out, _) = cli(&data_dir, &env, &["vulndb", "update", "--url", &looping]);
    assert!(!ok, "{out}");
    assert!(out.contains("more than 5 redirects"), "{out}");
    assert_eq!(
        mirror.take_requests(),
        vec![format!("GET /loop/{ECOSYSTEM}/modified_id.csv"); 6],
        "the request and five redirects"
    );
    assert_eq!(
        generation_line(&status(&data_dir)),
        generation_line(&before)
    );
    assert_eq!(
        summary_of(&data_dir, CHANGED).await.as_deref(),
        Some(CHANGED_SUMMARY)
    );
}

/// Waits for the newest job of `kind` to end; returns (id, state).
async fn wait_job(server: &TestServer, kind: &str, after: Option<i64>) -> (i64, String) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let job = server.state.db.latest_job(kind, None).await.unwrap();
        if let Some(job) = job
            && after.is_none_or(|a| job.id > a)
            && !matches!(job.state.as_str(), "pending" | "running")
        {
            return (job.id, job.state);
        }
        assert!(Instant::now() < deadline, "no {kind} job ended");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn job_log(server: &TestServer, id: i64) -> String {
    client()
        .get(server.url(&format!("/api/v2.0/jobservice/jobs/{id}/log")))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn report(server: &TestServer, name: &str) -> Value {
    client()
        .get(server.url(&format!(
            "/api/v2.0/projects/scans/repositories/{name}/artifacts/v1/additions/vulnerabilities"
        )))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()[REPORT_MIME]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_running_server_refreshes_on_its_own_and_finds_the_new_vulnerability_without_a_restart() {
    crate::images::require_tool("skopeo");
    let mirror = Mirror::start().await;
    mirror.publish(&first_records(), "v1");
    let url = mirror.url.clone();
    let server = TestServer::start_with(|config| {
        config.scan.vulndb_url = Some(url);
        config.scan.vulndb_ecosystems = Ecosystems(vec![ECOSYSTEM.to_owned()]);
    })
    .await;

    // The first refresh runs at start, as a job, through the dump.
    let (first, state) = wait_job(&server, job::NAME, None).await;
    assert_eq!(state, "success", "{}", job_log(&server, first).await);
    mirror.assert_requests(&[
        format!("GET /{ECOSYSTEM}/all.zip"),
        format!("GET /{ECOSYSTEM}/modified_id.csv"),
    ]);
    server.state.vulndb.refresh().await.unwrap();
    assert_eq!(server.state.vulndb.generation(), Some(1));
    // Not due again for a day: the check enqueues nothing.
    let settings = berth::scan::vulndb::online::Settings::from_config(&server.state.config.scan)
        .unwrap()
        .unwrap();
    assert_eq!(
        job::check_due(&server.state, &settings).await.unwrap(),
        None
    );

    // A Rust binary's lock file with net2 0.2.33: only the "unmaintained" advisory so far.
    server.create_project("scans", false).await;
    let env = ClientEnv::new();
    let work = tempfile::tempdir().unwrap();
    push(
        &server,
        &env,
        work.path(),
        "rust-app",
        &[vec![(
            "app/Cargo.lock".to_owned(),
            std::fs::read(vulndata(
                "packages/cargo-osv-scanner-deprecated-vuln/Cargo.lock",
            ))
            .unwrap(),
        )]],
    );
    let before = findings(&scan_and_wait(&server, "rust-app").await);
    assert_eq!(before, expected(&[("net2", "RUSTSEC-2020-0016", "")]));

    // The mirror publishes net2's memory-layout advisory; the next refresh fetches just the two changed
    // records, and the re-match brings the advisory into the report: no restart, no new scan.
    mirror.publish(&second_records(), "v2");
    let refresh = job::enqueue(&server.state, berth::jobs::MANUAL, "test")
        .await
        .unwrap()
        .unwrap();
    let (id, state) = wait_job(&server, job::NAME, Some(first)).await;
    let log = job_log(&server, id).await;
    assert_eq!((id, state.as_str()), (refresh, "success"), "{log}");
    assert!(
        log.contains("crates.io: 2 changed record(s) fetched")
            && log.contains("generation 2 in force"),
        "{log}"
    );
    mirror.assert_requests(&[
        format!("GET /{ECOSYSTEM}/modified_id.csv"),
        format!("GET /{ECOSYSTEM}/{NEW}.json"),
        format!("GET /{ECOSYSTEM}/{CHANGED}.json"),
    ]);
    assert_eq!(server.state.vulndb.generation(), Some(2));
    let (rematch, state) = wait_job(&server, REMATCH, None).await;
    assert_eq!(state, "success", "{}", job_log(&server, rematch).await);
    let after = findings(&report(&server, "rust-app").await);
    let new: Vec<_> = after.difference(&before).collect();
    assert!(!new.is_empty(), "no new finding: {after:?}");
    for (package, id, fix) in &new {
        assert_eq!(
            (package.as_str(), fix.as_str()),
            ("net2", "0.2.36"),
            "{new:?}"
        );
        assert!(
            [NEW, "CVE-2020-35919", "CVE-2020-35920"].contains(&id.as_str()),
            "{new:?}"
        );
    }
    assert!(after.is_superset(&before));
}
