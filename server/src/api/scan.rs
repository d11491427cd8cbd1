//! Scanning an artifact through Harbor's API: `POST …/artifacts/{reference}/scan` (and `/scan/stop`),
//! `GET …/scan/{report_id}/log`, and the `vulnerabilities` addition. Permissions are Harbor's `scan` resource
//! (create and stop for project admins and maintainers; read for every member and, in a public project,
//! anyone). The scan itself runs as an `IMAGE_SCAN` job ([`crate::scan::run`]).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::vulnerabilities::{ADAPTER_REPORT_MIME, NATIVE_REPORT_MIME, VulnerabilityReport};
use serde::Deserialize;

use super::Caller;
use super::artifacts::{ArtifactPath, find};
use super::error::ApiError;
use super::extract::Path;
use super::repositories::project;
use crate::app::AppState;
use crate::auth::Subject;
use crate::db::{ArtifactRow, RepositoryRef};
use crate::scan::layers::{Scannable, scannable};
use crate::scan::service;

/// Harbor's `scan` resource.
const RESOURCE: &str = "scan";

/// The body of `POST …/scan` (`ScanType`), optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    #[serde(default)]
    scan_type: Option<String>,
}

/// `…/scan/{report_id}/log` of a path.
#[derive(Debug, Deserialize)]
pub struct ReportLogPath {
    project_name: String,
    repository_name: String,
    reference: String,
    report_id: String,
}

/// The repository and artifact of `path` if the caller holds `scan:{action}` in its project; 404 for a
/// project it cannot see, 403 when it sees it but may not.
async fn authorize(
    state: &AppState,
    caller: &Caller,
    path: &ArtifactPath,
    action: &str,
) -> Result<(i64, RepositoryRef, ArtifactRow), ApiError> {
    let (project, access) = project(state, caller, &path.project_name).await?;
    let robot_holds = match &caller.0 {
        Subject::Robot { permissions, .. } => {
            crate::auth::robots::holds_in_project(permissions, &project.name, RESOURCE, action)
        }
        _ => false,
    };
    let public_read = project.public && action == "read";
    if !(access.permits_named(RESOURCE, action) || robot_holds || public_read) {
        return Err(if matches!(caller.0, Subject::Anonymous) {
            ApiError::Unauthorized("sign in to scan artifacts".to_owned())
        } else {
            ApiError::Forbidden(format!(
                "{RESOURCE}:{action} in project {} is for its project admins and maintainers",
                project.name
            ))
        });
    }
    let name = super::repositories::full_name(&project.name, &path.repository_name)?;
    let repository = state
        .db
        .repository_ref(name.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("repository {name} not found")))?;
    let artifact = find(state, &repository, &path.reference).await?;
    Ok((project.id, repository, artifact))
}

/// `POST …/artifacts/{reference}/scan`: queues a vulnerability scan of the artifact with the project's
/// scanner (202). When one is already queued or running for it, that one stands and the answer is 202 too;
/// an artifact that is not a container image is a 422 that says why.
pub async fn scan(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ArtifactPath>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ScanRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ScanRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("invalid scan request body: {e}")))?
    };
    match request.scan_type.as_deref() {
        None | Some("vulnerability") => {}
        Some("sbom") => {
            return Err(ApiError::BadRequest(
                "SBOM generation is not available yet; scan_type \"vulnerability\" is".to_owned(),
            ));
        }
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "invalid scan_type {:?}: one of vulnerability, sbom",
                other.chars().take(32).collect::<String>()
            )));
        }
    }
    let (project_id, repository, artifact) = authorize(&state, &caller, &path, "create").await?;
    if let Scannable::No(reason) = scannable(&artifact.content, &artifact.media_type) {
        return Err(ApiError::Unprocessable(format!(
            "artifact {}@{} cannot be scanned: {reason}",
            repository.name, artifact.digest
        )));
    }
    let tag = path
        .reference
        .starts_with("sha256:")
        .then_some(())
        .map_or_else(|| Some(path.reference.clone()), |()| None);
    match service::queue_scan(
        &state,
        project_id,
        &repository.name,
        &artifact.digest,
        tag,
        caller.0.name(),
    )
    .await?
    {
        service::Queued::Queued(report) => {
            tracing::info!(repository = %repository.name, digest = %artifact.digest, %report, by = caller.0.name(), "scan queued");
        }
        service::Queued::AlreadyRunning => {
            tracing::info!(repository = %repository.name, digest = %artifact.digest, "scan asked while one is queued or running; that one stands");
        }
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `POST …/artifacts/{reference}/scan/stop`: stops the artifact's queued or running scan (202; also when none
/// is running, as there is nothing left to stop).
pub async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ArtifactPath>,
) -> Result<Response, ApiError> {
    let (project_id, repository, artifact) = authorize(&state, &caller, &path, "stop").await?;
    if service::stop_scan(&state, project_id, &artifact.digest).await? {
        tracing::info!(repository = %repository.name, digest = %artifact.digest, by = caller.0.name(), "scan stopped");
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `GET …/artifacts/{reference}/scan/{report_id}/log`: the scan's log as text.
pub async fn log(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<ReportLogPath>,
) -> Result<Response, ApiError> {
    let artifact_path = ArtifactPath {
        project_name: path.project_name,
        repository_name: path.repository_name,
        reference: path.reference,
    };
    let (_, _, artifact) = authorize(&state, &caller, &artifact_path, "read").await?;
    let report = state
        .db
        .scan_report(&path.report_id)
        .await?
        .filter(|r| r.artifact_digest == artifact.digest)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "report {} of this artifact not found",
                path.report_id.chars().take(64).collect::<String>()
            ))
        })?;
    let text = state
        .db
        .scan_report_log(&report.uuid)
        .await?
        .unwrap_or_default();
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// The `vulnerabilities` addition: the artifact's latest report keyed by its MIME type, with the findings
/// the project's effective CVE allowlist exempts marked `allowlisted`. `X-Accept-Vulnerabilities` names the
/// report types the caller reads (Harbor's two); `{}` when the artifact has no report yet.
pub async fn vulnerabilities(
    state: &AppState,
    project_id: i64,
    digest: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let accepted: Vec<&str> = headers
        .get("x-accept-vulnerabilities")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').map(str::trim).collect())
        .unwrap_or_else(|| vec![NATIVE_REPORT_MIME, ADAPTER_REPORT_MIME]);
    let mut answer: BTreeMap<String, VulnerabilityReport> = BTreeMap::new();
    if let Some(report) = service::latest_report(state, project_id, digest).await? {
        for mime in [NATIVE_REPORT_MIME, ADAPTER_REPORT_MIME] {
            if accepted.iter().any(|a| a.eq_ignore_ascii_case(mime)) {
                answer.insert(mime.to_owned(), report.clone());
            }
        }
    }
    Ok(axum::Json(answer).into_response())
}
