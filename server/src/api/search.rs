//! `GET /search?q=`: the projects and repositories whose names contain `q`, among those the caller can see
//! (all for a system administrator; public ones and the caller's own for everyone else, anonymous included;
//! a robot those of its grants).
//!
//! As Harbor: `q` is trimmed and lowercased (names are lowercase), projects come by name, and a repository
//! matches on its full name, `project/repo`. Berth's additions:
//! - `q` = `sha256:` and 12 to 64 hex digits (a full digest or a prefix) finds the artifacts of that digest:
//!   their repositories come in `repository`, each with the matching `artifacts` (digest and tags, at most [`TAGS_PER_ARTIFACT`]), and
//!   `project` is empty. `sha256:` with fewer digits, or anything but hex, is a 400 (no name holds a `:`, so
//!   a name search could find nothing).
//! - Otherwise `q` is also a label name (whole, any case): the repositories with artifacts carrying such a
//!   label join `repository`, with those artifacts.
//!
//! Each kind (projects, repositories by name, artifacts) is bounded to [`LIMIT`] results; `q` to
//! [`MAX_QUERY`] characters.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use berth_api::search::{Search, SearchArtifact, SearchRepository};
use serde::Deserialize;

use super::Caller;
use super::error::ApiError;
use super::extract::{Json, Query};
use super::projects::to_responses;
use crate::app::AppState;
use crate::auth::policy::visible_projects;
use crate::db::{SearchArtifactRow, SearchRepositoryRow};

/// The most results of each kind one search returns.
pub const LIMIT: i64 = 100;
/// The longest `q`, in characters.
pub const MAX_QUERY: usize = 256;
/// The most tags listed for an artifact found.
pub const TAGS_PER_ARTIFACT: usize = 20;
/// The fewest hex digits of a digest search.
pub const MIN_DIGEST_HEX: usize = 12;

/// Query of `GET /search`.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// What `q` asks for.
#[derive(Debug, PartialEq, Eq)]
enum Term {
    /// A digest or a prefix of one, `sha256:` and hex digits.
    Digest(String),
    /// A name part (projects, repositories) or a label name.
    Name(String),
}

/// Reads `q`: trimmed, lowercased, bounded; a `sha256:` term must be a digest or a long enough prefix.
fn parse(q: Option<&str>) -> Result<Term, ApiError> {
    let term = q
        .map(|q| q.trim().to_lowercase())
        .filter(|q| !q.is_empty())
        .ok_or_else(|| ApiError::BadRequest("the q parameter is required".to_owned()))?;
    if term.chars().count() > MAX_QUERY {
        return Err(ApiError::BadRequest(format!(
            "q is longer than {MAX_QUERY} characters"
        )));
    }
    let Some(hex) = term.strip_prefix("sha256:") else {
        return Ok(Term::Name(term));
    };
    if hex.len() < MIN_DIGEST_HEX || hex.len() > 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::BadRequest(format!(
            "a digest search is sha256: and {MIN_DIGEST_HEX} to 64 hex digits (a digest or a prefix of one)"
        )));
    }
    Ok(Term::Digest(term))
}

/// `GET /search`.
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Search>, ApiError> {
    let term = parse(query.q.as_deref())?;
    let visible = visible_projects(&state.db, &caller.0).await?;
    let visible = visible.as_deref();
    let (project, by_name, found) = match &term {
        Term::Digest(prefix) => {
            let found = state
                .db
                .search_artifacts_by_digest(prefix, visible, LIMIT)
                .await?;
            (Vec::new(), Vec::new(), found)
        }
        Term::Name(name) => {
            let projects = state.db.search_projects(name, visible, LIMIT).await?;
            let project = to_responses(&state, &caller.0, projects).await?;
            let by_name = state.db.search_repositories(name, visible, LIMIT).await?;
            let found = state
                .db
                .search_artifacts_by_label(name, visible, LIMIT)
                .await?;
            (project, by_name, found)
        }
    };
    let ids: Vec<i64> = found.iter().map(|row| row.artifact_id).collect();
    let mut tags = state.db.tags_of_artifacts(&ids, TAGS_PER_ARTIFACT).await?;
    Ok(Json(Search {
        project,
        repository: merge(by_name, found, &mut tags),
    }))
}

/// The repositories found by name and those holding the artifacts found, once each, by name; a repository
/// holding found artifacts lists them.
fn merge(
    by_name: Vec<SearchRepositoryRow>,
    found: Vec<SearchArtifactRow>,
    tags: &mut HashMap<i64, Vec<String>>,
) -> Vec<SearchRepository> {
    let mut repositories: BTreeMap<String, SearchRepository> = by_name
        .into_iter()
        .map(|row| {
            let repository = SearchRepository {
                project_id: row.project_id,
                project_name: row.project_name,
                project_public: row.project_public,
                repository_name: row.name.clone(),
                pull_count: row.pull_count,
                artifact_count: row.artifact_count,
                artifacts: Vec::new(),
            };
            (row.name, repository)
        })
        .collect();
    for row in found {
        let artifact = SearchArtifact {
            digest: row.digest,
            tags: tags.remove(&row.artifact_id).unwrap_or_default(),
        };
        repositories
            .entry(row.repository_name.clone())
            .or_insert_with(|| SearchRepository {
                project_id: row.project_id,
                project_name: row.project_name,
                project_public: row.project_public,
                repository_name: row.repository_name,
                pull_count: row.pull_count,
                artifact_count: row.artifact_count,
                artifacts: Vec::new(),
            })
            .artifacts
            .push(artifact);
    }
    repositories.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::{MAX_QUERY, Term, parse};

    #[test]
    fn q_is_a_name_or_a_digest() -> Result<(), String> {
        let name = parse(Some("  Web ")).map_err(|e| format!("{e:?}"))?;
        assert_eq!(name, Term::Name("web".to_owned()));
        let digest = parse(Some("SHA256:ABCDEF012345")).map_err(|e| format!("{e:?}"))?;
        assert_eq!(digest, Term::Digest("sha256:abcdef012345".to_owned()));
        let full = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            parse(Some(&full)).map_err(|e| format!("{e:?}"))?,
            Term::Digest(full)
        );
        for bad in [
            None,
            Some(""),
            Some(" "),
            Some("sha256:abc"),
            Some("sha256:abcdef01234z"),
            Some("sha256:"),
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("sha256:{}", "a".repeat(65));
        assert!(parse(Some(&long)).is_err());
        assert!(parse(Some(&"x".repeat(MAX_QUERY + 1))).is_err());
        Ok(())
    }
}
