//! Scan-all (`SCAN_ALL`, Harbor's vendor type) and the re-match on a new vulnerability database generation
//! (`VULNDB_REMATCH`), both jobs, at most one of each running at a time across nodes.
//!
//! Scan-all visits every artifact of every project (images and indexes) by keyset, a page at a time. An
//! artifact whose inventory is stored (its image's, or every image child's of an index) is **re-matched**:
//! its stored layer inventories are merged and matched against the generation in force, and no blob is read.
//! One whose report already comes from the generation in force, with its inventory stored, is left as it is
//! (goharbor/harbor#22276): counted as completed. Any other is scanned (its layers read once and stored). The
//! previous report of an artifact stays in force until its new one is written: a re-match writes straight
//! to `Success`, never through `Pending`. Progress goes to the job's log as `progress {json}` lines, which
//! `/scans/all/metrics` reads back ([`stats`]), so any node answers for a scan-all running on another.
//!
//! The re-match: every node looks once a minute ([`watch`]) whether the generation in force moved past the
//! one the last re-match reached (or, before the first, past the oldest report's), and enqueues a
//! `VULNDB_REMATCH` job; the job system runs it once across nodes (one pending at most, exclusive). The job
//! re-matches only the artifacts holding a package the new generation changed
//! ([`VulnDb::changed_packages`](super::vulndb::VulnDb::changed_packages) →
//! [`Db::artifacts_with_package`](crate::db::Db::artifacts_with_package)), and the indexes holding them;
//! when the changes cannot be told, every stored inventory.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use berth_api::vulnerabilities::{NATIVE_REPORT_MIME, Stats};
use serde::{Deserialize, Serialize};

use super::inventory::{ANALYZER_VERSION, merge};
use super::layers::{Scannable, scannable};
use super::model::{Finding, Inventory};
use super::run::{self, ScanError, ScanJob, ScanLog, decode_layer};
use super::service;
use crate::app::AppState;
use crate::db::{BUILT_IN_UUID, NewScanReport, ScanAllArtifact, ScanReportRow};
use crate::jobs::{EVENT, EnqueueError, JobContext, JobError, JobFuture, Kind};
use crate::service::ServiceError;

/// Harbor's vendor type of scan-all.
pub const NAME: &str = "SCAN_ALL";

/// The re-match of stored inventories after a new vulnerability database generation.
pub const REMATCH: &str = "VULNDB_REMATCH";

/// Scan-all: one waits while another runs; a stopped or failed run is simply run again.
pub const KIND: Kind = Kind {
    name: NAME,
    idempotent: true,
    max_attempts: 2,
    max_pending: 1,
    handler: run_scan_all,
};

/// The re-match: one at a time, one waiting at most (every node's check may enqueue it).
pub const REMATCH_KIND: Kind = Kind {
    name: REMATCH,
    idempotent: true,
    max_attempts: 3,
    max_pending: 1,
    handler: run_rematch,
};

/// How often each node looks for a new generation.
pub const CHECK_EVERY: Duration = Duration::from_secs(60);

/// Artifacts read per page.
const PAGE: i64 = 200;

/// The most indexes re-matched for one image child.
const MAX_PARENTS: i64 = 100;

/// The most per-artifact lines (errors, skips) one run writes to its log; the counts hold the rest.
const MAX_DETAIL_LINES: u64 = 100;

/// Scan-all's progress lines in its job log start with this.
const PROGRESS: &str = "progress ";

/// The operator of re-matches the generation check enqueues.
pub const REMATCH_OPERATOR: &str = "vulndb";

/// Scan-all's counts, written to its log as it goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub total: i64,
    pub completed: i64,
    /// Re-matched, scanned, or unchanged since the report of the generation in force.
    pub success: i64,
    pub error: i64,
    pub skipped: i64,
    pub unchanged: i64,
    pub rematched: i64,
    pub scanned: i64,
}

/// What scan-all did with one artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Its report is of the generation in force and its inventory is stored.
    Unchanged,
    /// Matched again from its stored inventory; no blob read.
    Rematched,
    /// Scanned (layers read).
    Scanned,
    /// Not scanned, and why.
    Skipped(String),
}

/// The stored inventory of image `digest`, merged from its stored layers; `None` when it or one of its layers
/// is not stored by this analyzer version (then a scan reads the layers).
pub async fn stored_inventory(
    state: &AppState,
    digest: &str,
) -> Result<Option<Inventory>, ScanError> {
    let version = i64::from(ANALYZER_VERSION);
    let Some((layers, _os)) = state.db.artifact_inventory(digest, version).await? else {
        return Ok(None);
    };
    let Ok(layers) = serde_json::from_str::<Vec<String>>(&layers) else {
        tracing::warn!(
            artifact = digest,
            "a stored inventory's layer list does not parse; the artifact will be scanned again"
        );
        return Ok(None);
    };
    let mut read = Vec::with_capacity(layers.len());
    for layer in layers {
        let stored = state.db.layer_inventory(&layer, version).await?;
        let Some(inventory) = stored.as_deref().and_then(decode_layer) else {
            return Ok(None);
        };
        read.push((layer, inventory));
    }
    Ok(Some(merge(&read)))
}

/// The images whose inventories make up the report of `digest` in `repository`: itself for an image, its image
/// children for an index; `Err(reason)` when it is not scannable.
async fn images_of(
    state: &AppState,
    repository: &str,
    digest: &str,
) -> Result<Result<Vec<String>, String>, ScanError> {
    let manifest = state
        .db
        .manifest_by_digest(repository, digest)
        .await?
        .ok_or_else(|| ScanError::Gone(format!("{repository}@{digest}")))?;
    match scannable(&manifest.content, &manifest.media_type) {
        Scannable::No(reason) => Ok(Err(reason)),
        Scannable::Image(_) => Ok(Ok(vec![digest.to_owned()])),
        Scannable::Index(children) => {
            let mut images = Vec::with_capacity(children.len());
            for child in children {
                let child = child.to_string();
                let Some(manifest) = state.db.manifest_by_digest(repository, &child).await? else {
                    return Err(ScanError::Gone(format!("{repository}@{child}")));
                };
                if let Scannable::Image(_) = scannable(&manifest.content, &manifest.media_type) {
                    images.push(child);
                }
            }
            Ok(Ok(images))
        }
    }
}

/// Whether every one of `images` has a stored inventory.
async fn all_stored(state: &AppState, images: &[String]) -> Result<bool, ScanError> {
    let version = i64::from(ANALYZER_VERSION);
    for image in images {
        if state.db.artifact_inventory(image, version).await?.is_none() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The findings of the artifact made of `images`, from their stored inventories only (no blob read); `None`
/// when one is not stored.
async fn rematch_stored(
    state: &AppState,
    images: &[String],
    memo: &mut MatchMemo,
) -> Result<Option<(Vec<Finding>, Option<i64>)>, ScanError> {
    let mut all = Vec::new();
    let mut generation = None;
    for image in images {
        let Some((findings, g)) = memo.matched(state, image).await? else {
            return Ok(None);
        };
        generation = generation.or(g);
        if images.len() == 1 {
            all = findings;
        } else {
            run::add_child_findings(&mut all, findings);
        }
    }
    if images.len() > 1 {
        run::sort_index_findings(&mut all);
    }
    Ok(Some((
        all,
        generation.or_else(|| state.vulndb.generation()),
    )))
}

/// The findings of stored inventories already matched in one run, by the image's layer list: images built on
/// the same layers (thousands of tags of one build over one base) read and match their packages once. Only
/// for the generation it was filled under; bounded in entries.
#[derive(Default)]
pub struct MatchMemo {
    generation: Option<i64>,
    entries: HashMap<String, (Vec<Finding>, Option<i64>)>,
}

/// Layer lists a [`MatchMemo`] holds at most (then it starts again).
const MEMO_ENTRIES: usize = 256;

impl MatchMemo {
    /// `image`'s findings from its stored inventory, matched now or earlier in this run; `None` when its
    /// inventory is not stored (or not readable).
    async fn matched(
        &mut self,
        state: &AppState,
        image: &str,
    ) -> Result<Option<(Vec<Finding>, Option<i64>)>, ScanError> {
        let version = i64::from(ANALYZER_VERSION);
        let Some((layers, _)) = state.db.artifact_inventory(image, version).await? else {
            return Ok(None);
        };
        let current = state.vulndb.generation();
        if self.generation != current || self.entries.len() >= MEMO_ENTRIES {
            self.entries.clear();
            self.generation = current;
        }
        if let Some(known) = self.entries.get(&layers) {
            return Ok(Some(known.clone()));
        }
        let Some(inventory) = stored_inventory(state, image).await? else {
            return Ok(None);
        };
        let matched = run::match_inventory(&state.vulndb, &inventory).await?;
        // Kept only when the database did not move under the match.
        if matched.1 == current {
            self.entries.insert(layers, matched.clone());
        }
        Ok(Some(matched))
    }
}

/// The built-in scanner's vulnerability report row of `digest`, if any.
async fn report_of(state: &AppState, digest: &str) -> Result<Option<ScanReportRow>, ScanError> {
    Ok(state
        .db
        .artifact_scan_reports(digest, BUILT_IN_UUID)
        .await?
        .into_iter()
        .find(|r| r.mime_type == NATIVE_REPORT_MIME))
}

/// A report row for `digest`: the existing one, or a new one (there was no report to keep in force).
async fn report_uuid(
    state: &AppState,
    digest: &str,
    existing: Option<&ScanReportRow>,
) -> Result<String, ScanError> {
    match existing {
        Some(row) => {
            state.db.restart_scan_report_clock(&row.uuid).await?;
            Ok(row.uuid.clone())
        }
        None => {
            let uuid = state
                .db
                .start_scan_report(
                    &uuid::Uuid::new_v4().to_string(),
                    digest,
                    BUILT_IN_UUID,
                    NATIVE_REPORT_MIME,
                    None,
                )
                .await?;
            state.db.run_scan_report(&uuid).await?;
            Ok(uuid)
        }
    }
}

/// Writes `findings` as the report `uuid` of `digest` in `repository`.
async fn write(
    state: &AppState,
    uuid: String,
    repository: &str,
    digest: &str,
    (findings, generation): (Vec<Finding>, Option<i64>),
    log: &str,
) -> Result<(), ScanError> {
    let job = ScanJob {
        report_uuid: uuid,
        repository: repository.to_owned(),
        digest: digest.to_owned(),
        tag: None,
    };
    run::write_report(state, &job, &findings, generation, log).await
}

/// Whether the built-in scanner scans project `project_id`'s artifacts: `Err(reason)` when it does not.
async fn built_in_scans(
    state: &AppState,
    project_id: i64,
) -> Result<Result<(), String>, ScanError> {
    match service::registration_for(state, project_id).await {
        Ok(r) if r.disabled => Ok(Err(format!("the project's scanner {} is disabled", r.name))),
        Ok(r) if r.uuid != BUILT_IN_UUID => Ok(Err(format!(
            "the project's scanner {} is an external adapter, which scan-all does not drive yet",
            r.name
        ))),
        Ok(_) => Ok(Ok(())),
        Err(ServiceError::Db(e)) => Err(e.into()),
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// Scan-all's work on one artifact.
pub async fn visit(
    state: &AppState,
    artifact: &ScanAllArtifact,
    scanners: &mut HashMap<i64, Result<(), String>>,
    memo: &mut MatchMemo,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Outcome, ScanError> {
    let usable = match scanners.get(&artifact.project_id) {
        Some(usable) => usable.clone(),
        None => {
            let usable = built_in_scans(state, artifact.project_id).await?;
            if scanners.len() >= 10_000 {
                scanners.clear();
            }
            scanners.insert(artifact.project_id, usable.clone());
            usable
        }
    };
    if let Err(reason) = usable {
        return Ok(Outcome::Skipped(reason));
    }
    let report = report_of(state, &artifact.digest).await?;
    if report
        .as_ref()
        .is_some_and(|r| matches!(r.status.as_str(), "Pending" | "Running"))
    {
        return Ok(Outcome::Skipped(
            "a scan of it is already queued or running".to_owned(),
        ));
    }
    let images = match images_of(state, &artifact.repository, &artifact.digest).await? {
        Ok(images) => images,
        Err(reason) => return Ok(Outcome::Skipped(reason)),
    };
    let current = state.vulndb.generation();
    let stored = all_stored(state, &images).await?;
    let success = report.as_ref().filter(|r| r.status == "Success");
    if stored && current.is_some() && success.is_some_and(|r| r.vulndb_generation == current) {
        return Ok(Outcome::Unchanged);
    }
    let mut log = ScanLog::new(None);
    if stored && let Some(result) = rematch_stored(state, &images, memo).await? {
        log.line(format!(
            "re-matched {}@{} from its stored inventory: {} findings (vulnerability database generation {})",
            artifact.repository,
            artifact.digest,
            result.0.len(),
            result.1.map_or_else(|| "none".to_owned(), |g| g.to_string()),
        ))
        .await;
        let uuid = report_uuid(state, &artifact.digest, report.as_ref()).await?;
        write(
            state,
            uuid,
            &artifact.repository,
            &artifact.digest,
            result,
            log.text(),
        )
        .await?;
        return Ok(Outcome::Rematched);
    }
    // Scanned: a previous successful report stays as it is (in force) unless this scan succeeds.
    let uuid = report_uuid(state, &artifact.digest, success).await?;
    log.line(format!(
        "scan-all: scanning {}@{}",
        artifact.repository, artifact.digest
    ))
    .await;
    match run::scan_artifact(
        state,
        &artifact.repository,
        &artifact.digest,
        stop,
        &mut log,
    )
    .await
    {
        Ok(result) => {
            write(
                state,
                uuid,
                &artifact.repository,
                &artifact.digest,
                result,
                log.text(),
            )
            .await?;
            Ok(Outcome::Scanned)
        }
        Err(e) => {
            if success.is_none() {
                let status = if matches!(e, ScanError::Stopped) {
                    "Stopped"
                } else {
                    "Error"
                };
                log.line(format!("scan failed: {e}")).await;
                let end = NewScanReport::ended(status);
                state.db.finish_scan_report(&uuid, &end, log.text()).await?;
            }
            Err(e)
        }
    }
}

fn run_scan_all(ctx: JobContext) -> JobFuture {
    Box::pin(scan_all(ctx))
}

async fn write_progress(ctx: &JobContext, progress: &Progress) {
    let json = serde_json::to_string(progress).unwrap_or_else(|_| "{}".to_owned());
    ctx.log.info(format!("{PROGRESS}{json}")).await;
}

async fn refresh(state: &AppState) {
    if let Err(e) = state.vulndb.refresh().await {
        tracing::warn!(error = %format!("{e:#}"), "could not look for a new vulnerability database generation; using the one open");
    }
}

async fn scan_all(ctx: JobContext) -> Result<(), JobError> {
    let state = ctx.state.clone();
    refresh(&state).await;
    let mut progress = Progress {
        total: state.db.count_all_artifacts().await?,
        ..Progress::default()
    };
    ctx.log
        .info(format!(
            "scan-all of {} artifacts against vulnerability database generation {}",
            progress.total,
            state
                .vulndb
                .generation()
                .map_or_else(|| "none".to_owned(), |g| g.to_string())
        ))
        .await;
    write_progress(&ctx, &progress).await;
    let started = Instant::now();
    let mut last_progress = Instant::now();
    let mut details = 0u64;
    let mut scanners = HashMap::new();
    let mut memo = MatchMemo::default();
    let stop = || ctx.should_stop();
    let mut after = 0;
    loop {
        let page = state.db.artifacts_after(after, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for artifact in page {
            after = artifact.id;
            if ctx.should_stop() {
                write_progress(&ctx, &progress).await;
                return Err(JobError::Stopped);
            }
            let detail = match visit(&state, &artifact, &mut scanners, &mut memo, &stop).await {
                Ok(Outcome::Unchanged) => {
                    progress.unchanged += 1;
                    progress.success += 1;
                    None
                }
                Ok(Outcome::Rematched) => {
                    progress.rematched += 1;
                    progress.success += 1;
                    None
                }
                Ok(Outcome::Scanned) => {
                    progress.scanned += 1;
                    progress.success += 1;
                    None
                }
                Ok(Outcome::Skipped(reason)) => {
                    progress.skipped += 1;
                    Some(format!("skipped: {reason}"))
                }
                Err(ScanError::Stopped) => {
                    write_progress(&ctx, &progress).await;
                    return Err(JobError::Stopped);
                }
                Err(e) => {
                    progress.error += 1;
                    tracing::warn!(repository = %artifact.repository, digest = %artifact.digest, error = %e, "scan-all: artifact failed");
                    Some(format!("failed: {e}"))
                }
            };
            progress.completed += 1;
            if let Some(detail) = detail {
                details += 1;
                if details <= MAX_DETAIL_LINES {
                    ctx.log
                        .info(format!(
                            "{}@{} {detail}",
                            artifact.repository, artifact.digest
                        ))
                        .await;
                }
            }
            // At most a line a second, and fewer as the run grows long, so the log's cap is never reached.
            let every = Duration::from_secs(1).max(started.elapsed() / 100);
            if last_progress.elapsed() >= every {
                write_progress(&ctx, &progress).await;
                last_progress = Instant::now();
            }
        }
    }
    progress.total = progress.completed;
    write_progress(&ctx, &progress).await;
    ctx.log
        .info(format!(
            "done: {} re-matched without reading a blob, {} unchanged since their report, {} scanned, {} skipped, {} failed",
            progress.rematched, progress.unchanged, progress.scanned, progress.skipped, progress.error
        ))
        .await;
    Ok(())
}

/// Harbor's spelling of a trigger.
fn trigger_name(triggered_by: &str) -> String {
    match triggered_by {
        crate::jobs::MANUAL => "Manual",
        crate::jobs::SCHEDULE => "Schedule",
        EVENT => "Event",
        other => other,
    }
    .to_owned()
}

/// The progress of the latest scan-all (of those `triggered_by`, when given) as Harbor's `Stats`.
pub async fn stats(state: &AppState, triggered_by: Option<&str>) -> Result<Stats, sqlx::Error> {
    let Some(job) = state.db.latest_job(NAME, triggered_by).await? else {
        return Ok(Stats::default());
    };
    let progress = state
        .db
        .last_job_log_line(job.id, PROGRESS)
        .await?
        .and_then(|line| serde_json::from_str::<Progress>(&line[PROGRESS.len()..]).ok())
        .unwrap_or_default();
    let ongoing = matches!(job.state.as_str(), "pending" | "running");
    let mut metrics = BTreeMap::new();
    metrics.insert("Success".to_owned(), progress.success);
    metrics.insert("Error".to_owned(), progress.error);
    if progress.skipped > 0 {
        metrics.insert("Skipped".to_owned(), progress.skipped);
    }
    let rest = (progress.total - progress.completed).max(0);
    if rest > 0 {
        let key = match job.state.as_str() {
            "pending" | "running" => "Pending",
            "stopped" => "Stopped",
            _ => "Error",
        };
        *metrics.entry(key.to_owned()).or_default() += rest;
    }
    Ok(Stats {
        total: progress.total,
        completed: progress.completed,
        metrics,
        ongoing,
        trigger: Some(trigger_name(&job.triggered_by)),
        requester: Some(job.operator),
    })
}

/// A re-match's parameters: the generation the last re-match reached, and the one it re-matches to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RematchJob {
    pub from: i64,
    pub to: i64,
}

/// Enqueues a re-match when the generation in force moved past the one the last re-match reached (or, before
/// the first, past the oldest successful report's); returns its job id. Nothing when one is queued or running.
pub async fn check_generation(state: &AppState) -> Result<Option<i64>, EnqueueError> {
    refresh(state).await;
    let Some(current) = state.vulndb.generation() else {
        return Ok(None);
    };
    let from = match state.db.latest_job(REMATCH, None).await? {
        Some(job) => {
            let Ok(last) = serde_json::from_str::<RematchJob>(&job.parameters) else {
                tracing::warn!(
                    job = job.id,
                    "a re-match job's parameters do not parse; ignored"
                );
                return Ok(None);
            };
            match job.state.as_str() {
                "pending" | "running" => return Ok(None),
                "success" => last.to,
                // Failed or stopped: what it did not reach is still to do.
                _ => last.from,
            }
        }
        None => match state
            .db
            .oldest_report_generation(BUILT_IN_UUID, NATIVE_REPORT_MIME)
            .await?
        {
            Some(oldest) => oldest,
            None => return Ok(None),
        },
    };
    if from >= current {
        return Ok(None);
    }
    let parameters =
        serde_json::to_value(RematchJob { from, to: current }).unwrap_or(serde_json::Value::Null);
    match state
        .jobs
        .enqueue(&state.db, REMATCH, &parameters, EVENT, REMATCH_OPERATOR)
        .await
    {
        Ok(id) => {
            tracing::info!(
                job = id,
                from,
                to = current,
                "new vulnerability database generation: re-match queued"
            );
            Ok(Some(id))
        }
        // Another node queued it a moment ago.
        Err(EnqueueError::QueueFull(..)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Looks for a new generation every [`CHECK_EVERY`] on this node, until the task is aborted.
pub async fn watch(state: AppState) {
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = check_generation(&state).await {
            tracing::warn!(error = %e, "could not check for a new vulnerability database generation; trying again in a minute");
        }
    }
}

/// Re-matches the report of `digest` from its stored inventory when it is a successful report older than
/// `current`; `true` when it wrote one.
async fn rematch_one(
    state: &AppState,
    digest: &str,
    current: i64,
    memo: &mut MatchMemo,
) -> Result<bool, ScanError> {
    let Some(report) = report_of(state, digest).await? else {
        return Ok(false);
    };
    // A queued or failed scan is someone else's; a report of `current` is done.
    if report.status != "Success" || report.vulndb_generation.is_some_and(|g| g >= current) {
        return Ok(false);
    }
    let Some(home) = state.db.artifact_home(digest).await? else {
        return Ok(false);
    };
    let Ok(images) = images_of(state, &home.repository, digest).await? else {
        return Ok(false);
    };
    let Some(result) = rematch_stored(state, &images, memo).await? else {
        return Ok(false);
    };
    let mut log = ScanLog::new(None);
    log.line(format!(
        "re-matched {}@{digest} from its stored inventory for vulnerability database generation {current}: {} findings",
        home.repository,
        result.0.len()
    ))
    .await;
    let uuid = report_uuid(state, digest, Some(&report)).await?;
    write(state, uuid, &home.repository, digest, result, log.text()).await?;
    Ok(true)
}

/// Re-matches `digest` and the indexes holding it; returns how many reports it wrote.
async fn rematch_with_parents(
    state: &AppState,
    digest: &str,
    current: i64,
    memo: &mut MatchMemo,
) -> Result<u64, ScanError> {
    let mut written = u64::from(rematch_one(state, digest, current, memo).await?);
    for parent in state.db.indexes_holding(digest, MAX_PARENTS).await? {
        written += u64::from(rematch_one(state, &parent.digest, current, memo).await?);
    }
    Ok(written)
}

fn run_rematch(ctx: JobContext) -> JobFuture {
    Box::pin(rematch(ctx))
}

async fn rematch(ctx: JobContext) -> Result<(), JobError> {
    let job: RematchJob = serde_json::from_value(ctx.parameters.clone())
        .map_err(|e| JobError::Failed(format!("bad re-match parameters: {e}")))?;
    let state = ctx.state.clone();
    refresh(&state).await;
    let Some(current) = state.vulndb.generation() else {
        ctx.log
            .info("no vulnerability database: nothing to re-match")
            .await;
        return Ok(());
    };
    let changed = state
        .vulndb
        .changed_packages(job.from)
        .await
        .map_err(|e| JobError::Failed(format!("vulnerability database: {e:#}")))?;
    let (mut written, mut failed) = (0u64, 0u64);
    let mut memo = MatchMemo::default();
    let mut visit =
        async |digest: &str| match rematch_with_parents(&state, digest, current, &mut memo).await {
            Ok(n) => written += n,
            Err(e) => {
                failed += 1;
                tracing::warn!(digest, error = %e, "re-match failed");
                if failed <= MAX_DETAIL_LINES {
                    ctx.log.warn(format!("{digest}: {e}")).await;
                }
            }
        };
    match changed {
        Some(keys) => {
            ctx.log
                .info(format!(
                    "generation {current}: {} packages changed since generation {}",
                    keys.len(),
                    job.from
                ))
                .await;
            for key in keys {
                let mut after = String::new();
                loop {
                    let page = state
                        .db
                        .artifacts_with_package(&key.ecosystem, &key.package, &after, PAGE)
                        .await?;
                    let Some(last) = page.last() else { break };
                    after = last.clone();
                    for digest in &page {
                        ctx.check_stop()?;
                        visit(digest).await;
                    }
                }
            }
        }
        None => {
            ctx.log
                .info(format!(
                    "generation {current}: the changes since generation {} are not known; re-matching every stored inventory",
                    job.from
                ))
                .await;
            let version = i64::from(ANALYZER_VERSION);
            let mut after = String::new();
            loop {
                let page = state.db.inventoried_after(version, &after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.clone();
                for digest in &page {
                    ctx.check_stop()?;
                    visit(digest).await;
                }
            }
        }
    }
    ctx.log
        .info(format!(
            "done: {written} reports re-matched, {failed} failed"
        ))
        .await;
    if failed > 0 {
        return Err(JobError::Failed(format!(
            "{failed} artifacts could not be re-matched"
        )));
    }
    Ok(())
}
