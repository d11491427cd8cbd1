//! How many password checks may run, and wait, at once. A check that must hash (argon2id, about 19 MiB and
//! tens of milliseconds of CPU each) or ask the directory is admitted here first:
//! - at most `pending_checks` such sign-ins are in progress server-wide, `pending_per_name` for one
//!   (normalised) name and `pending_per_address` from one address; one more is refused at once with
//!   [`Busy`], which every surface answers with 429 and `Retry-After`;
//! - of those admitted, at most `concurrent_checks` hash at a time ([`Pending::hashing`]); the others
//!   wait their turn.
//!
//! So anonymous callers can neither pile up argon2's memory nor the blocking pool's threads: the memory
//! bound is `concurrent_checks` × 19 MiB whatever arrives. Checks answered from memory (a recently verified
//! password) never come here.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::throttle::{ThrottleConfig, address_key, normalize_name};

/// What a refused sign-in is told to wait before trying again.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Too many sign-ins are being checked: try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many sign-in attempts are being checked; try again in {} s", .retry_after.as_secs().max(1))]
pub struct Busy {
    pub retry_after: Duration,
}

/// The admission limits of one server.
#[derive(Debug)]
pub struct Admission {
    hashing: Semaphore,
    pending: AtomicU32,
    max_pending: u32,
    per_name: DashMap<String, u32>,
    max_per_name: u32,
    per_address: DashMap<IpAddr, u32>,
    max_per_address: u32,
}

/// An admitted sign-in; its places are given back when it is dropped.
#[derive(Debug)]
pub struct Pending<'a> {
    admission: &'a Admission,
    name: String,
    address: Option<IpAddr>,
}

impl Admission {
    pub fn new(config: &ThrottleConfig) -> Admission {
        Admission {
            hashing: Semaphore::new(config.concurrent_checks.max(1) as usize),
            pending: AtomicU32::new(0),
            max_pending: config.pending_checks.max(1),
            per_name: DashMap::new(),
            max_per_name: config.pending_per_name.max(1),
            per_address: DashMap::new(),
            max_per_address: config.pending_per_address.max(1),
        }
    }

    /// Admits a sign-in for `username` from `address`, or refuses it at once.
    pub fn admit(&self, username: &str, address: Option<IpAddr>) -> Result<Pending<'_>, Busy> {
        let busy = Busy {
            retry_after: RETRY_AFTER,
        };
        let total = self.pending.fetch_add(1, Ordering::AcqRel);
        // From here on, dropping `pending` gives back what was taken, whatever the early return.
        let mut pending = Pending {
            admission: self,
            name: String::new(),
            address: None,
        };
        if total >= self.max_pending {
            tracing::warn!(
                pending = total,
                "sign-in refused: {total} password checks already pending server-wide"
            );
            return Err(busy);
        }
        let name = normalize_name(username);
        if !take(&self.per_name, name.clone(), self.max_per_name) {
            tracing::info!(
                username = %crate::events::audit::clip(&name),
                "sign-in refused: {} checks for this name already pending",
                self.max_per_name
            );
            return Err(busy);
        }
        pending.name = name;
        if let Some(address) = address.map(address_key) {
            if !take(&self.per_address, address, self.max_per_address) {
                tracing::info!(
                    %address,
                    "sign-in refused: {} checks from this address already pending",
                    self.max_per_address
                );
                return Err(busy);
            }
            pending.address = Some(address);
        }
        Ok(pending)
    }
}

impl Pending<'_> {
    /// Waits for a turn to hash; the turn ends when the permit is dropped.
    pub async fn hashing(&self) -> Option<SemaphorePermit<'_>> {
        self.admission.hashing.acquire().await.ok()
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.name.is_empty() {
            give_back(&self.admission.per_name, &self.name);
        }
        if let Some(address) = self.address {
            give_back(&self.admission.per_address, &address);
        }
        self.admission.pending.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Takes one place under `key` if fewer than `max` are taken.
fn take<K: Eq + std::hash::Hash>(counts: &DashMap<K, u32>, key: K, max: u32) -> bool {
    let mut count = counts.entry(key).or_insert(0);
    if *count >= max {
        return false;
    }
    *count += 1;
    true
}

/// Gives one place under `key` back, forgetting the key at zero.
fn give_back<K: Eq + std::hash::Hash>(counts: &DashMap<K, u32>, key: &K) {
    if let Some(mut count) = counts.get_mut(key) {
        *count = count.saturating_sub(1);
    }
    counts.remove_if(key, |_, count| *count == 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission() -> Admission {
        Admission::new(&ThrottleConfig {
            pending_checks: 5,
            pending_per_name: 2,
            pending_per_address: 3,
            ..ThrottleConfig::default()
        })
    }

    #[test]
    fn limits_per_name_per_address_and_overall() {
        let a = admission();
        let home = Some(IpAddr::from([192, 0, 2, 1]));
        let first = a.admit("alice", home);
        let second = a.admit(" ALICE", home);
        assert!(first.is_ok() && second.is_ok());
        assert!(a.admit("alice", None).is_err(), "a third for alice");
        let bob = a.admit("bob", home);
        assert!(bob.is_ok());
        assert!(a.admit("carol", home).is_err(), "a fourth from home");
        let elsewhere: Vec<_> = (0..3).map(|n| a.admit(&format!("u{n}"), None)).collect();
        assert_eq!(
            elsewhere.iter().filter(|p| p.is_ok()).count(),
            2,
            "five in all"
        );
        drop((first, second, bob, elsewhere));
        assert_eq!(a.pending.load(Ordering::Acquire), 0);
        assert!(a.per_name.is_empty() && a.per_address.is_empty());
        assert!(a.admit("alice", home).is_ok());
    }
}
