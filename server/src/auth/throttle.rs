//! Sign-in throttling: repeated password failures slow attempts down, then lock them out for a while. Every
//! password check goes through [`super::password::PasswordChecker::check_from`], which reserves an attempt
//! here before checking anything and settles it after, so `/v2`, `/service/token`, the REST API and
//! `/c/login` share one count.
//!
//! Failures are counted under three keys, with names [normalised](normalize_name) (case and spaces do not
//! make a new name):
//! - **name and address**: slowed down after `delay_after` failures, locked for `lock_secs` after
//!   `lock_after`. This is the only lock a name can get, so a guesser locks out their own address, never the
//!   account (`admin`, a CI robot) for everyone else. Robots are never locked, only slowed down.
//! - **address** (IPv6 by its /64): the same, with thresholds [`ADDRESS_FACTOR`] times higher, since many
//!   users may share one address behind a NAT. Robot sign-ins are neither counted nor refused here: their
//!   secrets are long random strings nobody guesses, and one CI job with a stale secret must not lock out a
//!   whole build farm's address.
//! - **name**, whatever the address: never locked, but slowed down more and more (`delay_ms` more per
//!   `delay_after` failures, up to `max_delay_ms`), which bounds a guesser spread over many addresses.
//!
//! A reservation counts as a failure from the moment it is made, so parallel attempts cannot all slip in
//! before the first failure is recorded: with `lock_after` at 10, at most 10 passwords are ever checked for
//! one name from one address per lock period. A success clears the name-and-address and address counts (the
//! name-wide count only loses its own attempt, so a distributed guesser is not reset by the real user).
//!
//! Counts live in memory (a restart forgets them). With several nodes (PostgreSQL) each attempt is also
//! reserved under the same keys in the database ([`SignInThrottle::reserve_shared`]), with the same thresholds,
//! so attempts spread over the nodes are counted together; the memory count still bounds each node alone.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use serde::{Deserialize, Serialize};

use crate::db::Db;
use crate::events::audit::clip;

/// Consecutive failures after which each further attempt waits [`DEFAULT_DELAY`] before being checked.
pub const DEFAULT_DELAY_AFTER: u32 = 5;
/// How long an attempt waits once [`DEFAULT_DELAY_AFTER`] failures are on record.
pub const DEFAULT_DELAY: Duration = Duration::from_secs(1);
/// The longest wait the name-wide count imposes.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);
/// Consecutive failures after which a name (from one address) or an address is locked for [`DEFAULT_LOCK_FOR`].
pub const DEFAULT_LOCK_AFTER: u32 = 10;
/// How long a lock lasts; while locked even the right password is refused.
pub const DEFAULT_LOCK_FOR: Duration = Duration::from_secs(5 * 60);
/// A client address gets this many times the per-name thresholds: behind a NAT or a reverse proxy many users
/// share one address, and one person's typos (or one attacker) should not lock all of them out as fast.
pub const ADDRESS_FACTOR: u32 = 5;
/// A failure count is forgotten this long after its last failure (and after any lock has ended).
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Entries kept at most. Past this, stale entries are swept, then unlocked ones; locks are never dropped early,
/// and if only locks remain, new keys are not tracked until some expire.
const MAX_ENTRIES: usize = 50_000;

/// The throttle's settings (`[signin_throttle]` in the configuration file), with the limits on how many
/// password checks may run or wait at once ([`super::admission`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThrottleConfig {
    /// Failures after which attempts are slowed down.
    pub delay_after: u32,
    /// The slow-down per attempt, in milliseconds.
    pub delay_ms: u64,
    /// The longest slow-down the name-wide count imposes, in milliseconds.
    pub max_delay_ms: u64,
    /// Failures after which a name from one address (or an address) is locked.
    pub lock_after: u32,
    /// Length of a lock, in seconds.
    pub lock_secs: u64,
    /// Password hashes (argon2, about 19 MiB each) checked at once, server-wide.
    pub concurrent_checks: u32,
    /// Sign-ins waiting for or running a password check, server-wide; beyond it the answer is 429.
    pub pending_checks: u32,
    /// Such sign-ins for one name; beyond it the answer is 429.
    pub pending_per_name: u32,
    /// Such sign-ins from one address; beyond it the answer is 429.
    pub pending_per_address: u32,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            delay_after: DEFAULT_DELAY_AFTER,
            delay_ms: DEFAULT_DELAY.as_millis() as u64,
            max_delay_ms: DEFAULT_MAX_DELAY.as_millis() as u64,
            lock_after: DEFAULT_LOCK_AFTER,
            lock_secs: DEFAULT_LOCK_FOR.as_secs(),
            concurrent_checks: 4,
            pending_checks: 64,
            pending_per_name: 4,
            pending_per_address: 16,
        }
    }
}

/// A name as the throttle counts it: lower case, with runs of white space made one space and none at either
/// end. Directories match uids that way (LDAP's `caseIgnoreMatch`), so ` Alice` and `ALICE` are one name.
pub fn normalize_name(username: &str) -> String {
    let mut name = String::with_capacity(username.len());
    for word in username.split_whitespace() {
        if !name.is_empty() {
            name.push(' ');
        }
        name.extend(word.chars().flat_map(char::to_lowercase));
    }
    name
}

/// The address as the throttle and the admission limits count it: an IPv6 client by its /64 (one host
/// usually holds a whole /64), an IPv4 one as it is.
pub fn address_key(address: IpAddr) -> IpAddr {
    match crate::config::canonical_address(address) {
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(segments.into())
        }
        v4 => v4,
    }
}

/// What a sign-in attempt may do.
#[derive(Debug)]
pub enum Gate<'a> {
    /// Check the password (after [`Reservation::delay`]); settle the reservation with the outcome.
    Open(Reservation<'a>),
    /// Refuse without checking: the name (from this address) or the address is locked.
    Locked,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// A name tried from one address (or from an unknown one).
    NameAt(String, Option<IpAddr>),
    /// A name, from anywhere.
    Name(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

impl Entry {
    fn fresh(now: Instant) -> Entry {
        Entry {
            failures: 0,
            last_failure: now,
            locked_until: None,
        }
    }

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

/// Failures per name and address, per name and per address.
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

/// An attempt on record, counted as a failure until [`Reservation::succeeded`] (or taken back by
/// [`Reservation::cancel`] when the password could not be checked at all). Dropping it leaves the failure.
#[derive(Debug)]
#[must_use = "a reservation is settled by succeeded(), failed() or cancel()"]
pub struct Reservation<'a> {
    throttle: &'a SignInThrottle,
    /// Each key counted, and whether this attempt started its lock.
    keys: Vec<(Key, bool)>,
    delay: Duration,
}

impl Reservation<'_> {
    /// How long the attempt must wait before its password is checked.
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// The password was right: the name-and-address and address counts start over.
    pub fn succeeded(mut self) {
        for (key, _) in std::mem::take(&mut self.keys) {
            match key {
                Key::Name(_) => self.throttle.take_back(&key, false),
                Key::NameAt(..) | Key::Address(_) => {
                    self.throttle.entries.remove(&key);
                }
            }
        }
    }

    /// The password was wrong (or the account does not exist): the failure stays on record.
    pub fn failed(self) {}

    /// The password could not be checked (the directory failed, or the server was too busy): as if the attempt
    /// had not been made.
    pub fn cancel(mut self) {
        for (key, locked_it) in std::mem::take(&mut self.keys) {
            self.throttle.take_back(&key, locked_it);
        }
    }
}

impl SignInThrottle {
    pub fn new(config: ThrottleConfig) -> SignInThrottle {
        SignInThrottle {
            config,
            entries: DashMap::new(),
        }
    }

    /// The keys an attempt of `username` from `address` is counted under.
    fn keys(username: &str, address: Option<IpAddr>, robot: bool) -> Vec<Key> {
        let name = normalize_name(username);
        let address = address.map(address_key);
        let mut keys = vec![Key::NameAt(name.clone(), address), Key::Name(name)];
        if !robot {
            keys.extend(address.map(Key::Address));
        }
        keys
    }

    /// Reserves an attempt for `username` from `address`: refused while a lock holds, else counted at once (see
    /// the module comment). `robot`: the name is a robot's, which is slowed down but never locked.
    pub fn reserve(&self, username: &str, address: Option<IpAddr>, robot: bool) -> Gate<'_> {
        let now = Instant::now();
        let keys = Self::keys(username, address, robot);
        let mut reservation = Reservation {
            throttle: self,
            keys: Vec::with_capacity(keys.len()),
            delay: Duration::ZERO,
        };
        for key in keys {
            if !self.entries.contains_key(&key) && !self.make_room(now) {
                continue;
            }
            let mut entry = self.entries.entry(key.clone()).or_insert(Entry::fresh(now));
            if entry.locked(now) {
                drop(entry);
                reservation.cancel();
                return Gate::Locked;
            }
            if entry.stale(now) || entry.locked_until.is_some() {
                // A lock that ran out (or a count long forgotten) starts a fresh count.
                *entry = Entry::fresh(now);
            }
            let prior = entry.failures;
            entry.failures = prior.saturating_add(1);
            entry.last_failure = now;
            reservation.delay = reservation.delay.max(self.delay_for(&key, prior));
            let locks = self
                .lock_threshold(&key, robot)
                .is_some_and(|at| entry.failures >= at);
            if locks {
                entry.locked_until = Some(now + Duration::from_secs(self.config.lock_secs));
            }
            let failures = entry.failures;
            drop(entry);
            if locks {
                self.log_lock(&key, failures);
            }
            reservation.keys.push((key, locks));
        }
        Gate::Open(reservation)
    }

    /// The wait an attempt owes to `key` with `prior` failures on record.
    fn delay_for(&self, key: &Key, prior: u32) -> Duration {
        let step = Duration::from_millis(self.config.delay_ms);
        let after = self.config.delay_after.max(1);
        match key {
            Key::NameAt(..) if prior >= after => step,
            Key::Address(_) if prior >= after.saturating_mul(ADDRESS_FACTOR) => step,
            Key::Name(_) if prior >= after => step
                .saturating_mul(prior / after)
                .min(Duration::from_millis(self.config.max_delay_ms).max(step)),
            _ => Duration::ZERO,
        }
    }

    /// The failures after which `key` is locked; `None`: never.
    fn lock_threshold(&self, key: &Key, robot: bool) -> Option<u32> {
        match key {
            Key::NameAt(..) if robot => None,
            Key::NameAt(..) => Some(self.config.lock_after.max(1)),
            Key::Address(_) => Some(self.config.lock_after.max(1).saturating_mul(ADDRESS_FACTOR)),
            Key::Name(_) => None,
        }
    }

    fn log_lock(&self, key: &Key, failures: u32) {
        let lock_secs = self.config.lock_secs;
        match key {
            Key::NameAt(name, address) => tracing::warn!(
                username = %clip(name),
                address = ?address,
                failures,
                lock_secs,
                "sign-in locked for user {} from {address:?} after {failures} failed attempts",
                clip(name)
            ),
            Key::Address(ip) => tracing::warn!(
                address = %ip,
                failures,
                lock_secs,
                "sign-in locked for address {ip} after {failures} failed attempts"
            ),
            Key::Name(_) => {}
        }
    }

    /// Takes one attempt back from `key`'s count, and the lock it started, if any.
    fn take_back(&self, key: &Key, locked_it: bool) {
        if let Some(mut entry) = self.entries.get_mut(key) {
            entry.failures = entry.failures.saturating_sub(1);
            if locked_it {
                entry.locked_until = None;
            }
        }
    }

    /// [`SignInThrottle::reserve`] on the counts every node shares (the database): refused while a lock holds
    /// there, else counted at once, with the same thresholds. Run it beside the memory reservation when nodes
    /// share the database, and settle both.
    pub async fn reserve_shared(
        &self,
        db: &Db,
        username: &str,
        address: Option<IpAddr>,
        robot: bool,
    ) -> Result<SharedGate, sqlx::Error> {
        let now = chrono::Utc::now();
        let forget_before = now - chrono::Duration::from_std(FORGET_AFTER).unwrap_or_default();
        let mut reservation = SharedReservation {
            keys: Vec::new(),
            delay: Duration::ZERO,
        };
        for key in Self::keys(username, address, robot) {
            let text = key.text();
            let counted = match db.count_signin_failure(&text, now, forget_before).await {
                Ok(counted) => counted,
                Err(e) => {
                    reservation.cancel(db).await;
                    return Err(e);
                }
            };
            let Some(failures) = counted else {
                reservation.cancel(db).await;
                return Ok(SharedGate::Locked);
            };
            let prior = failures.saturating_sub(1);
            reservation.delay = reservation.delay.max(self.delay_for(&key, prior));
            let locks = self
                .lock_threshold(&key, robot)
                .is_some_and(|at| failures >= at);
            if locks {
                let until = now + chrono::Duration::seconds(self.config.lock_secs as i64);
                if let Err(e) = db.lock_signin(&text, until).await {
                    tracing::warn!(error = %e, "could not record a sign-in lock in the database; this node's own count still applies");
                } else {
                    self.log_lock(&key, failures);
                }
            }
            reservation.keys.push((key, locks));
        }
        Ok(SharedGate::Open(reservation))
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
        let room = self.entries.len() < MAX_ENTRIES;
        if !room {
            tracing::warn!(
                entries = MAX_ENTRIES,
                "the sign-in throttle is full of live locks; new names and addresses are not counted until some expire"
            );
        }
        room
    }
}

impl Key {
    /// The key's row in the shared counts.
    fn text(&self) -> String {
        match self {
            Key::NameAt(name, Some(address)) => format!("name-at {name} {address}"),
            Key::NameAt(name, None) => format!("name-at {name} unknown"),
            Key::Name(name) => format!("name {name}"),
            Key::Address(address) => format!("address {address}"),
        }
    }
}

/// What a sign-in attempt may do, by the counts every node shares.
#[derive(Debug)]
pub enum SharedGate {
    Open(SharedReservation),
    Locked,
}

/// An attempt on record in the shared counts; settle it with the same outcome as the memory reservation.
/// Dropping it leaves the failure.
#[derive(Debug)]
#[must_use = "a shared reservation is settled by succeeded(), failed() or cancel()"]
pub struct SharedReservation {
    /// Each key counted, and whether this attempt started its lock.
    keys: Vec<(Key, bool)>,
    delay: Duration,
}

impl SharedReservation {
    /// How long the attempt must wait before its password is checked, by the shared counts.
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// The password was right: as [`Reservation::succeeded`]. A failure to record it is logged: the counts
    /// are then forgotten after their time.
    pub async fn succeeded(self, db: &Db) {
        for (key, _) in self.keys {
            let done = match key {
                Key::Name(_) => db.take_back_signin_failure(&key.text(), false).await,
                Key::NameAt(..) | Key::Address(_) => db.clear_signin_failures(&key.text()).await,
            };
            if let Err(e) = done {
                tracing::warn!(error = %e, "could not clear a sign-in failure count in the database");
            }
        }
    }

    /// The password was wrong: the failures stay on record.
    pub fn failed(self) {}

    /// The password could not be checked: as if the attempt had not been made.
    pub async fn cancel(self, db: &Db) {
        for (key, locked_it) in self.keys {
            if let Err(e) = db.take_back_signin_failure(&key.text(), locked_it).await {
                tracing::warn!(error = %e, "could not take back a sign-in failure count in the database");
            }
        }
    }
}

/// Forgets shared failure counts that have run their time, every few minutes, until the task is aborted.
/// Every node may run it: the delete is idempotent.
pub async fn sweep_shared(db: Db) {
    let mut every = tokio::time::interval(Duration::from_secs(5 * 60));
    loop {
        every.tick().await;
        let now = chrono::Utc::now();
        let before = now - chrono::Duration::from_std(FORGET_AFTER).unwrap_or_default();
        if let Err(e) = db.forget_signin_failures(before, now).await {
            tracing::warn!(error = %e, "forgetting old sign-in failure counts failed; retrying later");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> SignInThrottle {
        SignInThrottle::new(ThrottleConfig {
            delay_after: 2,
            delay_ms: 5,
            max_delay_ms: 12,
            lock_after: 4,
            lock_secs: 60,
            ..ThrottleConfig::default()
        })
    }

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));
    const AWAY: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 1)));

    /// Reserves and settles one attempt; `None` when locked, else the delay it owed.
    fn attempt(t: &SignInThrottle, name: &str, at: Option<IpAddr>, ok: bool) -> Option<Duration> {
        match t.reserve(name, at, name.starts_with("robot$")) {
            Gate::Locked => None,
            Gate::Open(r) => {
                let delay = r.delay();
                if ok {
                    r.succeeded()
                } else {
                    r.failed()
                }
                Some(delay)
            }
        }
    }

    #[test]
    fn failures_delay_then_lock_the_name_at_that_address_only() {
        let t = throttle();
        assert_eq!(attempt(&t, "alice", HOME, false), Some(Duration::ZERO));
        assert_eq!(attempt(&t, "alice", HOME, false), Some(Duration::ZERO));
        assert_eq!(
            attempt(&t, "alice", HOME, false),
            Some(Duration::from_millis(5))
        );
        assert_eq!(
            attempt(&t, "alice", HOME, false),
            Some(Duration::from_millis(5))
        );
        assert_eq!(
            attempt(&t, "alice", HOME, true),
            None,
            "locked: even the right password"
        );
        // From elsewhere alice is slowed down (name-wide), never locked.
        assert!(attempt(&t, "alice", AWAY, true).is_some());
        assert_eq!(attempt(&t, "bob", HOME, true), Some(Duration::ZERO));
    }

    #[test]
    fn a_success_resets_the_local_counts() {
        let t = throttle();
        attempt(&t, "alice", HOME, false);
        attempt(&t, "alice", HOME, false);
        attempt(&t, "alice", HOME, true);
        for _ in 0..3 {
            assert!(attempt(&t, "alice", HOME, false).is_some());
        }
        assert!(attempt(&t, "alice", HOME, true).is_some());
    }

    #[test]
    fn the_name_wide_delay_grows_to_its_cap_and_never_locks() {
        let t = throttle();
        let mut delays = Vec::new();
        for n in 0..40u8 {
            let at = Some(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, n)));
            delays.push(attempt(&t, "admin", at, false));
        }
        assert!(delays.iter().all(Option::is_some), "{delays:?}");
        assert_eq!(delays[2], Some(Duration::from_millis(5)));
        assert_eq!(delays[4], Some(Duration::from_millis(10)));
        assert_eq!(delays[39], Some(Duration::from_millis(12)));
    }

    #[test]
    fn robots_are_slowed_down_but_never_locked() {
        let t = throttle();
        for _ in 0..30 {
            assert!(attempt(&t, "robot$ci", HOME, false).is_some());
        }
        assert_eq!(
            attempt(&t, "robot$ci", HOME, true),
            Some(Duration::from_millis(12))
        );
        assert_eq!(
            attempt(&t, "alice", HOME, true),
            Some(Duration::ZERO),
            "the address is not locked"
        );
    }

    #[test]
    fn an_address_is_locked_across_names() {
        let t = throttle();
        for n in 0..4 * ADDRESS_FACTOR {
            attempt(&t, &format!("user{n}"), HOME, false);
        }
        assert_eq!(attempt(&t, "e", HOME, true), None);
        assert!(attempt(&t, "e", AWAY, true).is_some());
    }

    #[test]
    fn reservations_count_before_the_check_and_cancel_takes_them_back() {
        let t = throttle();
        let held: Vec<Reservation<'_>> = (0..4)
            .filter_map(|_| match t.reserve("alice", HOME, false) {
                Gate::Open(r) => Some(r),
                Gate::Locked => None,
            })
            .collect();
        assert_eq!(held.len(), 4);
        assert!(
            matches!(t.reserve("alice", HOME, false), Gate::Locked),
            "four in flight lock the fifth out"
        );
        for r in held {
            r.cancel();
        }
        assert!(matches!(t.reserve("alice", HOME, false), Gate::Open(_)));
    }

    #[test]
    fn names_are_counted_as_directories_match_them() {
        assert_eq!(normalize_name("  Alice \t Smith "), "alice smith");
        assert_eq!(normalize_name("ÉVE"), "éve");
        let t = throttle();
        for name in ["alice", " Alice", "ALICE ", "aLiCe"] {
            attempt(&t, name, HOME, false);
        }
        assert_eq!(attempt(&t, "alice", HOME, true), None);
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        let b: IpAddr = "2001:db8:1:2:bbbb::2"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(address_key(a), address_key(b));
        let mapped: IpAddr = "::ffff:192.0.2.1"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(address_key(mapped), IpAddr::V4([192, 0, 2, 1].into()));
    }
}

/// The client address a request's sign-in is counted under: the TCP peer, or the client a trusted proxy names
/// (see [`super::client_address`]). Never an `X-Forwarded-For` from anyone else: a client could set that to
/// dodge its own count or to lock someone else's.
#[derive(Debug, Clone, Copy)]
pub struct PeerIp(pub Option<IpAddr>);

impl PeerIp {
    pub fn of(extensions: &axum::http::Extensions) -> PeerIp {
        PeerIp(super::client_address::ClientAddress::of(extensions).0)
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
