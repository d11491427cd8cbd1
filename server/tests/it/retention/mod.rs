//! Tag retention (`/retentions`) against a real Berth: each template and selector with the reasons it records,
//! the shared-digest case, dry runs, stopping, schedules, proxy projects' default policy, and the API's shapes,
//! checks and permissions.

mod api;
mod proxy;
mod runs;
mod templates;

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::api::{As, api, get_json};
use crate::support::TestServer;

/// A Berth whose job loop polls every 50 ms and whose pull counts are written within 50 ms.
pub async fn start() -> TestServer {
    TestServer::start_with(|c| {
        c.jobs.poll_ms = 50;
        c.pull_stats_interval_ms = 50;
    })
    .await
}

/// A doublestar selector.
pub fn selector(decoration: &str, pattern: &str) -> Value {
    json!({"kind": "doublestar", "decoration": decoration, "pattern": pattern})
}

/// A tag selector with Harbor's `extras` saying whether untagged artifacts are in its scope.
pub fn tags(decoration: &str, pattern: &str, untagged: bool) -> Value {
    let mut s = selector(decoration, pattern);
    s["extras"] = json!(format!("{{\"untagged\":{untagged}}}"));
    s
}

/// A rule of `template` with `params`, a tag selector and a repository selector.
pub fn rule(template: &str, params: Value, tag: Value, repository: Value) -> Value {
    json!({"disabled": false, "action": "retain", "template": template, "params": params,
           "tag_selectors": [tag], "scope_selectors": {"repository": [repository]}})
}

/// A rule of `template` over every tag (untagged artifacts included) of every repository.
pub fn everything(template: &str, params: Value) -> Value {
    rule(
        template,
        params,
        tags("matches", "**", true),
        selector("repoMatches", "**"),
    )
}

/// Harbor's `RetentionPolicy` for project `project_id` with `rules`, on `cron` ("" for none).
pub fn policy(project_id: i64, rules: Vec<Value>, cron: &str) -> Value {
    json!({"algorithm": "or", "rules": rules,
           "trigger": {"kind": "Schedule", "settings": {"cron": cron}},
           "scope": {"level": "project", "ref": project_id}})
}

/// The id of a project.
pub async fn project_id(server: &TestServer, name: &str) -> i64 {
    server
        .state
        .db
        .find_project(name)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// `POST /retentions` as admin; returns the policy's id.
pub async fn create_policy(server: &TestServer, http: &Client, body: Value) -> i64 {
    let response = http
        .post(api(server, "/retentions"))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        response.text().await.unwrap()
    );
    location
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// `POST /retentions/{id}/executions` as admin; returns the execution's id.
pub async fn trigger(server: &TestServer, http: &Client, id: i64, dry_run: bool) -> i64 {
    let response = http
        .post(api(server, &format!("/retentions/{id}/executions")))
        .admin()
        .json(&json!({"dry_run": dry_run}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("/api/v2.0/retentions/{id}/executions/")));
    location.rsplit('/').next().unwrap().parse().unwrap()
}

/// Execution `eid` of policy `id`, as listed.
pub async fn execution(server: &TestServer, http: &Client, id: i64, eid: i64) -> Value {
    let list = get_json(
        http,
        api(
            server,
            &format!("/retentions/{id}/executions?page_size=100"),
        ),
    )
    .await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == eid)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Waits (polling, up to a minute) for execution `eid` to end; returns it.
pub async fn wait(server: &TestServer, http: &Client, id: i64, eid: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let e = execution(server, http, id, eid).await;
        if ["Success", "Error", "Stopped"].contains(&e["status"].as_str().unwrap_or_default()) {
            return e;
        }
        assert!(
            Instant::now() < deadline,
            "execution {eid} never ended: {e}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs policy `id` and waits for it to succeed; returns the execution's id.
pub async fn run(server: &TestServer, http: &Client, id: i64, dry_run: bool) -> i64 {
    let eid = trigger(server, http, id, dry_run).await;
    let e = wait(server, http, id, eid).await;
    assert_eq!(e["status"], "Success", "{e}");
    assert_eq!(e["dry_run"], dry_run);
    eid
}

/// Every reason of execution `eid`, as `repository → [(tag or @digest, retained, reason)]` in task order.
pub async fn reasons(
    server: &TestServer,
    http: &Client,
    id: i64,
    eid: i64,
) -> Vec<(String, String, bool, String)> {
    let tasks = get_json(
        http,
        api(
            server,
            &format!("/retentions/{id}/executions/{eid}/tasks?page_size=100"),
        ),
    )
    .await;
    let mut out = Vec::new();
    for task in tasks.as_array().unwrap() {
        let tid = task["id"].as_i64().unwrap();
        let mut page = 1;
        loop {
            let rows = get_json(
                http,
                api(
                    server,
                    &format!("/retentions/{id}/executions/{eid}/tasks/{tid}/reasons?page={page}&page_size=100"),
                ),
            )
            .await;
            let rows = rows.as_array().unwrap().clone();
            for r in &rows {
                let name = r["tag"].as_str().map_or_else(
                    || format!("@{}", r["digest"].as_str().unwrap()),
                    str::to_owned,
                );
                out.push((
                    task["repository"].as_str().unwrap().to_owned(),
                    name,
                    r["retained"].as_bool().unwrap(),
                    r["reason"].as_str().unwrap().to_owned(),
                ));
            }
            if rows.len() < 100 {
                break;
            }
            page += 1;
        }
    }
    out
}

/// The reason recorded for `name` (a tag, or `@digest`) in `reasons`.
pub fn reason_of<'a>(reasons: &'a [(String, String, bool, String)], name: &str) -> (bool, &'a str) {
    let found = reasons
        .iter()
        .find(|(_, n, _, _)| n == name)
        .unwrap_or_else(|| panic!("no reason for {name}: {reasons:?}"));
    (found.2, found.3.as_str())
}

/// The tags of `repository`, sorted (empty when it has none or is gone).
pub async fn tag_list(server: &TestServer, http: &Client, repository: &str) -> Vec<String> {
    let response = http
        .get(server.url(&format!("/v2/{repository}/tags/list")))
        .admin()
        .send()
        .await
        .unwrap();
    if response.status() != StatusCode::OK {
        return Vec::new();
    }
    let body: Value = response.json().await.unwrap();
    let mut tags: Vec<String> = body["tags"]
        .as_array()
        .map(|t| t.iter().map(|t| t.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    tags.sort();
    tags
}

/// Whether manifest `digest` is still in `repository`.
pub async fn has_manifest(
    server: &TestServer,
    http: &Client,
    repository: &str,
    digest: &str,
) -> bool {
    let response = http
        .head(server.url(&format!("/v2/{repository}/manifests/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    response.status() == StatusCode::OK
}

/// Runs `sql` (with `args` bound in order) against the server's database: how tests age pushes and pulls.
pub async fn sql(server: &TestServer, sql: &str, args: &[&str]) {
    let pool = server.state.db.raw_write_pool();
    let mut query = sqlx::query(sql);
    for a in args {
        query = query.bind(*a);
    }
    query.execute(&pool).await.unwrap();
}

/// A stored timestamp `days` ago.
pub fn days_ago(days: i64) -> String {
    berth::db::timestamp(chrono::Utc::now() - chrono::Duration::days(days))
}
