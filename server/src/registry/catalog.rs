//! Catalog: `GET /v2/_catalog?n=&last=`, listing only repositories the caller may see.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use super::access::{Caller, authenticate, challenge};
use super::{Params, RegistryError, next_page, pagination};
use crate::app::AppState;
use crate::auth::policy;

const CATALOG_SCOPE: &str = "registry:catalog:*";

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Response {
    list_repositories(&state, &headers, &params)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn list_repositories(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Response, RegistryError> {
    let caller = authenticate(state, headers).await?;
    let permitted = match &caller {
        Caller::Anonymous => false,
        Caller::User(_) => true,
        Caller::Token(claims) => claims.allows_catalog(),
    };
    if !permitted {
        return Err(RegistryError::Unauthorized {
            message: "authentication required to list the catalog".to_owned(),
            challenge: challenge(
                state,
                headers,
                Some(CATALOG_SCOPE),
                matches!(caller, Caller::Token(_)),
            ),
        });
    }
    let subject = caller.subject(state).await?;
    // A robot given the system permission `catalog:read` lists every repository, as a system admin does.
    let visible = if policy::system_permits(&subject, "catalog", "read") {
        None
    } else {
        policy::visible_projects(&state.db, &subject).await?
    };
    let (n, last) = pagination(params)?;
    let mut repositories = match n {
        Some(0) => Vec::new(),
        _ => {
            state
                .db
                .catalog(last, n.map_or(i64::MAX, |n| n + 1), visible.as_deref())
                .await?
        }
    };
    let next = next_page(&mut repositories, n, "/v2/_catalog");
    let mut response =
        axum::Json(serde_json::json!({ "repositories": repositories })).into_response();
    if let Some(link) = next {
        response.headers_mut().insert(header::LINK, link);
    }
    Ok(response)
}
