//! Proxy-cache projects get Harbor's default policy (keep what was pulled in the last 7 days) as a real,
//! scheduled policy; proxy pulls record pull times, so a cache in use is kept while an idle one goes.

use reqwest::StatusCode;
use serde_json::json;

use super::{days_ago, project_id, reason_of, reasons, run, sql, start};
use crate::api::{As, api, get_json};
use crate::images::Image;
use crate::proxy::upstreams::Distribution;
use crate::proxy::{RegistryClient, artifacts, proxy_project};
use crate::support::client;

#[tokio::test]
async fn a_proxy_project_keeps_what_was_pulled_in_the_last_seven_days() {
    let used = Image::build(7101, "amd64", &[2000]);
    let idle = Image::build(7102, "amd64", &[2000]);
    let registry = Distribution::start(None).await;
    registry.push_image("library/app", "used", &used).await;
    registry.push_image("library/app", "idle", &idle).await;
    let server = start().await;
    let http = client();
    proxy_project(&server, "hub", "docker-registry", &registry.base(), None).await;
    let pid = project_id(&server, "hub").await;

    // The policy: Harbor's default, named by the project's retention_id, scheduled daily.
    let project = get_json(&http, api(&server, &format!("/projects/{pid}"))).await;
    let id: i64 = project["metadata"]["retention_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let policy = get_json(&http, api(&server, &format!("/retentions/{id}"))).await;
    assert_eq!(policy["id"], id);
    assert_eq!(policy["rules"][0]["template"], "nDaysSinceLastPull");
    assert_eq!(
        policy["rules"][0]["params"],
        json!({"nDaysSinceLastPull": 7})
    );
    assert_eq!(policy["trigger"]["settings"]["cron"], "0 0 0 * * *");
    assert_eq!(policy["scope"], json!({"level": "project", "ref": pid}));
    let schedules = get_json(&http, api(&server, "/schedules")).await;
    assert!(
        schedules
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["vendor_type"] == "RETENTION"
                && s["vendor_id"] == id
                && s["cron"] == "0 0 0 * * *"),
        "{schedules}"
    );

    // Both images are cached by pulls through the project; `idle` was last pulled 30 days ago.
    let puller = RegistryClient::anonymous(&server);
    puller.pull("hub/library/app", "used", &used).await;
    puller.pull("hub/library/app", "idle", &idle).await;
    server.state.pulls.flush().await;
    let listed = artifacts(&server, "hub", "library/app")
        .await
        .unwrap_or_default();
    let used_tag = listed
        .iter()
        .flat_map(|a| a["tags"].as_array().cloned().unwrap_or_default())
        .find(|t| t["name"] == "used")
        .unwrap_or_else(|| panic!("no tag used: {listed:?}"));
    assert!(
        !used_tag["pull_time"]
            .as_str()
            .unwrap_or("0001")
            .starts_with("0001"),
        "a proxy pull records the tag's pull time: {used_tag}"
    );
    sql(
        &server,
        "UPDATE tags SET pull_time = $1 WHERE name = 'idle'",
        &[&days_ago(30)],
    )
    .await;
    sql(
        &server,
        "UPDATE artifacts SET pull_time = $1 WHERE digest = $2",
        &[&days_ago(30), &idle.manifest.digest],
    )
    .await;

    let eid = run(&server, &http, id, false).await;
    let r = reasons(&server, &http, id, eid).await;
    let (kept, why) = reason_of(&r, "used");
    assert!(
        kept && why.starts_with("kept by rule 1: pulled within the last 7 days (last pulled "),
        "{why}"
    );
    let (kept, why) = reason_of(&r, "idle");
    assert!(!kept, "{why}");
    // (The registry's tag list of a proxy project merges the upstream's; the cache's own tags are these.)
    let cached: Vec<String> = artifacts(&server, "hub", "library/app")
        .await
        .unwrap_or_default()
        .iter()
        .flat_map(|a| a["tags"].as_array().cloned().unwrap_or_default())
        .map(|t| t["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(cached, ["used"]);
    // The cache in use is still served from the cache.
    puller.pull("hub/library/app", "used", &used).await;
    server.stop().await;
}

/// A proxy project made before retention ran (migration 0021) gets its policy's schedule: the migration's
/// statement, run against a database whose proxy policy has none, schedules it.
#[tokio::test]
async fn the_migration_schedules_existing_proxy_policies() {
    let registry = Distribution::start(None).await;
    let server = start().await;
    let http = client();
    proxy_project(&server, "old", "docker-registry", &registry.base(), None).await;
    sql(
        &server,
        "DELETE FROM job_schedules WHERE vendor_type = 'RETENTION'",
        &[],
    )
    .await;
    let migration = if server.state.db.backend() == berth::db::Backend::Postgres {
        include_str!("../../../../migrations/postgres/0021_retention.sql")
    } else {
        include_str!("../../../../migrations/sqlite/0021_retention.sql")
    };
    let statement = &migration[migration
        .find("INSERT INTO job_schedules")
        .expect("the migration schedules proxy policies")..];
    sql(&server, statement, &[]).await;
    let pid = project_id(&server, "old").await;
    let project = get_json(&http, api(&server, &format!("/projects/{pid}"))).await;
    let id: i64 = project["metadata"]["retention_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let schedules = get_json(&http, api(&server, "/schedules")).await;
    assert!(
        schedules
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["vendor_type"] == "RETENTION"
                && s["vendor_id"] == id
                && s["cron"] == "0 0 0 * * *"),
        "{schedules}"
    );
    // Deleting the project removes its policy and its schedule.
    let response = http
        .delete(api(&server, &format!("/projects/{pid}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let schedules = get_json(&http, api(&server, "/schedules")).await;
    assert!(schedules.as_array().unwrap().is_empty(), "{schedules}");
    server.stop().await;
}
