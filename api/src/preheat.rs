//! P2P preheat: Harbor's `Metadata` (a provider), `Instance` and `PreheatPolicy`. Berth ships no P2P provider,
//! so its lists are always empty; the types document what Harbor's clients expect.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Harbor's `Metadata`: a P2P provider (Dragonfly, Kraken).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProviderMetadata {
    pub id: String,
    pub name: String,
    pub icon: String,
    pub maintainers: Vec<String>,
    pub version: String,
    pub source: String,
}

/// Harbor's `Instance`: a P2P provider instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Instance {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub vendor: String,
    pub endpoint: String,
    pub auth_mode: String,
    pub status: String,
    pub enabled: bool,
    pub default: bool,
    pub insecure: bool,
    pub setup_timestamp: i64,
}

/// Harbor's `PreheatPolicy`: when to preheat which artifacts of a project through which instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PreheatPolicy {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub project_id: i64,
    pub provider_id: i64,
    pub provider_name: String,
    /// JSON text of the filters, as Harbor sends them.
    pub filters: String,
    /// JSON text of the trigger.
    pub trigger: String,
    pub enabled: bool,
    pub creation_time: String,
    pub update_time: String,
}
