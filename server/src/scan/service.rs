//! The scanner's rules as the API and the pull path use them: which scanner a project uses, queueing and
//! stopping a scan, reading the latest report with the project's CVE allowlist applied, and the
//! "prevent vulnerable images" verdict.

use std::collections::HashMap;

use berth_api::vulnerabilities::{
    NATIVE_REPORT_MIME, NativeReportSummary, ScannerIdentity, VulnerabilityReport,
    VulnerabilitySummary,
};
use chrono::Utc;
use serde_json::Value;

use super::model::{Finding, PackageKind, Severity};
use super::report::{Allowlist, Refusal, prevent_verdict};
use super::run::{self, ScanJob};
use crate::app::AppState;
use crate::db::jobs::StopOutcome;
use crate::db::{BUILT_IN_UUID, ScanReportRow, ScannerRow, setting, setting_on};
use crate::service::ServiceError;

/// What `queue_scan` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queued {
    /// A job was queued for the report with this id.
    Queued(String),
    /// A scan of the artifact is already pending or running.
    AlreadyRunning,
}

/// The registration project `project_id` scans with: its own choice, else the default.
pub async fn registration_for(
    state: &AppState,
    project_id: i64,
) -> Result<ScannerRow, ServiceError> {
    if let Some(row) = state.db.project_scanner(project_id).await? {
        return Ok(row);
    }
    state
        .db
        .default_scanner()
        .await?
        .ok_or_else(|| ServiceError::Invalid("no scanner is registered as the default".to_owned()))
}

/// Queues a vulnerability scan of `digest` (seen through `repository`) with the project's scanner.
pub async fn queue_scan(
    state: &AppState,
    project_id: i64,
    repository: &str,
    digest: &str,
    tag: Option<String>,
    operator: &str,
) -> Result<Queued, ServiceError> {
    let registration = registration_for(state, project_id).await?;
    if registration.disabled {
        return Err(ServiceError::Invalid(format!(
            "the project's scanner {} is disabled",
            registration.name
        )));
    }
    // The built-in scanner runs in Berth; any other registration is an external adapter, asked by a job.
    let kind = if registration.uuid == BUILT_IN_UUID {
        run::NAME
    } else {
        super::adapter::client::NAME
    };
    queue_report_job(
        state,
        &registration.uuid,
        digest,
        NATIVE_REPORT_MIME,
        kind,
        operator,
        |report_uuid| ScanJob {
            report_uuid,
            repository: repository.to_owned(),
            digest: digest.to_owned(),
            tag,
        },
    )
    .await
}

/// Starts a report row of type `mime` for `digest` by scanner `registration_uuid` and queues a job of `kind`
/// for it, with the parameters `job` makes from the new report's id: how a scan and an SBOM generation are
/// asked for. [`Queued::AlreadyRunning`] when a report of that type is already pending or running. When the
/// job cannot be queued, the row is ended as `Error` (a `Pending` row with no job would block every later
/// request).
pub(crate) async fn queue_report_job<P: serde::Serialize>(
    state: &AppState,
    registration_uuid: &str,
    digest: &str,
    mime: &str,
    kind: &str,
    operator: &str,
    job: impl FnOnce(String) -> P,
) -> Result<Queued, ServiceError> {
    let existing = state
        .db
        .artifact_scan_reports(digest, registration_uuid)
        .await?;
    for report in existing
        .iter()
        .filter(|r| r.mime_type == mime && matches!(r.status.as_str(), "Pending" | "Running"))
    {
        if job_is_active(state, report.job_id).await? {
            return Ok(Queued::AlreadyRunning);
        }
        // Its job ended without ending the report (stopped before it ran, or ended from the job service):
        // the row no longer stands for anything that runs.
        end_orphaned_report(state, &report.uuid).await?;
    }
    let uuid = state
        .db
        .start_scan_report(
            &uuid::Uuid::new_v4().to_string(),
            digest,
            registration_uuid,
            mime,
            None,
        )
        .await?;
    let parameters = serde_json::to_value(job(uuid.clone())).unwrap_or(Value::Null);
    let id = match state
        .jobs
        .enqueue(&state.db, kind, &parameters, crate::jobs::MANUAL, operator)
        .await
    {
        Ok(id) => id,
        Err(e) => {
            let ended = crate::db::NewScanReport::ended("Error");
            let note = format!("could not queue the {kind} job: {e}");
            tracing::warn!(%digest, %kind, error = %e, "a scan job could not be queued");
            state.db.finish_scan_report(&uuid, &ended, &note).await?;
            return Err(match e {
                crate::jobs::EnqueueError::Db(e) => ServiceError::Db(e),
                other => ServiceError::Conflict(other.to_string()),
            });
        }
    };
    state.db.set_scan_report_job(&uuid, id).await?;
    Ok(Queued::Queued(uuid))
}

/// Stops the pending or running vulnerability scan of `digest` by the project's scanner; `false` when there
/// is none.
pub async fn stop_scan(
    state: &AppState,
    project_id: i64,
    digest: &str,
) -> Result<bool, ServiceError> {
    let registration = registration_for(state, project_id).await?;
    stop_report_jobs(state, &registration.uuid, digest, NATIVE_REPORT_MIME).await
}

/// Stops the jobs of `digest`'s pending or running reports of type `mime` by scanner `registration_uuid`;
/// `false` when there were none.
pub(crate) async fn stop_report_jobs(
    state: &AppState,
    registration_uuid: &str,
    digest: &str,
    mime: &str,
) -> Result<bool, ServiceError> {
    let reports = state
        .db
        .artifact_scan_reports(digest, registration_uuid)
        .await?;
    let mut stopped = false;
    for report in reports
        .iter()
        .filter(|r| r.mime_type == mime && matches!(r.status.as_str(), "Pending" | "Running"))
    {
        let outcome = match report.job_id {
            Some(job) => state.jobs.stop(&state.db, job).await?,
            None => StopOutcome::NotFound,
        };
        // A running job ends its report itself when it sees the request; any other report has no job left
        // to end it.
        if outcome != StopOutcome::Requested {
            end_orphaned_report(state, &report.uuid).await?;
        }
        stopped = true;
    }
    Ok(stopped)
}

/// Whether job `id` is still pending or running.
async fn job_is_active(state: &AppState, id: Option<i64>) -> Result<bool, sqlx::Error> {
    let Some(id) = id else {
        return Ok(false);
    };
    Ok(state.db.job(id).await?.is_some_and(|job| {
        matches!(
            job.state.as_str(),
            crate::db::jobs::PENDING | crate::db::jobs::RUNNING
        )
    }))
}

/// Ends report `uuid`, whose job will never run or has ended, as `Stopped` unless it ended meanwhile (its
/// job's outcome stands); the artifact's previous findings stay.
async fn end_orphaned_report(state: &AppState, uuid: &str) -> Result<(), sqlx::Error> {
    let ended = state
        .db
        .end_active_scan_report(uuid, "Stopped", "stopped before it ran\n")
        .await?;
    if ended {
        tracing::info!(report = %uuid, "a scan report whose job will not run was ended as Stopped");
    }
    Ok(())
}

/// A project's effective CVE allowlist: the system's when it reuses it, else its own.
pub async fn effective_allowlist(
    state: &AppState,
    project_id: i64,
) -> Result<Allowlist, ServiceError> {
    let settings = state.db.project_settings(&[project_id]).await?;
    let reuse = settings
        .iter()
        .any(|(_, name, value)| name == "reuse_sys_cve_allowlist" && value == "true");
    let row = if reuse {
        state.db.system_cve_allowlist().await?
    } else {
        state
            .db
            .project_cve_allowlists(&[project_id])
            .await?
            .into_iter()
            .next()
    };
    Ok(row.map_or_else(Allowlist::default, |r| {
        Allowlist::new(&r.items, r.expires_at)
    }))
}

/// Reads a stored report body.
fn decode_report(bytes: &[u8], codec: &str) -> Option<VulnerabilityReport> {
    let json = match codec {
        "zstd" => zstd::decode_all(bytes).ok()?,
        _ => return None,
    };
    serde_json::from_slice(&json).ok()
}

/// The latest successful report of `digest` by the project's scanner, with the findings the effective
/// allowlist exempts marked `allowlisted`.
pub async fn latest_report(
    state: &AppState,
    project_id: i64,
    digest: &str,
) -> Result<Option<VulnerabilityReport>, ServiceError> {
    let registration = registration_for(state, project_id).await?;
    let Some(row) = state
        .db
        .artifact_scan_reports(digest, &registration.uuid)
        .await?
        .into_iter()
        .find(|r| r.mime_type == NATIVE_REPORT_MIME)
    else {
        return Ok(None);
    };
    let Some((bytes, codec)) = state.db.scan_report_bytes(&row.uuid).await? else {
        return Ok(None);
    };
    let Some(mut report) = decode_report(&bytes, &codec) else {
        tracing::warn!(report = %row.uuid, "a stored scan report does not decode; scan the artifact again");
        return Ok(None);
    };
    let allowlist = effective_allowlist(state, project_id).await?;
    let now = Utc::now().timestamp();
    for item in &mut report.vulnerabilities {
        let finding = finding_of(item);
        if allowlist.exempts(&finding, now) {
            item.vendor_attributes
                .insert("allowlisted".to_owned(), Value::Bool(true));
        } else {
            item.vendor_attributes.remove("allowlisted");
        }
    }
    Ok(Some(report))
}

/// Enough of a finding, read back from a report item, for the allowlist and the verdict.
pub(crate) fn finding_of(item: &berth_api::vulnerabilities::VulnerabilityItem) -> Finding {
    let aliases = item
        .vendor_attributes
        .get("aliases")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Finding {
        id: item.id.clone(),
        aliases,
        package: item.package.clone(),
        version: item.version.clone(),
        kind: PackageKind::Dpkg,
        source_package: None,
        ecosystem: String::new(),
        fix_version: (!item.fix_version.is_empty()).then(|| item.fix_version.clone()),
        severity: Severity::parse(&item.severity).unwrap_or_default(),
        status: None,
        description: None,
        links: Vec::new(),
        cvss3_vector: None,
        cvss3_score: None,
        cwe_ids: Vec::new(),
        layer: String::new(),
    }
}

/// What a project's settings say about scanning (Harbor's project metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScanSettings {
    /// `auto_scan`: scan each artifact when it is pushed.
    pub auto_scan: bool,
    /// `auto_sbom_generation`: generate each artifact's SBOM when it is pushed.
    pub auto_sbom: bool,
    /// `prevent_vul` with its `severity`: refuse pulls of artifacts with findings of this severity or higher.
    pub prevent: Option<Severity>,
}

/// Project `project_id`'s scan settings (cached with the project's metadata).
pub async fn scan_settings(
    state: &AppState,
    project_id: i64,
) -> Result<ScanSettings, ServiceError> {
    let settings = state.db.project_settings_cached(project_id).await?;
    Ok(ScanSettings::of(&settings))
}

impl ScanSettings {
    /// What a project's metadata `settings` say about scanning.
    pub fn of(settings: &[(String, String)]) -> ScanSettings {
        // Harbor's default threshold is `low`; its `none` refuses any finding at all.
        let threshold = setting(settings, "severity")
            .and_then(Severity::parse)
            .unwrap_or(Severity::Low);
        ScanSettings {
            auto_scan: setting_on(settings, "auto_scan"),
            auto_sbom: setting_on(settings, "auto_sbom_generation"),
            prevent: setting_on(settings, "prevent_vul").then_some(threshold),
        }
    }
}

/// The verdicts of recent pulls, so a pull decodes a report only when the report, the allowlist or the
/// threshold changed since the last pull of the same artifact.
#[derive(Default)]
pub struct VerdictCache {
    entries: dashmap::DashMap<(i64, String), CachedVerdict>,
    /// Scans of proxied images in progress on this node, by digest: a second pull waits for the first's.
    proxy_scans: dashmap::DashMap<String, ProxyScan>,
}

type ProxyScan = futures_util::future::Shared<
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>,
>;

impl std::fmt::Debug for VerdictCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerdictCache")
            .field("verdicts", &self.entries.len())
            .field("proxy_scans", &self.proxy_scans.len())
            .finish()
    }
}

/// How long the first pull of a proxied image waits for its layers to be fetched and scanned before it is
/// refused with "try again"; the scan goes on and the next pull is decided by its report.
pub const PROXY_SCAN_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Whether `digest` has a successful report by the project's scanner.
async fn has_report(state: &AppState, project_id: i64, digest: &str) -> Result<bool, ServiceError> {
    let registration = registration_for(state, project_id).await?;
    Ok(state
        .db
        .artifact_scan_reports(digest, &registration.uuid)
        .await?
        .iter()
        .any(|r| r.mime_type == NATIVE_REPORT_MIME && r.summary.is_some()))
}

/// Scan-before-serve for a proxy-cache project that prevents vulnerable images: the first pull of an image
/// fetches its layers from the upstream into the cache (the proxy's own single-flight fetch), scans it and
/// writes its report before the pull is decided, so a proxied image is never served unscanned. Waits at most
/// [`PROXY_SCAN_WAIT`]; `Ok(false)` when the scan is still running then. Concurrent pulls share one scan.
pub async fn scan_proxied_before_serving(
    state: &AppState,
    project: &crate::db::Project,
    registry_id: i64,
    name: &crate::oci::RepositoryName,
    digest: &str,
    layers: Vec<super::layers::Layer>,
) -> Result<bool, ServiceError> {
    if has_report(state, project.id, digest).await? {
        return Ok(true);
    }
    let registration = registration_for(state, project.id).await?;
    if registration.uuid != BUILT_IN_UUID {
        return Err(ServiceError::Invalid(format!(
            "the project's scanner {} is an external adapter, which cannot scan proxied images before serving them",
            registration.name
        )));
    }
    let scan = state
        .scan_verdicts
        .proxy_scans
        .entry(digest.to_owned())
        .or_insert_with(|| {
            let (state, project, name, digest) = (
                state.clone(),
                project.clone(),
                name.clone(),
                digest.to_owned(),
            );
            let task = tokio::spawn(async move {
                let outcome =
                    proxy_scan(&state, &project, registry_id, &name, &digest, &layers).await;
                state.scan_verdicts.proxy_scans.remove(&digest);
                outcome
            });
            let future: std::pin::Pin<
                Box<dyn std::future::Future<Output = Result<(), String>> + Send>,
            > = Box::pin(async move { task.await.map_err(|e| e.to_string())? });
            futures_util::FutureExt::shared(future)
        })
        .clone();
    match tokio::time::timeout(PROXY_SCAN_WAIT, scan).await {
        Ok(Ok(())) => Ok(true),
        Ok(Err(e)) => Err(ServiceError::Invalid(format!(
            "the image could not be scanned before it is served: {e}"
        ))),
        Err(_) => Ok(false),
    }
}

/// Fetches a proxied image's layers into the cache, scans it and writes its report.
async fn proxy_scan(
    state: &AppState,
    project: &crate::db::Project,
    registry_id: i64,
    name: &crate::oci::RepositoryName,
    digest: &str,
    layers: &[super::layers::Layer],
) -> Result<(), String> {
    let uuid = state
        .db
        .start_scan_report(
            &uuid::Uuid::new_v4().to_string(),
            digest,
            BUILT_IN_UUID,
            NATIVE_REPORT_MIME,
            None,
        )
        .await
        .map_err(|e| e.to_string())?;
    state
        .db
        .run_scan_report(&uuid)
        .await
        .map_err(|e| e.to_string())?;
    let mut log = run::ScanLog::new(None);
    log.line(format!(
        "scanning proxied {name}@{digest} before serving it"
    ))
    .await;
    let outcome: Result<(), String> = async {
        for layer in layers {
            // A range request makes the proxy wait for the verified download and link it here.
            crate::proxy::pull::blob(
                state,
                project,
                registry_id,
                name,
                &layer.digest,
                false,
                Some("bytes=0-0"),
            )
            .await
            .map_err(|e| format!("fetching layer {} from the upstream: {e}", layer.digest))?;
        }
        let (findings, generation) =
            run::scan_artifact(state, name.as_str(), digest, &|| false, &mut log)
                .await
                .map_err(|e| e.to_string())?;
        let job = ScanJob {
            report_uuid: uuid.clone(),
            repository: name.as_str().to_owned(),
            digest: digest.to_owned(),
            tag: None,
        };
        run::write_report(state, &job, &findings, generation, log.text())
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    if let Err(e) = &outcome {
        tracing::warn!(repository = %name, %digest, error = %e, "scan of a proxied image before serving it failed");
        let _ = state
            .db
            .finish_scan_report(
                &uuid,
                &crate::db::NewScanReport::ended("Error"),
                &format!("{}scan failed: {e}\n", log.text()),
            )
            .await;
    }
    outcome
}

#[derive(Debug, Clone)]
struct CachedVerdict {
    report_updated_at: String,
    allowlist: Allowlist,
    threshold: Severity,
    refusal: Option<String>,
}

/// The most verdicts kept; past it the cache starts over.
const MAX_VERDICTS: usize = 10_000;

/// Whether a pull of `digest` from a project that prevents images of `threshold` or higher is refused, and
/// why: with no successful report, Harbor's refusal of an unscanned image; else [`prevent_verdict`] with the
/// project's effective allowlist. The previous successful report decides while a rescan is pending.
pub async fn pull_refusal(
    state: &AppState,
    project_id: i64,
    digest: &str,
    threshold: Severity,
) -> Result<Option<String>, ServiceError> {
    let registration = registration_for(state, project_id).await?;
    let row = state
        .db
        .artifact_scan_reports(digest, &registration.uuid)
        .await?
        .into_iter()
        .find(|r| r.mime_type == NATIVE_REPORT_MIME && r.summary.is_some());
    let Some(row) = row else {
        return Ok(Some(format!(
            "current image without vulnerability scanning cannot be pulled due to configured policy in \
             'Prevent images with vulnerability severity of \"{}\" or higher from running.' To continue with \
             pull, please contact your project administrator for help.",
            threshold.as_str()
        )));
    };
    let allowlist = effective_allowlist(state, project_id).await?;
    let key = (project_id, digest.to_owned());
    if let Some(cached) = state.scan_verdicts.entries.get(&key)
        && cached.report_updated_at == row.updated_at
        && cached.allowlist == allowlist
        && cached.threshold == threshold
        && allowlist.expires_at.is_none()
    {
        return Ok(cached.refusal.clone());
    }
    let Some(report) = latest_report(state, project_id, digest).await? else {
        return Ok(Some(
            "the image's vulnerability report cannot be read; scan it again".to_owned(),
        ));
    };
    let findings: Vec<Finding> = report.vulnerabilities.iter().map(finding_of).collect();
    let refusal = prevent_verdict(&findings, threshold, &allowlist, Utc::now().timestamp())
        .as_ref()
        .map(Refusal::message);
    if state.scan_verdicts.entries.len() >= MAX_VERDICTS {
        state.scan_verdicts.entries.clear();
    }
    state.scan_verdicts.entries.insert(
        key,
        CachedVerdict {
            report_updated_at: row.updated_at,
            allowlist,
            threshold,
            refusal: refusal.clone(),
        },
    );
    Ok(refusal)
}

/// Harbor's summary of a stored report.
pub fn overview(row: &ScanReportRow, scanner: &ScannerIdentity) -> NativeReportSummary {
    let seconds = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp())
    };
    let duration = match (seconds(&row.start_time), seconds(&row.end_time)) {
        (Some(start), Some(end)) if end >= start => end - start,
        _ => 0,
    };
    let summary: Option<VulnerabilitySummary> = row
        .summary
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    NativeReportSummary {
        report_id: row.uuid.clone(),
        scan_status: row.status.clone(),
        severity: row.severity.clone().unwrap_or_default(),
        duration,
        summary,
        start_time: row.start_time.clone(),
        end_time: row.end_time.clone(),
        complete_percent: if row.status == "Success" { 100 } else { 0 },
        scanner: Some(scanner.clone()),
    }
}

/// The scan overviews (`with_scan_overview`) of `digests` in project `project_id`: each scanned artifact's
/// latest report summary, keyed by digest, then by report MIME type as Harbor keys `scan_overview`.
pub async fn overviews(
    state: &AppState,
    project_id: i64,
    digests: &[String],
) -> Result<HashMap<String, NativeReportSummary>, ServiceError> {
    let registration = registration_for(state, project_id).await?;
    let scanner = if registration.uuid == BUILT_IN_UUID {
        run::scanner_identity()
    } else {
        ScannerIdentity {
            name: registration.name.clone(),
            vendor: String::new(),
            version: String::new(),
        }
    };
    let mut out = HashMap::new();
    for chunk in digests.chunks(500) {
        for row in state
            .db
            .scan_reports_of(chunk, &registration.uuid, NATIVE_REPORT_MIME)
            .await?
        {
            out.insert(row.artifact_digest.clone(), overview(&row, &scanner));
        }
    }
    Ok(out)
}
