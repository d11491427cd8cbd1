//! Schedules fire; paused queues wait; jobs stop when asked, running or pending.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{audit_count, job_log, purge_now, purge_run, seed_audit, wait_for};
use crate::api::{As, api, get_json};
use crate::support::{TestServer, client};

async fn put(server: &TestServer, path: &str, body: Value) -> StatusCode {
    client()
        .put(api(server, path))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

async fn history(server: &TestServer) -> Vec<Value> {
    get_json(&client(), api(server, "/system/purgeaudit?page_size=100"))
        .await
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_custom_schedule_fires_and_a_paused_queue_waits_until_resumed() {
    let server = TestServer::start_with(|c| c.jobs.poll_ms = 100).await;
    let http = client();
    let pause = json!({"action": "pause"});
    assert_eq!(
        put(&server, "/jobservice/queues/purge_audit_log", pause).await,
        StatusCode::OK
    );
    let paused = get_json(&http, api(&server, "/schedules/PURGE_AUDIT_LOG/paused")).await;
    assert_eq!(paused, json!({"paused": true}));
    // Every second.
    let schedule = json!({"schedule": {"type": "Custom", "cron": "* * * * * *"},
                          "parameters": {"audit_retention_hour": 1, "include_operations": "pull", "dry_run": true}});
    assert_eq!(
        put(&server, "/system/purgeaudit/schedule", schedule).await,
        StatusCode::OK
    );
    let got = get_json(&http, api(&server, "/system/purgeaudit/schedule")).await;
    assert_eq!(got["schedule"]["type"], "Custom");
    assert_eq!(got["schedule"]["cron"], "* * * * * *");
    let schedules = get_json(&http, api(&server, "/schedules")).await;
    assert_eq!(schedules[0]["vendor_type"], "PURGE_AUDIT_LOG");

    // It fires, and the job waits in the paused queue; later firings do not pile up behind it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while history(&server).await.is_empty() {
        assert!(Instant::now() < deadline, "the schedule never fired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let runs = history(&server).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["job_status"], "Pending");
    assert_eq!(runs[0]["job_kind"], "SCHEDULE");
    let queues = get_json(&http, api(&server, "/jobservice/queues")).await;
    let queue = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["job_type"] == "PURGE_AUDIT_LOG")
        .unwrap()
        .clone();
    assert_eq!(queue["paused"], true);
    assert_eq!(queue["count"], 1);

    // Resumed, it runs (and the schedule keeps firing).
    assert_eq!(
        put(
            &server,
            "/jobservice/queues/all",
            json!({"action": "resume"})
        )
        .await,
        StatusCode::OK
    );
    let first = runs[0]["id"].as_i64().unwrap();
    let run = wait_for(&http, &server.url(""), first, &["Success", "Error"]).await;
    assert_eq!(run["job_status"], "Success", "{run}");
    let log = job_log(&http, &server.url(""), first).await;
    assert!(log.contains("triggered by SCHEDULE for schedule"), "{log}");
    // Removing the schedule stops the firings.
    let none = json!({"schedule": {"type": "None"}, "parameters": {}});
    assert_eq!(
        put(&server, "/system/purgeaudit/schedule", none).await,
        StatusCode::OK
    );
    let got = get_json(&http, api(&server, "/system/purgeaudit/schedule")).await;
    assert_eq!(got["schedule"]["type"], "None");
    server.stop().await;
}

#[tokio::test]
async fn a_running_and_a_pending_job_stop_when_asked() {
    let server = TestServer::start_with(|c| {
        c.jobs.poll_ms = 100;
        c.jobs.purge_batch = 1;
    })
    .await;
    seed_audit(&server.state.db, 20_000, "pull", 48).await;
    let http = client();
    let base = server.url("");
    let running = purge_now(
        &http,
        &base,
        json!({"audit_retention_hour": 24, "include_operations": "pull"}),
    )
    .await;
    wait_for(&http, &base, running, &["Running"]).await;
    // Stop it once it has deleted something (on PostgreSQL its first batch may come later than "Running").
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while audit_count(&server.state.db, "pull").await == 20_000
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        put(&server, &format!("/system/purgeaudit/{running}"), json!({})).await,
        StatusCode::OK
    );
    let run = wait_for(&http, &base, running, &["Stopped", "Success", "Error"]).await;
    assert_eq!(run["job_status"], "Stopped", "{run}");
    let left = audit_count(&server.state.db, "pull").await;
    assert!(left > 0 && left < 20_000, "{left} left");
    let log = job_log(&http, &base, running).await;
    assert!(log.contains("stopped on request"), "{log}");
    assert!(log.contains("before stopping"), "{log}");

    // A pending job (its queue paused) stops at once and never runs.
    assert_eq!(
        put(
            &server,
            "/jobservice/queues/PURGE_AUDIT_LOG",
            json!({"action": "pause"})
        )
        .await,
        StatusCode::OK
    );
    let pending = purge_now(
        &http,
        &base,
        json!({"audit_retention_hour": 24, "include_operations": "pull"}),
    )
    .await;
    assert_eq!(
        put(&server, &format!("/jobservice/jobs/{pending}"), json!({})).await,
        StatusCode::OK
    );
    assert_eq!(
        purge_run(&http, &base, pending).await["job_status"],
        "Stopped"
    );
    assert_eq!(
        put(
            &server,
            "/jobservice/queues/PURGE_AUDIT_LOG",
            json!({"action": "resume"})
        )
        .await,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        purge_run(&http, &base, pending).await["job_status"],
        "Stopped"
    );
    assert_eq!(audit_count(&server.state.db, "pull").await, left);

    // Unknown jobs and queues, and unknown actions.
    assert_eq!(
        put(&server, "/jobservice/jobs/999999", json!({})).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        put(
            &server,
            "/jobservice/queues/NO_SUCH_JOB",
            json!({"action": "pause"})
        )
        .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        put(
            &server,
            "/jobservice/queues/all",
            json!({"action": "explode"})
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    server.stop().await;
}
