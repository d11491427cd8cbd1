//! `IMAGE_SCAN`: one artifact scanned by the built-in scanner, as a job (Harbor's job type of the same name).
//!
//! A scan reads the artifact's stored manifest; for an image, each layer's inventory is taken from the
//! database when a scan read that layer before (so a layer shared by many images is read once, and a rescan
//! reads no blob), else read from the blob store as a stream and stored; the layers are merged, matched
//! against the vulnerability database generation in force, and the report is written. An index is scanned
//! child by child; its report holds its children's findings and its summary is its worst child's. The previous
//! report of the artifact stays readable until the new one is written (the report row keeps its last
//! successful body while a rescan is pending or fails).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use berth_api::vulnerabilities::{NATIVE_REPORT_MIME, ReportArtifact, ScannerIdentity};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::inventory::{ANALYZER_VERSION, LayerInventory, Limits, analyze_blob, merge};
use super::layers::{Layer, Scannable, scannable};
use super::model::{Finding, Inventory};
use super::report::{Allowlist, overall_severity, summarize, vulnerability_report};
use super::{matcher, vulndb::VulnDb};
use crate::app::AppState;
use crate::db::{NewScanReport, ReportCve};
use crate::jobs::{JobContext, JobError, JobFuture, Kind};
use crate::webhooks::EventType;

/// Harbor's job type.
pub const NAME: &str = "IMAGE_SCAN";

/// Scans on push queue one job per artifact: a large push may queue many.
pub const KIND: Kind = Kind {
    name: NAME,
    idempotent: true,
    max_attempts: 2,
    max_pending: 10_000,
    handler: run,
};

/// The most bytes of a scan's log kept with its report.
pub const LOG_MAX_BYTES: usize = 64 * 1024;

/// The built-in scanner's identity in reports and metadata.
pub fn scanner_identity() -> ScannerIdentity {
    ScannerIdentity {
        name: "Berth".to_owned(),
        vendor: "Berth".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

/// A scan job's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanJob {
    /// The report row this scan writes.
    pub report_uuid: String,
    /// `project/repository` the artifact was scanned through (for reading its manifest).
    pub repository: String,
    pub digest: String,
    /// The tag the scan was asked for, if any (shown in the report).
    #[serde(default)]
    pub tag: Option<String>,
}

/// Why a scan did not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("stopped")]
    Stopped,
    #[error("{0}")]
    NotScannable(String),
    #[error("artifact {0} is gone")]
    Gone(String),
    #[error("reading layer {layer}: {reason}")]
    Layer { layer: String, reason: String },
    #[error("vulnerability database: {0}")]
    VulnDb(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// A scan's log: written to the job's log and kept, bounded, with the report.
pub struct ScanLog<'a> {
    job: Option<&'a crate::jobs::JobLog>,
    text: String,
}

impl<'a> ScanLog<'a> {
    pub fn new(job: Option<&'a crate::jobs::JobLog>) -> Self {
        ScanLog {
            job,
            text: String::new(),
        }
    }

    pub async fn line(&mut self, line: impl AsRef<str>) {
        let line = line.as_ref();
        if self.text.len() + line.len() < LOG_MAX_BYTES {
            let _ = writeln!(self.text, "{} {line}", crate::db::timestamp(Utc::now()));
        }
        if let Some(job) = self.job {
            job.info(line).await;
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Compresses a layer's inventory for storage.
pub fn encode_layer(inventory: &LayerInventory) -> std::io::Result<Vec<u8>> {
    let json = serde_json::to_vec(inventory).map_err(std::io::Error::other)?;
    zstd::encode_all(json.as_slice(), 3)
}

/// Reads a stored layer inventory; `None` when it does not decode (a newer analyzer reads the layer again).
pub fn decode_layer(bytes: &[u8]) -> Option<LayerInventory> {
    let json = zstd::decode_all(bytes).ok()?;
    serde_json::from_slice(&json).ok()
}

/// The inventory of an image from its layers, reading only the layers no scan has read before.
pub async fn image_inventory(
    state: &AppState,
    layers: &[Layer],
    stop: &(dyn Fn() -> bool + Sync),
    log: &mut ScanLog<'_>,
) -> Result<Inventory, ScanError> {
    let version = i64::from(ANALYZER_VERSION);
    let limits = Limits::default();
    let mut read = Vec::with_capacity(layers.len());
    for layer in layers {
        if stop() {
            return Err(ScanError::Stopped);
        }
        let key = layer.digest.to_string();
        let stored = state.db.layer_inventory(&key, version).await?;
        let inventory = match stored.as_deref().and_then(decode_layer) {
            Some(inventory) => inventory,
            None => {
                let inventory =
                    analyze_blob(&state.blobs, &layer.digest, &layer.media_type, &limits)
                        .await
                        .map_err(|e| ScanError::Layer {
                            layer: key.clone(),
                            reason: e.to_string(),
                        })?;
                log.line(format!("read layer {key} ({} bytes)", layer.size))
                    .await;
                match encode_layer(&inventory) {
                    Ok(bytes) => state.db.put_layer_inventory(&key, version, &bytes).await?,
                    Err(e) => {
                        tracing::warn!(layer = %key, error = %e, "could not encode a layer inventory; it will be read again next time");
                    }
                }
                inventory
            }
        };
        read.push((key, inventory));
    }
    Ok(merge(&read))
}

/// The findings of `inventory` against the generation in force, and that generation.
pub async fn match_inventory(
    vulndb: &VulnDb,
    inventory: &Inventory,
) -> Result<(Vec<Finding>, Option<i64>), ScanError> {
    let queries = matcher::queries(inventory);
    let answers = vulndb
        .lookup(&queries)
        .await
        .map_err(|e| ScanError::VulnDb(format!("{e:#}")))?;
    let ids: Vec<String> = answers
        .values()
        .flatten()
        .map(|e| e.vuln_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let advisories = vulndb
        .advisories(&ids)
        .await
        .map_err(|e| ScanError::VulnDb(format!("{e:#}")))?;
    Ok((
        matcher::findings(inventory, &answers, &advisories),
        vulndb.generation(),
    ))
}

/// The findings of one image manifest, storing its inventory for later re-matches.
async fn scan_image(
    state: &AppState,
    digest: &str,
    layers: &[Layer],
    stop: &(dyn Fn() -> bool + Sync),
    log: &mut ScanLog<'_>,
) -> Result<(Vec<Finding>, Option<i64>), ScanError> {
    let inventory = image_inventory(state, layers, stop, log).await?;
    match &inventory.os {
        Some(os) => {
            log.line(format!("operating system {} {}", os.id, os.version_id))
                .await
        }
        None => log.line("no operating system identified").await,
    }
    if let Some(os) = &inventory.os
        && matcher::os_ecosystem(os).is_none()
    {
        log.line("this operating system's packages are not matched (no advisories for it)")
            .await;
    }
    let keys: Vec<(String, String)> = matcher::queries(&inventory)
        .into_iter()
        .map(|q| (q.ecosystem, q.package))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let layer_digests = serde_json::to_string(
        &layers
            .iter()
            .map(|l| l.digest.to_string())
            .collect::<Vec<_>>(),
    )
    .unwrap_or_else(|_| "[]".to_owned());
    let os = inventory
        .os
        .as_ref()
        .and_then(|os| serde_json::to_string(os).ok());
    state
        .db
        .put_artifact_inventory(
            digest,
            i64::from(ANALYZER_VERSION),
            &layer_digests,
            os.as_deref(),
            &keys,
        )
        .await?;
    let (findings, generation) = match_inventory(&state.vulndb, &inventory).await?;
    log.line(format!(
        "{} packages, {} findings (vulnerability database generation {})",
        inventory.packages.len(),
        findings.len(),
        generation.map_or_else(
            || "none: import one with `berth vulndb import`".to_owned(),
            |g| g.to_string()
        )
    ))
    .await;
    Ok((findings, generation))
}

/// Scans the artifact `digest` of `repository`: its findings and the database generation they come from.
pub async fn scan_artifact(
    state: &AppState,
    repository: &str,
    digest: &str,
    stop: &(dyn Fn() -> bool + Sync),
    log: &mut ScanLog<'_>,
) -> Result<(Vec<Finding>, Option<i64>), ScanError> {
    let manifest = state
        .db
        .manifest_by_digest(repository, digest)
        .await?
        .ok_or_else(|| ScanError::Gone(format!("{repository}@{digest}")))?;
    match scannable(&manifest.content, &manifest.media_type) {
        Scannable::No(reason) => Err(ScanError::NotScannable(reason)),
        Scannable::Image(layers) => scan_image(state, digest, &layers, stop, log).await,
        Scannable::Index(children) => {
            let mut all: Vec<Finding> = Vec::new();
            let mut generation = None;
            for child in children {
                let child = child.to_string();
                let manifest = state
                    .db
                    .manifest_by_digest(repository, &child)
                    .await?
                    .ok_or_else(|| ScanError::Gone(format!("{repository}@{child}")))?;
                let Scannable::Image(layers) = scannable(&manifest.content, &manifest.media_type)
                else {
                    log.line(format!("child {child} is not an image: skipped"))
                        .await;
                    continue;
                };
                log.line(format!("child {child}")).await;
                let (findings, g) = scan_image(state, &child, &layers, stop, log).await?;
                generation = generation.or(g);
                add_child_findings(&mut all, findings);
            }
            sort_index_findings(&mut all);
            Ok((all, generation))
        }
    }
}

/// Adds a child's findings to an index's, once per (id, package, version).
pub fn add_child_findings(all: &mut Vec<Finding>, findings: Vec<Finding>) {
    for f in findings {
        let seen = all
            .iter()
            .any(|a| a.id == f.id && a.package == f.package && a.version == f.version);
        if !seen {
            all.push(f);
        }
    }
}

/// Orders an index's findings: most severe first, then by id and package.
pub fn sort_index_findings(all: &mut [Finding]) {
    all.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.package.cmp(&b.package))
    });
}

/// Writes a successful report for `job` from `findings`.
pub async fn write_report(
    state: &AppState,
    job: &ScanJob,
    findings: &[Finding],
    generation: Option<i64>,
    log: &str,
) -> Result<(), ScanError> {
    let now = Utc::now();
    let report = vulnerability_report(
        ReportArtifact {
            repository: job.repository.clone(),
            digest: job.digest.clone(),
            tag: job.tag.clone(),
            mime_type: String::new(),
        },
        scanner_identity(),
        findings,
        &Allowlist::default(),
        crate::db::timestamp(now),
        now.timestamp(),
    );
    store_report(state, &job.report_uuid, &report, findings, generation, log).await
}

/// The most bytes of a vulnerability's description kept for the Security Hub (`cve_details`).
const DESCRIPTION_MAX_BYTES: usize = 4096;
/// The most links of a vulnerability kept for the Security Hub.
const LINKS_MAX: usize = 16;

/// `text` cut to at most `max` bytes, at a character boundary.
fn bounded(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Stores `report` (whose items are `findings`) as the successful outcome of report row `report_uuid`: the
/// compressed body, its summary, worst severity and CVE rows. Shared by every scanner kind.
pub async fn store_report(
    state: &AppState,
    report_uuid: &str,
    report: &berth_api::vulnerabilities::VulnerabilityReport,
    findings: &[Finding],
    generation: Option<i64>,
    log: &str,
) -> Result<(), ScanError> {
    let body = serde_json::to_vec(report).map_err(|e| ScanError::VulnDb(e.to_string()))?;
    let compressed = zstd::encode_all(body.as_slice(), 3)
        .map_err(|e| ScanError::VulnDb(format!("compressing the report: {e}")))?;
    let summary = serde_json::to_string(&summarize(findings)).unwrap_or_else(|_| "{}".to_owned());
    let severity = overall_severity(findings);
    let cves: Vec<ReportCve> = findings
        .iter()
        .map(|f| ReportCve {
            cve_id: f.id.clone(),
            package: f.package.clone(),
            version: f.version.clone(),
            fix_version: f.fix_version.clone().unwrap_or_default(),
            severity: f.severity.as_str().to_owned(),
            cvss_v3_score: f.cvss3_score,
            cvss_v3_vector: f.cvss3_vector.clone(),
            cwe_ids: f.cwe_ids.join(","),
            description: bounded(
                f.description.as_deref().unwrap_or_default(),
                DESCRIPTION_MAX_BYTES,
            ),
            links: serde_json::to_string(&f.links.iter().take(LINKS_MAX).collect::<Vec<_>>())
                .unwrap_or_else(|_| "[]".to_owned()),
        })
        .collect();
    state
        .db
        .finish_scan_report(
            report_uuid,
            &NewScanReport {
                status: "Success",
                vulndb_generation: generation,
                severity: Some(severity.as_str()),
                summary: Some(&summary),
                report: Some((&compressed, "zstd")),
                cves: &cves,
            },
            log,
        )
        .await?;
    Ok(())
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
    log.line(format!("scanning {}@{}", job.repository, job.digest))
        .await;
    let stop = || ctx.should_stop();
    let outcome = scan_artifact(&state, &job.repository, &job.digest, &stop, &mut log).await;
    state.metrics.scan_finished(match &outcome {
        Ok(_) => "success",
        Err(ScanError::Stopped) => "stopped",
        Err(_) => "error",
    });
    match outcome {
        Ok((findings, generation)) => {
            write_report(&state, &job, &findings, generation, log.text())
                .await
                .map_err(|e| JobError::Failed(e.to_string()))?;
            notify_end(&ctx, &job, ScanEnd::Completed(&findings)).await;
            Ok(())
        }
        Err(ScanError::Stopped) => {
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
        Err(e) => {
            tracing::warn!(repository = %job.repository, digest = %job.digest, error = %e, "scan failed");
            log.line(format!("scan failed: {e}")).await;
            state
                .db
                .finish_scan_report(&job.report_uuid, &NewScanReport::ended("Error"), log.text())
                .await?;
            notify_end(&ctx, &job, ScanEnd::Failed).await;
            Err(JobError::Failed(e.to_string()))
        }
    }
}

/// How a vulnerability scan ended, for its webhook event.
pub(crate) enum ScanEnd<'a> {
    Completed(&'a [Finding]),
    Stopped,
    Failed,
}

/// Sends a scan's end (built-in or through an adapter) to the project's webhook policies: SCANNING_COMPLETED,
/// SCANNING_STOPPED or SCANNING_FAILED, with Harbor's scan overview under the report's MIME type.
pub(crate) async fn notify_end(ctx: &JobContext, job: &ScanJob, end: ScanEnd<'_>) {
    let (event_type, overview) = match end {
        ScanEnd::Completed(findings) => (
            EventType::ScanningCompleted,
            json!({
                "report_id": job.report_uuid,
                "scan_status": "Success",
                "severity": overall_severity(findings).as_str(),
                "summary": summarize(findings),
            }),
        ),
        ScanEnd::Stopped => (
            EventType::ScanningStopped,
            json!({"report_id": job.report_uuid, "scan_status": "Stopped"}),
        ),
        ScanEnd::Failed => (
            EventType::ScanningFailed,
            json!({"report_id": job.report_uuid, "scan_status": "Error"}),
        ),
    };
    ctx.state
        .webhooks
        .notify_artifact(
            event_type,
            &job.repository,
            &job.digest,
            job.tag.as_deref(),
            &ctx.operator,
            |event| {
                if let Some(resource) = event.payload.event_data.resources.first_mut() {
                    let mut by_mime = serde_json::Map::new();
                    by_mime.insert(REPORT_MIME.to_owned(), overview);
                    resource.scan_overview = Some(by_mime.into());
                }
            },
        )
        .await;
}

/// The report MIME type the built-in scanner writes.
pub const REPORT_MIME: &str = NATIVE_REPORT_MIME;
