//! Every path Berth serves under `/api/v2.0` exists in Harbor's swagger with the same method, but for its
//! documented additions (`berth::api::BERTH_ADDITIONS`).

use std::path::Path;

#[test]
fn every_endpoint_is_in_harbors_swagger() {
    let swagger_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/reference/harbor-api-v2.0-swagger.yaml");
    let text = std::fs::read_to_string(&swagger_path)
        .unwrap_or_else(|e| panic!("{}: {e}", swagger_path.display()));
    let swagger: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(swagger["basePath"].as_str(), Some(berth::api::BASE));
    let paths = &swagger["paths"];
    let missing: Vec<String> = berth::api::ENDPOINTS
        .iter()
        .filter(|route| !berth::api::BERTH_ADDITIONS.contains(route))
        .filter(|(method, path)| paths[*path][*method].is_null())
        .map(|(method, path)| format!("{} {path}", method.to_uppercase()))
        .collect();
    assert!(missing.is_empty(), "not in Harbor's API: {missing:?}");
    assert!(berth::api::ENDPOINTS.len() >= 18);
}

/// The other direction: every path of Harbor's swagger is served, or left out on purpose with a reason
/// (`berth::api::LEFT_OUT`), and nothing is both.
#[test]
fn every_harbor_endpoint_is_served_or_left_out_with_a_reason() {
    let swagger = harbor_swagger();
    let mut unserved = Vec::new();
    for (path, item) in swagger["paths"].as_mapping().unwrap() {
        let path = path.as_str().unwrap();
        for method in ["get", "post", "put", "patch", "delete", "head"] {
            if item[method].is_null() {
                continue;
            }
            let served = berth::api::ENDPOINTS.contains(&(method, path));
            let left_out = berth::api::LEFT_OUT
                .iter()
                .find(|(m, p, _)| *m == method && *p == path);
            match (served, left_out) {
                (true, Some(_)) => unserved.push(format!(
                    "{} {path} is served and listed as left out",
                    method.to_uppercase()
                )),
                (false, None) => unserved.push(format!(
                    "{} {path} is neither served nor left out with a reason",
                    method.to_uppercase()
                )),
                (false, Some((_, _, reason))) => assert!(reason.len() > 20, "{path}: say why"),
                (true, None) => {}
            }
        }
    }
    assert!(unserved.is_empty(), "{unserved:#?}");
    for (method, path, _) in berth::api::LEFT_OUT {
        assert!(
            !swagger["paths"][*path][*method].is_null(),
            "{method} {path} is not in Harbor's swagger"
        );
    }
}

fn harbor_swagger() -> serde_yaml::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/reference/harbor-api-v2.0-swagger.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The fields of `value` (recursively, through objects and arrays) that Harbor's `schema` does not declare.
fn not_in_harbor(
    swagger: &serde_yaml::Value,
    schema: &serde_yaml::Value,
    value: &serde_json::Value,
    at: &str,
    found: &mut Vec<String>,
) {
    let schema = match schema["$ref"].as_str() {
        Some(reference) => &swagger["definitions"][reference.trim_start_matches("#/definitions/")],
        None => schema,
    };
    match value {
        serde_json::Value::Object(fields) => {
            // A map (`additionalProperties`) holds any key; a free-form object (no properties) anything.
            if !schema["additionalProperties"].is_null() {
                for (key, field) in fields {
                    let item = &schema["additionalProperties"];
                    not_in_harbor(swagger, item, field, &format!("{at}.{key}"), found);
                }
                return;
            }
            if schema["properties"].is_null() && schema["type"].as_str() == Some("object") {
                return;
            }
            for (key, field) in fields {
                let declared = &schema["properties"][key.as_str()];
                if declared.is_null() {
                    found.push(format!("{at}.{key}"));
                } else {
                    not_in_harbor(swagger, declared, field, &format!("{at}.{key}"), found);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                not_in_harbor(swagger, &schema["items"], item, &format!("{at}[]"), found);
            }
        }
        _ => {}
    }
}

/// The job service and the audit-log purge answer with the fields of Harbor's definitions (`WorkerPool`,
/// `Worker`, `JobQueue`, `ScheduleTask`, `SchedulerStatus`, `ExecHistory`, `ScheduleObj`), and their logs as
/// the `text/plain` Harbor's swagger says they produce.
#[tokio::test]
async fn job_service_and_purge_bodies_use_harbors_fields() {
    use serde_json::json;

    use super::{As, api};
    use crate::support::{TestServer, client};

    let swagger = harbor_swagger();
    let server = TestServer::start_with(|c| c.jobs.poll_ms = 100).await;
    let http = client();
    let run = crate::jobs::purge_now(
        &http,
        &server.url(""),
        json!({"audit_retention_hour": 1, "include_operations": "pull", "dry_run": true}),
    )
    .await;
    crate::jobs::wait_for(&http, &server.url(""), run, &["Success"]).await;
    let gc = crate::gc::gc_now(&http, &server.url(""), json!({"dry_run": true})).await;
    crate::gc::gc_wait(&http, &server.url(""), gc, &["Success"]).await;
    let schedule = json!({"schedule": {"type": "Daily"},
                          "parameters": {"audit_retention_hour": 24, "include_operations": "pull"}});
    let response = http
        .post(api(&server, "/system/purgeaudit/schedule"))
        .admin()
        .json(&schedule)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let paths = swagger["paths"].clone();
    for (route, url) in [
        ("/system/purgeaudit", "/system/purgeaudit".to_owned()),
        (
            "/system/purgeaudit/{purge_id}",
            format!("/system/purgeaudit/{run}"),
        ),
        (
            "/system/purgeaudit/schedule",
            "/system/purgeaudit/schedule".to_owned(),
        ),
        ("/system/gc", "/system/gc".to_owned()),
        ("/system/gc/{gc_id}", format!("/system/gc/{gc}")),
        ("/system/gc/schedule", "/system/gc/schedule".to_owned()),
        ("/jobservice/pools", "/jobservice/pools".to_owned()),
        (
            "/jobservice/pools/{pool_id}/workers",
            "/jobservice/pools/all/workers".to_owned(),
        ),
        ("/jobservice/queues", "/jobservice/queues".to_owned()),
        ("/schedules", "/schedules".to_owned()),
        (
            "/schedules/{job_type}/paused",
            "/schedules/all/paused".to_owned(),
        ),
    ] {
        let body: serde_json::Value = super::get_json(&http, api(&server, &url)).await;
        if body.is_array() {
            assert!(
                !body.as_array().unwrap().is_empty(),
                "GET {url} listed nothing to compare"
            );
        }
        let schema = &paths[route]["get"]["responses"]["200"]["schema"];
        assert!(!schema.is_null(), "Harbor's GET {route} has no body");
        let mut found = Vec::new();
        not_in_harbor(&swagger, schema, &body, "", &mut found);
        assert!(
            found.is_empty(),
            "GET {url}: fields Harbor does not have: {found:?}"
        );
    }
    for (route, url) in [
        (
            "/system/purgeaudit/{purge_id}/log",
            format!("/system/purgeaudit/{run}/log"),
        ),
        ("/system/gc/{gc_id}/log", format!("/system/gc/{gc}/log")),
        (
            "/jobservice/jobs/{job_id}/log",
            format!("/jobservice/jobs/{run}/log"),
        ),
    ] {
        assert_eq!(
            paths[route]["get"]["produces"][0].as_str(),
            Some("text/plain")
        );
        let response = http.get(api(&server, &url)).admin().send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
    }
    server.stop().await;
}

/// The properties of definition `name` in Harbor's swagger.
fn swagger_properties(name: &str) -> Vec<String> {
    let swagger = harbor_swagger();
    let mut keys: Vec<String> = swagger["definitions"][name]["properties"]
        .as_mapping()
        .unwrap_or_else(|| panic!("no definition {name}"))
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys
}

fn keys(value: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

/// An immutable tag rule as served has exactly the fields of Harbor's `ImmutableRule`, and its selectors
/// those of `ImmutableSelector`.
#[tokio::test]
async fn immutable_rules_have_harbors_shape() {
    use super::immutable::{add_rule, rule};
    use super::{create_project, get_json};
    let server = crate::support::TestServer::start().await;
    let http = crate::support::client();
    create_project(&server, &http, serde_json::json!({"project_name": "proj"})).await;
    add_rule(
        &server,
        &http,
        "proj",
        rule("repoMatches", "**", "matches", "v*"),
    )
    .await;
    let listed = get_json(
        &http,
        super::api(&server, "/projects/proj/immutabletagrules"),
    )
    .await;
    let served = &listed[0];
    assert_eq!(keys(served), swagger_properties("ImmutableRule"));
    assert_eq!(
        keys(&served["tag_selectors"][0]),
        swagger_properties("ImmutableSelector")
    );
    let repository = &served["scope_selectors"]["repository"][0];
    let mut expected = swagger_properties("ImmutableSelector");
    expected.retain(|k| k != "extras");
    assert_eq!(keys(repository), expected, "extras is left out when empty");
    server.stop().await;
}

/// Tag retention answers with the fields of Harbor's definitions (`RetentionMetadata`, `RetentionPolicy`,
/// `RetentionExecution`, `RetentionExecutionTask`), and a task's log as text; Berth's reasons endpoint is
/// documented as an addition.
#[tokio::test]
async fn retention_bodies_use_harbors_fields() {
    use serde_json::json;

    use super::api;
    use crate::retention::{everything, policy, project_id, run, start};
    use crate::support::client;

    let swagger = harbor_swagger();
    let server = start().await;
    let http = client();
    server.create_project("p", false).await;
    crate::registry::push_image(&server, &http, "p/app", "v1", "swagger").await;
    let pid = project_id(&server, "p").await;
    let id = crate::retention::create_policy(
        &server,
        &http,
        policy(
            pid,
            vec![everything("latestPushedK", json!({"latestPushedK": 1}))],
            "0 0 0 * * *",
        ),
    )
    .await;
    let eid = run(&server, &http, id, true).await;
    let tasks = super::get_json(
        &http,
        api(&server, &format!("/retentions/{id}/executions/{eid}/tasks")),
    )
    .await;
    let tid = tasks[0]["id"].as_i64().unwrap();
    let paths = swagger["paths"].clone();
    for (route, url) in [
        ("/retentions/metadatas", "/retentions/metadatas".to_owned()),
        ("/retentions/{id}", format!("/retentions/{id}")),
        (
            "/retentions/{id}/executions",
            format!("/retentions/{id}/executions"),
        ),
        (
            "/retentions/{id}/executions/{eid}/tasks",
            format!("/retentions/{id}/executions/{eid}/tasks"),
        ),
    ] {
        let body: serde_json::Value = super::get_json(&http, api(&server, &url)).await;
        let schema = &paths[route]["get"]["responses"]["200"]["schema"];
        assert!(!schema.is_null(), "Harbor's GET {route} has no body");
        let mut found = Vec::new();
        not_in_harbor(&swagger, schema, &body, "", &mut found);
        assert!(
            found.is_empty(),
            "GET {url}: fields Harbor does not have: {found:?}"
        );
    }
    assert_eq!(
        paths["/retentions/{id}/executions/{eid}/tasks/{tid}"]["get"]["produces"][0].as_str(),
        Some("text/plain")
    );
    let document = super::get_json(&http, server.url("/openapi.json")).await;
    let reasons =
        &document["paths"]["/retentions/{id}/executions/{eid}/tasks/{tid}/reasons"]["get"];
    assert!(
        reasons["description"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Berth's addition"),
        "{reasons}"
    );
    let response = http
        .get(api(
            &server,
            &format!("/retentions/{id}/executions/{eid}/tasks/{tid}"),
        ))
        .basic_auth(
            crate::support::ADMIN_USER,
            Some(crate::support::ADMIN_PASSWORD),
        )
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    server.stop().await;
}

/// Scanner registrations, their metadata, a project's scanner and its candidates, and the system CVE
/// allowlist answer with the fields of Harbor's `ScannerRegistration`, `ScannerAdapterMetadata` and
/// `CVEAllowlist`.
#[tokio::test]
async fn scanner_bodies_use_harbors_fields() {
    use serde_json::json;

    use super::{As, api};
    use crate::support::{TestServer, client};

    let swagger = harbor_swagger();
    let adapters = super::scanners::adapters().await;
    let server = TestServer::start().await;
    let http = client();
    server.create_project("p", false).await;
    let uuid =
        super::scanners::register(&server, &http, "Trivy", &format!("http://{adapters}/good"))
            .await;
    let response = http
        .put(api(&server, "/projects/p/scanner"))
        .admin()
        .json(&json!({"uuid": uuid}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let response = http
        .put(api(&server, "/system/CVEAllowlist"))
        .admin()
        .json(&json!({"items": [{"cve_id": "CVE-2024-1"}], "expires_at": 4_102_444_800_i64}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let built_in = berth::db::BUILT_IN_UUID;
    let paths = swagger["paths"].clone();
    for (route, url) in [
        ("/scanners", "/scanners".to_owned()),
        ("/scanners/{registration_id}", format!("/scanners/{uuid}")),
        (
            "/scanners/{registration_id}",
            format!("/scanners/{built_in}"),
        ),
        (
            "/scanners/{registration_id}/metadata",
            format!("/scanners/{built_in}/metadata"),
        ),
        (
            "/scanners/{registration_id}/metadata",
            format!("/scanners/{uuid}/metadata"),
        ),
        (
            "/projects/{project_name_or_id}/scanner",
            "/projects/p/scanner".to_owned(),
        ),
        (
            "/projects/{project_name_or_id}/scanner/candidates",
            "/projects/p/scanner/candidates".to_owned(),
        ),
        ("/system/CVEAllowlist", "/system/CVEAllowlist".to_owned()),
    ] {
        let body: serde_json::Value = super::get_json(&http, api(&server, &url)).await;
        let schema = &paths[route]["get"]["responses"]["200"]["schema"];
        assert!(!schema.is_null(), "Harbor's GET {route} has no body");
        let mut found = Vec::new();
        not_in_harbor(&swagger, schema, &body, "", &mut found);
        assert!(
            found.is_empty(),
            "GET {url}: fields Harbor does not have: {found:?}"
        );
    }
    server.stop().await;
}
