//! Harbor's Security Hub (`/security/summary`, `/security/vul`) and CVE export (`/export/cve`, its executions
//! and download), in the shapes of Harbor's swagger (`SecuritySummary`, `DangerousCVE`, `DangerousArtifact`,
//! `VulnerabilityItem`, `ScanDataExportRequest`, `ScanDataExportJob`, `ScanDataExportExecution`,
//! `ScanDataExportExecutionList`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The system's vulnerability summary (`SecuritySummary`). Harbor always writes the counts; the two lists
/// only when asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
pub struct SecuritySummary {
    pub critical_cnt: i64,
    pub high_cnt: i64,
    pub medium_cnt: i64,
    /// `Low` and `Negligible` findings.
    pub low_cnt: i64,
    pub none_cnt: i64,
    pub unknown_cnt: i64,
    pub total_vuls: i64,
    /// Artifacts with a successful report by the default scanner.
    pub scanned_cnt: i64,
    /// Every artifact (so the unscanned ones are `total_artifact - scanned_cnt`).
    pub total_artifact: i64,
    pub fixable_cnt: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dangerous_cves: Option<Vec<DangerousCve>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dangerous_artifacts: Option<Vec<DangerousArtifact>>,
}

/// One of the five most dangerous CVEs (`DangerousCVE`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
pub struct DangerousCve {
    pub cve_id: String,
    pub severity: String,
    pub cvss_score_v3: f64,
    #[serde(default)]
    pub desc: String,
    pub package: String,
    pub version: String,
}

/// One of the five most dangerous artifacts (`DangerousArtifact`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct DangerousArtifact {
    pub project_id: i64,
    /// `project/repository`.
    pub repository_name: String,
    pub digest: String,
    pub critical_cnt: i64,
    pub high_cnt: i64,
    pub medium_cnt: i64,
}

/// One finding of one artifact in the Security Hub's search (Harbor's `VulnerabilityItem`; named apart from
/// the report's item of the same Harbor name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
pub struct HubVulnerabilityItem {
    pub project_id: i64,
    pub repository_name: String,
    pub digest: String,
    /// Only with `with_tag=true` (at most ten).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    pub cve_id: String,
    pub severity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss_v3_score: Option<f64>,
    pub package: String,
    pub version: String,
    /// Empty when no fix is available.
    #[serde(default)]
    pub fixed_version: String,
    #[serde(default)]
    pub desc: String,
    #[serde(default)]
    pub links: Vec<String>,
}

/// What to export (`ScanDataExportRequest`). `repositories`, `tags` and `cveIds` are doublestar patterns,
/// several enclosed in `{}` and separated by `,` (`{nginx,redis}`); empty means all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct ScanDataExportRequest {
    #[serde(default)]
    pub job_name: Option<String>,
    /// Exactly one project id (as in Harbor).
    #[serde(default)]
    pub projects: Vec<i64>,
    /// Label ids: when given, an artifact must carry one of them.
    #[serde(default)]
    pub labels: Vec<i64>,
    #[serde(default)]
    pub repositories: Option<String>,
    #[serde(default, rename = "cveIds")]
    pub cve_ids: Option<String>,
    #[serde(default)]
    pub tags: Option<String>,
}

/// The export just started (`ScanDataExportJob`): its execution id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct ScanDataExportJob {
    pub id: i64,
}

/// One export (`ScanDataExportExecution`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct ScanDataExportExecution {
    pub id: i64,
    pub user_id: i64,
    /// `Pending`, `Running`, `Success`, `Error` or `Stopped`.
    pub status: String,
    /// `MANUAL`.
    pub trigger: String,
    pub start_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    pub status_text: String,
    pub user_name: String,
    /// Whether the CSV can be downloaded.
    pub file_present: bool,
}

/// The caller's exports (`ScanDataExportExecutionList`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct ScanDataExportExecutionList {
    pub items: Vec<ScanDataExportExecution>,
}
