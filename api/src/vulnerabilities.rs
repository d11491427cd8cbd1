//! Vulnerability reports in Harbor's shapes: the full report (`application/vnd.security.vulnerability.report;
//! version=1.1`, the scanner adapter API's `HarborVulnerabilityReport`, which Harbor's
//! `…/additions/vulnerabilities` returns keyed by its MIME type) and the summary attached to artifacts
//! (`with_scan_overview`: `NativeReportSummary` keyed by MIME type).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The MIME type of Harbor's native vulnerability report, the key of `scan_overview` and of
/// `additions/vulnerabilities`.
pub const NATIVE_REPORT_MIME: &str = "application/vnd.security.vulnerability.report; version=1.1";
/// The MIME type of the scanner adapter API's raw Harbor report (`version=1.0`), which Harbor also accepts.
pub const ADAPTER_REPORT_MIME: &str =
    "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";

/// A scanner's identity (`Scanner`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct ScannerIdentity {
    pub name: String,
    pub vendor: String,
    pub version: String,
}

/// The artifact a report is about (the adapter API's `Artifact`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct ReportArtifact {
    pub repository: String,
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    pub mime_type: String,
}

/// CVSS scores and vectors (`CVSSDetails`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
pub struct CvssDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_v3: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_v2: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector_v3: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector_v2: Option<String>,
}

/// One finding (`VulnerabilityItem`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
pub struct VulnerabilityItem {
    pub id: String,
    pub package: String,
    pub version: String,
    /// Empty when no fix is available.
    #[serde(default)]
    pub fix_version: String,
    /// `Unknown`, `Negligible`, `Low`, `Medium`, `High` or `Critical`.
    pub severity: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_cvss: Option<CvssDetails>,
    #[serde(default)]
    pub cwe_ids: Vec<String>,
    /// Free-form details. Berth sets `aliases`, `source_package`, `ecosystem`, `layer`, `status` (the vendor's
    /// word for an unfixed finding) and `allowlisted` (when the effective CVE allowlist names it).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub vendor_attributes: Map<String, Value>,
}

/// A full vulnerability report (`HarborVulnerabilityReport`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
pub struct VulnerabilityReport {
    /// RFC 3339.
    pub generated_at: String,
    pub artifact: ReportArtifact,
    pub scanner: ScannerIdentity,
    /// The highest severity of the findings, `None` when there are none.
    pub severity: String,
    pub vulnerabilities: Vec<VulnerabilityItem>,
}

/// Counts of a report's findings (`VulnerabilitySummary`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct VulnerabilitySummary {
    pub total: u64,
    pub fixable: u64,
    /// Findings per severity, only the severities that occur (`{"Critical": 5, "High": 5}`).
    pub summary: BTreeMap<String, u64>,
}

/// The summary of one report attached to an artifact (`NativeReportSummary`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct NativeReportSummary {
    pub report_id: String,
    /// `Pending`, `Running`, `Success`, `Error`, `Stopped`.
    pub scan_status: String,
    /// The overall severity, `None` when nothing was found; empty until a report succeeded.
    #[serde(default)]
    pub severity: String,
    /// Seconds.
    pub duration: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<VulnerabilitySummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    pub complete_percent: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanner: Option<ScannerIdentity>,
}

/// The latest SBOM generation of an artifact (`SBOMOverview`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct SbomOverview {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    pub scan_status: String,
    /// The digest of the SBOM accessory, once generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom_digest: Option<String>,
    pub report_id: String,
    /// Seconds.
    pub duration: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanner: Option<ScannerIdentity>,
}

/// Harbor's `Stats`: the progress of the latest scan-all (`/scans/all/metrics`, `/scans/schedule/metrics`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct Stats {
    /// The artifacts the scan-all visits (counted when it starts; the number visited once it ends).
    pub total: i64,
    /// The artifacts it has finished with.
    pub completed: i64,
    /// The finished ones by outcome: `Success` (scanned, re-matched or unchanged since the last report),
    /// `Error`, `Skipped` (not scannable, already being scanned, or an external scanner's project), and
    /// while it runs `Pending` (the rest); `Stopped` for the rest of a stopped one.
    #[serde(default)]
    pub metrics: BTreeMap<String, i64>,
    /// Whether it is queued or running.
    pub ongoing: bool,
    /// `Manual`, `Schedule` or `Event`; absent before the first scan-all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    /// Who asked for it (`schedule` for a scheduled one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
}
