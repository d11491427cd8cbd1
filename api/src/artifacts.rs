//! Artifacts and tags: Harbor's `Artifact`, `Tag`, `Reference`, `Platform`, `AdditionLink` and `Accessory`.
//!
//! Times are RFC 3339 strings; a time that never happened (an artifact never pulled) is Harbor's zero time,
//! [`ZERO_TIME`], as Harbor sends it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Harbor's zero `date-time`: the `pull_time` of something never pulled.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00.000Z";

/// Harbor's `Artifact`: a manifest (image, index or other OCI artifact) in a repository, plus Berth's
/// `pull_count`, which Harbor clients ignore.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Artifact {
    pub id: i64,
    /// `IMAGE`, `CHART`, `CNAB`, `WASM` or `UNKNOWN`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The config's media type for a manifest; the manifest's own for an index.
    pub media_type: String,
    pub manifest_media_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub project_id: i64,
    pub repository_id: i64,
    pub repository_name: String,
    pub digest: String,
    /// Bytes: the manifest, plus its config and layers, plus (for an index) its children's sizes.
    pub size: i64,
    /// The digest of the artifact type's icon, served at `GET /icons/{digest}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    pub push_time: String,
    pub pull_time: String,
    /// Pulls of this artifact's manifest, by tag or digest, all time (Berth; Harbor has no such field).
    /// Written in batches, so it may trail a pull by a moment.
    pub pull_count: i64,
    #[serde(default)]
    pub extra_attrs: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<Vec<Reference>>,
    /// Present unless the request said `with_tag=false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    #[serde(default)]
    pub addition_links: BTreeMap<String, AdditionLink>,
    /// With `with_label=true`: the labels the artifact carries (otherwise empty, as in Harbor).
    #[serde(default)]
    pub labels: Vec<crate::labels::Label>,
    /// Present when the request said `with_accessory=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessories: Option<Vec<Accessory>>,
    /// With `with_scan_overview=true`: the latest report's summary per report MIME type (Harbor's
    /// `ScanOverview`, keyed by [`crate::vulnerabilities::NATIVE_REPORT_MIME`]); empty when never scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_overview: Option<BTreeMap<String, crate::vulnerabilities::NativeReportSummary>>,
    /// With `with_sbom_overview=true`: the latest SBOM generation (Harbor's `SBOMOverview`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom_overview: Option<crate::vulnerabilities::SbomOverview>,
}

/// Harbor's `Tag`. Also the body of `POST …/artifacts/{reference}/tags`, where only `name` counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tag {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub repository_id: i64,
    #[serde(default)]
    pub artifact_id: i64,
    pub name: String,
    #[serde(default)]
    pub push_time: String,
    #[serde(default)]
    pub pull_time: String,
    #[serde(default)]
    pub immutable: bool,
}

/// Harbor's `Reference`: a child manifest of an index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reference {
    pub parent_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_id: Option<i64>,
    pub child_digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
}

/// Harbor's `Platform` (the OCI image index's platform object).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(
        default,
        rename = "os.version",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(
        default,
        rename = "os.features",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// Harbor's `AdditionLink`: where an addition (such as `build_history`) of an artifact is served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdditionLink {
    pub href: String,
    pub absolute: bool,
}

/// Harbor's `Accessory`: an artifact attached to another through its `subject` (a signature, an SBOM, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Accessory {
    pub id: i64,
    pub artifact_id: i64,
    pub subject_artifact_id: i64,
    pub subject_artifact_digest: String,
    pub subject_artifact_repo: String,
    pub size: i64,
    pub digest: String,
    /// `signature.cosign`, `signature.notation`, `harbor.sbom` or `subject.accessory`.
    #[serde(rename = "type")]
    pub kind: String,
    pub icon: String,
    pub creation_time: String,
}

/// Harbor's `Icon` (`GET /icons/{digest}`): an artifact type's icon, base64-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Icon {
    /// E.g. `image/svg+xml`.
    #[serde(rename = "content-type")]
    pub content_type: String,
    /// The icon, base64-encoded.
    pub content: String,
}

/// One layer of a manifest, as the manifest's `layers` lists it (an OCI descriptor): what Berth's `layers`
/// addition (`GET …/artifacts/{reference}/additions/layers`) answers, in the manifest's order. Harbor has no
/// such addition; its clients never ask for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Layer {
    #[serde(default)]
    pub media_type: String,
    #[serde(default)]
    pub digest: String,
    /// Bytes.
    #[serde(default)]
    pub size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}
