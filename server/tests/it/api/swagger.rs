//! Every path Berth serves under `/api/v2.0` exists in Harbor's swagger with the same method.

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
        .filter(|(method, path)| paths[*path][*method].is_null())
        .map(|(method, path)| format!("{} {path}", method.to_uppercase()))
        .collect();
    assert!(missing.is_empty(), "not in Harbor's API: {missing:?}");
    assert!(berth::api::ENDPOINTS.len() >= 18);
}

/// The properties of definition `name` in Harbor's swagger.
fn swagger_properties(name: &str) -> Vec<String> {
    let swagger_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/reference/harbor-api-v2.0-swagger.yaml");
    let swagger: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(swagger_path).unwrap()).unwrap();
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
