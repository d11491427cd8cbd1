//! The audit log: Harbor's `AuditLog` (`GET /audit-logs`, `GET /projects/{project_name}/logs`) and Harbor 2.13's
//! `AuditLogExt` (`GET /auditlog-exts`, `GET /projects/{project_name}/auditlog-exts`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Harbor's `AuditLog`: one recorded action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditLog {
    pub id: i64,
    /// The user or robot who acted; empty for anonymous.
    pub username: String,
    /// What was acted on: `project/repo:tag`, `project/repo@digest`, a project, member, robot or user name.
    pub resource: String,
    /// `project`, `member`, `robot`, `repository`, `artifact`, `tag`, `blob` or `user`.
    pub resource_type: String,
    /// `create`, `update`, `delete`, `pull`, `login` or `login_failed`.
    pub operation: String,
    /// RFC 3339 UTC.
    pub op_time: String,
    /// Berth's addition (Harbor's `AuditLog` has no equivalent): the client's address, the first
    /// `X-Forwarded-For` entry or else the TCP peer.
    #[serde(default)]
    pub client_ip: String,
}

/// Harbor 2.13's `AuditLogExt`: one recorded action, with a description and whether it succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditLogExt {
    pub id: i64,
    /// The user or robot who acted; empty for anonymous.
    pub username: String,
    pub resource: String,
    pub resource_type: String,
    pub operation: String,
    /// `operation resource_type: resource`, e.g. `create project: team`.
    pub operation_description: String,
    /// False for a failed sign-in (`login_failed`) and a change a policy refused (`refused`).
    pub operation_result: bool,
    /// RFC 3339 UTC.
    pub op_time: String,
}

/// Harbor's `AuditLogEventType`: `operation_resourcetype`, e.g. `create_project`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditLogEventType {
    pub event_type: String,
}
