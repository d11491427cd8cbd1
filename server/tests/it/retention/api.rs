//! `/retentions`: what a policy may say (precise 400s, Harbor's 409 for two identical rules), one policy per
//! project named by its `retention_id`, and who may do what (Harbor's `tag-retention` resource).

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{everything, policy, project_id, rule, selector, start, tags};
use crate::api::repositories::{PASSWORD, member};
use crate::api::{As, api, error_code, get_json};
use crate::support::{TestServer, client};

async fn post(server: &TestServer, http: &Client, body: &Value) -> (StatusCode, String) {
    let response = http
        .post(api(server, "/retentions"))
        .admin()
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (
        status,
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn policies_are_checked_with_precise_errors() {
    let server = start().await;
    let http = client();
    server.create_project("p", false).await;
    let pid = project_id(&server, "p").await;
    let keep = |k: i64| everything("latestPushedK", json!({"latestPushedK": k}));
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            policy(pid, (0..16).map(keep).collect(), ""),
            StatusCode::BAD_REQUEST,
            "only 15 rules are allowed at most",
        ),
        (
            policy(pid, vec![keep(32767)], ""),
            StatusCode::BAD_REQUEST,
            "rule 1: params.latestPushedK is too large",
        ),
        (
            policy(pid, vec![keep(-1)], ""),
            StatusCode::BAD_REQUEST,
            "rule 1: params.latestPushedK is less than zero",
        ),
        (
            policy(
                pid,
                vec![everything("nDaysSinceLastPull", json!({"days": 3}))],
                "",
            ),
            StatusCode::BAD_REQUEST,
            "rule 1: template nDaysSinceLastPull takes the param nDaysSinceLastPull",
        ),
        (
            policy(
                pid,
                vec![everything("latestPushedK", json!({"latestPushedK": "x"}))],
                "",
            ),
            StatusCode::BAD_REQUEST,
            "rule 1: params.latestPushedK must be a whole number",
        ),
        (
            policy(pid, vec![everything("newest", json!({}))], ""),
            StatusCode::BAD_REQUEST,
            "rule 1: unknown template",
        ),
        (
            policy(
                pid,
                vec![rule(
                    "always",
                    json!({}),
                    tags("matches", &"a".repeat(1025), true),
                    selector("repoMatches", "**"),
                )],
                "",
            ),
            StatusCode::BAD_REQUEST,
            "rule 1: tag_selectors: the pattern is 1025 bytes long",
        ),
        (
            policy(
                pid,
                vec![rule(
                    "always",
                    json!({}),
                    tags("matches", "[", true),
                    selector("repoMatches", "**"),
                )],
                "",
            ),
            StatusCode::BAD_REQUEST,
            "rule 1: tag_selectors: invalid pattern",
        ),
        (
            policy(
                pid,
                vec![rule(
                    "always",
                    json!({}),
                    tags("matches", "**", true),
                    selector("matches", "**"),
                )],
                "",
            ),
            StatusCode::BAD_REQUEST,
            "rule 1: scope_selectors.repository: decoration must be repoMatches or repoExcludes",
        ),
        (
            policy(pid, vec![keep(1)], "0 0 * * *"),
            StatusCode::BAD_REQUEST,
            "trigger.settings.cron: a cron expression has six fields",
        ),
        (
            policy(pid, vec![keep(1), keep(1)], ""),
            StatusCode::CONFLICT,
            "rule 2 is conflict with rule 1",
        ),
        (
            policy(999, vec![keep(1)], ""),
            StatusCode::BAD_REQUEST,
            "invalid Project id 999",
        ),
    ];
    for (body, status, message) in cases {
        let (got, text) = post(&server, &http, &body).await;
        assert_eq!(got, status, "{text}");
        assert!(
            text.starts_with(message),
            "{text:?} should start with {message:?}"
        );
    }
    // None of them left a policy behind; one is accepted, a second for the project is not.
    let project = get_json(&http, api(&server, &format!("/projects/{pid}"))).await;
    assert!(project["metadata"].get("retention_id").is_none());
    let id = super::create_policy(&server, &http, policy(pid, vec![keep(1)], "")).await;
    let project = get_json(&http, api(&server, &format!("/projects/{pid}"))).await;
    assert_eq!(project["metadata"]["retention_id"], id.to_string());
    let (status, text) = post(&server, &http, &policy(pid, vec![keep(2)], "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        text,
        format!("project {pid} already has retention policy {id}")
    );
    // The stored policy is Harbor's shape with its id; PUT cannot move it to another project.
    let stored = get_json(&http, api(&server, &format!("/retentions/{id}"))).await;
    assert_eq!(stored["id"], id);
    assert_eq!(stored["rules"][0]["id"], 1);
    assert_eq!(stored["scope"], json!({"level": "project", "ref": pid}));
    server.create_project("q", false).await;
    let qid = project_id(&server, "q").await;
    let response = http
        .put(api(&server, &format!("/retentions/{id}")))
        .admin()
        .json(&policy(qid, vec![keep(3)], ""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Bad ids are 400s, unknown ones 404s.
    let response = http
        .get(api(&server, "/retentions/abc"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = http
        .get(api(&server, "/retentions/12345"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // DELETE removes the policy and the project's retention_id.
    let response = http
        .delete(api(&server, &format!("/retentions/{id}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let project = get_json(&http, api(&server, &format!("/projects/{pid}"))).await;
    assert!(project["metadata"].get("retention_id").is_none());
    // Metadata: Harbor's templates and selectors.
    let meta = get_json(&http, api(&server, "/retentions/metadatas")).await;
    let templates: Vec<&str> = meta["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rule_template"].as_str().unwrap())
        .collect();
    assert_eq!(
        templates,
        [
            "latestPushedK",
            "latestPulledN",
            "nDaysSinceLastPush",
            "nDaysSinceLastPull",
            "always"
        ]
    );
    assert_eq!(
        meta["tag_selectors"][0]["decorations"],
        json!(["matches", "excludes"])
    );
    server.stop().await;
}

/// Harbor's role matrix: project admins and maintainers hold `tag-retention`; developers, guests and limited
/// guests none of it; strangers do not see a private project; anonymous callers sign in first.
#[tokio::test]
async fn tag_retention_is_for_project_admins_and_maintainers() {
    let server = start().await;
    let http = client();
    server.create_project("p", false).await;
    let pid = project_id(&server, "p").await;
    for (name, role) in [
        ("admin1", 1),
        ("dev", 2),
        ("guest", 3),
        ("maint", 4),
        ("limited", 5),
    ] {
        member(&server, &http, "p", name, role).await;
    }
    server.create_user("stranger", PASSWORD, false).await;
    let id = super::create_policy(
        &server,
        &http,
        policy(pid, vec![everything("always", json!({}))], ""),
    )
    .await;
    let body = policy(
        pid,
        vec![everything("latestPushedK", json!({"latestPushedK": 3}))],
        "",
    );
    for (name, expected) in [
        ("admin1", StatusCode::OK),
        ("maint", StatusCode::OK),
        ("dev", StatusCode::FORBIDDEN),
        ("guest", StatusCode::FORBIDDEN),
        ("limited", StatusCode::FORBIDDEN),
        ("stranger", StatusCode::NOT_FOUND),
    ] {
        let get = http
            .get(api(&server, &format!("/retentions/{id}")))
            .user(name, PASSWORD)
            .send()
            .await
            .unwrap();
        assert_eq!(get.status(), expected, "GET as {name}");
        let put = http
            .put(api(&server, &format!("/retentions/{id}")))
            .user(name, PASSWORD)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), expected, "PUT as {name}");
        let runs = http
            .get(api(&server, &format!("/retentions/{id}/executions")))
            .user(name, PASSWORD)
            .send()
            .await
            .unwrap();
        assert_eq!(runs.status(), expected, "list executions as {name}");
        let trigger = http
            .post(api(&server, &format!("/retentions/{id}/executions")))
            .user(name, PASSWORD)
            .json(&json!({"dry_run": true}))
            .send()
            .await
            .unwrap();
        let created = if expected == StatusCode::OK {
            StatusCode::CREATED
        } else {
            expected
        };
        assert_eq!(trigger.status(), created, "run as {name}");
    }
    // A developer may not create one either (the project has one; a new project is used).
    server.create_project("r", false).await;
    member(&server, &http, "r", "dev2", 2).await;
    let rid = project_id(&server, "r").await;
    let response = http
        .post(api(&server, "/retentions"))
        .user("dev2", PASSWORD)
        .json(&policy(rid, vec![everything("always", json!({}))], ""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(response).await, "FORBIDDEN");
    let response = http
        .get(api(&server, &format!("/retentions/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = http
        .get(api(&server, "/retentions/metadatas"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = http
        .delete(api(&server, &format!("/retentions/{id}")))
        .user("dev", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    server.stop().await;
}
