//! The job system against real servers: durability across a restart and a SIGKILL, two nodes on one database,
//! schedules, paused queues, stopping, and the log cap. The purge endpoints' shapes and permissions are in
//! `api/purgeaudit.rs` and `api/jobservice.rs`.

mod claims;
mod crashes;
mod logs;
mod queues;

use std::time::{Duration, Instant};

use berth::db::{Db, NewAuditEntry, timestamp};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::{ADMIN_PASSWORD, ADMIN_USER};

/// `n` audit entries of `operation`, `age_hours` old.
pub async fn seed_audit(db: &Db, n: usize, operation: &'static str, age_hours: i64) {
    let at = timestamp(chrono::Utc::now() - chrono::Duration::hours(age_hours));
    let entries: Vec<NewAuditEntry> = (0..n)
        .map(|i| NewAuditEntry {
            project: None,
            project_id: None,
            operation,
            resource_type: "artifact",
            resource: format!("seed/{operation}/{age_hours}/{i}"),
            username: "seeder".to_owned(),
            client_ip: String::new(),
            op_time: at.clone(),
        })
        .collect();
    for chunk in entries.chunks(5000) {
        db.record_audit_batch(chunk).await.unwrap();
    }
}

/// Starts a purge now through Harbor's API (`POST /system/purgeaudit/schedule` with a `Manual` schedule) at
/// `base` (`http://host:port`); returns its id.
pub async fn purge_now(http: &Client, base: &str, parameters: Value) -> i64 {
    system_job_now(http, base, "/system/purgeaudit", parameters).await
}

/// Starts the system job whose runs are at `path` (e.g. `/system/gc`) now, through `POST {path}/schedule` with a
/// `Manual` schedule; returns its id (from the `Location` header, which must name the run under `path`).
pub async fn system_job_now(http: &Client, base: &str, path: &str, parameters: Value) -> i64 {
    let response = http
        .post(format!("{base}/api/v2.0{path}/schedule"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&json!({"schedule": {"type": "Manual"}, "parameters": parameters}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("/api/v2.0{path}/")),
        "{location}"
    );
    location.rsplit('/').next().unwrap().parse().unwrap()
}

/// `GET /system/purgeaudit/{id}` as admin.
pub async fn purge_run(http: &Client, base: &str, id: i64) -> Value {
    system_job_run(http, base, "/system/purgeaudit", id).await
}

/// `GET {path}/{id}` as admin.
pub async fn system_job_run(http: &Client, base: &str, path: &str, id: i64) -> Value {
    let response = http
        .get(format!("{base}/api/v2.0{path}/{id}"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Waits (polling, up to a minute) until purge `id` has one of `statuses`; returns it.
pub async fn wait_for(http: &Client, base: &str, id: i64, statuses: &[&str]) -> Value {
    wait_for_system_job(http, base, "/system/purgeaudit", id, statuses).await
}

/// Waits (polling, up to two minutes) until run `id` of the system job at `path` has one of `statuses`.
pub async fn wait_for_system_job(
    http: &Client,
    base: &str,
    path: &str,
    id: i64,
    statuses: &[&str],
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let run = system_job_run(http, base, path, id).await;
        if statuses.contains(&run["job_status"].as_str().unwrap_or_default()) {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} never reached {statuses:?}: {run}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The text of job `id`'s log (`GET /jobservice/jobs/{id}/log`).
pub async fn job_log(http: &Client, base: &str, id: i64) -> String {
    let response = http
        .get(format!("{base}/api/v2.0/jobservice/jobs/{id}/log"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    response.text().await.unwrap()
}

/// How many audit entries of `operation` there are.
pub async fn audit_count(db: &Db, operation: &str) -> i64 {
    db.count_audit_before(&[operation.to_owned()], "9999")
        .await
        .unwrap()[0]
        .1
}
