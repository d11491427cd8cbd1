//! Harbor's `/system/gc` endpoints: who may call them (401, 403, 200; system robots given the
//! `garbage-collection` permissions), parameters checked, stop, the schedule, and one collection at a time.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::robots::create_robot;
use super::{As, api};
use crate::gc::{gc_now, gc_run, gc_wait};
use crate::registry::error_code;
use crate::support::{TestServer, client};

fn endpoints(run: i64) -> Vec<(Method, String, Option<Value>)> {
    let manual = json!({"schedule": {"type": "Manual"}, "parameters": {"dry_run": true}});
    vec![
        (Method::GET, "/system/gc".to_owned(), None),
        (Method::GET, format!("/system/gc/{run}"), None),
        (Method::PUT, format!("/system/gc/{run}"), None),
        (Method::GET, format!("/system/gc/{run}/log"), None),
        (Method::GET, "/system/gc/schedule".to_owned(), None),
        (
            Method::POST,
            "/system/gc/schedule".to_owned(),
            Some(manual.clone()),
        ),
        (Method::PUT, "/system/gc/schedule".to_owned(), Some(manual)),
    ]
}

#[tokio::test]
async fn only_system_admins_and_robots_given_garbage_collection_get_in() {
    let server = TestServer::start_with(|c| c.jobs.workers = 0).await;
    server.create_user("alice", "Alice12345", false).await;
    let http = client();
    let run = gc_now(&http, &server.url(""), json!({"dry_run": true})).await;
    let (_, name, secret) = create_robot(
        &http,
        &api(&server, "/robots"),
        &json!({"name": "cleaner", "level": "system", "duration": -1, "permissions": [
            {"kind": "system", "namespace": "/", "access": [
                {"resource": "garbage-collection", "action": "read"},
                {"resource": "garbage-collection", "action": "list"},
                {"resource": "garbage-collection", "action": "create"},
                {"resource": "garbage-collection", "action": "update"},
                {"resource": "garbage-collection", "action": "stop"}]}]}),
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
        for (who, password) in [
            ("admin", crate::support::ADMIN_PASSWORD),
            (name.as_str(), secret.as_str()),
        ] {
            let response = request(Some((who, password))).send().await.unwrap();
            assert!(
                response.status().is_success(),
                "{who}: {method} {path}: {}",
                response.status()
            );
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn parameters_schedule_stop_and_one_collection_at_a_time() {
    let server = TestServer::start_with(|c| c.jobs.workers = 0).await;
    let http = client();
    let base = server.url("");
    for bad in [
        json!({"workers": 0}),
        json!({"workers": 6}),
        json!({"dry_run": "maybe"}),
        json!({"shred": true}),
    ] {
        let response = http
            .post(api(&server, "/system/gc/schedule"))
            .admin()
            .json(&json!({"schedule": {"type": "Manual"}, "parameters": bad}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    // Queued runs wait (no worker here); stopping a pending one ends it at once.
    let first = gc_now(&http, &base, json!({"workers": 5, "delete_untagged": true})).await;
    let second = gc_now(&http, &base, json!({})).await;
    let run = gc_run(&http, &base, first).await;
    assert_eq!(run["job_name"], "GARBAGE_COLLECTION");
    assert_eq!(run["job_kind"], "MANUAL");
    assert_eq!(run["job_status"], "Pending");
    let parameters: Value = serde_json::from_str(run["job_parameters"].as_str().unwrap()).unwrap();
    assert_eq!(
        parameters,
        json!({"delete_untagged": true, "dry_run": false, "workers": 5})
    );
    let response = http
        .put(api(&server, &format!("/system/gc/{second}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(gc_run(&http, &base, second).await["job_status"], "Stopped");
    let list: Value = http
        .get(api(&server, "/system/gc"))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    // A schedule.
    let response = http
        .put(api(&server, "/system/gc/schedule"))
        .admin()
        .json(&json!({"schedule": {"type": "Custom", "cron": "0 0 3 * * *"}, "parameters": {"delete_untagged": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let schedule: Value = http
        .get(api(&server, "/system/gc/schedule"))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(schedule["schedule"]["type"], "Custom");
    assert_eq!(schedule["schedule"]["cron"], "0 0 3 * * *");
    assert_eq!(schedule["job_name"], "GARBAGE_COLLECTION");
    // Unknown and malformed ids; a purge's id is not a collection.
    for (path, status) in [
        ("/system/gc/424242", StatusCode::NOT_FOUND),
        ("/system/gc/abc", StatusCode::BAD_REQUEST),
    ] {
        let response = http.get(api(&server, path)).admin().send().await.unwrap();
        assert_eq!(response.status(), status, "{path}");
    }
    server.stop().await;

    // With workers: the queued runs go one at a time, and each finishes.
    let server = TestServer::start_with(|c| c.jobs.poll_ms = 50).await;
    let base = server.url("");
    let ids = [
        gc_now(&http, &base, json!({})).await,
        gc_now(&http, &base, json!({"dry_run": true})).await,
        gc_now(&http, &base, json!({})).await,
    ];
    for id in ids {
        assert_eq!(
            gc_wait(&http, &base, id, &["Success", "Error"]).await["job_status"],
            "Success"
        );
    }
    server.stop().await;
}
