//! The job service: Harbor's `WorkerPool`, `Worker`, `JobQueue`, `ActionRequest`, `ScheduleTask`,
//! `SchedulerStatus` (`/jobservice/*`, `/schedules`), and the execution history and schedules of system jobs
//! such as the audit-log purge (`ExecHistory`, `Schedule`, `ScheduleObj`: `/system/purgeaudit*`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Harbor's `ScheduleObj`: when a job runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct ScheduleObj {
    /// `Hourly`, `Daily`, `Weekly`, `Custom`, `Manual` (run now) or `None` (no schedule). In a history row:
    /// the trigger, `MANUAL`, `SCHEDULE` or `EVENT`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Six fields with seconds: `second minute hour day-of-month month day-of-week`, e.g. `0 0 * * * *`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// When the schedule fires next (RFC 3339 UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_scheduled_time: Option<String>,
}

/// Harbor's `Schedule`: the body of `POST`/`PUT /system/purgeaudit/schedule`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Schedule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<String>,
    pub schedule: Option<ScheduleObj>,
    /// The job's parameters, e.g. `{"audit_retention_hour": 168, "include_operations": "create,delete,pull",
    /// "dry_run": false}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub parameters: serde_json::Map<String, serde_json::Value>,
}

/// Harbor's `ExecHistory`: one run of a system job, or (from `GET …/schedule`) its schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExecHistory {
    pub id: i64,
    /// The job type, e.g. `PURGE_AUDIT_LOG`.
    pub job_name: String,
    /// How it was triggered: `MANUAL`, `SCHEDULE` or `EVENT` (for a schedule: its cron).
    pub job_kind: String,
    /// The parameters, JSON text.
    pub job_parameters: String,
    pub schedule: Option<ScheduleObj>,
    /// `Pending`, `Running`, `Success`, `Error` or `Stopped`.
    pub job_status: String,
    pub deleted: bool,
    /// RFC 3339 UTC.
    pub creation_time: String,
    pub update_time: String,
}

/// Harbor's `WorkerPool`: one node's job workers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WorkerPool {
    /// The node's process id.
    pub pid: i64,
    /// The node's id, chosen at random when it starts.
    pub worker_pool_id: String,
    pub start_at: String,
    pub heartbeat_at: String,
    /// How many jobs it runs at once.
    pub concurrency: i64,
    pub host: String,
}

/// Harbor's `Worker`: one worker slot of a pool, and the job it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Worker {
    pub id: String,
    pub pool_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkin_at: Option<String>,
}

/// Harbor's `JobQueue`: the pending jobs of one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JobQueue {
    pub job_type: String,
    pub count: i64,
    /// Seconds the oldest due job has waited.
    pub latency: i64,
    pub paused: bool,
}

/// Harbor's `ActionRequest`: `{"action": "stop|pause|resume"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionRequest {
    pub action: String,
}

/// Harbor's `ScheduleTask`: one schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleTask {
    pub id: i64,
    pub vendor_type: String,
    pub vendor_id: i64,
    pub cron: String,
    pub update_time: String,
}

/// Harbor's `SchedulerStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SchedulerStatus {
    pub paused: bool,
}
