//! Search: Harbor's `Search` and `SearchRepository` (`GET /search`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::projects::Project;

/// Harbor's `Search`: the projects and repositories whose names contain the search term.
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
}
