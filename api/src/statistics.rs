//! Statistics: Harbor's `Statistic` (`GET /statistics`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Harbor's `Statistic`: project and repository counts the caller can see. The `total_*` figures are for
/// system administrators only and are 0 for everyone else, as in Harbor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Statistic {
    pub private_project_count: i64,
    pub private_repo_count: i64,
    pub public_project_count: i64,
    pub public_repo_count: i64,
    pub total_project_count: i64,
    pub total_repo_count: i64,
    /// Bytes of distinct blobs and manifests stored.
    pub total_storage_consumption: i64,
}
