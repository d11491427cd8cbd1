//! Harbor's Pluggable Scanner API v1.2 (`docs/reference/harbor-scanner-adapter-v1.2.yaml`), both ways
//! (design `scanning.md` §5.6):
//! - [`server`]: Berth's scanner served as an adapter under `/api/v1`, so an external Harbor can use it; each
//!   scan is an `ADAPTER_SCAN` job ([`job`]) that pulls the artifact from the caller's registry ([`fetch`]),
//!   inventories its layers from the stream and keeps the result for a day;
//! - [`client`]: an external adapter as a project's scanner, a `REMOTE_SCAN` job that hands the adapter a
//!   short-lived pull-only token for the repository and polls for the report.

pub mod client;
pub mod fetch;
pub mod job;
pub mod server;

use serde::{Deserialize, Serialize};

/// The error bodies' media type.
pub const ERROR_MIME: &str = "application/vnd.scanner.adapter.error+json; version=1.0";
/// The metadata's media type.
pub const METADATA_MIME: &str = "application/vnd.scanner.adapter.metadata+json; version=1.1";
/// The scan request's media type (as Harbor sends it).
pub const SCAN_REQUEST_MIME: &str =
    "application/vnd.scanner.adapter.scan.request+json; version=1.1";
/// The scan response's media type.
pub const SCAN_RESPONSE_MIME: &str =
    "application/vnd.scanner.adapter.scan.response+json; version=1.0";

/// Harbor's `ScanRequest`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanRequest {
    pub registry: Registry,
    pub artifact: Artifact,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enabled_capabilities: Vec<EnabledCapability>,
}

/// Where the artifact is and how to pull it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    pub url: String,
    /// The whole `Authorization` header value (`Basic …` or `Bearer …`), or empty.
    #[serde(default)]
    pub authorization: String,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("url", &self.url)
            .field("authorization", &"[redacted]")
            .finish()
    }
}

/// The artifact to scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub repository: String,
    pub digest: String,
    #[serde(default)]
    pub tag: String,
    #[serde(default)]
    pub mime_type: String,
}

/// A capability the caller wants used (`sbom` with its `sbom_media_types`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnabledCapability {
    #[serde(rename = "type", default)]
    pub capability_type: String,
    #[serde(default)]
    pub produces_mime_types: Vec<String>,
    #[serde(default)]
    pub parameters: Option<serde_json::Value>,
}

/// Harbor's `ScanResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanResponse {
    pub id: String,
}

/// Harbor's `ErrorResponse`: `{"error":{"message"}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    #[serde(default)]
    pub error: ErrorBody,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: String,
}

/// Harbor's `HarborSbomReport`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SbomReport {
    pub generated_at: String,
    pub artifact: berth_api::vulnerabilities::ReportArtifact,
    pub scanner: berth_api::vulnerabilities::ScannerIdentity,
    pub media_type: String,
    pub sbom: serde_json::Value,
}

/// The most seconds a `Refresh-After` may say: Harbor reads it with `strconv.ParseInt(v, 10, 8)`.
pub const MAX_REFRESH_AFTER: u64 = 127;

/// `Refresh-After` read as Harbor reads it: a decimal that fits in an `i8`; anything else is `None`.
pub fn parse_refresh_after(value: &str) -> Option<i8> {
    value.parse::<i8>().ok()
}
