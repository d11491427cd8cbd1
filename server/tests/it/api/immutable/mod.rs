//! Immutable tag rules: `/projects/{project_name_or_id}/immutabletagrules[/{immutable_rule_id}]` (this file:
//! the rules themselves, their limits and who may manage them), and their enforcement on every path that
//! moves or removes a tag (`enforcement.rs`).

mod enforcement;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::repositories::{PASSWORD, member};
use super::{As, api, create_project, error_code, get_json};
use crate::support::{TestServer, client};

/// A rule body as Harbor's portal sends it: one repository selector and one tag selector.
pub fn rule(repo_decoration: &str, repo_pattern: &str, decoration: &str, pattern: &str) -> Value {
    json!({
        "disabled": false,
        "action": "immutable",
        "template": "immutable_template",
        "priority": 0,
        "params": {},
        "tag_selectors": [{"kind": "doublestar", "decoration": decoration, "pattern": pattern,
                           "extras": "{\"untagged\":false}"}],
        "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": repo_decoration,
                                            "pattern": repo_pattern}]}
    })
}

fn rules_url(server: &TestServer, project: &str) -> String {
    api(server, &format!("/projects/{project}/immutabletagrules"))
}

/// A server with the private project `proj`, and an admin client.
pub async fn with_project() -> (TestServer, Client) {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "proj"})).await;
    (server, http)
}

/// Adds a rule to `project` as admin; returns its id (from `Location`).
pub async fn add_rule(server: &TestServer, http: &Client, project: &str, body: Value) -> i64 {
    let response = http
        .post(rules_url(server, project))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "add rule {body}");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("/api/v2.0/projects/{project}/immutabletagrules/")),
        "{location}"
    );
    location.rsplit('/').next().unwrap().parse().unwrap()
}

/// `PUT` of rule `id` of `project` with `body` (its `id` set) as admin; returns the status.
pub async fn put_rule(
    server: &TestServer,
    http: &Client,
    project: &str,
    id: i64,
    mut body: Value,
) -> StatusCode {
    body["id"] = json!(id);
    http.put(format!("{}/{id}", rules_url(server, project)))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn rules_are_created_listed_updated_and_deleted() {
    let server = TestServer::start().await;
    let http = client();
    let project_id = create_project(&server, &http, json!({"project_name": "proj"})).await;
    let first = add_rule(
        &server,
        &http,
        "proj",
        rule("repoMatches", "**", "matches", "v*"),
    )
    .await;
    let second = add_rule(
        &server,
        &http,
        "proj",
        rule("repoExcludes", "{scratch,tmp/**}", "excludes", "dev-*"),
    )
    .await;

    let response = http
        .get(rules_url(&server, "proj"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "2");
    let listed: Value = response.json().await.unwrap();
    let mut expected = rule("repoMatches", "**", "matches", "v*");
    expected["id"] = json!(first);
    assert_eq!(listed[0], expected, "the rule as sent, with its id");
    assert_eq!(listed[1]["id"], second);
    assert_eq!(
        listed[1]["scope_selectors"]["repository"][0]["pattern"],
        "{scratch,tmp/**}"
    );
    // The project may be named by id, and the list pages.
    let by_id = get_json(
        &http,
        api(
            &server,
            &format!("/projects/{project_id}/immutabletagrules?page=2&page_size=1"),
        ),
    )
    .await;
    assert_eq!(by_id.as_array().map(Vec::len), Some(1));
    assert_eq!(by_id[0]["id"], second);

    // PUT replaces the rule; its id must be the path's (as in Harbor).
    let changed = rule("repoMatches", "app", "matches", "release-*");
    assert_eq!(
        put_rule(&server, &http, "proj", first, changed.clone()).await,
        StatusCode::OK
    );
    let response = http
        .put(format!("{}/{first}", rules_url(&server, "proj")))
        .admin()
        .json(
            &json!({"id": second, "tag_selectors": changed["tag_selectors"],
                      "scope_selectors": changed["scope_selectors"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let mut disabled = changed.clone();
    disabled["disabled"] = json!(true);
    assert_eq!(
        put_rule(&server, &http, "proj", first, disabled).await,
        StatusCode::OK
    );
    let listed = get_json(&http, rules_url(&server, "proj")).await;
    assert_eq!(listed[0]["disabled"], true);
    assert_eq!(listed[0]["tag_selectors"][0]["pattern"], "release-*");

    // Unknown ids and ids of another project are 404s.
    create_project(&server, &http, json!({"project_name": "other"})).await;
    assert_eq!(
        put_rule(&server, &http, "other", first, changed.clone()).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        put_rule(&server, &http, "proj", 999, changed).await,
        StatusCode::NOT_FOUND
    );
    let delete = |project: &str, id: &str| {
        http.delete(format!("{}/{id}", rules_url(&server, project)))
            .admin()
            .send()
    };
    assert_eq!(
        delete("other", &second.to_string()).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        delete("proj", "x").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        delete("proj", &second.to_string()).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        delete("proj", &second.to_string()).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let listed = get_json(&http, rules_url(&server, "proj")).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));

    // Each change is in the project's audit log.
    let logs = get_json(&http, api(&server, "/projects/proj/logs?page_size=50")).await;
    let rule_ops: Vec<&str> = logs
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource_type"] == "immutable_rule")
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert_eq!(rule_ops, ["delete", "update", "update", "create", "create"]);
    server.stop().await;
}

#[tokio::test]
async fn a_project_has_at_most_15_rules_and_no_duplicates() {
    let (server, http) = with_project().await;
    for i in 0..15 {
        add_rule(
            &server,
            &http,
            "proj",
            rule("repoMatches", "**", "matches", &format!("v{i}.*")),
        )
        .await;
    }
    let response = http
        .post(rules_url(&server, "proj"))
        .admin()
        .json(&rule("repoMatches", "**", "matches", "v15.*"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 15"),
        "{body}"
    );
    let listed = http
        .get(rules_url(&server, "proj"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(listed.headers()["x-total-count"], "15");

    // The same selectors twice are a conflict, in a project with room too.
    create_project(&server, &http, json!({"project_name": "other"})).await;
    add_rule(
        &server,
        &http,
        "other",
        rule("repoMatches", "**", "matches", "v*"),
    )
    .await;
    let response = http
        .post(rules_url(&server, "other"))
        .admin()
        .json(&rule("repoMatches", "**", "matches", "v*"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    server.stop().await;
}

#[tokio::test]
async fn bad_rules_are_refused_with_the_reason() {
    let (server, http) = with_project().await;
    let good = rule("repoMatches", "**", "matches", "v*");
    let mut two_tag_selectors = good.clone();
    two_tag_selectors["tag_selectors"] = json!([
        {"kind": "doublestar", "decoration": "matches", "pattern": "**"},
        {"kind": "doublestar", "decoration": "excludes", "pattern": "dev-*"}
    ]);
    let mut no_repository = good.clone();
    no_repository["scope_selectors"] = json!({});
    let mut other_scope = good.clone();
    other_scope["scope_selectors"]["namespace"] = json!([]);
    let mut label_kind = good.clone();
    label_kind["tag_selectors"][0]["kind"] = json!("label");
    let mut retain = good.clone();
    retain["action"] = json!("retain");
    let cases = [
        (two_tag_selectors, "exactly one selector"),
        (no_repository, "scope_selectors.repository"),
        (other_scope, "namespace"),
        (label_kind, "kind"),
        (retain, "action"),
        (rule("repoMatches", "**", "matching", "v*"), "decoration"),
        (rule("matches", "**", "matches", "v*"), "decoration"),
        (rule("repoMatches", "**", "matches", ""), "empty"),
        (
            rule("repoMatches", "**", "matches", "v[1"),
            "invalid pattern",
        ),
        (
            rule("repoMatches", &"a".repeat(1025), "matches", "v*"),
            "1024",
        ),
    ];
    for (body, reason) in cases {
        let response = http
            .post(rules_url(&server, "proj"))
            .admin()
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{reason}");
        let body: Value = response.json().await.unwrap();
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{reason}: {message}");
        assert!(message.len() < 400, "a bounded message: {message}");
    }
    let listed = get_json(&http, rules_url(&server, "proj")).await;
    assert_eq!(listed, json!([]), "nothing was stored");
    server.stop().await;
}

#[tokio::test]
async fn project_admins_and_maintainers_manage_rules_and_others_may_not() {
    let server = TestServer::start().await;
    let http = client();
    let project_id = create_project(
        &server,
        &http,
        json!({"project_name": "proj", "metadata": {"public": "true"}}),
    )
    .await;
    for (name, role) in [
        ("padmin", 1),
        ("developer", 2),
        ("guest", 3),
        ("maintainer", 4),
        ("limited", 5),
    ] {
        member(&server, &http, "proj", name, role).await;
    }
    server.create_user("outsider", PASSWORD, false).await;
    let existing = add_rule(
        &server,
        &http,
        "proj",
        rule("repoMatches", "**", "matches", "keep"),
    )
    .await;

    for (name, may) in [
        ("padmin", true),
        ("maintainer", true),
        ("developer", false),
        ("guest", false),
        ("limited", false),
        ("outsider", false),
    ] {
        let list = http
            .get(rules_url(&server, "proj"))
            .user(name, PASSWORD)
            .send()
            .await
            .unwrap();
        let body = rule("repoMatches", "**", "matches", &format!("{name}-*"));
        let create = http
            .post(rules_url(&server, "proj"))
            .user(name, PASSWORD)
            .json(&body)
            .send()
            .await
            .unwrap();
        let mut update_body = rule("repoMatches", "**", "matches", &format!("{name}-kept"));
        update_body["id"] = json!(existing);
        let update = http
            .put(format!("{}/{existing}", rules_url(&server, "proj")))
            .user(name, PASSWORD)
            .json(&update_body)
            .send()
            .await
            .unwrap();
        if may {
            assert_eq!(list.status(), StatusCode::OK, "{name} lists");
            assert_eq!(create.status(), StatusCode::CREATED, "{name} creates");
            assert_eq!(update.status(), StatusCode::OK, "{name} updates");
            let id: i64 = create.headers()["location"]
                .to_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let delete = http
                .delete(format!("{}/{id}", rules_url(&server, "proj")))
                .user(name, PASSWORD)
                .send()
                .await
                .unwrap();
            assert_eq!(delete.status(), StatusCode::OK, "{name} deletes");
        } else {
            assert_eq!(list.status(), StatusCode::FORBIDDEN, "{name} lists");
            assert_eq!(error_code(create).await, "FORBIDDEN", "{name} creates");
            assert_eq!(update.status(), StatusCode::FORBIDDEN, "{name} updates");
            let delete = http
                .delete(format!("{}/{existing}", rules_url(&server, "proj")))
                .user(name, PASSWORD)
                .send()
                .await
                .unwrap();
            assert_eq!(delete.status(), StatusCode::FORBIDDEN, "{name} deletes");
        }
    }
    // Anonymous callers are asked to sign in; a private project's rules are not found.
    let anonymous = http.get(rules_url(&server, "proj")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    create_project(&server, &http, json!({"project_name": "private"})).await;
    let hidden = http
        .get(rules_url(&server, "private"))
        .user("outsider", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    // The current user's permissions say the same, so the console shows the Policy tab to these roles.
    let permissions_url = api(
        &server,
        &format!("/users/current/permissions?scope=/project/{project_id}&relative=true"),
    );
    let permissions = |name: &'static str| http.get(&permissions_url).user(name, PASSWORD).send();
    let listed = |body: Value| {
        body.as_array()
            .unwrap()
            .iter()
            .any(|p| p["resource"] == "immutable-tag" && p["action"] == "list")
    };
    assert!(listed(
        permissions("maintainer")
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    ));
    assert!(!listed(
        permissions("developer")
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    ));
    server.stop().await;
}
