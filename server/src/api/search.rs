//! `GET /search?q=`: the projects and repositories whose names contain `q`, among those the caller can see
//! (all for a system administrator; public ones and the caller's own for everyone else, anonymous included).
//!
//! As Harbor: `q` is trimmed and lowercased (names are lowercase), projects come by name, and a repository
//! matches on its full name, `project/repo`.

use axum::extract::State;
use berth_api::search::{Search, SearchRepository};
use serde::Deserialize;

use super::Caller;
use super::error::ApiError;
use super::extract::{Json, Query};
use super::projects::to_responses;
use crate::app::AppState;
use crate::auth::policy::visible_projects;

/// Query of `GET /search`.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// `GET /search`.
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Search>, ApiError> {
    let term = query
        .q
        .as_deref()
        .map(|q| q.trim().to_lowercase())
        .filter(|q| !q.is_empty())
        .ok_or_else(|| ApiError::BadRequest("the q parameter is required".to_owned()))?;
    let visible = visible_projects(&state.db, &caller.0).await?;
    let projects = state.db.search_projects(&term, visible.as_deref()).await?;
    let project = to_responses(&state, &caller.0, projects).await?;
    let repository = state
        .db
        .search_repositories(&term, visible.as_deref())
        .await?
        .into_iter()
        .map(|row| SearchRepository {
            project_id: row.project_id,
            project_name: row.project_name,
            project_public: row.project_public,
            repository_name: row.name,
            pull_count: row.pull_count,
            artifact_count: row.artifact_count,
        })
        .collect();
    Ok(Json(Search {
        project,
        repository,
    }))
}
