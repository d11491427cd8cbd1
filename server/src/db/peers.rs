//! Read caches on several nodes: a write on one node tells the others, through PostgreSQL's `LISTEN/NOTIFY`,
//! which of their caches it made stale, and they drop it. The caches' short TTL stays the backstop (a node
//! that lost its listening connection clears every cache when it is back, as it may have missed a message).
//!
//! A burst of writes costs one notification per cache: writers only raise a flag, and one task per node
//! sends what is flagged.

use std::sync::Weak;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::AnyPool;
use tokio::sync::Notify;

/// The channel every node listens on; the payload is a [`CacheName`].
const CHANNEL: &str = "berth_cache";

/// The caches other nodes are told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CacheName {
    Projects,
    TaggedManifests,
    Standings,
    ProjectSettings,
    WebhookPolicies,
    ReplicationTriggers,
}

impl CacheName {
    pub(super) const ALL: [CacheName; 6] = [
        CacheName::Projects,
        CacheName::TaggedManifests,
        CacheName::Standings,
        CacheName::ProjectSettings,
        CacheName::WebhookPolicies,
        CacheName::ReplicationTriggers,
    ];

    fn as_str(self) -> &'static str {
        match self {
            CacheName::Projects => "projects",
            CacheName::TaggedManifests => "tagged_manifests",
            CacheName::Standings => "standings",
            CacheName::ProjectSettings => "project_settings",
            CacheName::WebhookPolicies => "webhook_policies",
            CacheName::ReplicationTriggers => "replication_triggers",
        }
    }

    fn parse(payload: &str) -> Option<CacheName> {
        CacheName::ALL.into_iter().find(|c| c.as_str() == payload)
    }
}

/// Caches this node made stale and has not told the others about yet.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    stale: [AtomicBool; 6],
    wake: Notify,
}

impl Outbox {
    /// Notes that a write made `cache` stale; the sender tells the other nodes soon after.
    pub(super) fn mark(&self, cache: CacheName) {
        self.stale[cache as usize].store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

/// Sends the flagged caches' names until the outbox is dropped or the pool closed.
pub(super) async fn send(outbox: Weak<Outbox>, pool: AnyPool) {
    loop {
        let Some(pending) = outbox.upgrade() else {
            return;
        };
        let stale: Vec<CacheName> = CacheName::ALL
            .into_iter()
            .filter(|c| pending.stale[*c as usize].swap(false, Ordering::AcqRel))
            .collect();
        for cache in stale {
            if pool.is_closed() {
                return;
            }
            if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(cache.as_str())
                .execute(&pool)
                .await
            {
                tracing::warn!(cache = cache.as_str(), error = %e,
                    "could not tell the other nodes about a stale cache; they catch up when its entries expire");
            }
        }
        // Wait for the next mark (a mark made meanwhile left a permit), or look again now and then: the
        // outbox goes with the database handle.
        let _ = tokio::time::timeout(Duration::from_secs(5), pending.wake.notified()).await;
        drop(pending);
        if pool.is_closed() {
            return;
        }
    }
}

/// Listens for other nodes' messages and calls `clear` with each named cache (every cache after a
/// reconnection), until `alive` says the database handle is gone.
pub(super) async fn listen(
    url: String,
    alive: impl Fn() -> bool + Send + 'static,
    clear: impl Fn(CacheName) + Send + 'static,
) {
    while alive() {
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %e, "cache invalidation: LISTEN failed; retrying");
                } else {
                    CacheName::ALL.into_iter().for_each(&clear);
                    loop {
                        match tokio::time::timeout(Duration::from_secs(5), listener.try_recv())
                            .await
                        {
                            Ok(Ok(Some(message))) => {
                                if let Some(cache) = CacheName::parse(message.payload()) {
                                    clear(cache);
                                }
                            }
                            Ok(Ok(None)) => {
                                // The connection dropped and was re-made: messages may have been lost.
                                CacheName::ALL.into_iter().for_each(&clear);
                            }
                            Ok(Err(e)) => {
                                tracing::warn!(error = %e, "cache invalidation: the listening connection failed; reconnecting");
                                break;
                            }
                            Err(_) => {}
                        }
                        if !alive() {
                            return;
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cache invalidation: cannot connect to listen; caches rely on their TTL until it can");
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
