//! Purges upload sessions idle for longer than the configured TTL (with an S3-native session's parts in the
//! bucket), staged files with no session, and blob links older than the TTL that no manifest references
//! (uploads whose manifest never came).

use std::collections::HashSet;
use std::time::Duration;

use crate::app::AppState;

/// One purge pass; returns how many sessions, orphan files and unreferenced links were removed.
pub async fn purge_once(state: &AppState) -> Result<usize, sqlx::Error> {
    // List files before sessions: a session row is always written before its file, so every file listed
    // here that belongs to a live upload has its row visible in the query below.
    let staged = state.uploads.staged_ids().unwrap_or_default();
    let ttl =
        chrono::Duration::from_std(state.config.upload_ttl()).unwrap_or(chrono::Duration::days(1));
    let idle = state.db.idle_uploads(chrono::Utc::now() - ttl).await?;
    let mut removed = 0;
    for id in &idle {
        // A session some request is appending to right now (its lease runs) is left for the next pass; an
        // S3-native one takes its parts and tail in the bucket with it.
        if !crate::registry::s3_uploads::end(state, id, Some(chrono::Utc::now())).await? {
            continue;
        }
        if let Err(e) = state.uploads.discard(id).await {
            tracing::warn!(upload = %id, error = %e, "could not remove staged file of idle upload");
        }
        removed += 1;
    }
    let live: HashSet<String> = state.db.upload_ids().await?.into_iter().collect();
    for id in staged.iter().filter(|id| !live.contains(*id)) {
        if state.uploads.discard(id).await.is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(removed, "purged idle uploads");
    }
    let unlinked = state
        .db
        .purge_unreferenced_links(chrono::Utc::now() - ttl)
        .await?;
    if unlinked > 0 {
        tracing::info!(
            unlinked,
            "unlinked blobs uploaded before the upload TTL that no manifest references"
        );
    }
    Ok(removed + unlinked)
}

/// Runs [`purge_once`] now and then periodically, forever.
pub async fn run(state: AppState) {
    let period =
        (state.config.upload_ttl() / 4).clamp(Duration::from_secs(1), Duration::from_secs(600));
    let mut interval = tokio::time::interval(period);
    loop {
        interval.tick().await;
        if let Err(e) = purge_once(&state).await {
            tracing::error!(error = %e, "upload purge failed; will retry");
        }
    }
}
