//! Each of Harbor's templates and selectors, run for real, with the reasons they record.

use serde_json::json;

use super::{
    days_ago, everything, has_manifest, policy, project_id, reason_of, reasons, rule, run,
    selector, sql, start, tag_list, tags,
};
use crate::registry::{OCI_MANIFEST, push_image};
use crate::support::client;

/// latestPushedK keeps the K most recently pushed tags and removes the rest, each artifact with its only tag.
#[tokio::test]
async fn latest_pushed_k_keeps_the_newest_k() {
    let server = start().await;
    let http = client();
    server.create_project("p", false).await;
    let mut digests = Vec::new();
    for i in 1..=4 {
        digests.push(
            push_image(&server, &http, "p/app", &format!("v{i}"), &format!("lp{i}"))
                .await
                .1,
        );
    }
    let pid = project_id(&server, "p").await;
    let id = super::create_policy(
        &server,
        &http,
        policy(
            pid,
            vec![everything("latestPushedK", json!({"latestPushedK": 2}))],
            "",
        ),
    )
    .await;
    let eid = run(&server, &http, id, false).await;
    let r = reasons(&server, &http, id, eid).await;
    assert_eq!(r.len(), 4, "{r:?}");
    assert_eq!(
        reason_of(&r, "v4"),
        (true, "kept by rule 1: the latest 2 pushed")
    );
    assert!(reason_of(&r, "v3").0);
    let (kept, why) = reason_of(&r, "v1");
    assert!(!kept);
    assert!(
        why.starts_with("removed: matched no retain rule (rule 1 (the latest 2 pushed) chooses it but does not keep it)"),
        "{why}"
    );
    assert!(
        why.ends_with("its artifact goes too (no kept tag or index needs it)"),
        "{why}"
    );
    assert_eq!(tag_list(&server, &http, "p/app").await, ["v3", "v4"]);
    assert!(!has_manifest(&server, &http, "p/app", &digests[0]).await);
    assert!(has_manifest(&server, &http, "p/app", &digests[3]).await);
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

/// latestPulledN keeps the N most recently pulled; never-pulled tags come last.
#[tokio::test]
async fn latest_pulled_n_keeps_the_most_recently_pulled() {
    let server = start().await;
    let http = client();
    server.create_project("p", false).await;
    for tag in ["a", "b", "c"] {
        push_image(&server, &http, "p/app", tag, &format!("pl-{tag}")).await;
    }
    // Pull `a` (the oldest push): it is the one kept.
    let response = http
        .get(server.url("/v2/p/app/manifests/a"))
        .basic_auth(
            crate::support::ADMIN_USER,
            Some(crate::support::ADMIN_PASSWORD),
        )
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    server.state.pulls.flush().await;
    let pid = project_id(&server, "p").await;
    let id = super::create_policy(
        &server,
        &http,
        policy(
            pid,
            vec![everything("latestPulledN", json!({"latestPulledN": 1}))],
            "",
        ),
    )
    .await;
    let eid = run(&server, &http, id, false).await;
    let r = reasons(&server, &http, id, eid).await;
    let (kept, why) = reason_of(&r, "a");
    assert!(
        kept && why.starts_with("kept by rule 1: the latest 1 pulled (last pulled "),
        "{why}"
    );
    let (kept, why) = reason_of(&r, "c");
    assert!(!kept && why.contains("; never pulled)"), "{why}");
    assert_eq!(tag_list(&server, &http, "p/app").await, ["a"]);
    server.stop().await;
}

/// nDaysSinceLastPush and nDaysSinceLastPull keep what was pushed (pulled) within N days; never pulled is not
/// recent.
#[tokio::test]
async fn n_days_since_last_push_and_pull() {
    let server = start().await;
    let http = client();
    server.create_project("p", false).await;
    for tag in ["new", "old"] {
        push_image(&server, &http, "p/push", tag, &format!("d-{tag}")).await;
    }
    sql(
        &server,
        "UPDATE tags SET push_time = $1 WHERE name = 'old'",
        &[&days_ago(30)],
    )
    .await;
    for tag in ["used", "stale", "never"] {
        push_image(&server, &http, "p/pull", tag, &format!("d-{tag}")).await;
    }
    sql(
        &server,
        "UPDATE tags SET pull_time = $1 WHERE name = 'used'",
        &[&days_ago(1)],
    )
    .await;
    sql(
        &server,
        "UPDATE tags SET pull_time = $1 WHERE name = 'stale'",
        &[&days_ago(20)],
    )
    .await;
    let pid = project_id(&server, "p").await;
    let id = super::create_policy(
        &server,
        &http,
        policy(
            pid,
            vec![
                rule(
                    "nDaysSinceLastPush",
                    json!({"nDaysSinceLastPush": 7}),
                    tags("matches", "**", true),
                    selector("repoMatches", "push"),
                ),
                rule(
                    "nDaysSinceLastPull",
                    json!({"nDaysSinceLastPull": 7}),
                    tags("matches", "**", true),
                    selector("repoMatches", "pull"),
                ),
            ],
            "",
        ),
    )
    .await;
    let eid = run(&server, &http, id, false).await;
    let r = reasons(&server, &http, id, eid).await;
    let (kept, why) = reason_of(&r, "new");
    assert!(
        kept && why.starts_with("kept by rule 1: pushed within the last 7 days in push (pushed "),
        "{why}"
    );
    let (kept, why) = reason_of(&r, "old");
    assert!(
        !kept && why.contains("rule 1 (pushed within the last 7 days in push) chooses it"),
        "{why}"
    );
    let (kept, why) = reason_of(&r, "used");
    assert!(
        kept && why
            .starts_with("kept by rule 2: pulled within the last 7 days in pull (last pulled "),
        "{why}"
    );
    assert!(!reason_of(&r, "stale").0);
    assert!(reason_of(&r, "never").1.contains("never pulled"));
    assert_eq!(tag_list(&server, &http, "p/push").await, ["new"]);
    assert_eq!(tag_list(&server, &http, "p/pull").await, ["used"]);
    server.stop().await;
}

/// Repository selectors (matches, excludes) pick the repositories that get a task at all; tag selectors
/// (matches, excludes) pick tags, and untagged artifacts by `extras`; `always` keeps what they pick.
#[tokio::test]
async fn selectors_choose_repositories_tags_and_untagged_artifacts() {
    let server = start().await;
    let http = client();
    server.create_project("p", false).await;
    for (repo, tag) in [
        ("p/app/web", "v1"),
        ("p/app/web", "dev-1"),
        ("p/app/api", "v2"),
        ("p/app/api", "latest"),
        ("p/tools", "x"),
        ("p/keep", "dev-2"),
        ("p/keep", "v3"),
    ] {
        push_image(&server, &http, repo, tag, &format!("s-{repo}-{tag}")).await;
    }
    // An untagged artifact in p/app/web and one in p/keep.
    let (_, untagged_web) = push_image(&server, &http, "p/app/web", "tmp", "s-untagged-web").await;
    sql(&server, "DELETE FROM tags WHERE name = 'tmp'", &[]).await;
    let (_, untagged_keep) = push_image(&server, &http, "p/keep", "tmp2", "s-untagged-keep").await;
    sql(&server, "DELETE FROM tags WHERE name = 'tmp2'", &[]).await;
    let pid = project_id(&server, "p").await;
    let id = super::create_policy(
        &server,
        &http,
        policy(
            pid,
            vec![
                // app/**: keep v* tags; untagged artifacts are out of its scope.
                rule(
                    "always",
                    json!({}),
                    tags("matches", "v*", false),
                    selector("repoMatches", "app/**"),
                ),
                // Everything but app/** and tools: keep all tags but dev-*, and untagged artifacts (not excluded).
                rule(
                    "always",
                    json!({}),
                    tags("excludes", "dev-*", false),
                    selector("repoExcludes", "{app/**,tools}"),
                ),
            ],
            "",
        ),
    )
    .await;
    let eid = run(&server, &http, id, false).await;
    let r = reasons(&server, &http, id, eid).await;
    let repositories: std::collections::BTreeSet<&str> =
        r.iter().map(|(repo, ..)| repo.as_str()).collect();
    assert_eq!(
        repositories.into_iter().collect::<Vec<_>>(),
        ["p/app/api", "p/app/web", "p/keep"],
        "p/tools is in no rule's scope: no task, nothing removed"
    );
    assert_eq!(
        reason_of(&r, "v1"),
        (true, "kept by rule 1: always of tags matching v* in app/**")
    );
    let (kept, why) = reason_of(&r, "latest");
    assert!(
        !kept
            && why
                .starts_with("removed: matched no retain rule (no rule's tag selectors choose it)"),
        "{why}"
    );
    assert!(!reason_of(&r, &format!("@{untagged_web}")).0);
    assert_eq!(
        reason_of(&r, "v3"),
        (
            true,
            "kept by rule 2: always of tags excluding dev-* in repositories except {app/**,tools}"
        )
    );
    assert!(!reason_of(&r, "dev-2").0);
    assert!(reason_of(&r, &format!("@{untagged_keep}")).0);
    assert_eq!(tag_list(&server, &http, "p/app/web").await, ["v1"]);
    assert_eq!(tag_list(&server, &http, "p/app/api").await, ["v2"]);
    assert_eq!(tag_list(&server, &http, "p/tools").await, ["x"]);
    assert_eq!(tag_list(&server, &http, "p/keep").await, ["v3"]);
    assert!(!has_manifest(&server, &http, "p/app/web", &untagged_web).await);
    assert!(has_manifest(&server, &http, "p/keep", &untagged_keep).await);
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}
