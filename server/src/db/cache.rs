//! Read-through caches for the pull path: projects by name and manifests by tag.
//!
//! Rule: every write that changes a cached row invalidates it in the same `Db` method that writes it.
//! A generation counter keeps a read that raced with a write from leaving a stale entry behind: a reader
//! inserts, then re-checks the generation and removes its entry if a write happened meanwhile. Entries
//! also expire after a short TTL, which bounds staleness should another process write the database; on
//! PostgreSQL the other nodes are also told at once ([`super::peers`]).

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use std::sync::Arc;

use dashmap::DashMap;

use super::peers::{CacheName, Outbox};

pub(super) struct ReadCache<K, V> {
    entries: DashMap<K, (V, Instant)>,
    generation: AtomicU64,
    ttl: Duration,
    max_entries: usize,
    /// On several nodes: where invalidations are posted for the other nodes (see [`super::peers`]).
    announce: Option<(Arc<Outbox>, CacheName)>,
}

impl<K: Eq + Hash + Clone, V: Clone> ReadCache<K, V> {
    pub(super) fn new(ttl: Duration, max_entries: usize) -> Self {
        ReadCache {
            entries: DashMap::new(),
            generation: AtomicU64::new(0),
            ttl,
            max_entries,
            announce: None,
        }
    }

    /// This cache, telling the other nodes (through `outbox`, when there is one) whenever it is invalidated.
    pub(super) fn announced(mut self, outbox: Option<&Arc<Outbox>>, name: CacheName) -> Self {
        self.announce = outbox.map(|o| (o.clone(), name));
        self
    }

    fn tell_peers(&self) {
        if let Some((outbox, name)) = &self.announce {
            outbox.mark(*name);
        }
    }

    /// Forgets everything, as another node asked: a write there made some entry stale.
    pub(super) fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.clear();
    }

    /// A fresh cached value.
    pub(super) fn get(&self, key: &K) -> Option<V> {
        let entry = self.entries.get(key)?;
        (entry.1.elapsed() < self.ttl).then(|| entry.0.clone())
    }

    /// The generation to pass to [`ReadCache::insert`]; read it before querying the database.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches a value read from the database at `generation`, unless a write has happened since.
    pub(super) fn insert(&self, key: K, value: V, generation: u64) {
        if self.generation() != generation {
            return;
        }
        if self.entries.len() >= self.max_entries {
            self.entries.clear();
        }
        self.entries.insert(key.clone(), (value, Instant::now()));
        if self.generation() != generation {
            self.entries.remove(&key);
        }
    }

    /// Forgets `key`. Call after the write that changed it has committed.
    pub(super) fn invalidate(&self, key: &K) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.remove(key);
        self.tell_peers();
    }

    /// Forgets every key matching `stale`.
    pub(super) fn invalidate_where(&self, stale: impl Fn(&K) -> bool) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.retain(|k, _| !stale(k));
        self.tell_peers();
    }
}

impl<K: Eq + Hash, V> std::fmt::Debug for ReadCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_during_a_read_wins() {
        let cache: ReadCache<&str, u32> = ReadCache::new(Duration::from_secs(60), 10);
        let generation = cache.generation();
        cache.invalidate(&"k"); // a write commits while the read is in flight
        cache.insert("k", 1, generation); // the read's stale value
        assert_eq!(cache.get(&"k"), None);
        let generation = cache.generation();
        cache.insert("k", 2, generation);
        assert_eq!(cache.get(&"k"), Some(2));
        cache.invalidate_where(|k| k.starts_with('k'));
        assert_eq!(cache.get(&"k"), None);
    }

    #[test]
    fn entries_expire_and_the_size_is_bounded() {
        let cache: ReadCache<u32, u32> = ReadCache::new(Duration::from_millis(0), 2);
        cache.insert(1, 1, cache.generation());
        assert_eq!(cache.get(&1), None, "expired");
        let cache: ReadCache<u32, u32> = ReadCache::new(Duration::from_secs(60), 2);
        for k in 0..5 {
            cache.insert(k, k, cache.generation());
        }
        assert!(cache.entries.len() <= 2);
    }
}
