//! Harbor's Security Hub: `GET /security/summary` (counts by severity, and the five most dangerous CVEs and
//! artifacts when asked) and `GET /security/vul` (the search of findings: Harbor's `q` keys, pages,
//! `tune_count`, `with_tag`). System administrators, and robots given Harbor's `security-hub` read and list.
//! The rules are in [`crate::scan::security_hub`].

use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use berth_api::security_hub::SecuritySummary;
use serde::Deserialize;

use super::Caller;
use super::error::ApiError;
use super::extract::{Json, Query};
use super::pagination::Page;
use super::query_bool;
use crate::app::AppState;
use crate::scan::security_hub;

/// Harbor's system resource.
const RESOURCE: &str = "security-hub";

/// The query of `GET /security/summary`.
#[derive(Debug, Deserialize)]
pub struct SummaryQuery {
    #[serde(default, deserialize_with = "query_bool::optional")]
    with_dangerous_cve: Option<bool>,
    #[serde(default, deserialize_with = "query_bool::optional")]
    with_dangerous_artifact: Option<bool>,
}

/// `GET /security/summary`.
pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<SummaryQuery>,
) -> Result<Json<SecuritySummary>, ApiError> {
    caller.system(RESOURCE, "read")?;
    Ok(Json(
        security_hub::summary(
            &state,
            query.with_dangerous_cve.unwrap_or(false),
            query.with_dangerous_artifact.unwrap_or(false),
        )
        .await?,
    ))
}

/// The query of `GET /security/vul` (besides `page` and `page_size`).
#[derive(Debug, Deserialize)]
pub struct VulQuery {
    q: Option<String>,
    #[serde(default, deserialize_with = "query_bool::optional")]
    tune_count: Option<bool>,
    #[serde(default, deserialize_with = "query_bool::optional")]
    with_tag: Option<bool>,
}

/// `GET /security/vul`: one page of findings, highest CVSS v3 score first, with `X-Total-Count` (-1 with
/// `tune_count=true` past 1000) and `Link`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    page: Page,
    Query(query): Query<VulQuery>,
) -> Result<Response, ApiError> {
    caller.system(RESOURCE, "list")?;
    let filter = security_hub::vulnerability_filter(query.q.as_deref())?;
    let (items, total) = security_hub::vulnerabilities(
        &state,
        &filter,
        page.limit(),
        page.offset(),
        query.tune_count.unwrap_or(false),
        query.with_tag.unwrap_or(false),
    )
    .await?;
    let mut kept: Vec<(&str, String)> = Vec::new();
    if let Some(q) = &query.q {
        kept.push(("q", q.clone()));
    }
    for (name, value) in [("tune_count", query.tune_count), ("with_tag", query.with_tag)] {
        if let Some(value) = value {
            kept.push((name, value.to_string()));
        }
    }
    let headers = page.headers(total, uri.path(), &kept);
    Ok((headers, Json(items)).into_response())
}
