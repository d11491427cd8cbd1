//! Harbor's Security Hub: the system's vulnerability summary and the search of findings, over each artifact's
//! current successful report by the default scanner (Harbor reads the default registration's reports only).
//! The SQL is in `db::security_hub`; here are the query language of `/security/vul` and the assembling of the
//! summary.

use berth_api::security_hub::{
    DangerousArtifact, DangerousCve, HubVulnerabilityItem, SecuritySummary,
};
use berth_api::vulnerabilities::NATIVE_REPORT_MIME;

use super::model::Severity;
use crate::api::query::{Pattern, parse_terms};
use crate::app::AppState;
use crate::db::VulnerabilityFilter;
use crate::service::ServiceError;

/// How many dangerous CVEs and artifacts the summary lists (Harbor's top 5).
pub const DANGEROUS_LIMIT: i64 = 5;

/// With `tune_count`, totals above this are answered as -1 (Harbor's limit).
pub const TUNE_COUNT_LIMIT: i64 = 1000;

/// The most tags shown per artifact with `with_tag` (Harbor shows ten).
pub const TAGS_PER_ITEM: usize = 10;

/// The `q` keys of `/security/vul`, as Harbor's swagger lists them (`status` is listed there but Harbor's
/// server refuses it too: findings have no such column).
const KEYS: &str = "cve_id, cvss_score_v3, severity, repository_name, project_id, package, tag, digest";

/// Reads `/security/vul`'s `q` into a filter. Every key is an exact match but `cvss_score_v3`, a range
/// `[min~max]` (either bound may be open); an unknown key, a repeated key or another kind of term is a 400,
/// as in Harbor.
pub fn vulnerability_filter(q: Option<&str>) -> Result<VulnerabilityFilter, ServiceError> {
    let mut filter = VulnerabilityFilter::default();
    let mut seen: Vec<String> = Vec::new();
    for (key, pattern) in parse_terms(q.unwrap_or_default()).map_err(|e| ServiceError::Invalid(e.to_string()))? {
        if seen.contains(&key) {
            return Err(ServiceError::Invalid(format!("q names {key} more than once")));
        }
        seen.push(key.clone());
        if key == "cvss_score_v3" {
            let Pattern::Range(min, max) = pattern else {
                return Err(ServiceError::Invalid(
                    "q cvss_score_v3 takes a range: cvss_score_v3=[min~max]".to_owned(),
                ));
            };
            filter.cvss_min = min.as_deref().map(score).transpose()?;
            filter.cvss_max = max.as_deref().map(score).transpose()?;
            continue;
        }
        if !KEYS.split(", ").any(|k| k == key) {
            return Err(ServiceError::Invalid(format!(
                "q cannot filter by {key:?} here; supported: {KEYS}"
            )));
        }
        let Pattern::Exact(value) = pattern else {
            return Err(ServiceError::Invalid(format!(
                "q {key} is matched exactly here: write {key}=value (no ~, range or list)"
            )));
        };
        if value.len() > 1024 {
            return Err(ServiceError::Invalid(format!(
                "q {key} is longer than 1024 bytes"
            )));
        }
        match key.as_str() {
            "cve_id" => filter.cve_id = Some(value),
            "severity" => {
                let severity = Severity::parse(&value).ok_or_else(|| {
                    ServiceError::Invalid(format!(
                        "q severity {value:?} is not one of Critical, High, Medium, Low, Negligible, Unknown, None"
                    ))
                })?;
                filter.severity = Some(severity.as_str().to_owned());
            }
            "repository_name" => filter.repository_name = Some(value),
            "project_id" => {
                filter.project_id = Some(value.parse().map_err(|_| {
                    ServiceError::Invalid(format!("q project_id takes an integer, not {value:?}"))
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
        return Err(ServiceError::Invalid(format!(
            "q cvss_score_v3: the range's minimum {min} is above its maximum {max}"
        )));
    }
    Ok(filter)
}

fn score(text: &str) -> Result<f64, ServiceError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && (0.0..=10.0).contains(s))
        .ok_or_else(|| {
            ServiceError::Invalid(format!(
                "q cvss_score_v3 bounds are scores from 0 to 10, not {text:?}"
            ))
        })
}

/// The default scanner's uuid; `None` when no registration is the default (Harbor answers empty then).
async fn default_registration(state: &AppState) -> Result<Option<String>, ServiceError> {
    Ok(state.db.default_scanner().await?.map(|s| s.uuid))
}

/// The system's summary; the dangerous lists when asked for.
pub async fn summary(
    state: &AppState,
    with_dangerous_cve: bool,
    with_dangerous_artifact: bool,
) -> Result<SecuritySummary, ServiceError> {
    let Some(registration) = default_registration(state).await? else {
        return Ok(SecuritySummary::default());
    };
    let mime = NATIVE_REPORT_MIME;
    let counts = state.db.security_counts(&registration, mime).await?;
    let mut summary = SecuritySummary {
        critical_cnt: counts.critical,
        high_cnt: counts.high,
        medium_cnt: counts.medium,
        low_cnt: counts.low,
        none_cnt: counts.none,
        unknown_cnt: counts.unknown,
        total_vuls: counts.total(),
        scanned_cnt: state.db.scanned_artifact_total(&registration, mime).await?,
        total_artifact: state.db.artifact_total().await?,
        fixable_cnt: counts.fixable,
        dangerous_cves: None,
        dangerous_artifacts: None,
    };
    if with_dangerous_cve {
        let rows = state
            .db
            .dangerous_cves(&registration, mime, DANGEROUS_LIMIT)
            .await?;
        summary.dangerous_cves = Some(
            rows.into_iter()
                .map(|r| DangerousCve {
                    cve_id: r.cve_id,
                    severity: r.severity,
                    cvss_score_v3: r.cvss_v3_score,
                    desc: r.description.unwrap_or_default(),
                    package: r.package,
                    version: r.version,
                })
                .collect(),
        );
    }
    if with_dangerous_artifact {
        let rows = state
            .db
            .dangerous_artifacts(&registration, mime, DANGEROUS_LIMIT)
            .await?;
        summary.dangerous_artifacts = Some(
            rows.into_iter()
                .map(|r| DangerousArtifact {
                    project_id: r.project_id,
                    repository_name: r.repository_name,
                    digest: r.digest,
                    critical_cnt: r.critical_cnt,
                    high_cnt: r.high_cnt,
                    medium_cnt: r.medium_cnt,
                })
                .collect(),
        );
    }
    Ok(summary)
}

/// One page of findings matching `filter` and their total (-1 with `tune_count` past
/// [`TUNE_COUNT_LIMIT`]).
pub async fn vulnerabilities(
    state: &AppState,
    filter: &VulnerabilityFilter,
    limit: i64,
    offset: i64,
    tune_count: bool,
    with_tag: bool,
) -> Result<(Vec<HubVulnerabilityItem>, i64), ServiceError> {
    let Some(registration) = default_registration(state).await? else {
        return Ok((Vec::new(), 0));
    };
    let mime = NATIVE_REPORT_MIME;
    let total = if tune_count {
        let counted = state
            .db
            .count_vulnerabilities(&registration, mime, filter, Some(TUNE_COUNT_LIMIT))
            .await?;
        if counted > TUNE_COUNT_LIMIT { -1 } else { counted }
    } else {
        state
            .db
            .count_vulnerabilities(&registration, mime, filter, None)
            .await?
    };
    let rows = state
        .db
        .list_vulnerabilities(&registration, mime, filter, limit, offset)
        .await?;
    let mut tags = if with_tag {
        let mut ids: Vec<i64> = rows.iter().map(|r| r.artifact_id).collect();
        ids.sort_unstable();
        ids.dedup();
        state.db.tags_of_artifacts(&ids, TAGS_PER_ITEM).await?
    } else {
        Default::default()
    };
    let items = rows
        .into_iter()
        .map(|r| HubVulnerabilityItem {
            project_id: r.project_id,
            repository_name: r.repository_name,
            digest: r.digest,
            tags: with_tag.then(|| tags.get(&r.artifact_id).cloned().unwrap_or_default()),
            cve_id: r.cve_id,
            severity: r.severity,
            cvss_v3_score: r.cvss_v3_score,
            package: r.package,
            version: r.version,
            fixed_version: r.fix_version,
            desc: r.description.unwrap_or_default(),
            links: r
                .links
                .and_then(|l| serde_json::from_str(&l).ok())
                .unwrap_or_default(),
        })
        .collect();
    tags.clear();
    Ok((items, total))
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
            Some("q package is matched exactly here: write package=value (no ~, range or list)".to_owned())
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
