//! Search: Harbor's `Search` and `SearchRepository` (`GET /search`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::projects::Project;

/// Harbor's `Search`: the projects and repositories whose names contain the search term; for a digest
/// (`sha256:` and at least 12 hex digits) the repositories holding an artifact of that digest, and for a label
/// name the repositories with artifacts carrying that label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Search {
    pub project: Vec<Project>,
    pub repository: Vec<SearchRepository>,
}

/// Harbor's `SearchRepository`. `repository_name` is the full name, `project/repo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SearchRepository {
    pub project_id: i64,
    pub project_name: String,
    pub project_public: bool,
    pub repository_name: String,
    pub pull_count: i64,
    pub artifact_count: i64,
    /// Berth's addition: the artifacts of the repository that matched a digest search or carry the label
    /// searched for (absent when the repository matched by name only). Harbor clients ignore it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<SearchArtifact>,
}

/// Berth's addition: an artifact found by `GET /search`, by digest or by label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SearchArtifact {
    pub digest: String,
    /// Its tags, by name.
    pub tags: Vec<String>,
}
