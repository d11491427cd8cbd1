//! Replication: Harbor's `ReplicationPolicy` (with `ReplicationFilter`, `ReplicationTrigger`),
//! `ReplicationExecution`, `ReplicationTask`, `StartReplicationExecution` and `RegistryProviderInfo`
//! (`/replication/*`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::registries::Registry;

/// Trigger types.
pub const TRIGGER_MANUAL: &str = "manual";
pub const TRIGGER_SCHEDULED: &str = "scheduled";
pub const TRIGGER_EVENT: &str = "event_based";

/// Filter types.
pub const FILTER_NAME: &str = "name";
pub const FILTER_TAG: &str = "tag";
pub const FILTER_LABEL: &str = "label";
pub const FILTER_RESOURCE: &str = "resource";

/// Harbor's `ReplicationFilter`. `value` is a pattern for `name` and `tag`, `image` or `artifact` for
/// `resource`, and a list of label names for `label`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReplicationFilter {
    #[serde(rename = "type", default)]
    pub filter_type: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
    /// `matches` (the default) or `excludes`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub decoration: String,
}

/// Harbor's `ReplicationTriggerSettings`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReplicationTriggerSettings {
    /// Six fields with seconds, as Harbor's: `0 0 * * * *`.
    #[serde(default)]
    pub cron: String,
}

/// Harbor's `ReplicationTrigger`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReplicationTrigger {
    /// `manual`, `scheduled` or `event_based`.
    #[serde(rename = "type", default)]
    pub trigger_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_settings: Option<ReplicationTriggerSettings>,
}

/// Harbor's `ReplicationPolicy`. Exactly one side is Berth itself: `src_registry` absent (or id 0) for a
/// push-based policy, `dest_registry` absent (or id 0) for a pull-based one; the other names a registry
/// endpoint (`/registries`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReplicationPolicy {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_registry: Option<Registry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_registry: Option<Registry>,
    /// The first path components of a copied repository are replaced by this (see
    /// `dest_namespace_replace_count`); empty keeps the source name.
    #[serde(default)]
    pub dest_namespace: String,
    /// How many leading path components `dest_namespace` replaces: -1 (the default) all but the last (Harbor's
    /// "flatten all levels"), 0 none (the namespace is prefixed), 1 to 3 that many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_namespace_replace_count: Option<i8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<ReplicationTrigger>,
    #[serde(default)]
    pub filters: Vec<ReplicationFilter>,
    /// Remove at the destination what is deleted at the source (event-based policies).
    #[serde(default)]
    pub replicate_deletion: bool,
    /// Harbor's deprecated spelling of `replicate_deletion`.
    #[serde(default)]
    pub deletion: bool,
    /// Replace a tag that already exists at the destination with another digest.
    #[serde(default)]
    pub r#override: bool,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub update_time: String,
    /// The bandwidth limit of each task, KiB per second; 0 or -1 for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<i32>,
    /// Upload blobs in chunks (`PATCH`) rather than in one request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_by_chunk: Option<bool>,
    /// Skip a firing while an execution of the policy still runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_active_replication: Option<bool>,
}

/// Harbor's `StartReplicationExecution`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StartReplicationExecution {
    #[serde(default)]
    pub policy_id: i64,
}

/// Harbor's `ReplicationExecution`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReplicationExecution {
    pub id: i64,
    pub policy_id: i64,
    /// `InProgress`, `Succeed`, `Failed` or `Stopped`.
    pub status: String,
    #[serde(default)]
    pub status_text: String,
    /// `manual`, `scheduled` or `event_based`.
    pub trigger: String,
    pub start_time: String,
    /// Absent while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    pub total: i64,
    pub failed: i64,
    pub succeed: i64,
    pub in_progress: i64,
    pub stopped: i64,
}

/// Harbor's `ReplicationTask`: one repository of an execution, with the tags or digests it copies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReplicationTask {
    pub id: i64,
    pub execution_id: i64,
    /// `Pending`, `InProgress`, `Succeed`, `Failed` or `Stopped`.
    pub status: String,
    /// The execution's job, as text.
    pub job_id: String,
    /// `copy` or `deletion`.
    pub operation: String,
    /// `image` or `artifact`.
    pub resource_type: String,
    /// `repository:[tag,…]` at the source.
    pub src_resource: String,
    /// `repository:[tag,…]` at the destination.
    pub dst_resource: String,
    /// Absent before it starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// Absent until it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
}

/// Harbor's `RegistryEndpoint`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegistryEndpoint {
    pub key: String,
    pub value: String,
}

/// Harbor's `RegistryProviderEndpointPattern`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegistryProviderEndpointPattern {
    /// `EndpointPatternTypeFix` (one known URL), `EndpointPatternTypeList` or `EndpointPatternTypeStandard`.
    pub endpoint_type: String,
    #[serde(default)]
    pub endpoints: Vec<RegistryEndpoint>,
}

/// Harbor's `RegistryProviderCredentialPattern`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegistryProviderCredentialPattern {
    pub access_key_type: String,
    pub access_key_data: String,
    pub access_secret_type: String,
    pub access_secret_data: String,
}

/// Harbor's `RegistryProviderInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegistryProviderInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_pattern: Option<RegistryProviderEndpointPattern>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_pattern: Option<RegistryProviderCredentialPattern>,
}

/// `GET /replication/adapterinfos`: by registry type.
pub type AdapterInfos = BTreeMap<String, RegistryProviderInfo>;
