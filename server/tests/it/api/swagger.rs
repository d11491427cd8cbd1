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
