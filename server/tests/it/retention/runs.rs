//! How runs behave: tags, not digests; a dry run decides as the real run and deletes nothing; a stop is honoured
//! between batches; a schedule fires a run.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    everything, execution, has_manifest, policy, project_id, reason_of, reasons, rule, run,
    selector, start, tag_list, tags, trigger, wait,
};
use crate::api::{As, api, get_json};
use crate::registry::{OCI_MANIFEST, push_image, put_manifest};
use crate::support::client;

/// `v1` and `latest` on one digest, a rule keeping `latest` only: `v1` goes, the artifact and `latest` stay.
#[tokio::test]
async fn removing_a_tag_never_removes_another_tag_of_its_digest() {
    let server = start().await;
    let http = client();
    server.create_project("p", false).await;
    let (manifest, digest) = push_image(&server, &http, "p/app", "latest", "shared").await;
    put_manifest(&server, &http, "p/app", "v1", OCI_MANIFEST, &manifest).await;
    let pid = project_id(&server, "p").await;
    let id = super::create_policy(
        &server,
        &http,
        policy(
            pid,
            vec![rule(
                "always",
                json!({}),
                tags("matches", "latest", false),
                selector("repoMatches", "**"),
            )],
            "",
        ),
    )
    .await;
    let eid = run(&server, &http, id, false).await;
    let r = reasons(&server, &http, id, eid).await;
    assert_eq!(
        reason_of(&r, "latest"),
        (true, "kept by rule 1: always of tags matching latest")
    );
    let (kept, why) = reason_of(&r, "v1");
    assert!(!kept);
    assert!(
        why.ends_with(
            "only the tag goes (another kept tag, an index or its subject still needs the artifact)"
        ),
        "{why}"
    );
    assert_eq!(tag_list(&server, &http, "p/app").await, ["latest"]);
    assert!(has_manifest(&server, &http, "p/app", &digest).await);
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

/// A tag an immutable tag rule locks is always retained, with the rule named in its reason, even when no
/// retention rule keeps it; the other tags go as the policy says.
#[tokio::test]
async fn immutable_tags_are_always_retained_and_say_so() {
    use crate::api::immutable::{add_rule, rule as immutable_rule};
    let server = start().await;
    let http = client();
    server.create_project("p", false).await;
    let (_, locked_digest) = push_image(&server, &http, "p/app", "release-1", "locked").await;
    push_image(&server, &http, "p/app", "dev-1", "unlocked").await;
    let lock = add_rule(
        &server,
        &http,
        "p",
        immutable_rule("repoMatches", "**", "matches", "release-*"),
    )
    .await;
    let pid = project_id(&server, "p").await;
    // Keep nothing: only the immutable tag should survive.
    let id = super::create_policy(
        &server,
        &http,
        policy(
            pid,
            vec![rule(
                "always",
                json!({}),
                tags("matches", "nothing-matches-this", false),
                selector("repoMatches", "**"),
            )],
            "",
        ),
    )
    .await;
    let eid = run(&server, &http, id, false).await;
    let r = reasons(&server, &http, id, eid).await;
    assert_eq!(
        reason_of(&r, "release-1"),
        (
            true,
            format!("kept: immutable tag (immutability rule {lock})").as_str()
        )
    );
    assert!(!reason_of(&r, "dev-1").0);
    assert_eq!(tag_list(&server, &http, "p/app").await, ["release-1"]);
    assert!(has_manifest(&server, &http, "p/app", &locked_digest).await);
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

/// A dry run records the same decisions as the real run that follows, and deletes nothing.
#[tokio::test]
async fn a_dry_run_decides_as_the_real_run_and_deletes_nothing() {
    let server = start().await;
    let http = client();
    server.create_project("p", false).await;
    let (manifest, _) = push_image(&server, &http, "p/a", "one", "dry-1").await;
    put_manifest(&server, &http, "p/a", "two", OCI_MANIFEST, &manifest).await;
    for i in 2..=6 {
        push_image(&server, &http, "p/a", &format!("t{i}"), &format!("dry-{i}")).await;
        push_image(
            &server,
            &http,
            "p/b",
            &format!("t{i}"),
            &format!("dry-b{i}"),
        )
        .await;
    }
    let before_a = tag_list(&server, &http, "p/a").await;
    let before_b = tag_list(&server, &http, "p/b").await;
    let pid = project_id(&server, "p").await;
    let id = super::create_policy(
        &server,
        &http,
        policy(
            pid,
            vec![
                everything("latestPushedK", json!({"latestPushedK": 3})),
                rule(
                    "always",
                    json!({}),
                    tags("matches", "one", false),
                    selector("repoMatches", "a"),
                ),
            ],
            "",
        ),
    )
    .await;
    let dry = run(&server, &http, id, true).await;
    assert_eq!(tag_list(&server, &http, "p/a").await, before_a);
    assert_eq!(tag_list(&server, &http, "p/b").await, before_b);
    let real = run(&server, &http, id, false).await;
    let decided = |r: Vec<(String, String, bool, String)>| -> Vec<(String, String, bool, String)> {
        let mut r = r;
        r.sort();
        r
    };
    let dry_reasons = decided(reasons(&server, &http, id, dry).await);
    let real_reasons = decided(reasons(&server, &http, id, real).await);
    assert_eq!(dry_reasons, real_reasons);
    let removed: Vec<&str> = real_reasons
        .iter()
        .filter(|(_, _, kept, _)| !kept)
        .map(|(_, name, _, _)| name.as_str())
        .collect();
    assert_eq!(removed.len(), 3 + 2, "{real_reasons:?}");
    let after_a = tag_list(&server, &http, "p/a").await;
    let after_b = tag_list(&server, &http, "p/b").await;
    assert_eq!(after_b, ["t4", "t5", "t6"]);
    assert_eq!(after_a, ["one", "t4", "t5", "t6"]);
    // Each execution has a task per repository, with Harbor's counts.
    let tasks = get_json(
        &http,
        api(
            &server,
            &format!("/retentions/{id}/executions/{real}/tasks"),
        ),
    )
    .await;
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    let a = tasks.iter().find(|t| t["repository"] == "p/a").unwrap();
    assert_eq!(
        (a["total"].as_i64(), a["retained"].as_i64()),
        (Some(7), Some(4))
    );
    assert_eq!(a["status"], "Success");
    // The task's log is text, a line per tag.
    let response = http
        .get(api(
            &server,
            &format!("/retentions/{id}/executions/{real}/tasks/{}", a["id"]),
        ))
        .admin()
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
    let log = response.text().await.unwrap();
    assert!(log.contains("Total: 7, retained: 4, removed: 3"), "{log}");
    assert!(log.contains("RETAIN p/a:one ("), "{log}");
    assert!(log.contains("DEL    p/a:t2 ("), "{log}");
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

/// A stop asked while a run removes tags ends it between two batches: it is `Stopped`, and some removals
/// remain undone.
#[tokio::test]
async fn a_stop_is_honoured_between_batches() {
    let server = start().await;
    let http = client();
    server.create_project("p", false).await;
    let (_, digest) = push_image(&server, &http, "p/app", "keep", "stop").await;
    const TAGS: usize = 800;
    for i in 0..TAGS {
        let response = http
            .post(api(
                &server,
                &format!("/projects/p/repositories/app/artifacts/{digest}/tags"),
            ))
            .admin()
            .json(&json!({"name": format!("t{i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let pid = project_id(&server, "p").await;
    let id = super::create_policy(
        &server,
        &http,
        policy(
            pid,
            vec![rule(
                "always",
                json!({}),
                tags("matches", "keep", false),
                selector("repoMatches", "**"),
            )],
            "",
        ),
    )
    .await;
    let eid = trigger(&server, &http, id, false).await;
    // Wait until removals have begun (the tag count drops), then stop.
    let deadline = Instant::now() + Duration::from_secs(60);
    while tag_list(&server, &http, "p/app").await.len() > TAGS {
        assert!(Instant::now() < deadline, "no removal began");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let response = http
        .patch(api(&server, &format!("/retentions/{id}/executions/{eid}")))
        .admin()
        .json(&json!({"action": "stop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let e = wait(&server, &http, id, eid).await;
    assert_eq!(e["status"], "Stopped", "{e}");
    let left = tag_list(&server, &http, "p/app").await;
    assert!(
        left.len() > 1 && left.len() < TAGS,
        "{} tags left",
        left.len()
    );
    assert!(left.contains(&"keep".to_owned()));
    let tasks = get_json(
        &http,
        api(&server, &format!("/retentions/{id}/executions/{eid}/tasks")),
    )
    .await;
    assert_eq!(tasks[0]["status"], "Stopped");
    // Anything but stop is refused.
    let response = http
        .patch(api(&server, &format!("/retentions/{id}/executions/{eid}")))
        .admin()
        .json(&json!({"action": "pause"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

/// A policy's cron schedules RETENTION runs (listed by `/schedules`); an empty cron removes the schedule.
#[tokio::test]
async fn a_schedule_fires_a_run() {
    let server = start().await;
    let http = client();
    server.create_project("p", false).await;
    push_image(&server, &http, "p/app", "v1", "sched").await;
    let pid = project_id(&server, "p").await;
    let every_second = policy(
        pid,
        vec![everything("latestPushedK", json!({"latestPushedK": 5}))],
        "* * * * * *",
    );
    let id = super::create_policy(&server, &http, every_second.clone()).await;
    let schedules = get_json(&http, api(&server, "/schedules")).await;
    assert!(
        schedules
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["vendor_type"] == "RETENTION" && s["vendor_id"] == id),
        "{schedules}"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let scheduled: Value = loop {
        let list = get_json(&http, api(&server, &format!("/retentions/{id}/executions"))).await;
        if let Some(done) = list
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["trigger"] == "SCHEDULE" && e["status"] == "Success")
        {
            break done.clone();
        }
        assert!(Instant::now() < deadline, "no scheduled run: {list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(scheduled["dry_run"], false);
    assert_eq!(
        execution(&server, &http, id, scheduled["id"].as_i64().unwrap()).await["policy_id"],
        id
    );
    let mut none = every_second;
    none["trigger"]["settings"]["cron"] = json!("");
    let response = http
        .put(api(&server, &format!("/retentions/{id}")))
        .admin()
        .json(&none)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let schedules = get_json(&http, api(&server, "/schedules")).await;
    assert!(
        !schedules
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["vendor_type"] == "RETENTION"),
        "{schedules}"
    );
    server.stop().await;
}
