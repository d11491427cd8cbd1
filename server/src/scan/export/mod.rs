//! Harbor's CVE export (`/export/cve`): a CSV of the findings of one project's artifacts, written by a
//! `SCAN_DATA_EXPORT` job ([`job`]) and downloaded by the user who asked for it.
//!
//! Harbor's rules, kept: the `X-Scan-Data-Type` is the generic vulnerability report's MIME type; exactly one
//! project; no spaces in the patterns; the caller must hold `export-cve:create` in the project (its project
//! admins, maintainers and developers, and system administrators); only users, not robots, export (an export
//! belongs to a user); each execution is seen and downloaded by its user only. The job checks the user's
//! standing again when it runs, so a user removed from the project in between exports nothing of it.
//! Exports are kept a day ([`KEEP`]), then deleted with their CSV. Unlike Harbor, a download does not delete
//! the file: it stays until it expires.

pub mod csv;
pub mod job;

use berth_api::security_hub::{ScanDataExportExecution, ScanDataExportRequest};
use berth_api::vulnerabilities::NATIVE_REPORT_MIME;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Subject;
use crate::auth::policy::ProjectAccess;
use crate::db::{CveExportRow, NewCveExport, Project, timestamp};
use crate::patterns::Doublestar;
use crate::service::ServiceError;

/// The only `X-Scan-Data-Type` Harbor accepts: the generic vulnerability report.
pub const SCAN_DATA_TYPE: &str = NATIVE_REPORT_MIME;

/// How long an export and its CSV are kept (Harbor cleans its export artifacts up after a day).
pub const KEEP: chrono::Duration = chrono::Duration::hours(24);

/// The most bytes of one pattern of the criteria and of the job name.
const MAX_CRITERION_BYTES: usize = 1024;
/// The most label ids of a request.
const MAX_LABELS: usize = 100;
/// How many exports one user may have pending or running at once.
pub const MAX_ACTIVE_PER_USER: i64 = 2;
/// The most executions `GET /export/cve/executions` lists (a user's exports of the last day).
pub const MAX_LISTED: i64 = 100;

/// Harbor's project resource of the export.
const RESOURCE: &str = "export-cve";

/// What a job exports, as checked by [`start`] (stored as the job's parameters and the export's criteria).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criteria {
    pub export_id: i64,
    pub user_id: i64,
    pub project_id: i64,
    #[serde(default)]
    pub labels: Vec<i64>,
    /// Doublestar patterns (`{a,b}` alternatives); `None`: all.
    #[serde(default)]
    pub repositories: Option<String>,
    #[serde(default)]
    pub tags: Option<String>,
    #[serde(default)]
    pub cve_ids: Option<String>,
}

/// A pattern of the criteria: `None` when empty; a 400 naming the field when invalid.
fn pattern(field: &str, value: Option<&str>) -> Result<Option<Doublestar>, ServiceError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.len() > MAX_CRITERION_BYTES {
        return Err(ServiceError::Invalid(format!(
            "{field} is longer than {MAX_CRITERION_BYTES} bytes"
        )));
    }
    if value.contains(char::is_whitespace) {
        return Err(ServiceError::Invalid(format!(
            "invalid criteria value, please remove additional spaces for input: {value}"
        )));
    }
    Doublestar::new(value)
        .map(Some)
        .map_err(|e| ServiceError::Invalid(format!("{field}: {e}")))
}

/// The compiled patterns of `criteria`.
pub struct Patterns {
    pub repositories: Option<Doublestar>,
    pub tags: Option<Doublestar>,
    pub cve_ids: Option<Doublestar>,
}

impl Criteria {
    pub fn patterns(&self) -> Result<Patterns, ServiceError> {
        Ok(Patterns {
            repositories: pattern("repositories", self.repositories.as_deref())?,
            tags: pattern("tags", self.tags.as_deref())?,
            cve_ids: pattern("cveIds", self.cve_ids.as_deref())?,
        })
    }
}

/// Whether `subject` may export the CVEs of `project`: `export-cve:create` (system administrators, and the
/// project's admins, maintainers and developers).
async fn may_export(
    state: &AppState,
    subject: &Subject,
    project: &Project,
    action: &str,
) -> Result<ProjectAccess, ServiceError> {
    let access = ProjectAccess::of(&state.db, subject, project).await?;
    if !access.can_see() {
        return Err(ServiceError::NotFound(format!(
            "project {} not found",
            project.id
        )));
    }
    if !access.permits_named(RESOURCE, action) {
        return Err(ServiceError::Forbidden(format!(
            "{RESOURCE}:{action} in project {} is for its project admins, maintainers and developers",
            project.name
        )));
    }
    Ok(access)
}

/// Checks `request` and the caller's right to it, records the export and queues its job; returns the
/// export's (execution's) id.
pub async fn start(
    state: &AppState,
    subject: &Subject,
    scan_data_type: Option<&str>,
    request: &ScanDataExportRequest,
) -> Result<i64, ServiceError> {
    match scan_data_type {
        Some(SCAN_DATA_TYPE) => {}
        Some(other) => {
            return Err(ServiceError::Invalid(format!(
                "Unsupported MIME type : {}; X-Scan-Data-Type must be {SCAN_DATA_TYPE}",
                other.chars().take(128).collect::<String>()
            )));
        }
        None => {
            return Err(ServiceError::Invalid(format!(
                "the X-Scan-Data-Type header is required: {SCAN_DATA_TYPE}"
            )));
        }
    }
    let &[project_id] = request.projects.as_slice() else {
        return Err(ServiceError::Invalid(format!(
            "only support export single project, invalid value: {:?}",
            request.projects.iter().take(16).collect::<Vec<_>>()
        )));
    };
    if request.labels.len() > MAX_LABELS {
        return Err(ServiceError::Invalid(format!(
            "at most {MAX_LABELS} labels may be given"
        )));
    }
    let job_name = request.job_name.clone().unwrap_or_default();
    if job_name.len() > MAX_CRITERION_BYTES {
        return Err(ServiceError::Invalid(format!(
            "job_name is longer than {MAX_CRITERION_BYTES} bytes"
        )));
    }
    let (user_id, username) = match subject {
        Subject::User { id, username, .. } => (*id, username.clone()),
        Subject::Robot { name, .. } => {
            return Err(ServiceError::Forbidden(format!(
                "User : {name} not found; CVE exports belong to users, not robot accounts"
            )));
        }
        Subject::Anonymous => {
            return Err(ServiceError::Forbidden("sign in to export CVEs".to_owned()));
        }
    };
    let project = state
        .db
        .find_project_by_id(project_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("project {project_id} not found")))?;
    may_export(state, subject, &project, "create").await?;
    let mut criteria = Criteria {
        export_id: 0,
        user_id,
        project_id,
        labels: request.labels.clone(),
        repositories: request.repositories.clone(),
        tags: request.tags.clone(),
        cve_ids: request.cve_ids.clone(),
    };
    criteria.patterns()?;
    let now = Utc::now();
    state.db.delete_expired_cve_exports(&timestamp(now)).await?;
    let active = state
        .db
        .active_cve_exports(user_id, &timestamp(now))
        .await?;
    if active >= MAX_ACTIVE_PER_USER {
        return Err(ServiceError::Conflict(format!(
            "{active} of your CVE exports are pending or running; wait for them to end"
        )));
    }
    let project_ids = serde_json::to_string(&[project_id]).unwrap_or_else(|_| "[]".to_owned());
    let request_json = serde_json::to_string(request).unwrap_or_else(|_| "{}".to_owned());
    let id = state
        .db
        .create_cve_export(&NewCveExport {
            user_id,
            username: &username,
            job_name: &job_name,
            project_ids: &project_ids,
            criteria: &request_json,
            expires_at: &timestamp(now + KEEP),
        })
        .await?;
    criteria.export_id = id;
    let parameters = serde_json::to_value(&criteria).unwrap_or_default();
    let job_id = match state
        .jobs
        .enqueue(
            &state.db,
            job::NAME,
            &parameters,
            crate::jobs::MANUAL,
            &username,
        )
        .await
    {
        Ok(job_id) => job_id,
        Err(e) => {
            state
                .db
                .set_cve_export_status(id, "Error", &e.to_string())
                .await?;
            return Err(match e {
                crate::jobs::EnqueueError::Db(e) => ServiceError::Db(e),
                other => ServiceError::Conflict(other.to_string()),
            });
        }
    };
    state.db.set_cve_export_job(id, job_id).await?;
    tracing::info!(export = id, job = job_id, project = project_id, user = %username, "CVE export queued");
    Ok(id)
}

/// Export `id` if it is `subject`'s and `subject` may still read the CVE exports of its projects: 404 when
/// there is no such export (or it expired), 403 when it is another user's.
pub async fn own_export(
    state: &AppState,
    subject: &Subject,
    id: i64,
) -> Result<CveExportRow, ServiceError> {
    let row = state
        .db
        .cve_export(id, &timestamp(Utc::now()))
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("execution with id: {id} not found")))?;
    let Subject::User { id: user_id, .. } = subject else {
        return Err(ServiceError::Forbidden(format!(
            "execution {id} belongs to another user"
        )));
    };
    if row.user_id != *user_id {
        return Err(ServiceError::Forbidden(format!(
            "execution {id} belongs to another user"
        )));
    }
    for project_id in serde_json::from_str::<Vec<i64>>(&row.project_ids).unwrap_or_default() {
        // A project deleted since is no longer in the way: its rows are gone from the export's reach.
        if let Some(project) = state.db.find_project_by_id(project_id).await? {
            may_export(state, subject, &project, "read")
                .await
                .map_err(|e| match e {
                    ServiceError::NotFound(_) => ServiceError::Forbidden(format!(
                        "you can no longer read the CVE exports of project {project_id}"
                    )),
                    other => other,
                })?;
        }
    }
    Ok(row)
}

/// The caller's exports of the last day, newest first.
pub async fn own_exports(
    state: &AppState,
    subject: &Subject,
) -> Result<Vec<ScanDataExportExecution>, ServiceError> {
    let Subject::User { id, .. } = subject else {
        return Ok(Vec::new());
    };
    let rows = state
        .db
        .user_cve_exports(*id, &timestamp(Utc::now()), MAX_LISTED)
        .await?;
    Ok(rows.into_iter().map(execution).collect())
}

/// Harbor's view of an export.
pub fn execution(row: CveExportRow) -> ScanDataExportExecution {
    let status_text = if row.status == "Error" && row.status_text.is_empty() {
        "Please contact the system administrator to check the logs of jobservice.".to_owned()
    } else {
        row.status_text
    };
    ScanDataExportExecution {
        id: row.id,
        user_id: row.user_id,
        status: row.status,
        trigger: crate::jobs::MANUAL.to_owned(),
        start_time: row.start_time,
        end_time: row.end_time,
        status_text,
        user_name: row.username,
        file_present: row.file_present,
    }
}

/// Export `id`'s CSV, decompressed, if it is `subject`'s and present (404 otherwise).
pub async fn download(
    state: &AppState,
    subject: &Subject,
    id: i64,
) -> Result<Vec<u8>, ServiceError> {
    let row = own_export(state, subject, id).await?;
    if !row.file_present {
        return Err(ServiceError::NotFound(format!(
            "execution {id} has no file: it is {}",
            row.status
        )));
    }
    let compressed = state
        .db
        .cve_export_csv(id, &timestamp(Utc::now()))
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("execution with id: {id} not found")))?;
    zstd::decode_all(compressed.as_slice()).map_err(|e| {
        tracing::error!(export = id, error = %e, "a stored CVE export does not decompress");
        ServiceError::NotFound(format!(
            "execution {id}'s file cannot be read; export again"
        ))
    })
}
