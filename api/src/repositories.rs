//! Repositories: Harbor's `Repository`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Harbor's `Repository`. `name` is the full name, `project/repo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Repository {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub artifact_count: i64,
    pub pull_count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<String>,
    pub update_time: String,
}
