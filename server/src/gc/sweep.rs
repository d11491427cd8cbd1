//! One garbage collection run: its phases, in bounded batches, with a log line per phase (what, how many
//! bytes, how long) and an audit entry naming its operator.

use std::time::Instant;

use chrono::Utc;
use futures_util::{StreamExt as _, TryStreamExt as _};

use super::{GcParameters, parse};
use crate::app::AppState;
use crate::db::gc::GcBlob;
use crate::db::{DeleteArtifact, timestamp};
use crate::events::audit::{Audit, ClientIp, Operation};
use crate::jobs::{JobContext, JobError};
use crate::oci::Digest;

/// Each phase names at most this many items in the log, then says how many more there were.
const NAMED_PER_PHASE: usize = 200;

/// What a run deleted (or would delete).
#[derive(Debug, Default)]
struct Tally {
    blobs: u64,
    bytes: u64,
    artifacts: u64,
    links: u64,
}

/// A phase's progress, for its log.
struct Phase<'a> {
    ctx: &'a JobContext,
    name: &'static str,
    verb: &'static str,
    started: Instant,
    count: u64,
    bytes: u64,
}

impl<'a> Phase<'a> {
    async fn start(ctx: &'a JobContext, name: &'static str, dry_run: bool) -> Phase<'a> {
        ctx.log.info(format!("phase {name}: started")).await;
        Phase {
            ctx,
            name,
            verb: if dry_run { "would delete" } else { "deleted" },
            started: Instant::now(),
            count: 0,
            bytes: 0,
        }
    }

    /// Records one item; the first [`NAMED_PER_PHASE`] are named in the log.
    async fn item(&mut self, what: &str, name: &str, size: Option<i64>) {
        self.count += 1;
        let size = size.and_then(|s| u64::try_from(s).ok());
        self.bytes += size.unwrap_or(0);
        if self.count as usize <= NAMED_PER_PHASE {
            let size = size.map(|s| format!(" ({s} bytes)")).unwrap_or_default();
            self.ctx
                .log
                .info(format!("{} {what} {name}{size}", self.verb))
                .await;
        }
    }

    async fn end(self, what: &str) {
        if self.count as usize > NAMED_PER_PHASE {
            self.ctx
                .log
                .info(format!(
                    "… and {} more {what}",
                    self.count as usize - NAMED_PER_PHASE
                ))
                .await;
        }
        self.ctx
            .log
            .info(format!(
                "phase {}: {} {} {what}, {} bytes, in {} ms",
                self.name,
                self.verb,
                self.count,
                self.bytes,
                self.started.elapsed().as_millis()
            ))
            .await;
    }
}

/// The job: runs every phase, then logs and audits the totals (also when stopped).
pub(super) async fn collect(ctx: JobContext) -> Result<(), JobError> {
    let parameters = ctx
        .parameters
        .as_object()
        .ok_or_else(|| JobError::Failed("the job's parameters are not an object".to_owned()))
        .and_then(|p| parse(p).map_err(JobError::Failed))?;
    let grace = ctx.state.config.gc.grace();
    let cutoff = timestamp(
        Utc::now() - chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::hours(2)),
    );
    ctx.log
        .info(format!(
            "garbage collection{}: delete_untagged={}, workers={}, grace {} s (blobs linked and files written before {cutoff})",
            if parameters.dry_run { " (dry run: nothing is deleted)" } else { "" },
            parameters.delete_untagged,
            parameters.workers,
            grace.as_secs()
        ))
        .await;
    let started = Instant::now();
    let mut tally = Tally::default();
    let outcome = phases(&ctx, parameters, &cutoff, &mut tally).await;
    let verb = if parameters.dry_run {
        "would free"
    } else {
        "freed"
    };
    let summary = format!(
        "{verb} {} blobs, {} bytes; {} artifacts and {} stale links {}; in {} ms{}",
        tally.blobs,
        tally.bytes,
        tally.artifacts,
        tally.links,
        if parameters.dry_run {
            "would be deleted"
        } else {
            "deleted"
        },
        started.elapsed().as_millis(),
        if outcome.is_err() {
            " (ended early)"
        } else {
            ""
        }
    );
    ctx.log.info(&summary).await;
    ctx.state.metrics.gc_finished(
        match (&outcome, parameters.dry_run) {
            (Err(_), _) => "error",
            (Ok(()), true) => "dry_run",
            (Ok(()), false) => "success",
        },
        if parameters.dry_run { 0 } else { tally.bytes },
    );
    tracing::info!(
        job = ctx.id,
        dry_run = parameters.dry_run,
        "garbage collection: {summary}"
    );
    Audit::new(
        Operation::Delete,
        "garbage_collection",
        format!(
            "garbage collection {}{}: {summary}",
            ctx.id,
            if parameters.dry_run { " (dry run)" } else { "" }
        ),
    )
    .by(&ctx.operator, &ClientIp::default())
    .record(&ctx.state.db)
    .await;
    outcome
}

async fn phases(
    ctx: &JobContext,
    parameters: GcParameters,
    cutoff: &str,
    tally: &mut Tally,
) -> Result<(), JobError> {
    let state = &ctx.state;
    let batch = state.config.gc.batch();
    let dry_run = parameters.dry_run;
    let concurrency = usize::try_from(parameters.workers).unwrap_or(1) * 4;

    // 1. Deletions an interrupted run left half done: their files go, then their rows.
    let mut phase = Phase::start(ctx, "resume", dry_run).await;
    let mut after = String::new();
    loop {
        ctx.check_stop()?;
        let rows = state.db.gc_deleting_blobs(&after, batch).await?;
        let Some(last) = rows.last() else { break };
        after = last.digest.clone();
        let done = if dry_run {
            rows
        } else {
            delete_files(state, rows, concurrency).await
        };
        for blob in &done {
            phase.item("blob", &blob.digest, Some(blob.size)).await;
        }
        count(tally, &done);
    }
    phase.end("blobs left by an interrupted run").await;

    // 2. Untagged artifacts nothing needs, deleted as the REST API deletes them.
    if parameters.delete_untagged {
        let mut phase = Phase::start(ctx, "untagged artifacts", dry_run).await;
        let mut after = 0;
        loop {
            ctx.check_stop()?;
            let found = state.db.gc_untagged_artifacts(after, batch).await?;
            let Some(last) = found.last() else { break };
            after = last.id;
            for artifact in found {
                let name = format!("{}@{}", artifact.repository, artifact.digest);
                if dry_run {
                    phase.item("artifact", &name, Some(artifact.size)).await;
                    tally.artifacts += 1;
                    continue;
                }
                let operator = ctx.operator.clone();
                let deleted = crate::service::artifacts::delete(
                    &state.db,
                    artifact.project_id,
                    &artifact.repository,
                    &artifact.digest,
                    |audit| audit.by(&operator, &ClientIp::default()),
                )
                .await?;
                if deleted == DeleteArtifact::Deleted {
                    phase.item("artifact", &name, Some(artifact.size)).await;
                    tally.artifacts += 1;
                }
            }
        }
        phase.end("untagged artifacts").await;
        if dry_run {
            // As Harbor's dry run: the artifacts are named, but their blobs are still referenced now, so
            // the figures below leave out what deleting them would free; the real run frees that too.
            ctx.log
                .info("dry run: the blobs and links only these untagged artifacts use are not counted below; a real run deletes them as well")
                .await;
        }
    }

    // 3. Links older than the grace that nothing in their repository references.
    let mut phase = Phase::start(ctx, "stale links", dry_run).await;
    let mut after = (0, String::new());
    loop {
        ctx.check_stop()?;
        let found = state
            .db
            .gc_unlink_stale(cutoff, &after, batch, dry_run)
            .await?;
        for link in &found.unlinked {
            phase
                .item(
                    "link of",
                    &format!("{} from repository {}", link.digest, link.repository_id),
                    None,
                )
                .await;
        }
        tally.links += found.unlinked.len() as u64;
        match found.next {
            Some(next) => after = next,
            None => break,
        }
    }
    phase.end("stale links").await;

    // 4. Blobs nothing links or references: claimed, then their files, then their rows.
    let mut phase = Phase::start(ctx, "unreferenced blobs", dry_run).await;
    let mut after = String::new();
    loop {
        ctx.check_stop()?;
        let found = state
            .db
            .gc_unreferenced_blobs(cutoff, &after, batch, dry_run)
            .await?;
        let Some(last) = found.last() else { break };
        after = last.digest.clone();
        let done = if dry_run {
            found
        } else {
            let digests: Vec<String> = found.into_iter().map(|b| b.digest).collect();
            let claimed = state.db.gc_claim_blobs(cutoff, &digests).await?;
            delete_files(state, claimed, concurrency).await
        };
        for blob in &done {
            phase.item("blob", &blob.digest, Some(blob.size)).await;
        }
        count(tally, &done);
    }
    phase.end("unreferenced blobs").await;

    // 5. Files with no row (a crash between a file's move into the store and its row's commit), older
    // than the grace: claimed by recording them as deleting, then deleted like any blob.
    let mut phase = Phase::start(ctx, "orphan files", dry_run).await;
    let cutoff_time = chrono::DateTime::parse_from_rfc3339(cutoff)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    let mut files = std::pin::pin!(
        state
            .blobs
            .list()
            .try_chunks(usize::try_from(batch).unwrap_or(1000))
    );
    while let Some(chunk) = files.next().await {
        ctx.check_stop()?;
        let chunk = chunk
            .map_err(|e| JobError::Failed(format!("listing the blob store failed: {}", e.1)))?;
        let digests: Vec<String> = chunk.iter().map(|f| f.digest.to_string()).collect();
        let recorded = state.db.gc_recorded(&digests).await?;
        let orphans: Vec<GcBlob> = chunk
            .into_iter()
            .filter(|f| f.modified < cutoff_time && !recorded.contains(&f.digest.to_string()))
            .map(|f| GcBlob {
                digest: f.digest.to_string(),
                size: i64::try_from(f.size).unwrap_or(i64::MAX),
            })
            .collect();
        let done = if dry_run {
            orphans
        } else {
            let claimed = state.db.gc_claim_orphans(&orphans).await?;
            delete_files(state, claimed, concurrency).await
        };
        for blob in &done {
            phase
                .item("orphan file", &blob.digest, Some(blob.size))
                .await;
        }
        count(tally, &done);
    }
    phase.end("orphan files").await;

    // 6. Upload sessions idle past the upload TTL, and staged files with no session.
    if !dry_run {
        ctx.check_stop()?;
        let started = Instant::now();
        let purged = crate::jobs::upload_purge::purge_once(state).await?;
        ctx.log
            .info(format!(
                "phase abandoned uploads: removed {purged} idle sessions, staged files and expired links in {} ms",
                started.elapsed().as_millis()
            ))
            .await;
    }
    Ok(())
}

fn count(tally: &mut Tally, blobs: &[GcBlob]) {
    tally.blobs += blobs.len() as u64;
    tally.bytes += blobs
        .iter()
        .map(|b| u64::try_from(b.size).unwrap_or(0))
        .sum::<u64>();
}

/// Deletes the files of claimed (`deleting`) blobs, `concurrency` at a time, then the rows of those whose
/// file is gone; returns those. A file that cannot be deleted keeps its row `deleting` for the next run.
async fn delete_files(state: &AppState, claimed: Vec<GcBlob>, concurrency: usize) -> Vec<GcBlob> {
    let deleted: Vec<GcBlob> = futures_util::stream::iter(claimed)
        .map(|blob| async move {
            let Ok(digest) = blob.digest.parse::<Digest>() else {
                tracing::error!(digest = %blob.digest, "garbage collection: a blob row's digest does not parse; left deleting");
                return None;
            };
            match state.blobs.delete(&digest).await {
                Ok(()) => Some(blob),
                Err(e) => {
                    tracing::error!(digest = %blob.digest, error = %e, "garbage collection: could not delete a blob's file; the next run retries");
                    None
                }
            }
        })
        .buffer_unordered(concurrency.max(1))
        .filter_map(|b| async move { b })
        .collect()
        .await;
    let digests: Vec<String> = deleted.iter().map(|b| b.digest.clone()).collect();
    if let Err(e) = state.db.gc_forget_blobs(&digests).await {
        tracing::error!(error = %e, "garbage collection: could not remove the rows of deleted blobs; the next run finishes them");
        return Vec::new();
    }
    deleted
}
