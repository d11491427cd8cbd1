//! Scanner registrations: Harbor's `ScannerRegistration`, `ScannerRegistrationReq`,
//! `ScannerRegistrationSettings`, `IsDefault`, `ProjectScanner` and the adapter's `ScannerAdapterMetadata`
//! (`/scanners`, `/projects/{p}/scanner`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The name of the built-in scanner registration.
pub const BUILT_IN_NAME: &str = "Berth";
/// The URL of the built-in scanner registration (it runs inside Berth, not behind an adapter).
pub const BUILT_IN_URL: &str = "berth://built-in";
/// The values `auth` may take (`""` is no authentication).
pub const AUTH_TYPES: [&str; 4] = ["", "Basic", "Bearer", "X-ScannerAdapter-API-Key"];

/// The artifact MIME type every capability of an adapter must consume (Harbor's `MimeTypeDockerArtifact`).
pub const MIME_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// The OCI image manifest MIME type.
pub const MIME_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Harbor's native vulnerability report.
pub const MIME_NATIVE_REPORT: &str =
    "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";
/// The generic vulnerability report of the adapter API v1.2.
pub const MIME_GENERIC_REPORT: &str = "application/vnd.security.vulnerability.report; version=1.1";
/// The SBOM report.
pub const MIME_SBOM_REPORT: &str = "application/vnd.security.sbom.report+json; version=1.0";
/// The report types Harbor accepts from an adapter (`supportedMimeTypes`).
pub const KNOWN_REPORT_TYPES: [&str; 3] =
    [MIME_NATIVE_REPORT, MIME_GENERIC_REPORT, MIME_SBOM_REPORT];

/// Harbor's `ScannerRegistration`. The credential is never returned: `access_credential` is empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScannerRegistration {
    pub uuid: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub url: String,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub auth: String,
    #[serde(default)]
    pub access_credential: String,
    #[serde(rename = "skip_certVerify", default)]
    pub skip_cert_verify: bool,
    #[serde(default)]
    pub use_internal_addr: bool,
    pub create_time: String,
    pub update_time: String,
    /// The adapter's scanner name, when it was asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `healthy` or `unhealthy`, when the adapter was asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// `support_vulnerability`, `support_sbom`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<BTreeMap<String, bool>>,
}

/// Harbor's `ScannerRegistrationReq`: the body of `POST /scanners` and `PUT /scanners/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScannerRegistrationReq {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// In a `PUT`, empty or absent keeps the stored credential while `auth` still needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_credential: Option<String>,
    #[serde(
        rename = "skip_certVerify",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub skip_cert_verify: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_internal_addr: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

/// Harbor's `ScannerRegistrationSettings`: the body of `POST /scanners/ping`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScannerRegistrationSettings {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub auth: String,
    #[serde(default)]
    pub access_credential: String,
}

/// Harbor's `IsDefault`: the body of `PATCH /scanners/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IsDefault {
    #[serde(default)]
    pub is_default: bool,
}

/// Harbor's `ProjectScanner`: the body of `PUT /projects/{p}/scanner`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectScanner {
    pub uuid: String,
}

/// Harbor's `Scanner`: who made the scanner.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Scanner {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub vendor: String,
    #[serde(default)]
    pub version: String,
}

/// Harbor's `ScannerCapability`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScannerCapability {
    /// `vulnerability` or `sbom`; absent (older adapters) means `vulnerability`.
    #[serde(rename = "type", default)]
    pub capability_type: String,
    #[serde(default)]
    pub consumes_mime_types: Vec<String>,
    #[serde(default)]
    pub produces_mime_types: Vec<String>,
}

/// Harbor's `ScannerAdapterMetadata`: what `GET <adapter>/api/v1/metadata` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScannerAdapterMetadata {
    #[serde(default)]
    pub scanner: Option<Scanner>,
    #[serde(default)]
    pub capabilities: Vec<ScannerCapability>,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}
