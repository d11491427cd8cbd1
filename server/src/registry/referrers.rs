//! Referrers: `GET /v2/<name>/referrers/<digest>?artifactType=`.
//!
//! <https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#listing-referrers>
//! Always an image index (never 404 for an unknown subject); `OCI-Filters-Applied` names the filters used.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::access::authorize;
use super::{Params, RegistryError};
use crate::app::AppState;
use crate::auth::Action;
use crate::oci::manifest::OCI_INDEX;
use crate::oci::{Digest, RepositoryName};

pub async fn list(
    state: &AppState,
    headers: &HeaderMap,
    name: &RepositoryName,
    subject: &Digest,
    params: &Params,
) -> Result<Response, RegistryError> {
    authorize(state, headers, name, Action::Pull).await?;
    let filter = params
        .get("artifactType")
        .map(String::as_str)
        .filter(|t| !t.is_empty());
    let referrers = state
        .db
        .referrers(name.as_str(), &subject.to_string(), filter)
        .await?;
    let manifests: Vec<serde_json::Value> = referrers
        .into_iter()
        .map(|r| {
            let mut descriptor = serde_json::json!({
                "mediaType": r.media_type,
                "digest": r.digest,
                "size": r.size,
            });
            if let Some(artifact_type) = r.artifact_type {
                descriptor["artifactType"] = artifact_type.into();
            }
            if let Some(annotations) = r
                .annotations
                .and_then(|a| serde_json::from_str::<serde_json::Value>(&a).ok())
            {
                descriptor["annotations"] = annotations;
            }
            descriptor
        })
        .collect();
    let index =
        serde_json::json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests });
    let mut response = (StatusCode::OK, index.to_string()).into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(OCI_INDEX));
    if filter.is_some() {
        response_headers.insert(
            "oci-filters-applied",
            HeaderValue::from_static("artifactType"),
        );
    }
    Ok(response)
}
