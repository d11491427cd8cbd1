//! Harbor's audit-log purge (`/system/purgeaudit*`) and the job service dashboard's permissions
//! (`/jobservice/*`, `/schedules*`): a dry run deletes nothing, a real run deletes exactly the old entries of
//! the chosen operations, history and log answer Harbor's shapes, and only system administrators (or robots
//! given the permission) get in.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::audit::assert_audit_totals_are_exact;
use super::robots::create_robot;
use super::{As, api, error_code, get_json};
use crate::jobs::{audit_count, job_log, purge_now, seed_audit, wait_for};
use crate::support::{TestServer, client};

#[tokio::test]
async fn dry_run_reports_and_the_real_run_deletes_exactly_the_old_entries_of_the_chosen_operations()
{
    let server = TestServer::start_with(|c| {
        c.jobs.poll_ms = 100;
        c.jobs.purge_batch = 7;
    })
    .await;
    let db = &server.state.db;
    for op in ["create", "delete", "pull", "login"] {
        seed_audit(db, 25, op, 200).await; // older than a week
        seed_audit(db, 5, op, 2).await; // recent
    }
    let http = client();
    let base = server.url("");
    // Entries older than 100 hours, per operation (the test's own requests add recent entries).
    let old = async || {
        let before = berth::db::timestamp(chrono::Utc::now() - chrono::Duration::hours(100));
        let ops = ["create", "delete", "pull", "login"].map(str::to_owned);
        let counts = db.count_audit_before(&ops, &before).await.unwrap();
        counts.into_iter().map(|(_, n)| n).collect::<Vec<i64>>()
    };
    assert_eq!(old().await, [25, 25, 25, 25]);

    let dry = purge_now(
        &http,
        &base,
        json!({"audit_retention_hour": 168, "include_operations": "create,pull", "dry_run": true}),
    )
    .await;
    let run = wait_for(&http, &base, dry, &["Success", "Error"]).await;
    assert_eq!(run["job_status"], "Success", "{run}");
    assert_eq!(old().await, [25, 25, 25, 25], "a dry run deletes nothing");
    let log = job_log(&http, &base, dry).await;
    assert!(
        log.contains("would delete 25 entries of operation create"),
        "{log}"
    );
    assert!(
        log.contains("would delete 25 entries of operation pull"),
        "{log}"
    );
    assert!(log.contains("would delete 50 entries in all"), "{log}");

    let real = purge_now(
        &http,
        &base,
        json!({"audit_retention_hour": 168, "include_operations": "create,pull"}),
    )
    .await;
    let run = wait_for(&http, &base, real, &["Success", "Error"]).await;
    assert_eq!(run["job_status"], "Success", "{run}");
    // The old create and pull entries are gone, the old delete and login ones stay, and the recent ones too.
    assert_eq!(old().await, [0, 25, 0, 25]);
    assert_eq!(audit_count(db, "pull").await, 5);
    assert_eq!(
        audit_count(db, "delete").await,
        30 + 1,
        "and the purge's own entry"
    );
    let log = job_log(&http, &base, real).await;
    assert!(
        log.contains("deleted 25 entries of operation create"),
        "{log}"
    );
    assert!(
        log.contains("deleted 25 entries of operation pull"),
        "{log}"
    );
    assert!(log.contains("deleted 50 audit log entries in all"), "{log}");
    assert_audit_totals_are_exact(&server).await;
    // Its own audit entry, by its operator.
    let entries = get_json(&http, api(&server, "/audit-logs?q=resource_type=audit_log")).await;
    assert_eq!(entries.as_array().unwrap().len(), 1, "{entries}");
    assert_eq!(entries[0]["username"], "admin");
    assert_eq!(entries[0]["operation"], "delete");
    assert!(
        entries[0]["resource"]
            .as_str()
            .unwrap()
            .contains("50 entries older than 168 h of [create,pull]")
    );

    // History, newest first, in Harbor's shape.
    let response = http
        .get(api(&server, "/system/purgeaudit?page_size=1"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "2");
    assert!(response.headers().contains_key("link"));
    let page: Value = response.json().await.unwrap();
    let run = &page[0];
    assert_eq!(run["id"], real);
    assert_eq!(run["job_name"], "PURGE_AUDIT_LOG");
    assert_eq!(run["job_kind"], "MANUAL");
    assert_eq!(run["schedule"]["type"], "MANUAL");
    assert_eq!(run["deleted"], false);
    let parameters: Value = serde_json::from_str(run["job_parameters"].as_str().unwrap()).unwrap();
    assert_eq!(
        parameters,
        json!({"audit_retention_hour": 168, "include_operations": "create,pull", "dry_run": false})
    );
    assert!(run["creation_time"].as_str().unwrap().ends_with('Z'));
    let log = http
        .get(api(&server, &format!("/system/purgeaudit/{real}/log")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(log.status(), StatusCode::OK);
    assert!(
        log.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        log.text()
            .await
            .unwrap()
            .contains("[INFO] deleted 50 audit log entries in all")
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_parameters_and_schedules_are_refused_precisely() {
    let server = TestServer::start_with(|c| c.jobs.workers = 0).await;
    let http = client();
    for (body, needle) in [
        (
            json!({"schedule": {"type": "Manual"}, "parameters": {"include_operations": "pull"}}),
            "audit_retention_hour is required",
        ),
        (
            json!({"schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": -3, "include_operations": "pull"}}),
            "audit_retention_hour must be",
        ),
        (
            json!({"schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": 1, "include_operations": "pull,push"}}),
            "\"push\" is not an operation",
        ),
        (
            json!({"schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": 1, "include_operations": "pull", "dry_run": "maybe"}}),
            "dry_run must be",
        ),
        (
            json!({"schedule": {"type": "Custom", "cron": "0 0 * * *"}, "parameters": {"audit_retention_hour": 1, "include_operations": "pull"}}),
            "six fields",
        ),
        (
            json!({"schedule": {"type": "Custom", "cron": "0 0 0 30 2 *"}, "parameters": {"audit_retention_hour": 1, "include_operations": "pull"}}),
            "never fires",
        ),
        (
            json!({"schedule": {"type": "Yearly"}, "parameters": {"audit_retention_hour": 1, "include_operations": "pull"}}),
            "schedule type must be",
        ),
        (
            json!({"parameters": {"audit_retention_hour": 1, "include_operations": "pull"}}),
            "schedule is required",
        ),
    ] {
        let response = http
            .post(api(&server, "/system/purgeaudit/schedule"))
            .admin()
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let message: Value = response.json().await.unwrap();
        assert!(
            message["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{body}: {message}"
        );
    }
    // At most 16 waiting runs of one kind.
    let manual = json!({"schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": 1, "include_operations": "pull"}});
    for _ in 0..16 {
        let response = http
            .post(api(&server, "/system/purgeaudit/schedule"))
            .admin()
            .json(&manual)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let response = http
        .post(api(&server, "/system/purgeaudit/schedule"))
        .admin()
        .json(&manual)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    // Unknown and malformed ids.
    let response = http
        .get(api(&server, "/system/purgeaudit/424242"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http
        .get(api(&server, "/system/purgeaudit/abc"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

/// Every endpoint of the purge and of the job service, as `(method, path, body)`.
fn endpoints(run: i64) -> Vec<(Method, String, Option<Value>)> {
    let schedule = json!({"schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": 1, "include_operations": "pull"}});
    vec![
        (Method::GET, "/system/purgeaudit".to_owned(), None),
        (Method::GET, format!("/system/purgeaudit/{run}"), None),
        (Method::PUT, format!("/system/purgeaudit/{run}"), None),
        (Method::GET, format!("/system/purgeaudit/{run}/log"), None),
        (Method::GET, "/system/purgeaudit/schedule".to_owned(), None),
        (
            Method::POST,
            "/system/purgeaudit/schedule".to_owned(),
            Some(schedule.clone()),
        ),
        (
            Method::PUT,
            "/system/purgeaudit/schedule".to_owned(),
            Some(schedule),
        ),
        (Method::GET, "/jobservice/pools".to_owned(), None),
        (
            Method::GET,
            "/jobservice/pools/all/workers".to_owned(),
            None,
        ),
        (Method::PUT, format!("/jobservice/jobs/{run}"), None),
        (Method::GET, format!("/jobservice/jobs/{run}/log"), None),
        (Method::GET, "/jobservice/queues".to_owned(), None),
        (
            Method::PUT,
            "/jobservice/queues/all".to_owned(),
            Some(json!({"action": "resume"})),
        ),
        (Method::GET, "/schedules".to_owned(), None),
        (Method::GET, "/schedules/all/paused".to_owned(), None),
    ]
}

#[tokio::test]
async fn only_system_admins_and_robots_given_the_permission_get_in() {
    let server = TestServer::start_with(|c| c.jobs.workers = 0).await;
    server.create_user("alice", "Alice12345", false).await;
    let http = client();
    let run = purge_now(
        &http,
        &server.url(""),
        json!({"audit_retention_hour": 1, "include_operations": "pull"}),
    )
    .await;
    for (method, path, body) in endpoints(run) {
        let request = |auth: Option<(&str, &str)>| {
            let mut r = http.request(method.clone(), api(&server, &path));
            if let Some(b) = &body {
                r = r.json(b);
            }
            if let Some((user, password)) = auth {
                r = r.user(user, password);
            }
            r
        };
        let anonymous = request(None).send().await.unwrap();
        assert_eq!(
            anonymous.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        let user = request(Some(("alice", "Alice12345"))).send().await.unwrap();
        assert_eq!(user.status(), StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(error_code(user).await, "FORBIDDEN");
        let admin = request(Some(("admin", crate::support::ADMIN_PASSWORD)))
            .send()
            .await
            .unwrap();
        assert!(
            admin.status().is_success(),
            "{method} {path}: {}",
            admin.status()
        );
    }

    // A system robot with Harbor's jobservice-monitor permissions sees the dashboard, not the purge.
    let (_, name, secret) = create_robot(
        &http,
        &api(&server, "/robots"),
        &json!({"name": "monitor", "level": "system", "duration": -1, "permissions": [
            {"kind": "system", "namespace": "/", "access": [
                {"resource": "jobservice-monitor", "action": "list"},
                {"resource": "jobservice-monitor", "action": "stop"}]}]}),
    )
    .await;
    for (method, path, body) in endpoints(run) {
        let mut r = http
            .request(method.clone(), api(&server, &path))
            .user(&name, &secret);
        if let Some(b) = &body {
            r = r.json(b);
        }
        let status = r.send().await.unwrap().status();
        if path.starts_with("/system/purgeaudit") {
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
        } else {
            assert!(status.is_success(), "{method} {path}: {status}");
        }
    }
    server.stop().await;
}
