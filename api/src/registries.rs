//! Registry endpoints: Harbor's `Registry`, `RegistryCredential`, `RegistryUpdate`, `RegistryPing` and
//! `RegistryInfo` (`/registries`), the upstreams proxy-cache projects pull through.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What the API shows instead of a stored access secret, as Harbor does. Sent back in `PUT` or `ping`, it
/// means "keep the stored secret".
pub const MASKED_SECRET: &str = "*****";

/// The registry types Berth can proxy (Harbor's adapter names), as `GET /replication/adapters` lists them.
pub const REGISTRY_TYPES: [&str; 5] = [
    "docker-hub",
    "docker-registry",
    "harbor",
    "github-ghcr",
    "quay",
];

/// Harbor's `RegistryCredential`. In responses `access_secret` is `*****` when a secret is stored, never the
/// secret itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegistryCredential {
    /// `basic`, the only type Berth supports.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub credential_type: Option<String>,
    /// The user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    /// The password or token; `*****` in responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_secret: Option<String>,
}

/// Harbor's `Registry`: the body of `POST /registries` and the answer of `GET`. Anonymous access has no
/// `credential`. `ratelimit_remaining` is a Berth extension: the upstream's `ratelimit-remaining` header at the
/// last check (Docker Hub sends one), absent when it sent none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Registry {
    #[serde(default)]
    pub id: i64,
    /// E.g. `https://hub.docker.com`; types with a well-known registry default to it.
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<RegistryCredential>,
    /// `docker-hub`, `docker-registry`, `harbor`, `github-ghcr` or `quay`.
    #[serde(rename = "type", default)]
    pub registry_type: String,
    /// Skip verifying the upstream's TLS certificate.
    #[serde(default)]
    pub insecure: bool,
    /// Not supported by Berth: a non-empty value is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<String>,
    #[serde(default)]
    pub description: String,
    /// `healthy`, `unhealthy` or `unknown` (never checked), from the last check.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub update_time: String,
    /// Berth extension: the upstream's `ratelimit-remaining` header at the last check, e.g. `100;w=21600`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratelimit_remaining: Option<String>,
}

/// Harbor's `RegistryUpdate` (`PUT /registries/{id}`): each field given replaces the stored one. An empty
/// `access_key` makes the endpoint anonymous; an `access_secret` of `*****` keeps the stored secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegistryUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<String>,
}

/// Harbor's `RegistryPing` (`POST /registries/ping`): a stored endpoint by `id`, with any other field given
/// replacing the stored one for this check, or an unsaved endpoint by `type`, `url` and credential.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegistryPing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub registry_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<String>,
}

/// Harbor's `FilterStyle`: a resource filter a registry supports for replication.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FilterStyle {
    #[serde(rename = "type", default)]
    pub filter_type: String,
    #[serde(default)]
    pub style: String,
    #[serde(default)]
    pub values: Vec<String>,
}

/// Harbor's `RegistryInfo` (`GET /registries/{id}/info`). Berth does not replicate, so it declares no
/// resource filters and only manual triggers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegistryInfo {
    #[serde(rename = "type")]
    pub registry_type: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub supported_resource_filters: Vec<FilterStyle>,
    #[serde(default)]
    pub supported_triggers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_copy_by_chunk: Option<bool>,
}
