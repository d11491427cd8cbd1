//! Sign-in throttling: repeated password failures first slow an account (or a client address) down, then lock
//! it for a while. Every password check goes through [`super::password::PasswordChecker::check_from`], which
//! consults this before verifying and reports the outcome after, so `/v2`, `/service/token`, the REST API and
//! `/c/login` share one count.
//!
//! Counts live in memory only (a restart forgets them) and are keyed by the username given, whether or not the
//! account exists, and by the client address where the caller knows it (with thresholds [`ADDRESS_FACTOR`]
//! times higher). A success resets both counts.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use serde::{Deserialize, Serialize};

/// Consecutive failures after which each further attempt waits [`DEFAULT_DELAY`] before being checked.
pub const DEFAULT_DELAY_AFTER: u32 = 5;
/// How long an attempt waits once [`DEFAULT_DELAY_AFTER`] failures are on record.
pub const DEFAULT_DELAY: Duration = Duration::from_secs(1);
/// Consecutive failures after which the account (or address) is locked for [`DEFAULT_LOCK_FOR`].
pub const DEFAULT_LOCK_AFTER: u32 = 10;
/// How long a lock lasts; while locked even the right password is refused.
pub const DEFAULT_LOCK_FOR: Duration = Duration::from_secs(5 * 60);
/// A client address gets this many times the per-user thresholds: behind a NAT or a reverse proxy many users
/// share one address, and one person's typos (or one attacker) should not lock all of them out as fast.
const ADDRESS_FACTOR: u32 = 5;
/// A failure count is forgotten this long after its last failure (and after any lock has ended).
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Entries kept at most. Past this, stale entries are swept, then unlocked ones; locks are never dropped early,
/// and if only locks remain, new names are not tracked until some expire.
const MAX_ENTRIES: usize = 10_000;

/// The throttle's settings (`[signin_throttle]` in the configuration file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThrottleConfig {
    /// Failures after which attempts are slowed down.
    pub delay_after: u32,
    /// The slow-down per attempt, in milliseconds.
    pub delay_ms: u64,
    /// Failures after which the account or address is locked.
    pub lock_after: u32,
    /// Length of a lock, in seconds.
    pub lock_secs: u64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            delay_after: DEFAULT_DELAY_AFTER,
            delay_ms: DEFAULT_DELAY.as_millis() as u64,
            lock_after: DEFAULT_LOCK_AFTER,
            lock_secs: DEFAULT_LOCK_FOR.as_secs(),
        }
    }
}

/// What a sign-in attempt must do before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Check the password now.
    Open,
    /// Wait this long, then check the password.
    Delay(Duration),
    /// Refuse without checking: the account or address is locked.
    Locked,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

impl Entry {
    fn locked(&self, now: Instant) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    fn stale(&self, now: Instant) -> bool {
        let since = self
            .locked_until
            .unwrap_or(self.last_failure)
            .max(self.last_failure);
        now.saturating_duration_since(since) >= FORGET_AFTER
    }
}

/// Consecutive sign-in failures per username and per client address.
#[derive(Debug)]
pub struct SignInThrottle {
    config: ThrottleConfig,
    entries: DashMap<Key, Entry>,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        SignInThrottle::new(ThrottleConfig::default())
    }
}

impl SignInThrottle {
    pub fn new(config: ThrottleConfig) -> SignInThrottle {
        SignInThrottle {
            config,
            entries: DashMap::new(),
        }
    }

    /// Whether an attempt for `username` from `address` may proceed, and after what wait.
    pub fn gate(&self, username: &str, address: Option<IpAddr>) -> Gate {
        let now = Instant::now();
        let mut delay = false;
        for key in keys(username, address) {
            if let Some(entry) = self.entries.get(&key) {
                if entry.locked(now) {
                    return Gate::Locked;
                }
                let (delay_after, _) = self.thresholds(&key);
                delay |= !entry.stale(now) && entry.failures >= delay_after;
            }
        }
        if delay && self.config.delay_ms > 0 {
            Gate::Delay(Duration::from_millis(self.config.delay_ms))
        } else {
            Gate::Open
        }
    }

    /// `(delay_after, lock_after)` for `key`.
    fn thresholds(&self, key: &Key) -> (u32, u32) {
        let factor = match key {
            Key::User(_) => 1,
            Key::Address(_) => ADDRESS_FACTOR,
        };
        (
            self.config.delay_after.saturating_mul(factor),
            self.config.lock_after.saturating_mul(factor),
        )
    }

    /// Records a wrong password (or unknown account) for `username` from `address`; locks when the count is reached.
    pub fn failed(&self, username: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        for key in keys(username, address) {
            if !self.entries.contains_key(&key) && !self.make_room(now) {
                continue;
            }
            let mut entry = self.entries.entry(key.clone()).or_insert(Entry {
                failures: 0,
                last_failure: now,
                locked_until: None,
            });
            if entry.stale(now) || entry.locked_until.is_some_and(|until| now >= until) {
                // A lock that ran out starts a fresh count.
                *entry = Entry {
                    failures: 0,
                    last_failure: now,
                    locked_until: None,
                };
            }
            entry.failures = entry.failures.saturating_add(1);
            entry.last_failure = now;
            if entry.failures >= self.thresholds(&key).1 && !entry.locked(now) {
                entry.locked_until = Some(now + Duration::from_secs(self.config.lock_secs));
                let failures = entry.failures;
                drop(entry);
                match &key {
                    Key::User(name) => tracing::warn!(
                        username = %name,
                        failures,
                        lock_secs = self.config.lock_secs,
                        "sign-in locked for user {name} after {failures} failures"
                    ),
                    Key::Address(ip) => tracing::warn!(
                        address = %ip,
                        failures,
                        lock_secs = self.config.lock_secs,
                        "sign-in locked for address {ip} after {failures} failures"
                    ),
                }
            }
        }
    }

    /// Records a successful sign-in: both counts start over.
    pub fn succeeded(&self, username: &str, address: Option<IpAddr>) {
        for key in keys(username, address) {
            self.entries.remove(&key);
        }
    }

    /// Makes room for one more entry; false if every entry is a live lock.
    fn make_room(&self, now: Instant) -> bool {
        if self.entries.len() < MAX_ENTRIES {
            return true;
        }
        self.entries.retain(|_, entry| !entry.stale(now));
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.retain(|_, entry| entry.locked(now));
        }
        self.entries.len() < MAX_ENTRIES
    }
}

fn keys(username: &str, address: Option<IpAddr>) -> impl Iterator<Item = Key> {
    std::iter::once(Key::User(username.to_owned())).chain(address.map(Key::Address))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> SignInThrottle {
        SignInThrottle::new(ThrottleConfig {
            delay_after: 2,
            delay_ms: 5,
            lock_after: 4,
            lock_secs: 60,
        })
    }

    #[test]
    fn failures_delay_then_lock_and_success_resets() {
        let t = throttle();
        assert_eq!(t.gate("alice", None), Gate::Open);
        t.failed("alice", None);
        t.failed("alice", None);
        assert_eq!(t.gate("alice", None), Gate::Delay(Duration::from_millis(5)));
        t.succeeded("alice", None);
        assert_eq!(t.gate("alice", None), Gate::Open);
        for _ in 0..4 {
            t.failed("alice", None);
        }
        assert_eq!(t.gate("alice", None), Gate::Locked);
        assert_eq!(t.gate("bob", None), Gate::Open);
    }

    #[test]
    fn an_address_is_locked_across_usernames() {
        let t = throttle();
        let ip: IpAddr = [192, 0, 2, 7].into();
        for n in 0..4 * ADDRESS_FACTOR {
            t.failed(&format!("user{n}"), Some(ip));
        }
        assert_eq!(t.gate("e", Some(ip)), Gate::Locked);
        assert_eq!(t.gate("e", None), Gate::Open);
    }
}

/// The address of the connection a request came on, if the server was started with connection info.
///
/// Deliberately not `X-Forwarded-For`: a client could set that to dodge its own count or to lock someone else's.
#[derive(Debug, Clone, Copy)]
pub struct PeerIp(pub Option<IpAddr>);

impl PeerIp {
    pub fn of(extensions: &axum::http::Extensions) -> PeerIp {
        PeerIp(
            extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip()),
        )
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(PeerIp::of(&parts.extensions))
    }
}
