//! Harbor's Security Hub: the system's vulnerability summary and the search of findings, over each artifact's
//! current successful report by the default scanner (Harbor reads the default registration's reports only).
//! The SQL is in `db::security_hub`; here are the query language of `/security/vul` and the assembling of the
//! summary (the API layer reads `q` into a [`VulnerabilityFilter`]).

use berth_api::security_hub::{
    DangerousArtifact, DangerousCve, HubVulnerabilityItem, SecuritySummary,
};
use berth_api::vulnerabilities::NATIVE_REPORT_MIME;

use crate::app::AppState;
use crate::db::VulnerabilityFilter;
use crate::service::ServiceError;

/// How many dangerous CVEs and artifacts the summary lists (Harbor's top 5).
pub const DANGEROUS_LIMIT: i64 = 5;

/// With `tune_count`, totals above this are answered as -1 (Harbor's limit).
pub const TUNE_COUNT_LIMIT: i64 = 1000;

/// The most tags shown per artifact with `with_tag` (Harbor shows ten).
pub const TAGS_PER_ITEM: usize = 10;

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
        if counted > TUNE_COUNT_LIMIT {
            -1
        } else {
            counted
        }
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
    let tags = if with_tag {
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
    Ok((items, total))
}
