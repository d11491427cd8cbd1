//! Project metadata: `/projects/{project_name_or_id}/metadatas/` and `.../metadatas/{meta_name}`.
//!
//! The same settings `GET /projects/{project_name_or_id}` shows in `metadata`: `public` is the project's
//! public flag, the others are rows of `project_metadata`. Values are strings, as in Harbor; a write takes
//! one `{name: value}` pair, checks the name and value, and stores the value in Harbor's spelling (`"true"`,
//! `"false"`, a lowercase severity). An unknown name or a bad value answers 400.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;

use super::Caller;
use super::error::ApiError;
use super::extract::{Json, Path};
use super::projects::resolve;
use super::repositories::authorize;
use crate::app::AppState;
use crate::auth::policy::{Operation, ProjectAccess, Resource};
use crate::db::Project;
use crate::events::audit::{Audit, ClientIp, Operation as Op};
use crate::patterns;

/// `{project_name_or_id}/metadatas/{meta_name}` of a path.
#[derive(Debug, Deserialize)]
pub struct MetadataPath {
    project_name_or_id: String,
    meta_name: String,
}

/// Every metadata name Harbor's `ProjectMetadata` has, and Berth's `proxy_include` and `proxy_exclude`: these
/// can be read and deleted.
const KNOWN: [&str; 12] = [
    "public",
    "enable_content_trust",
    "enable_content_trust_cosign",
    "prevent_vul",
    "severity",
    "auto_scan",
    "auto_sbom_generation",
    "reuse_sys_cve_allowlist",
    "retention_id",
    "proxy_speed_kb",
    "proxy_include",
    "proxy_exclude",
];

/// Names whose values are booleans.
const FLAGS: [&str; 7] = [
    "public",
    "enable_content_trust",
    "enable_content_trust_cosign",
    "prevent_vul",
    "auto_scan",
    "auto_sbom_generation",
    "reuse_sys_cve_allowlist",
];

fn known(name: &str) -> Result<(), ApiError> {
    if KNOWN.contains(&name) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "invalid metadata name {name:?}; known names: {}",
            KNOWN.join(", ")
        )))
    }
}

/// Checks one setting as Harbor does and returns its value as stored. `retention_id` is set by retention
/// policies, not through this API.
fn normalize(name: &str, value: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::BadRequest(format!("invalid value {value:?} for metadata {name}"));
    if FLAGS.contains(&name) {
        // Go's strconv.ParseBool, which Harbor uses.
        return match value {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok("true".to_owned()),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok("false".to_owned()),
            _ => Err(invalid()),
        };
    }
    match name {
        "severity" => match value.to_ascii_lowercase().as_str() {
            // Harbor reads Clair's "negligible" as "none".
            "negligible" | "none" => Ok("none".to_owned()),
            level @ ("low" | "medium" | "high" | "critical") => Ok(level.to_owned()),
            _ => Err(invalid()),
        },
        "proxy_speed_kb" => value
            .parse::<i32>()
            .map(|kb| kb.to_string())
            .map_err(|_| invalid()),
        "proxy_include" | "proxy_exclude" => patterns::normalize(value)
            .map_err(|e| ApiError::BadRequest(format!("invalid value for metadata {name}: {e}"))),
        _ => Err(ApiError::BadRequest(format!(
            "invalid metadata name {name:?}; settable names: {}, severity, proxy_speed_kb, proxy_include, proxy_exclude",
            FLAGS.join(", ")
        ))),
    }
}

/// The settings of a `POST` or `PUT /projects` body with `proxy_include` and `proxy_exclude` checked (400 for
/// a bad pattern) and stored normalized; the other settings as given.
pub(super) fn checked_settings(
    settings: &[(&'static str, &str)],
) -> Result<Vec<(&'static str, String)>, ApiError> {
    settings
        .iter()
        .map(|&(name, value)| match name {
            "proxy_include" | "proxy_exclude" => normalize(name, value).map(|v| (name, v)),
            _ => Ok((name, value.to_owned())),
        })
        .collect()
}

/// The settings that decide which upstream repositories a proxy-cache project pulls.
const PROXY_PATTERNS: [&str; 2] = ["proxy_include", "proxy_exclude"];

/// A proxy-cache project's include and exclude patterns bound what its upstream may be asked for, so, like
/// the endpoint itself, they are system settings: 403 for anyone else whose request would change one. `changes`
/// are normalized `(name, value)` pairs (`""` for a removal) for `project` (`None`: one being created). A
/// pattern sent as it is stored passes, so a project admin can still save the project's other settings.
pub(super) async fn guard_proxy_patterns(
    state: &AppState,
    caller: &Caller,
    project: Option<&Project>,
    changes: &[(&str, &str)],
) -> Result<(), ApiError> {
    if caller.0.is_sysadmin() {
        return Ok(());
    }
    let patterns: Vec<&(&str, &str)> = changes
        .iter()
        .filter(|(name, _)| PROXY_PATTERNS.contains(name))
        .collect();
    if patterns.is_empty() {
        return Ok(());
    }
    let stored = match project {
        Some(project) => state.db.project_settings(&[project.id]).await?,
        None => Vec::new(),
    };
    for (name, value) in patterns {
        let current = stored
            .iter()
            .find(|(_, stored_name, _)| stored_name == name)
            .map_or("", |(_, _, v)| v.as_str());
        if value.trim() != current.trim() {
            tracing::warn!(
                project = project.map(|p| p.name.as_str()),
                metadata = name,
                by = caller.0.name(),
                "refused a change of a proxy-cache pattern by a non-admin"
            );
            return Err(ApiError::Forbidden(format!(
                "only system administrators may change {name}: it decides what the proxy cache pulls from its upstream"
            )));
        }
    }
    Ok(())
}

/// What a `POST`/`PUT /projects` body may say about `retention_id`, which retention policies set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RetentionId<'a> {
    /// Creating: it must be left out or empty.
    Create,
    /// Updating: it must be left out or the one the project has (`None`: it has none).
    Update(Option<&'a str>),
}

/// The metadata of a `POST` or `PUT /projects` body (as sent, every name), checked as `/metadatas` checks a
/// setting: an unknown name or a bad value is a 400. Returns the settings other than `public`,
/// `retention_id`, `proxy_include` and `proxy_exclude` (see [`checked_settings`]), in Harbor's spelling.
/// `retention_id` follows Harbor's rule (`src/server/v2.0/handler/project.go`).
pub(super) fn request_settings(
    metadata: &serde_json::Map<String, serde_json::Value>,
    retention: RetentionId<'_>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut settings = BTreeMap::new();
    for (name, value) in metadata {
        let value = match value {
            serde_json::Value::String(value) => value.as_str(),
            serde_json::Value::Null => continue,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "metadata {name} must be a string, not {other}"
                )));
            }
        };
        known(name)?;
        match (name.as_str(), retention) {
            ("public" | "proxy_include" | "proxy_exclude", _) => {}
            ("retention_id", RetentionId::Create) if !value.is_empty() => {
                return Err(ApiError::BadRequest(
                    "the retention_id in the request's payload when creating a project should be omitted, alternatively passing an empty string".to_owned(),
                ));
            }
            ("retention_id", RetentionId::Update(current)) if current != Some(value) => {
                return Err(ApiError::BadRequest(
                    "the retention_id in the request's payload when updating a project should be omitted, alternatively passing the one that has already been associated to this project".to_owned(),
                ));
            }
            ("retention_id", _) => {}
            (name, _) => {
                settings.insert(name.to_owned(), normalize(name, value)?);
            }
        }
    }
    Ok(settings)
}

/// The one `(name, value)` pair of a write's body, checked and normalized.
fn single(body: BTreeMap<String, String>) -> Result<(String, String), ApiError> {
    let mut pairs = body.into_iter();
    match (pairs.next(), pairs.next()) {
        (Some((name, value)), None) => {
            let value = normalize(&name, &value)?;
            Ok((name, value))
        }
        _ => Err(ApiError::BadRequest(
            "the body must hold exactly one metadata name and value".to_owned(),
        )),
    }
}

/// The project and the caller's access to it, after checking the caller may perform `operation` on its
/// metadata (404 for a project the caller cannot see, 401 anonymous, 403 otherwise).
async fn project(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    name_or_id: &str,
    operation: Operation,
) -> Result<Project, ApiError> {
    let (project, access): (Project, ProjectAccess) =
        resolve(state, caller, headers, name_or_id).await?;
    authorize(caller, access, Resource::Metadata, operation)?;
    Ok(project)
}

/// All of a project's metadata, `public` included.
async fn all(state: &AppState, project: &Project) -> Result<BTreeMap<String, String>, ApiError> {
    let mut metadata: BTreeMap<String, String> = state
        .db
        .project_settings(&[project.id])
        .await?
        .into_iter()
        .map(|(_, name, value)| (name, value))
        .collect();
    metadata.insert("public".to_owned(), project.public.to_string());
    Ok(metadata)
}

async fn audit(state: &AppState, caller: &Caller, client: &ClientIp, project: &Project) {
    Audit::new(Op::Update, "project", &project.name)
        .project_id(Some(project.id))
        .by_subject(&caller.0, client)
        .record(&state.db)
        .await;
}

/// `GET /projects/{project_name_or_id}/metadatas/`: every setting of the project.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(name_or_id): Path<String>,
) -> Result<Json<BTreeMap<String, String>>, ApiError> {
    let project = project(&state, &caller, &headers, &name_or_id, Operation::Read).await?;
    Ok(Json(all(&state, &project).await?))
}

/// `POST /projects/{project_name_or_id}/metadatas/`: adds one setting; 409 if it is already set (`public`
/// always is: change it with `PUT`).
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Path(name_or_id): Path<String>,
    Json(body): Json<BTreeMap<String, String>>,
) -> Result<(), ApiError> {
    let project = project(&state, &caller, &headers, &name_or_id, Operation::Create).await?;
    let (name, value) = single(body)?;
    guard_proxy_patterns(&state, &caller, Some(&project), &[(&name, &value)]).await?;
    let conflict = || {
        ApiError::Conflict(format!(
            "metadata {name} of project {} is already set; use PUT to change it",
            project.name
        ))
    };
    if name == "public" {
        return Err(conflict());
    }
    if !state
        .db
        .add_project_setting(&project, &name, &value)
        .await?
    {
        return Err(conflict());
    }
    tracing::info!(project = %project.name, metadata = %name, by = caller.0.name(), "project metadata added");
    audit(&state, &caller, &client, &project).await;
    Ok(())
}

/// `GET /projects/{project_name_or_id}/metadatas/{meta_name}`: `{meta_name: value}`; 404 if not set.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(path): Path<MetadataPath>,
) -> Result<Json<BTreeMap<String, String>>, ApiError> {
    let project = project(
        &state,
        &caller,
        &headers,
        &path.project_name_or_id,
        Operation::Read,
    )
    .await?;
    known(&path.meta_name)?;
    let mut metadata = all(&state, &project).await?;
    let value = metadata.remove(&path.meta_name).ok_or_else(|| {
        ApiError::NotFound(format!(
            "metadata {} of project {} is not set",
            path.meta_name, project.name
        ))
    })?;
    Ok(Json(BTreeMap::from([(path.meta_name, value)])))
}

/// `PUT /projects/{project_name_or_id}/metadatas/{meta_name}`: sets one setting; the body is
/// `{meta_name: value}`.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Path(path): Path<MetadataPath>,
    Json(body): Json<BTreeMap<String, String>>,
) -> Result<(), ApiError> {
    let project = project(
        &state,
        &caller,
        &headers,
        &path.project_name_or_id,
        Operation::Update,
    )
    .await?;
    known(&path.meta_name)?;
    let (name, value) = single(body)?;
    if name != path.meta_name {
        return Err(ApiError::BadRequest(format!(
            "the body sets {name} but the path names {}",
            path.meta_name
        )));
    }
    guard_proxy_patterns(&state, &caller, Some(&project), &[(&name, &value)]).await?;
    if name == "public" {
        let public = value == "true";
        state.db.update_project(&project, Some(public), &[]).await?;
    } else {
        state
            .db
            .update_project(&project, None, &[(name.as_str(), value.as_str())])
            .await?;
    }
    tracing::info!(project = %project.name, metadata = %name, by = caller.0.name(), "project metadata updated");
    audit(&state, &caller, &client, &project).await;
    Ok(())
}

/// `DELETE /projects/{project_name_or_id}/metadatas/{meta_name}`: removes one setting (nothing to do if it
/// is not set). Removing `public` makes the project private, as in Harbor, where a project is public only
/// while its `public` setting says so.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    headers: HeaderMap,
    Path(path): Path<MetadataPath>,
) -> Result<(), ApiError> {
    let project = project(
        &state,
        &caller,
        &headers,
        &path.project_name_or_id,
        Operation::Delete,
    )
    .await?;
    known(&path.meta_name)?;
    guard_proxy_patterns(&state, &caller, Some(&project), &[(&path.meta_name, "")]).await?;
    if path.meta_name == "public" {
        state.db.update_project(&project, Some(false), &[]).await?;
    } else {
        state
            .db
            .delete_project_setting(&project, &path.meta_name)
            .await?;
    }
    tracing::info!(project = %project.name, metadata = %path.meta_name, by = caller.0.name(), "project metadata deleted");
    audit(&state, &caller, &client, &project).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_spelled_as_harbor_stores_them() {
        assert_eq!(normalize("auto_scan", "True").ok().as_deref(), Some("true"));
        assert_eq!(normalize("public", "0").ok().as_deref(), Some("false"));
        assert!(normalize("public", "yes").is_err());
        assert_eq!(normalize("severity", "HIGH").ok().as_deref(), Some("high"));
        assert_eq!(
            normalize("severity", "negligible").ok().as_deref(),
            Some("none")
        );
        assert!(normalize("severity", "unknown").is_err());
        assert_eq!(
            normalize("proxy_speed_kb", "-1").ok().as_deref(),
            Some("-1")
        );
        assert!(normalize("proxy_speed_kb", "fast").is_err());
        assert!(normalize("retention_id", "3").is_err());
        assert_eq!(
            normalize("proxy_include", "library/** , bitnami/*")
                .ok()
                .as_deref(),
            Some("library/**,bitnami/*")
        );
        assert!(normalize("proxy_exclude", "lib[").is_err());
        assert!(known("proxy_include").is_ok());
        assert!(normalize("colour", "blue").is_err());
        assert!(known("retention_id").is_ok());
        assert!(known("colour").is_err());
    }
}
