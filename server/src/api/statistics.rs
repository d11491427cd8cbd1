//! `GET /statistics`: how many projects and repositories the caller can see.
//!
//! As Harbor: signed-in callers only (401 for anonymous). Everyone gets the public counts; a system
//! administrator gets the private counts and the totals over all projects, anyone else the private projects
//! they can see (their memberships; a robot's projects) and zero totals.

use axum::extract::State;
use berth_api::statistics::Statistic;

use super::Caller;
use super::error::ApiError;
use super::extract::Json;
use crate::app::AppState;
use crate::auth::policy::visible_projects;

/// `GET /statistics`.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Statistic>, ApiError> {
    let subject = caller.signed_in()?;
    let visible = visible_projects(&state.db, subject).await?;
    let counts = state.db.project_counts(visible.as_deref()).await?;
    let mut statistic = Statistic {
        private_project_count: counts.private_projects,
        private_repo_count: counts.private_repositories,
        public_project_count: counts.public_projects,
        public_repo_count: counts.public_repositories,
        ..Statistic::default()
    };
    if subject.is_sysadmin() {
        statistic.total_project_count = counts.public_projects + counts.private_projects;
        statistic.total_repo_count = counts.public_repositories + counts.private_repositories;
        statistic.total_storage_consumption = state.db.total_storage().await?;
    }
    Ok(Json(statistic))
}
