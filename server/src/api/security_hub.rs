//! Harbor's Security Hub: `GET /security/summary` (counts by severity, and the five most dangerous CVEs and
//! artifacts when asked) and `GET /security/vul` (the search of findings: Harbor's `q` keys, pages,
//! `tune_count`, `with_tag`). System administrators, and robots given Harbor's `security-hub` read and list.
//! The rules are in [`crate::scan::security_hub`].

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use berth_api::security_hub::SecuritySummary;
use serde::Deserialize;

use super::BASE;
use super::Caller;
use super::error::ApiError;
use super::extract::{Json, Query};
use super::pagination::Page;
use super::query::{Pattern, parse_terms};
use super::query_bool;
use crate::app::AppState;
use crate::db::VulnerabilityFilter;
use crate::scan::model::Severity;
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
    page: Page,
    Query(query): Query<VulQuery>,
) -> Result<Response, ApiError> {
    caller.system(RESOURCE, "list")?;
    let filter = vulnerability_filter(query.q.as_deref())?;
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
    for (name, value) in [
        ("tune_count", query.tune_count),
        ("with_tag", query.with_tag),
    ] {
        if let Some(value) = value {
            kept.push((name, value.to_string()));
        }
    }
    let headers = page.headers(total, &format!("{BASE}/security/vul"), &kept);
    Ok((headers, Json(items)).into_response())
}

/// The `q` keys of `/security/vul`, as Harbor's swagger lists them (`status` is listed there but Harbor's
/// server refuses it too: findings have no such column).
const KEYS: &str =
    "cve_id, cvss_score_v3, severity, repository_name, project_id, package, tag, digest";

/// Reads `/security/vul`'s `q` into a filter. Every key is an exact match but `cvss_score_v3`, a range
/// `[min~max]` (either bound may be open); an unknown key, a repeated key or another kind of term is a 400,
/// as in Harbor.
pub fn vulnerability_filter(q: Option<&str>) -> Result<VulnerabilityFilter, ApiError> {
    let mut filter = VulnerabilityFilter::default();
    let mut seen: Vec<String> = Vec::new();
    for (key, pattern) in parse_terms(q.unwrap_or_default())? {
        if seen.contains(&key) {
            return Err(ApiError::BadRequest(format!(
                "q names {key} more than once"
            )));
        }
        seen.push(key.clone());
        if key == "cvss_score_v3" {
            let Pattern::Range(min, max) = pattern else {
                return Err(ApiError::BadRequest(
                    "q cvss_score_v3 takes a range: cvss_score_v3=[min~max]".to_owned(),
                ));
            };
            filter.cvss_min = min.as_deref().map(score).transpose()?;
            filter.cvss_max = max.as_deref().map(score).transpose()?;
            continue;
        }
        if !KEYS.split(", ").any(|k| k == key) {
            return Err(ApiError::BadRequest(format!(
                "q cannot filter by {key:?} here; supported: {KEYS}"
            )));
        }
        let Pattern::Exact(value) = pattern else {
            return Err(ApiError::BadRequest(format!(
                "q {key} is matched exactly here: write {key}=value (no ~, range or list)"
            )));
        };
        if value.len() > 1024 {
            return Err(ApiError::BadRequest(format!(
                "q {key} is longer than 1024 bytes"
            )));
        }
        match key.as_str() {
            "cve_id" => filter.cve_id = Some(value),
            "severity" => {
                let severity = Severity::parse(&value).ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "q severity {value:?} is not one of Critical, High, Medium, Low, Negligible, Unknown, None"
                    ))
                })?;
                filter.severity = Some(severity.as_str().to_owned());
            }
            "repository_name" => filter.repository_name = Some(value),
            "project_id" => {
                filter.project_id = Some(value.parse().map_err(|_| {
                    ApiError::BadRequest(format!("q project_id takes an integer, not {value:?}"))
                })?);
            }
            "package" => filter.package = Some(value),
            "tag" => filter.tag = Some(value),
            _ => filter.digest = Some(value),
        }
    }
    if let (Some(min), Some(max)) = (filter.cvss_min, filter.cvss_max)
        && min > max
    {
        return Err(ApiError::BadRequest(format!(
            "q cvss_score_v3: the range's minimum {min} is above its maximum {max}"
        )));
    }
    Ok(filter)
}

fn score(text: &str) -> Result<f64, ApiError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && (0.0..=10.0).contains(s))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "q cvss_score_v3 bounds are scores from 0 to 10, not {text:?}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_language_is_harbors_exact_keys_and_a_score_range() -> Result<(), String> {
        let f = vulnerability_filter(Some(
            "cve_id=CVE-2023-5363,severity=high,cvss_score_v3=[7~9.8],project_id=3,package=openssl,tag=v1",
        ))
        .map_err(|e| e.to_string())?;
        assert_eq!(f.cve_id.as_deref(), Some("CVE-2023-5363"));
        assert_eq!(f.severity.as_deref(), Some("High"));
        assert_eq!((f.cvss_min, f.cvss_max), (Some(7.0), Some(9.8)));
        assert_eq!(f.project_id, Some(3));
        assert_eq!(f.package.as_deref(), Some("openssl"));
        assert_eq!(f.tag.as_deref(), Some("v1"));
        let open = vulnerability_filter(Some("cvss_score_v3=[9~]")).map_err(|e| e.to_string())?;
        assert_eq!((open.cvss_min, open.cvss_max), (Some(9.0), None));
        assert_eq!(
            vulnerability_filter(None).map_err(|e| e.to_string())?,
            VulnerabilityFilter::default()
        );
        let refused = |q: &str| vulnerability_filter(Some(q)).err().map(|e| e.to_string());
        assert_eq!(
            refused("status=fixed"),
            Some(format!(
                "q cannot filter by \"status\" here; supported: {KEYS}"
            ))
        );
        assert_eq!(
            refused("package=~ssl"),
            Some(
                "q package is matched exactly here: write package=value (no ~, range or list)"
                    .to_owned()
            )
        );
        assert_eq!(
            refused("cvss_score_v3=7"),
            Some("q cvss_score_v3 takes a range: cvss_score_v3=[min~max]".to_owned())
        );
        assert_eq!(
            refused("cvss_score_v3=[11~]"),
            Some("q cvss_score_v3 bounds are scores from 0 to 10, not \"11\"".to_owned())
        );
        assert_eq!(
            refused("cvss_score_v3=[9~7]"),
            Some("q cvss_score_v3: the range's minimum 9 is above its maximum 7".to_owned())
        );
        assert_eq!(
            refused("severity=awful"),
            Some("q severity \"awful\" is not one of Critical, High, Medium, Low, Negligible, Unknown, None".to_owned())
        );
        assert_eq!(
            refused("project_id=x"),
            Some("q project_id takes an integer, not \"x\"".to_owned())
        );
        assert_eq!(
            refused("package=a,package=b"),
            Some("q names package more than once".to_owned())
        );
        Ok(())
    }
}
