//! Robot accounts: Harbor's `RobotCreate`, `RobotCreated`, `Robot`, `RobotPermission`, `Access`, `RobotSec`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One permitted `(resource, action)`, e.g. `repository`/`push`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Access {
    pub resource: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
}

/// Permissions in one namespace: `kind` is `project` (namespace: a project name, or `*` for every project)
/// or `system`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RobotPermission {
    pub kind: String,
    pub namespace: String,
    pub access: Vec<Access>,
}

/// Harbor's `RobotCreate`: the body of `POST /robots` (and of `PUT /robots/{id}`, as `Robot`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RobotCreate {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// `project` or `system`.
    pub level: String,
    #[serde(default)]
    pub disable: bool,
    /// Days until expiry; -1 never; 0 or absent: the default of 30 days.
    #[serde(default)]
    pub duration: i64,
    #[serde(default)]
    pub permissions: Vec<RobotPermission>,
}

/// Harbor's `RobotCreated`: the answer to `POST /robots`. The secret is shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RobotCreated {
    pub id: i64,
    pub name: String,
    pub secret: String,
    pub creation_time: String,
    /// Unix seconds; -1 for never.
    pub expires_at: i64,
}

/// Harbor's `Robot`. `secret` is never filled in when reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Robot {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub level: String,
    pub duration: i64,
    pub editable: bool,
    pub disable: bool,
    pub expires_at: i64,
    pub permissions: Vec<RobotPermission>,
    pub creator_type: String,
    pub creator_ref: i64,
    pub creation_time: String,
    pub update_time: String,
}

/// Harbor's `RobotSec`: the body and answer of `PATCH /robots/{id}` (refresh the secret).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RobotSec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}
