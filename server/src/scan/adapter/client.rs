//! `REMOTE_SCAN`: a scan by an external adapter (a project's scanner that is not the built-in one), as a job.
//!
//! The job asks the adapter for its metadata (to pick the report type it produces), mints a registry bearer
//! token that grants only `pull` on the artifact's repository and lives [`TOKEN_LIFETIME`], sends
//! `POST <adapter>/api/v1/scan` with Berth's address (its external URL, or its internal address when the
//! registration says `use_internal_addr`), then polls `GET <adapter>/api/v1/scan/{id}/report`, waiting what
//! `Refresh-After` says (read as Harbor reads it, at most 127 s), until [`POLL_DEADLINE`]. The report is stored as
//! the built-in scanner's are (status, severity, summary, CVE rows), so the vulnerabilities addition, the scan
//! overview and prevent-vulnerable treat it the same. Every request has timeouts, follows no redirect, and
//! reads a bounded answer; an adapter's error message is logged clipped, never trusted further.

use std::time::{Duration, Instant};

use berth_api::scanners::{MIME_GENERIC_REPORT, MIME_NATIVE_REPORT};
use berth_api::vulnerabilities::VulnerabilityReport;
use futures_util::StreamExt as _;
use reqwest::StatusCode;

use super::{ErrorResponse, SCAN_REQUEST_MIME, SCAN_RESPONSE_MIME, ScanResponse};
use crate::app::AppState;
use crate::auth::token::{Grant, SCANNER_PULL};
use crate::db::NewScanReport;
use crate::jobs::{JobContext, JobError, JobFuture, Kind};
use crate::scan::layers::{Scannable, scannable};
use crate::scan::model::Finding;
use crate::scan::run::{ScanEnd, ScanJob, ScanLog, notify_end, store_report};
use crate::scan::service::finding_of;
use crate::service::scanners::{Settings, fetch_metadata, stored, with_auth};

/// The job type.
pub const NAME: &str = "REMOTE_SCAN";

/// Per artifact, like `IMAGE_SCAN`.
pub const KIND: Kind = Kind {
    name: NAME,
    idempotent: true,
    max_attempts: 2,
    max_pending: 10_000,
    handler: run,
};

/// How long the pull token handed to the adapter is valid.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// How long the job waits for the adapter's report.
pub const POLL_DEADLINE: Duration = Duration::from_secs(30 * 60);
/// The wait when `Refresh-After` is missing or unreadable.
const DEFAULT_REFRESH: u64 = 5;
/// The most of a report read.
pub const MAX_REPORT_BYTES: usize = 64 * 1024 * 1024;
/// The most of an error or scan response read.
const MAX_SMALL_BYTES: usize = 64 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Why a remote scan did not produce a report.
#[derive(Debug)]
enum Failure {
    Stopped,
    Failed(String),
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::Failed(s)
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "remote scan: database");
        Failure::Failed("database error: see the server log".to_owned())
    }
}

fn run(ctx: JobContext) -> JobFuture {
    Box::pin(execute(ctx))
}

async fn execute(ctx: JobContext) -> Result<(), JobError> {
    let job: ScanJob = serde_json::from_value(ctx.parameters.clone())
        .map_err(|e| JobError::Failed(format!("bad scan parameters: {e}")))?;
    let state = ctx.state.clone();
    if !state.db.run_scan_report(&job.report_uuid).await? {
        ctx.log
            .warn("the report row is gone (its scanner was removed?): nothing to do")
            .await;
        return Ok(());
    }
    let mut log = ScanLog::new(Some(&ctx.log));
    log.line(format!(
        "scanning {}@{} with an external adapter",
        job.repository, job.digest
    ))
    .await;
    let stop = || ctx.should_stop();
    match remote_scan(&state, &job, &stop, &mut log).await {
        Ok(report) => {
            let findings = store(&state, &job, &report, log.text()).await?;
            notify_end(&ctx, &job, ScanEnd::Completed(&findings)).await;
            Ok(())
        }
        Err(Failure::Stopped) => {
            log.line("stopped").await;
            state
                .db
                .finish_scan_report(
                    &job.report_uuid,
                    &NewScanReport::ended("Stopped"),
                    log.text(),
                )
                .await?;
            notify_end(&ctx, &job, ScanEnd::Stopped).await;
            Err(JobError::Stopped)
        }
        Err(Failure::Failed(reason)) => {
            tracing::warn!(repository = %job.repository, digest = %job.digest, %reason, "remote scan failed");
            log.line(format!("scan failed: {reason}")).await;
            state
                .db
                .finish_scan_report(&job.report_uuid, &NewScanReport::ended("Error"), log.text())
                .await?;
            notify_end(&ctx, &job, ScanEnd::Failed).await;
            Err(JobError::Failed(reason))
        }
    }
}

/// Berth's registry address as the adapter should reach it.
fn registry_url(state: &AppState, settings: &Settings) -> Result<String, String> {
    if settings.use_internal_addr {
        let listen = state.config.listen;
        let ip = if listen.ip().is_unspecified() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            listen.ip()
        };
        return Ok(format!(
            "http://{}",
            std::net::SocketAddr::new(ip, listen.port())
        ));
    }
    state
        .config
        .external_url()
        .map(str::to_owned)
        .ok_or_else(|| {
            "external_url is not configured, so the adapter cannot be told where to pull from: set \
         external_url, or use_internal_addr on the scanner registration"
                .to_owned()
        })
}

/// A registry token that may only pull `repository`, for the first system administrator (whose standing the
/// registry checks on each use; the grant limits it to pulling this one repository). It is a scanner's pull
/// (`scanner-pull`), which the project's "prevent vulnerable images" policy lets through.
async fn pull_token(state: &AppState, repository: &str) -> Result<String, Failure> {
    let admin = state
        .db
        .user_by_id(1)
        .await?
        .filter(|u| u.sysadmin)
        .ok_or_else(|| {
            "there is no system administrator (user 1) to issue the adapter's pull token for"
                .to_owned()
        })?;
    let grant = Grant {
        kind: "repository".to_owned(),
        name: repository.to_owned(),
        actions: vec!["pull".to_owned(), SCANNER_PULL.to_owned()],
    };
    let token = state
        .tokens
        .issue_for(&admin.username, vec![grant], TOKEN_LIFETIME)
        .map_err(|e| format!("issuing the pull token: {e}"))?;
    Ok(token.token)
}

async fn read_bounded(response: reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(format!("the adapter's answer is larger than {limit} bytes"));
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| "the adapter's answer broke off".to_owned())?;
        if body.len() + chunk.len() > limit {
            return Err(format!("the adapter's answer is larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// What a non-success answer says: its status and the adapter's message, clipped.
async fn refusal(what: &str, response: reqwest::Response) -> String {
    let status = response.status();
    let message = read_bounded(response, MAX_SMALL_BYTES)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice::<ErrorResponse>(&b).ok())
        .map(|e| e.error.message)
        .filter(|m| !m.is_empty())
        .map(|m| {
            let m: String = m.chars().filter(|c| !c.is_control()).take(256).collect();
            format!(": {m}")
        })
        .unwrap_or_default();
    format!("{what}: the adapter answered {status}{message}")
}

fn request_failed(what: &str, e: &reqwest::Error) -> String {
    tracing::info!(error = %e, "remote scan: {what}");
    if e.is_timeout() {
        format!("{what}: the adapter did not answer in time")
    } else if e.is_connect() {
        format!("{what}: the adapter could not be reached")
    } else {
        format!("{what}: the request failed")
    }
}

async fn remote_scan(
    state: &AppState,
    job: &ScanJob,
    stop: &(dyn Fn() -> bool + Sync),
    log: &mut ScanLog<'_>,
) -> Result<VulnerabilityReport, Failure> {
    let row = state
        .db
        .scan_report(&job.report_uuid)
        .await?
        .ok_or_else(|| "the report row is gone".to_owned())?;
    let registration = state
        .db
        .scanner(&row.registration_uuid)
        .await?
        .ok_or_else(|| "the scanner registration is gone".to_owned())?;
    let settings = stored(&registration, &state.secrets).map_err(|e| e.to_string())?;
    let metadata = fetch_metadata(&settings).await.map_err(|e| e.to_string())?;
    let produces: Vec<&str> = metadata
        .capabilities
        .iter()
        .filter(|c| c.capability_type.is_empty() || c.capability_type == "vulnerability")
        .flat_map(|c| c.produces_mime_types.iter().map(String::as_str))
        .collect();
    let accept = [MIME_GENERIC_REPORT, MIME_NATIVE_REPORT]
        .into_iter()
        .find(|m| produces.contains(m))
        .ok_or_else(|| "the adapter produces no vulnerability report Berth reads".to_owned())?;
    let manifest = state
        .db
        .manifest_by_digest(&job.repository, &job.digest)
        .await?
        .ok_or_else(|| format!("artifact {}@{} is gone", job.repository, job.digest))?;
    if !matches!(
        scannable(&manifest.content, &manifest.media_type),
        Scannable::Image(_)
    ) {
        return Err(Failure::Failed(
            "only single images are sent to an external adapter".to_owned(),
        ));
    }
    let token = pull_token(state, &job.repository).await?;
    let request = super::ScanRequest {
        registry: super::Registry {
            url: registry_url(state, &settings)?,
            authorization: format!("Bearer {token}"),
        },
        artifact: super::Artifact {
            repository: job.repository.clone(),
            digest: job.digest.clone(),
            tag: job.tag.clone().unwrap_or_default(),
            mime_type: manifest.media_type.clone(),
        },
        enabled_capabilities: Vec::new(),
    };
    let http = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(settings.skip_cert_verify)
        .build()
        .map_err(|e| format!("no HTTP client: {e}"))?;
    let response = with_auth(
        http.post(format!("{}/api/v1/scan", settings.url)),
        &settings,
    )
    .header(reqwest::header::CONTENT_TYPE, SCAN_REQUEST_MIME)
    .header(reqwest::header::ACCEPT, SCAN_RESPONSE_MIME)
    .body(serde_json::to_vec(&request).map_err(|e| format!("encoding the request: {e}"))?)
    .send()
    .await
    .map_err(|e| request_failed("the scan request", &e))?;
    if response.status() != StatusCode::ACCEPTED {
        return Err(refusal("the scan request", response).await.into());
    }
    let accepted: ScanResponse =
        serde_json::from_slice(&read_bounded(response, MAX_SMALL_BYTES).await?)
            .map_err(|_| "the adapter's scan response is not {\"id\"}".to_owned())?;
    if accepted.id.is_empty()
        || accepted.id.len() > 256
        || !accepted
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err("the adapter's scan id is not a plain identifier"
            .to_owned()
            .into());
    }
    log.line(format!(
        "the adapter {} accepted the scan as {}",
        registration.name, accepted.id
    ))
    .await;
    let report_url = format!("{}/api/v1/scan/{}/report", settings.url, accepted.id);
    let deadline = Instant::now() + POLL_DEADLINE;
    loop {
        if stop() {
            return Err(Failure::Stopped);
        }
        let response = with_auth(http.get(&report_url), &settings)
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(|e| request_failed("the report request", &e))?;
        match response.status() {
            StatusCode::OK => {
                let body = read_bounded(response, MAX_REPORT_BYTES).await?;
                let report: VulnerabilityReport = serde_json::from_slice(&body).map_err(|_| {
                    "the adapter's report is not a Harbor vulnerability report".to_owned()
                })?;
                log.line(format!(
                    "the adapter reported {} findings",
                    report.vulnerabilities.len()
                ))
                .await;
                return Ok(report);
            }
            StatusCode::FOUND => {
                let wait = response
                    .headers()
                    .get("refresh-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(super::parse_refresh_after)
                    .and_then(|v| u64::try_from(v).ok())
                    .filter(|v| *v > 0)
                    .unwrap_or(DEFAULT_REFRESH)
                    .min(super::MAX_REFRESH_AFTER);
                let until = Instant::now() + Duration::from_secs(wait);
                if until > deadline {
                    return Err(format!(
                        "the adapter had no report after {} minutes",
                        POLL_DEADLINE.as_secs() / 60
                    )
                    .into());
                }
                while Instant::now() < until {
                    if stop() {
                        return Err(Failure::Stopped);
                    }
                    tokio::time::sleep(
                        until
                            .saturating_duration_since(Instant::now())
                            .min(Duration::from_millis(500)),
                    )
                    .await;
                }
            }
            _ => return Err(refusal("the report", response).await.into()),
        }
    }
}

/// Stores the adapter's report as the current report of the job's row.
async fn store(
    state: &AppState,
    job: &ScanJob,
    report: &VulnerabilityReport,
    log: &str,
) -> Result<Vec<Finding>, JobError> {
    let findings: Vec<Finding> = report.vulnerabilities.iter().map(finding_of).collect();
    let mut report = report.clone();
    for item in &mut report.vulnerabilities {
        item.vendor_attributes.remove("allowlisted");
    }
    store_report(state, &job.report_uuid, &report, &findings, None, log)
        .await
        .map_err(|e| match e {
            crate::scan::run::ScanError::Db(e) => JobError::from(e),
            other => JobError::Failed(other.to_string()),
        })?;
    Ok(findings)
}
