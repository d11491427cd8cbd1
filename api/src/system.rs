//! `ping`, `health` and `systeminfo`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Harbor's `OverallHealthStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OverallHealthStatus {
    pub status: String,
    pub components: Vec<ComponentHealthStatus>,
}

/// Harbor's `ComponentHealthStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComponentHealthStatus {
    pub name: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ComponentHealthStatus {
    pub fn healthy(name: &str) -> Self {
        ComponentHealthStatus {
            name: name.to_owned(),
            status: "healthy".to_owned(),
            error: None,
        }
    }

    pub fn unhealthy(name: &str, error: &str) -> Self {
        ComponentHealthStatus {
            name: name.to_owned(),
            status: "unhealthy".to_owned(),
            error: Some(error.to_owned()),
        }
    }
}

/// Harbor's `GeneralInfo` (`GET /systeminfo`), with the fields Berth has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GeneralInfo {
    pub current_time: String,
    pub registry_url: String,
    pub external_url: String,
    pub auth_mode: String,
    pub primary_auth_mode: bool,
    pub project_creation_restriction: String,
    pub self_registration: bool,
    pub has_ca_root: bool,
    pub harbor_version: String,
    pub registry_storage_provider_name: String,
    pub read_only: bool,
    pub notification_enable: bool,
    /// The OIDC provider's name (`oidc_name`), present only when the auth mode is `oidc_auth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_provider_name: Option<String>,
}

/// Harbor's `SystemInfo` (`GET /systeminfo/volumes`): the storage volumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SystemInfo {
    pub storage: Vec<Storage>,
}

/// Harbor's `Storage`: one volume's size and free space, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Storage {
    pub total: u64,
    pub free: u64,
}
