//! Scan-all and the re-match on a new vulnerability database generation, against a running Berth: the real
//! Debian 12.0 package database pushed with skopeo, scan-all through Harbor's API, a second one with every blob
//! file deleted (it reads none), a new generation imported with `berth vulndb import` that adds an advisory
//! for Debian 12's openssl (only the artifacts holding it are re-matched), metrics, stop, and the schedule.

use berth::db::BUILT_IN_UUID;
use berth::scan::scan_all::{NAME, REMATCH, check_generation};
use reqwest::StatusCode;
use serde_json::json;

use super::real_data::{DEBIAN_FILES, DEBIAN_FIXED, DEBIAN_UNFIXED};
use super::*;

/// The advisory the new generation adds.
const NEW_ID: &str = "BERTH-TEST-2026-0001";

async fn api(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client()
        .request(method, server.url(&format!("/api/v2.0{path}")))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn metrics(server: &TestServer) -> Value {
    let (status, body) = api(server, reqwest::Method::GET, "/scans/all/metrics", None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Waits for the newest job of `kind` to end; returns its state.
async fn wait_job(server: &TestServer, kind: &str) -> (i64, String) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let job = server
            .state
            .db
            .latest_job(kind, None)
            .await
            .unwrap_or_else(|e| panic!("latest job: {e}"))
            .unwrap_or_else(|| panic!("no {kind} job"));
        if !matches!(job.state.as_str(), "pending" | "running") {
            return (job.id, job.state);
        }
        assert!(
            Instant::now() < deadline,
            "{kind} job {} did not end",
            job.id
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts a scan-all now and waits for it to succeed; returns its job id.
async fn scan_all_and_wait(server: &TestServer) -> i64 {
    let (status, body) = api(
        server,
        reqwest::Method::POST,
        "/system/scanAll/schedule",
        Some(json!({"schedule": {"type": "Manual"}})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (id, state) = wait_job(server, NAME).await;
    assert_eq!(state, "success", "scan-all job {id}");
    id
}

async fn job_log(server: &TestServer, id: i64) -> String {
    client()
        .get(server.url(&format!("/api/v2.0/jobservice/jobs/{id}/log")))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap_or_else(|e| panic!("log: {e}"))
        .text()
        .await
        .unwrap_or_default()
}

/// The built-in report of `scans/<name>:v1`, read through the API (the vulnerabilities addition).
async fn report(server: &TestServer, name: &str) -> Value {
    let (status, body) = api(
        server,
        reqwest::Method::GET,
        &format!("/projects/scans/repositories/{name}/artifacts/v1/additions/vulnerabilities"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body[REPORT_MIME].clone()
}

/// The vulnerability database generation `name`'s report was matched against.
async fn report_generation(server: &TestServer, name: &str) -> Option<i64> {
    let (_, artifact) = api(
        server,
        reqwest::Method::GET,
        &format!("/projects/scans/repositories/{name}/artifacts/v1"),
        None,
    )
    .await;
    let digest = artifact["digest"].as_str().unwrap_or_default().to_owned();
    let rows = server
        .state
        .db
        .artifact_scan_reports(&digest, BUILT_IN_UUID)
        .await
        .unwrap_or_else(|e| panic!("reports: {e}"));
    let row = rows
        .iter()
        .find(|r| r.mime_type == REPORT_MIME)
        .unwrap_or_else(|| panic!("no report of {name}"));
    assert_eq!(row.status, "Success", "{name}: {row:?}");
    row.vulndb_generation
}

/// Removes every blob file from the store: whatever reads a layer after this fails.
async fn delete_blob_files(server: &TestServer) -> usize {
    let objects: Vec<(String, u64)> =
        futures_util::TryStreamExt::try_collect(server.state.blobs.list_objects())
            .await
            .unwrap();
    let mut removed = 0;
    for (key, _) in objects {
        // A blob's key names its digest, or (S3-native uploads) its row names the key.
        let digest = match key.split('/').collect::<Vec<_>>().as_slice() {
            ["blobs", algorithm, _, hex] => Some(format!("{algorithm}:{hex}")),
            _ => sqlx::query_scalar("SELECT digest FROM blobs WHERE object_key = $1")
                .bind(&key)
                .fetch_optional(&server.state.db.raw_write_pool())
                .await
                .unwrap(),
        };
        if let Some(digest) = digest {
            server
                .state
                .blobs
                .delete(&digest.parse().unwrap())
                .await
                .unwrap();
            removed += 1;
        }
    }
    removed
}

/// Imports one OSV record adding [`NEW_ID`] for Debian 12's openssl, as a new generation.
async fn import_new_advisory(server: &TestServer) -> i64 {
    let before = server.state.vulndb.generation();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let record = json!({
        "id": NEW_ID,
        "modified": "2026-12-01T00:00:00Z",
        "published": "2026-12-01T00:00:00Z",
        "summary": "A test advisory for openssl in Debian 12",
        "affected": [{
            "package": {"ecosystem": "Debian:12", "name": "openssl"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.99-1"}]}]
        }],
        "database_specific": {"severity": "HIGH"}
    });
    let file = dir.path().join(format!("{NEW_ID}.json"));
    std::fs::write(&file, record.to_string()).unwrap_or_else(|e| panic!("write: {e}"));
    let data_dir = server.dir.path().join("data");
    let out = berth_cli(
        &data_dir,
        &["vulndb", "import", file.to_str().unwrap_or_default()],
    );
    assert!(
        out.status.success(),
        "import: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    server
        .state
        .vulndb
        .refresh()
        .await
        .unwrap_or_else(|e| panic!("refresh: {e:#}"));
    let after = server.state.vulndb.generation();
    assert!(after > before, "{before:?} → {after:?}");
    after.unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scan_all_rematches_stored_inventories_and_a_new_generation_rematches_affected_artifacts() {
    crate::images::require_tool("skopeo");
    let server = TestServer::start().await;
    import_advisories(&server).await;
    server.create_project("scans", false).await;
    let env = ClientEnv::new();
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    push(
        &server,
        &env,
        work.path(),
        "debian-12.0",
        &[package_files("debian12-derived-12.0", &DEBIAN_FILES)],
    );
    push(
        &server,
        &env,
        work.path(),
        "alpine-minirootfs",
        &[package_files(
            "alpine3.18-minirootfs-3.18.9",
            &[
                "etc/os-release",
                "etc/alpine-release",
                "lib/apk/db/installed",
            ],
        )],
    );

    // Before any scan-all: empty metrics.
    let m = metrics(&server).await;
    assert_eq!(
        (m["total"].as_i64(), m["ongoing"].as_bool()),
        (Some(0), Some(false)),
        "{m}"
    );

    // The first scan-all reads the layers (no inventory stored yet) and writes both reports.
    let first = scan_all_and_wait(&server).await;
    let m = metrics(&server).await;
    assert_eq!(m["total"], 2, "{m}");
    assert_eq!(m["completed"], 2, "{m}");
    assert_eq!(m["metrics"]["Success"], 2, "{m}");
    assert_eq!(m["ongoing"], false, "{m}");
    assert_eq!(m["trigger"], "Manual", "{m}");
    assert_eq!(m["requester"], ADMIN_USER, "{m}");
    assert!(job_log(&server, first).await.contains("2 scanned"));
    let mut want = expected(&DEBIAN_FIXED);
    want.extend(expected(&DEBIAN_UNFIXED));
    assert_eq!(findings(&report(&server, "debian-12.0").await), want);
    assert_eq!(
        findings(&report(&server, "alpine-minirootfs").await),
        expected(&[("musl", "CVE-2025-26519", "1.2.4-r3")])
    );
    let generation = report_generation(&server, "debian-12.0").await;

    // Every blob file gone: nothing below may read a layer.
    assert!(delete_blob_files(&server).await >= 4);

    // A second scan-all on the same generation leaves both reports as they are (#22276).
    let second = scan_all_and_wait(&server).await;
    assert!(
        job_log(&server, second).await.contains(
            "0 re-matched without reading a blob, 2 unchanged since their report, 0 scanned"
        ),
        "{}",
        job_log(&server, second).await
    );
    assert_eq!(findings(&report(&server, "debian-12.0").await), want);

    // A new generation adds an advisory for Debian 12's openssl: the re-match brings it into debian-12.0's
    // report without a scan and without a blob; the Alpine image, which has no Debian openssl, is left alone.
    let new = import_new_advisory(&server).await;
    let job = check_generation(&server.state)
        .await
        .unwrap_or_else(|e| panic!("check: {e}"))
        .unwrap_or_else(|| panic!("no re-match queued for generation {new}"));
    let (id, state) = wait_job(&server, REMATCH).await;
    assert_eq!(
        (id, state.as_str()),
        (job, "success"),
        "{}",
        job_log(&server, id).await
    );
    assert!(
        job_log(&server, id)
            .await
            .contains("done: 1 reports re-matched, 0 failed")
    );
    let mut with_new = want.clone();
    with_new.insert((
        "openssl".to_owned(),
        NEW_ID.to_owned(),
        "3.0.99-1".to_owned(),
    ));
    assert_eq!(findings(&report(&server, "debian-12.0").await), with_new);
    assert_eq!(report_generation(&server, "debian-12.0").await, Some(new));
    assert_eq!(
        report_generation(&server, "alpine-minirootfs").await,
        generation
    );
    // Once done, the check has nothing more to do.
    assert_eq!(check_generation(&server.state).await.ok().flatten(), None);

    // The next scan-all re-matches the Alpine image from its stored inventory (its report is of an older
    // generation), still with no blob on disk.
    let third = scan_all_and_wait(&server).await;
    assert!(
        job_log(&server, third).await.contains("1 re-matched without reading a blob, 1 unchanged since their report, 0 scanned, 0 skipped, 0 failed"),
        "{}",
        job_log(&server, third).await
    );
    assert_eq!(
        report_generation(&server, "alpine-minirootfs").await,
        Some(new)
    );
    assert_eq!(
        findings(&report(&server, "alpine-minirootfs").await),
        expected(&[("musl", "CVE-2025-26519", "1.2.4-r3")])
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scan_all_schedule_stop_metrics_and_permissions() {
    let server = TestServer::start().await;
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    let put = reqwest::Method::PUT;

    // No schedule yet.
    let (status, body) = api(&server, get.clone(), "/system/scanAll/schedule", None).await;
    assert_eq!(
        (status.as_u16(), &body["schedule"]["type"]),
        (200, &json!("None")),
        "{body}"
    );

    // Set, read, replace and remove the schedule.
    let (status, body) = api(
        &server,
        put.clone(),
        "/system/scanAll/schedule",
        Some(json!({"schedule": {"type": "Daily"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = api(&server, get.clone(), "/system/scanAll/schedule", None).await;
    assert_eq!(body["schedule"]["type"], "Daily", "{body}");
    assert_eq!(body["schedule"]["cron"], "0 0 0 * * *", "{body}");
    assert!(
        body["schedule"]["next_scheduled_time"].is_string(),
        "{body}"
    );
    assert!(body["id"].is_i64(), "{body}");
    let (status, _) = api(
        &server,
        post.clone(),
        "/system/scanAll/schedule",
        Some(json!({"schedule": {"type": "Custom", "cron": "0 30 2 * * 1"}})),
    )
    .await;
    assert_eq!(status, 201);
    let (_, body) = api(&server, get.clone(), "/system/scanAll/schedule", None).await;
    assert_eq!(
        (&body["schedule"]["type"], &body["schedule"]["cron"]),
        (&json!("Custom"), &json!("0 30 2 * * 1")),
        "{body}"
    );
    let (status, _) = api(
        &server,
        put.clone(),
        "/system/scanAll/schedule",
        Some(json!({"schedule": {"type": "None"}})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, body) = api(&server, get.clone(), "/system/scanAll/schedule", None).await;
    assert_eq!(body["schedule"]["type"], "None", "{body}");

    // Bad schedules: precise 400s, nothing stored.
    for (method, body, says) in [
        (
            put.clone(),
            json!({"schedule": {"type": "Yearly"}}),
            "schedule type must be one of",
        ),
        (
            put.clone(),
            json!({"schedule": {"type": "Custom"}}),
            "needs a cron expression",
        ),
        (
            put.clone(),
            json!({"schedule": {"type": "Custom", "cron": "0 0 * * *"}}),
            "six fields",
        ),
        (
            put.clone(),
            json!({"schedule": {"type": "Custom", "cron": "0 0 0 31 2 *"}}),
            "never fires",
        ),
        (put.clone(), json!({"schedule": {"type": "Manual"}}), "POST"),
        (post.clone(), json!({}), "schedule is required"),
    ] {
        let (status, answer) = api(
            &server,
            method,
            "/system/scanAll/schedule",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 400, "{body} → {answer}");
        let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{body} → {message}");
    }
    let (_, body) = api(&server, get.clone(), "/system/scanAll/schedule", None).await;
    assert_eq!(body["schedule"]["type"], "None", "{body}");

    // Nothing to stop yet.
    let (status, _) = api(&server, post.clone(), "/system/scanAll/stop", None).await;
    assert_eq!(status, 400);

    // A scan-all held in its paused queue: metrics say it is ongoing; a second one is refused; stop ends it.
    let (status, _) = api(
        &server,
        put.clone(),
        &format!("/jobservice/queues/{NAME}"),
        Some(json!({"action": "pause"})),
    )
    .await;
    assert_eq!(status, 200);
    let manual = json!({"schedule": {"type": "Manual"}});
    let (status, _) = api(
        &server,
        post.clone(),
        "/system/scanAll/schedule",
        Some(manual.clone()),
    )
    .await;
    assert_eq!(status, 201);
    let m = metrics(&server).await;
    assert_eq!(
        (&m["ongoing"], &m["trigger"]),
        (&json!(true), &json!("Manual")),
        "{m}"
    );
    let (status, body) = api(
        &server,
        post.clone(),
        "/system/scanAll/schedule",
        Some(manual.clone()),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = api(&server, post.clone(), "/system/scanAll/stop", None).await;
    assert_eq!(status, 202);
    let (_, state) = wait_job(&server, NAME).await;
    assert_eq!(state, "stopped");
    let m = metrics(&server).await;
    assert_eq!(m["ongoing"], false, "{m}");
    let (status, _) = api(&server, post.clone(), "/system/scanAll/stop", None).await;
    assert_eq!(status, 400);
    // The scheduled-run metrics: none has run on a schedule.
    let (status, body) = api(&server, get.clone(), "/scans/schedule/metrics", None).await;
    assert_eq!(
        (status.as_u16(), &body["total"], &body["ongoing"]),
        (200, &json!(0), &json!(false))
    );

    // System administrators only: a signed-in user gets 403, anonymous 401.
    server.create_user("dev", "Dev12345!", false).await;
    for (method, path) in [
        (get.clone(), "/system/scanAll/schedule"),
        (post.clone(), "/system/scanAll/schedule"),
        (put.clone(), "/system/scanAll/schedule"),
        (post.clone(), "/system/scanAll/stop"),
        (get.clone(), "/scans/all/metrics"),
        (get.clone(), "/scans/schedule/metrics"),
    ] {
        let url = server.url(&format!("/api/v2.0{path}"));
        let as_dev = client()
            .request(method.clone(), &url)
            .basic_auth("dev", Some("Dev12345!"))
            .json(&manual)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(as_dev.status(), 403, "{method} {path} as a user");
        let anonymous = client()
            .request(method.clone(), &url)
            .json(&manual)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(anonymous.status(), 401, "{method} {path} anonymously");
    }
    server.stop().await;
}
