//! Webhooks: Harbor's `WebhookPolicy`, `WebhookTargetObject`, `SupportedWebhookEventTypes`, `PayloadFormat`,
//! `WebhookLastTrigger`, the generic `Execution`, `Task` and `Metrics` (`/projects/{p}/webhook/*`), and the
//! payload Harbor posts to a receiver (`Payload`, `EventData`, `EventResource`, `EventRepository`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The notify type of a target that receives Harbor's JSON (or CloudEvents) by HTTP POST.
pub const NOTIFY_HTTP: &str = "http";
/// The notify type of a target that is a Slack incoming webhook.
pub const NOTIFY_SLACK: &str = "slack";
/// Harbor's own JSON payload (the default of an `http` target).
pub const FORMAT_DEFAULT: &str = "Default";
/// CloudEvents 1.0, structured mode (`application/cloudevents+json`).
pub const FORMAT_CLOUDEVENTS: &str = "CloudEvents";

/// Harbor's `WebhookTargetObject`. `auth_header` is write-only in Berth: it is sealed at rest and never
/// returned (a `GET` shows it empty); a `PUT` that leaves it empty for an unchanged address keeps the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookTarget {
    /// `http` or `slack`.
    #[serde(default, rename = "type")]
    pub notify_type: String,
    /// The receiver's URL, `http://` or `https://`.
    #[serde(default)]
    pub address: String,
    /// Sent as the `Authorization` header of every delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_header: Option<String>,
    #[serde(default)]
    pub skip_cert_verify: bool,
    /// `Default` or `CloudEvents` for `http` targets; empty for `slack`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub payload_format: String,
}

/// Harbor's `WebhookPolicy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookPolicy {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub project_id: i64,
    #[serde(default)]
    pub targets: Vec<WebhookTarget>,
    #[serde(default)]
    pub event_types: Vec<String>,
    #[serde(default)]
    pub creator: String,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub update_time: String,
    #[serde(default)]
    pub enabled: bool,
}

/// Harbor's `PayloadFormat`: the formats a notify type supports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PayloadFormat {
    pub notify_type: String,
    pub formats: Vec<String>,
}

/// Harbor's `SupportedWebhookEventTypes` (`GET /projects/{p}/webhook/events`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SupportedWebhookEventTypes {
    pub event_type: Vec<String>,
    pub notify_type: Vec<String>,
    pub payload_formats: Vec<PayloadFormat>,
}

/// Harbor's `WebhookLastTrigger`: per policy and event type, when it last fired.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookLastTrigger {
    pub policy_name: String,
    pub event_type: String,
    pub enabled: bool,
    pub creation_time: String,
    /// Empty when it never fired.
    pub last_trigger_time: String,
}

/// Harbor's `Metrics` of an execution: its tasks by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExecutionMetrics {
    pub task_count: i64,
    pub success_task_count: i64,
    pub error_task_count: i64,
    pub pending_task_count: i64,
    pub running_task_count: i64,
    pub scheduled_task_count: i64,
    pub stopped_task_count: i64,
}

/// Harbor's generic `Execution`: for a webhook, one event sent to one target (`vendor_type` `WEBHOOK` or
/// `SLACK`, `vendor_id` the policy), with `extra_attrs.event_type`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Execution {
    pub id: i64,
    pub vendor_type: String,
    pub vendor_id: i64,
    /// `Pending`, `Running`, `Success`, `Error` or `Stopped`.
    pub status: String,
    #[serde(default)]
    pub status_message: String,
    pub metrics: ExecutionMetrics,
    /// `EVENT` for webhooks.
    pub trigger: String,
    #[schema(value_type = Object)]
    pub extra_attrs: BTreeMap<String, serde_json::Value>,
    pub start_time: String,
    pub end_time: String,
}

/// Harbor's generic `Task`: for a webhook, the delivery of an execution's event, with `run_count` attempts
/// and the receiver's last answer in `extra_attrs.status_code`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Task {
    pub id: i64,
    pub execution_id: i64,
    pub status: String,
    #[serde(default)]
    pub status_message: String,
    pub run_count: i32,
    #[schema(value_type = Object)]
    pub extra_attrs: BTreeMap<String, serde_json::Value>,
    pub creation_time: String,
    pub update_time: String,
    pub start_time: String,
    pub end_time: String,
}

/// What Harbor posts to an `http` target in the `Default` format (and carries as `data` in CloudEvents).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// The event type, e.g. `PUSH_ARTIFACT`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Seconds since the Unix epoch.
    pub occur_at: i64,
    /// Who caused it: a user or robot name (empty for anonymous).
    pub operator: String,
    pub event_data: EventData,
}

/// Harbor's `event_data`: the artifacts an event is about and their repository, or what a quota or retention
/// event reports in `custom_attributes` / `retention`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventData {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<EventResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<EventRepository>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<EventRetention>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication: Option<EventReplication>,
    #[serde(
        default,
        rename = "custom_attributes",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub custom: BTreeMap<String, String>,
}

/// One artifact of an event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventResource {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    /// The tag, or the digest when the artifact was named by digest (as Harbor does).
    #[serde(default)]
    pub tag: String,
    /// `host/project/repo:tag` or `host/project/repo@digest`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_url: String,
    /// For scanning events: the scan overview, keyed by report MIME type, as the artifact API shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_overview: Option<serde_json::Value>,
}

/// The repository of an event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRepository {
    /// Seconds since the Unix epoch; 0 (left out) when unknown.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub date_created: i64,
    /// The repository's name within its project.
    pub name: String,
    /// The project's name.
    pub namespace: String,
    /// `project/name`.
    pub repo_full_name: String,
    /// `public` or `private`.
    pub repo_type: String,
}

/// One side of a replication (`REPLICATION`): a registry, and the namespace (project) there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventReplicationResource {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub registry_name: String,
    pub registry_type: String,
    pub endpoint: String,
    pub namespace: String,
}

/// One artifact (a repository and its tags) a replication task copied or failed to copy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventReplicatedArtifact {
    #[serde(rename = "type")]
    pub kind: String,
    /// `Success` or `Failed`.
    pub status: String,
    /// `repository:[tag,…]`.
    pub name_tag: String,
}

/// A replication task's outcome (`REPLICATION`), as Harbor sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventReplication {
    pub harbor_hostname: String,
    /// `Success` or `Failed`.
    pub job_status: String,
    pub artifact_type: String,
    pub authentication_type: String,
    pub override_mode: bool,
    /// `MANUAL`, `SCHEDULE` or `EVENT`.
    pub trigger_type: String,
    pub policy_creator: String,
    pub execution_timestamp: i64,
    pub src_resource: EventReplicationResource,
    pub dest_resource: EventReplicationResource,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub successful_artifact: Vec<EventReplicatedArtifact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_artifact: Vec<EventReplicatedArtifact>,
}

/// A retention run's outcome (`TAG_RETENTION`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRetention {
    pub total: i64,
    pub retained: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub harbor_hostname: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub project_name: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retention_policy_id: i64,
    /// `SUCCESS` when the run ended well (Harbor's `result`).
    #[serde(default, rename = "result", skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted_artifact: Vec<EventArtifactInfo>,
}

/// One artifact a retention run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventArtifactInfo {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub name_tag: String,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}
