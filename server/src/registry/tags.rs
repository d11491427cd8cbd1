//! Tag list: `GET /v2/<name>/tags/list?n=&last=`.
//!
//! <https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#listing-tags>
//! Tags come in lexical order; when a page is full, a `Link` header points at the next one.

use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use super::access::authorize;
use super::{Params, RegistryError, next_page, pagination};
use crate::app::AppState;
use crate::auth::Action;
use crate::oci::RepositoryName;
use crate::proxy;

pub async fn list(
    state: &AppState,
    headers: &HeaderMap,
    name: &RepositoryName,
    params: &Params,
) -> Result<Response, RegistryError> {
    let project = authorize(state, headers, name, Action::Pull).await?;
    let (n, last) = pagination(params)?;
    let limit = n.map_or(i64::MAX, |n| n + 1);
    let mut tags = if let Some(registry_id) = project.registry_id {
        let all = proxy::pull::tags(state, &project, registry_id, name).await?;
        all.into_iter()
            .filter(|t| last.is_none_or(|last| t.as_str() > last))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect()
    } else if n == Some(0) {
        Vec::new()
    } else {
        state
            .db
            .list_tags(name.as_str(), last, limit)
            .await?
            .ok_or_else(|| RegistryError::NameUnknown(format!("repository {name} is not known")))?
    };
    let next = next_page(&mut tags, n, &format!("/v2/{name}/tags/list"));
    let mut response =
        axum::Json(serde_json::json!({ "name": name.as_str(), "tags": tags })).into_response();
    if let Some(link) = next {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}
