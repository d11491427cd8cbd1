//! Projects: Harbor's `Project`, `ProjectReq` and `ProjectMetadata`.

use serde::{Deserialize, Serialize};

/// Harbor's project metadata. Values are strings (`"true"`, `"false"`, `"high"`, …), as in Harbor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
            _ => return,
        };
        *slot = Some(value);
    }
}

/// Harbor's `ProjectReq`: the body of `POST /projects` and `PUT /projects/{project_name_or_id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectReq {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_name: Option<String>,
    /// Deprecated in Harbor in favour of `metadata.public`, still accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ProjectMetadata>,
    /// Bytes; -1 for unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<i64>,
}

/// Harbor's `Project`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}
