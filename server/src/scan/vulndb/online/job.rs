//! The periodic online refresh: a `VULNDB_UPDATE` job, exclusive across nodes (one runs at a time, one waits
//! at most), enqueued by every node's [`watch`] when the last one is older than `vulndb_refresh_interval` (an
//! hour after a failed one, when that is sooner). The jobs table is the only shared memory: a node that starts
//! finds the last run there, so a restart neither skips nor repeats a refresh, and however many nodes look, one
//! job waits at a time. The refresh itself takes the import lock, so `berth vulndb update` or an import on the
//! command line takes turns with it.

use std::time::Duration;

use super::{Settings, update};
use crate::app::AppState;
use crate::jobs::{EnqueueError, JobContext, JobError, JobFuture, Kind, SCHEDULE};

/// The job kind.
pub const NAME: &str = "VULNDB_UPDATE";

/// The operator of the refreshes [`watch`] enqueues.
pub const OPERATOR: &str = "vulndb";

/// One at a time across nodes, one waiting at most; a failed refresh is tried once more (it changes nothing
/// when it fails).
pub const KIND: Kind = Kind {
    name: NAME,
    idempotent: true,
    max_attempts: 2,
    max_pending: 1,
    handler: run,
};

/// How often each node looks whether a refresh is due.
pub const CHECK_EVERY: Duration = Duration::from_secs(60);

/// After a failed refresh the next one comes this long after it, or after the interval when that is shorter.
pub const RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// Enqueues a refresh when one is due: none ever ran, or the last ended more than the interval ago (an hour
/// after a failure); returns its job id. Nothing when one waits or runs.
pub async fn check_due(state: &AppState, settings: &Settings) -> Result<Option<i64>, EnqueueError> {
    if let Some(job) = state.db.latest_job(NAME, None).await? {
        if matches!(job.state.as_str(), "pending" | "running") {
            return Ok(None);
        }
        let wait = if job.state == "success" {
            settings.interval
        } else {
            settings.interval.min(RETRY_AFTER)
        };
        let ended = job.finished_at.as_deref().unwrap_or(&job.updated_at);
        let due = chrono::DateTime::parse_from_rfc3339(ended)
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok()
            .and_then(|t| chrono::Duration::from_std(wait).ok().map(|w| t + w))
            .is_none_or(|due| due <= chrono::Utc::now());
        if !due {
            return Ok(None);
        }
    }
    enqueue(state, SCHEDULE, OPERATOR).await
}

/// Enqueues a refresh now; `None` when one is already waiting.
pub async fn enqueue(
    state: &AppState,
    triggered_by: &str,
    operator: &str,
) -> Result<Option<i64>, EnqueueError> {
    match state
        .jobs
        .enqueue(
            &state.db,
            NAME,
            &serde_json::Value::Object(serde_json::Map::new()),
            triggered_by,
            operator,
        )
        .await
    {
        Ok(id) => Ok(Some(id)),
        // Another node queued it a moment ago.
        Err(EnqueueError::QueueFull(..)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Looks every [`CHECK_EVERY`] whether a refresh is due, until the task is aborted (the first look at once).
pub async fn watch(state: AppState, settings: Settings) {
    tracing::info!(
        url = %super::fetch::shown(&settings.url),
        ecosystems = %settings.ecosystems.join(", "),
        interval_secs = settings.interval.as_secs(),
        "online refresh of the vulnerability database is on"
    );
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = check_due(&state, &settings).await {
            tracing::warn!(error = %e, "could not check whether a vulnerability database refresh is due; trying again in a minute");
        }
    }
}

fn run(ctx: JobContext) -> JobFuture {
    Box::pin(refresh(ctx))
}

async fn refresh(ctx: JobContext) -> Result<(), JobError> {
    let state = ctx.state.clone();
    let settings = match Settings::from_config(&state.config.scan) {
        Ok(Some(settings)) => settings,
        Ok(None) => {
            ctx.log
                .info("the online refresh is off ([scan] vulndb_url is not set): nothing to do")
                .await;
            return Ok(());
        }
        Err(e) => return Err(JobError::Failed(format!("{e:#}"))),
    };
    ctx.check_stop()?;
    ctx.log
        .info(format!(
            "refreshing {} from {}",
            settings.ecosystems.join(", "),
            super::fetch::shown(&settings.url)
        ))
        .await;
    let stop = || ctx.should_stop();
    let report = match update(&state.config.data_dir, &settings, false, &stop).await {
        Ok(report) => report,
        Err(_) if ctx.should_stop() => return Err(JobError::Stopped),
        Err(e) => return Err(JobError::Failed(format!("{e:#}"))),
    };
    for check in &report.check.ecosystems {
        let line = format!("{}: {}", check.ecosystem, check.result);
        if check.ok {
            ctx.log.info(line).await;
        } else {
            ctx.log.warn(line).await;
        }
    }
    match &report.built {
        Some(summary) => {
            ctx.log.info(summary.to_string()).await;
            // This node uses it at once, and the re-match of the affected reports is queued now rather than
            // at the next minute's look.
            if let Err(e) = state.vulndb.refresh().await {
                tracing::warn!(error = %format!("{e:#}"), "could not open the new vulnerability database generation");
            }
            if let Err(e) = crate::scan::scan_all::check_generation(&state).await {
                tracing::warn!(error = %e, "could not queue the re-match after the refresh");
            }
        }
        None => ctx.log.info("nothing changed; no new generation").await,
    }
    let failed: Vec<&str> = report.failures().map(|c| c.ecosystem.as_str()).collect();
    if !failed.is_empty() {
        return Err(JobError::Failed(format!(
            "the refresh of {} failed (see above); the other ecosystems were applied",
            failed.join(", ")
        )));
    }
    Ok(())
}
