//! The OpenAPI document at `/openapi.json`: it lists exactly the routes Berth serves, every `GET` documents its
//! body, the bodies Berth really returns use only documented fields, and a snapshot shows every change in review.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{As, api, create_project};
use crate::registry::push_image;
use crate::support::{TestServer, client};

/// `GET` routes whose success body is not JSON.
const NOT_JSON: &[&str] = &[
    "/ping",
    "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/additions/{addition}",
    "/system/purgeaudit/{purge_id}/log",
    "/system/gc/{gc_id}/log",
    "/jobservice/jobs/{job_id}/log",
    "/retentions/{id}/executions/{eid}/tasks/{tid}",
    "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/scan/{report_id}/log",
    "/export/cve/download/{execution_id}",
    // Harbor's answer would be a certificate file (application/octet-stream); Berth's is always a 404.
    "/systeminfo/getcert",
    "/projects/{project_name_or_id}/webhook/policies/{webhook_policy_id}/executions/{execution_id}/tasks/{task_id}/log",
    "/replication/executions/{id}/tasks/{task_id}/log",
];

async fn document(server: &TestServer) -> Value {
    let response = client()
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_document_lists_exactly_the_served_routes() {
    let server = TestServer::start().await;
    let doc = document(&server).await;
    assert_eq!(doc["servers"][0]["url"], "/api/v2.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let served: BTreeSet<(String, String)> = berth::api::ENDPOINTS
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(documented, served);

    // Every GET that answers JSON says what it answers.
    let undocumented: Vec<&String> = served
        .iter()
        .filter(|(method, path)| method == "get" && !NOT_JSON.contains(&path.as_str()))
        .filter(|(method, path)| {
            doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
                .is_null()
        })
        .map(|(_, path)| path)
        .collect();
    assert!(
        undocumented.is_empty(),
        "GET without a response schema: {undocumented:?}"
    );

    // Every reference resolves.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "unresolved $ref {name}"
        );
    }
    server.stop().await;
}

/// Follows `$ref`s to the schema they name.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// Every field of `value` is declared by `schema`, recursively; returns the undeclared ones as paths.
fn undeclared(doc: &Value, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(choices) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        // Option<T> is `oneOf [null, T]`: check against the non-null choice.
        if let Some(choice) = choices.iter().find(|c| c["type"] != "null") {
            undeclared(doc, choice, value, at, found);
        }
        return;
    }
    match value {
        Value::Object(fields) => {
            let properties = &schema["properties"];
            for (key, field) in fields {
                if properties.is_object() {
                    match properties.get(key) {
                        Some(declared) => {
                            undeclared(doc, declared, field, &format!("{at}.{key}"), found)
                        }
                        None => found.push(format!("{at}.{key}")),
                    }
                } else if schema["additionalProperties"].is_object() {
                    undeclared(doc, &schema["additionalProperties"], field, at, found);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                undeclared(doc, &schema["items"], item, &format!("{at}[]"), found);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn real_responses_use_only_documented_fields() {
    let server = TestServer::start().await;
    let http = client();
    create_project(
        &server,
        &http,
        json!({"project_name": "docs", "public": false}),
    )
    .await;
    push_image(&server, &http, "docs/app", "v1", "openapi").await;
    let created = http
        .post(api(&server, "/registries"))
        .admin()
        .json(
            &json!({"name": "upstream", "type": "docker-registry", "url": "http://127.0.0.1:9",
                      "credential": {"type": "basic", "access_key": "u", "access_secret": "s"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    create_project(
        &server,
        &http,
        json!({"project_name": "cache", "registry_id": 1}),
    )
    .await;
    // Every configuration key set, the secrets too (they must still not come back).
    let configured = http
        .put(api(&server, "/configurations"))
        .admin()
        .json(&json!({"auth_mode": "oidc_auth", "oidc_name": "Keycloak", "oidc_client_secret": "s3cret",
                      "ldap_search_password": "s3cret", "ldap_url": "ldap://127.0.0.1:9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(configured.status(), StatusCode::OK);
    let doc = document(&server).await;

    let artifacts = "/projects/docs/repositories/app/artifacts";
    let artifact = http
        .get(api(&server, &format!("{artifacts}/v1")))
        .admin()
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let digest = artifact["digest"].as_str().unwrap().to_owned();
    for (route, url) in [
        ("/search", "/search?q=docs".to_owned()),
        ("/search", format!("/search?q={digest}")),
        ("/systeminfo", "/systeminfo".to_owned()),
        ("/health", "/health".to_owned()),
        ("/projects", "/projects".to_owned()),
        (
            "/projects/{project_name_or_id}",
            "/projects/docs".to_owned(),
        ),
        (
            "/projects/{project_name_or_id}/members",
            "/projects/docs/members".to_owned(),
        ),
        (
            "/projects/{project_name}/repositories",
            "/projects/docs/repositories".to_owned(),
        ),
        (
            "/projects/{project_name}/repositories/{repository_name}/artifacts",
            format!(
                "{artifacts}?with_tag=true&with_label=true&with_scan_overview=true&with_accessory=true"
            ),
        ),
        (
            "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}",
            format!("{artifacts}/v1"),
        ),
        (
            "/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags",
            format!("{artifacts}/v1/tags"),
        ),
        (
            "/projects/{project_name_or_id}/summary",
            "/projects/cache/summary".to_owned(),
        ),
        ("/registries", "/registries".to_owned()),
        ("/registries/{id}", "/registries/1".to_owned()),
        ("/quotas", "/quotas".to_owned()),
        ("/users", "/users".to_owned()),
        ("/users/current", "/users/current".to_owned()),
        ("/audit-logs", "/audit-logs".to_owned()),
        ("/configurations", "/configurations".to_owned()),
    ] {
        let response = http.get(api(&server, &url)).admin().send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {url}");
        let body: Value = response.json().await.unwrap();
        let schema = &doc["paths"][route]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"];
        assert!(schema.is_object(), "GET {route} has no documented body");
        let mut found = Vec::new();
        undeclared(&doc, schema, &body, "", &mut found);
        assert!(
            found.is_empty(),
            "GET {url} returns undocumented fields {found:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn the_document_matches_its_snapshot() {
    let server = TestServer::start().await;
    let doc = document(&server).await;
    // The version changes with every release; the snapshot is about the API.
    let mut doc = doc;
    doc["info"]["version"] = json!("<version>");
    insta::assert_json_snapshot!("openapi", doc);
    server.stop().await;
}
