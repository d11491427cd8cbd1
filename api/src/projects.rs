//! Projects: Harbor's `Project`, `ProjectReq` and `ProjectMetadata`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Harbor's project metadata. Values are strings (`"true"`, `"false"`, `"high"`, …), as in Harbor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_content_trust: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_content_trust_cosign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prevent_vul: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_scan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_sbom_generation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reuse_sys_cve_allowlist: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_id: Option<String>,
    /// Bandwidth limit of a proxy-cache project, in KB/s (`-1`: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_speed_kb: Option<String>,
    /// Berth extension for proxy-cache projects: the upstream repositories that may be pulled through, as
    /// comma-separated doublestar globs (`*` within a path segment, `**` across), e.g. `library/**,bitnami/*`.
    /// Unset or empty: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_include: Option<String>,
    /// Berth extension for proxy-cache projects: upstream repositories that may not be pulled through, in the
    /// same syntax as `proxy_include`; an exclusion wins over an inclusion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_exclude: Option<String>,
}

impl ProjectMetadata {
    /// The settings other than `public`, as `(name, value)` pairs, in a fixed order.
    pub fn settings(&self) -> Vec<(&'static str, &str)> {
        [
            ("enable_content_trust", &self.enable_content_trust),
            (
                "enable_content_trust_cosign",
                &self.enable_content_trust_cosign,
            ),
            ("prevent_vul", &self.prevent_vul),
            ("severity", &self.severity),
            ("auto_scan", &self.auto_scan),
            ("auto_sbom_generation", &self.auto_sbom_generation),
            ("reuse_sys_cve_allowlist", &self.reuse_sys_cve_allowlist),
            ("retention_id", &self.retention_id),
            ("proxy_speed_kb", &self.proxy_speed_kb),
            ("proxy_include", &self.proxy_include),
            ("proxy_exclude", &self.proxy_exclude),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|v| (name, v)))
        .collect()
    }

    /// Sets a setting by name; unknown names are ignored.
    pub fn set(&mut self, name: &str, value: String) {
        let slot = match name {
            "public" => &mut self.public,
            "enable_content_trust" => &mut self.enable_content_trust,
            "enable_content_trust_cosign" => &mut self.enable_content_trust_cosign,
            "prevent_vul" => &mut self.prevent_vul,
            "severity" => &mut self.severity,
            "auto_scan" => &mut self.auto_scan,
            "auto_sbom_generation" => &mut self.auto_sbom_generation,
            "reuse_sys_cve_allowlist" => &mut self.reuse_sys_cve_allowlist,
            "retention_id" => &mut self.retention_id,
            "proxy_speed_kb" => &mut self.proxy_speed_kb,
            "proxy_include" => &mut self.proxy_include,
            "proxy_exclude" => &mut self.proxy_exclude,
            _ => return,
        };
        *slot = Some(value);
    }
}

/// Harbor's `CVEAllowlistItem`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CveAllowlistItem {
    /// E.g. `CVE-2019-10164`.
    pub cve_id: String,
}

/// Harbor's `CVEAllowlist`: CVEs a project's scans ignore (unless its `reuse_sys_cve_allowlist` metadata says
/// to use the system's). In a request only `items` and `expires_at` count (and `project_id`, 0 or the
/// project's own); a project without one answers with no items, id 0 and zero times.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CveAllowlist {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub project_id: i64,
    /// Unix seconds; absent or null: never expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub items: Vec<CveAllowlistItem>,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub update_time: String,
}

/// Harbor's `ProjectReq`: the body of `POST /projects` and `PUT /projects/{project_name_or_id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectReq {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_name: Option<String>,
    /// Deprecated in Harbor in favour of `metadata.public`, still accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ProjectMetadata>,
    /// The project's CVE allowlist; left out, the stored one stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cve_allowlist: Option<CveAllowlist>,
    /// Bytes; -1 for unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<i64>,
}

/// Harbor's `Project`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Project {
    pub project_id: i64,
    pub owner_id: i64,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<i64>,
    pub creation_time: String,
    pub update_time: String,
    pub deleted: bool,
    pub owner_name: String,
    pub togglable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_user_role_id: Option<i64>,
    #[serde(default)]
    pub current_user_role_ids: Vec<i64>,
    pub repo_count: i64,
    pub metadata: ProjectMetadata,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cve_allowlist: Option<CveAllowlist>,
    /// The project's storage quota, only for callers who may read it (Berth; Harbor clients ignore it): a
    /// project list draws its quota bars from the list itself, not from one request per project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<ProjectSummaryQuota>,
}

/// Harbor's `ProjectSummary` (`GET /projects/{project_name_or_id}/summary`), plus Berth's usage figures
/// (`artifact_count`, `pull_count`, `pulls_per_day`), which Harbor clients ignore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectSummary {
    pub repo_count: i64,
    /// Member counts by role: only for callers who may list the project's members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_admin_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintainer_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub developer_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limited_guest_count: Option<i64>,
    /// Only for callers who may read the project's quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<ProjectSummaryQuota>,
    /// The upstream registry of a proxy-cache project; `null` for a hosted project.
    #[serde(default)]
    pub registry: Option<serde_json::Value>,
    /// Artifacts listed on their own, over all the project's repositories (Berth).
    pub artifact_count: i64,
    /// Pulls of the project's repositories, all time (Berth).
    pub pull_count: i64,
    /// Pulls per UTC day over the last 30 days, oldest first, days without pulls included (Berth).
    pub pulls_per_day: Vec<DailyPulls>,
}

/// Harbor's `ProjectSummaryQuota`: storage in bytes; `hard` is -1 when unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectSummaryQuota {
    pub hard: crate::quotas::ResourceList,
    pub used: crate::quotas::ResourceList,
}

/// Pulls on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DailyPulls {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub count: i64,
}

/// Harbor's `ProjectDeletable` (`GET /projects/{project_name_or_id}/_deletable`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectDeletable {
    pub deletable: bool,
    /// Why the project cannot be deleted; empty when it can.
    #[serde(default)]
    pub message: String,
}
