//! Passwords and robot secrets: argon2id hashes, computed and checked on the blocking pool.
//!
//! [`PasswordChecker::check_from`] is the one place credentials are verified. Every check is reserved with
//! the sign-in throttle ([`super::throttle`]) before anything else happens, and every check that must hash
//! or ask the directory is admitted by [`super::admission`] (beyond its limits the answer is
//! [`SignInError::Busy`], a 429). Which source checks a user's password follows the auth mode: the database
//! in `db_auth`, the LDAP server in `ldap_auth` ([`super::directory`]), and the user's CLI secret in
//! `oidc_auth` (the only password an OIDC user has). Robots and the local `admin` always use the database.
//!
//! A name that has no password here (no such user or robot, a user who signs in through LDAP or OIDC, a
//! disabled or expired robot) is checked against a dummy hash all the same, so how long a refusal takes does
//! not tell which names exist.
//!
//! Identical credentials from one address checked at the same time are checked once: a client sending the same
//! Basic credentials on many parallel requests (a CI job's first calls) costs one throttle reservation and one
//! hash, and the others share its outcome.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use dashmap::DashMap;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use tokio::sync::OnceCell;

use berth_api::robots::RobotPermission;

use super::admission::{Admission, Busy};
use super::credentials::username_fits;
use super::directory::Directory;
use super::ldap::{LdapError, LdapSettings};
use super::throttle::{Gate, SharedGate, SignInThrottle, ThrottleConfig};
use super::{Subject, robots};
use crate::crypto::SecretBox;
use crate::db::{Backend, Db};
use crate::events::audit::clip;
use crate::service::configurations::{AuthMode, LiveConfig};

/// The local administrator, who signs in with its database password whatever the auth mode (as in Harbor).
pub const LOCAL_ADMIN: &str = "admin";

/// Why credentials could not be checked (as opposed to being wrong).
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The directory (LDAP server) failed or is misconfigured; the message says how.
    #[error("{0}")]
    Directory(#[from] LdapError),
    /// Too many sign-ins are being checked (server-wide, for this name or from this address): 429.
    #[error("{0}")]
    Busy(#[from] Busy),
}

/// How long a successful password check is remembered.
const CACHE_TTL: Duration = Duration::from_secs(60);
/// Entries kept at most; the cache is cleared when it grows past this.
const CACHE_MAX: usize = 10_000;

/// Hashes `password` with argon2id into a PHC string.
pub async fn hash(password: String) -> Result<String, argon2::password_hash::Error> {
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .unwrap_or(Err(argon2::password_hash::Error::Crypto))
}

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    let hashed = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string());
    return_argon2_memory();
    hashed
}

/// Gives the 19 MiB argon2 just freed back to the OS now. The allocator (mimalloc, see `main.rs`) would
/// otherwise keep it until its next purge, which an idle server never reaches: a server that checked one
/// password would idle at 19 MiB more than it needs.
fn return_argon2_memory() {
    // SAFETY: `mi_collect` only releases memory the allocator no longer uses; it may be called at any time,
    // and with another global allocator (the tests') it collects mimalloc's own unused heap.
    #[allow(unsafe_code, reason = "mimalloc's C API")]
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

/// Checks `password` against a PHC string.
pub async fn verify(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || {
        let matched = PasswordHash::new(&phc)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        return_argon2_memory();
        matched
    })
    .await
    .unwrap_or(false)
}

/// Checks user passwords and robot secrets against the database.
///
/// The account row is read on every check, so a disabled, expired or removed account, or a changed secret,
/// takes effect at once. What is remembered, for a short while, is only that a given password matched a given
/// hash, which saves re-running argon2 for clients that send Basic credentials on every request.
///
/// Failures are counted by the sign-in throttle: past a few, attempts are slowed down, then refused outright
/// for a while, whatever the password.
#[derive(Debug)]
pub struct PasswordChecker {
    verified: DashMap<[u8; 32], (String, Instant)>,
    /// Checks in progress, by [`credential_key`] and client address: callers with the same credentials from
    /// the same address share one outcome.
    in_flight: DashMap<([u8; 32], Option<IpAddr>), SharedCheck>,
    throttle: SignInThrottle,
    admission: Admission,
    /// A hash of nothing anyone knows, checked in place of an account's own (same argon2 parameters).
    dummy_hash: String,
    /// argon2 checks run so far (dummy ones included).
    hashes_checked: AtomicU64,
    /// The auth mode and directory settings, read per check.
    config: Arc<LiveConfig>,
    directory: Directory,
    /// Opens OIDC users' CLI secrets.
    secrets: Arc<SecretBox>,
}

impl PasswordChecker {
    /// A checker for the auth mode of `config`, whose sign-in throttle and admission limits use `throttle`.
    pub fn new(
        throttle: ThrottleConfig,
        config: Arc<LiveConfig>,
        secrets: Arc<SecretBox>,
    ) -> PasswordChecker {
        let dummy_hash = hash_now(&uuid::Uuid::new_v4().to_string()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot make the dummy password hash; refusals of unknown names will be faster than others");
            String::new()
        });
        PasswordChecker {
            verified: DashMap::new(),
            in_flight: DashMap::new(),
            throttle: SignInThrottle::new(throttle),
            admission: Admission::new(&throttle),
            dummy_hash,
            hashes_checked: AtomicU64::new(0),
            config,
            directory: Directory::default(),
            secrets,
        }
    }

    /// The directory side of sign-in (the LDAP client for the current settings).
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The admission limits (tests hold places in them to see the 429 answers).
    pub fn admission(&self) -> &Admission {
        &self.admission
    }

    /// How many argon2 checks have run since start (dummy ones included).
    pub fn hashes_checked(&self) -> u64 {
        self.hashes_checked.load(Ordering::Relaxed)
    }

    /// The subject (user or robot) whose name and password these are, or `None`, counted under the address
    /// of the request being served ([`super::client_address::ClientAddress::current`]).
    pub async fn check(
        &self,
        db: &Db,
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, SignInError> {
        let address = super::client_address::ClientAddress::current().0;
        self.check_from(db, username, password, address).await
    }

    /// As [`Self::check`], counted under the client `address` given.
    pub async fn check_from(
        &self,
        db: &Db,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<Option<Subject>, SignInError> {
        if !username_fits(username) {
            return Ok(None);
        }
        let key = credential_key(username, password);
        let check = self
            .in_flight
            .entry((key, address))
            .or_insert_with(|| Arc::new(OnceCell::new()))
            .clone();
        // The first caller checks; the others wait for its outcome. If it fails to check (an error, or the caller
        // gone), the next one checks in its place.
        let outcome = check
            .get_or_try_init(|| self.check_once(db, username, password, address, key))
            .await
            .cloned();
        // Whoever comes next checks afresh (a changed password, a lock that began, a cache entry expired).
        self.in_flight
            .remove_if(&(key, address), |_, entry| Arc::ptr_eq(entry, &check));
        outcome
    }

    /// One check of `username` and `password`, throttled and admitted.
    async fn check_once(
        &self,
        db: &Db,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
        key: [u8; 32],
    ) -> Result<Option<Subject>, SignInError> {
        let robot = robots::is_robot(db, username).await?;
        let reservation = match self.throttle.reserve(username, address, robot) {
            Gate::Open(reservation) => reservation,
            Gate::Locked => {
                tracing::info!(username = %clip(username), address = ?address, "sign-in refused: temporarily locked after repeated failures");
                return Ok(None);
            }
        };
        // With several nodes on one database, the attempt is counted where all of them see it too.
        let shared = if db.backend() == Backend::Postgres {
            match self
                .throttle
                .reserve_shared(db, username, address, robot)
                .await
            {
                Ok(SharedGate::Open(shared)) => Some(shared),
                Ok(SharedGate::Locked) => {
                    reservation.cancel();
                    tracing::info!(username = %clip(username), address = ?address, "sign-in refused: temporarily locked after repeated failures (counted across nodes)");
                    return Ok(None);
                }
                Err(e) => {
                    reservation.cancel();
                    return Err(e.into());
                }
            }
        } else {
            None
        };
        let delay = reservation
            .delay()
            .max(shared.as_ref().map_or(Duration::ZERO, |s| s.delay()));
        let outcome = self
            .verify_account(db, username, password, address, delay, key)
            .await;
        match &outcome {
            Ok(Some(_)) => {
                reservation.succeeded();
                if let Some(shared) = shared {
                    shared.succeeded(db).await;
                }
            }
            Ok(None) => {
                reservation.failed();
                if let Some(shared) = shared {
                    shared.failed();
                }
            }
            Err(_) => {
                reservation.cancel();
                if let Some(shared) = shared {
                    shared.cancel(db).await;
                }
            }
        }
        outcome
    }

    async fn verify_account(
        &self,
        db: &Db,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
        delay: Duration,
        key: [u8; 32],
    ) -> Result<Option<Subject>, SignInError> {
        let config = self.config.current();
        let local = username == LOCAL_ADMIN
            || (config.auth_mode != AuthMode::Db && robots::is_robot(db, username).await?);
        let attempt = Attempt {
            username,
            password,
            address,
            delay,
            key,
        };
        match config.auth_mode {
            AuthMode::Ldap if !local => self.verify_ldap(db, &config.ldap, &attempt).await,
            AuthMode::Oidc if !local => {
                // No hash to compute, but the same limits and slow-down as every other check.
                let _pending = self.admit(&attempt).await?;
                self.verify_cli_secret(db, username, password).await
            }
            _ => self.verify_local(db, &attempt).await,
        }
    }

    /// Checks a password with the LDAP server (or the memory of a recent sign-in there).
    async fn verify_ldap(
        &self,
        db: &Db,
        settings: &LdapSettings,
        attempt: &Attempt<'_>,
    ) -> Result<Option<Subject>, SignInError> {
        let id = match self.directory.remembered(settings, &attempt.key) {
            Some(id) => Some(id),
            None => {
                let _pending = self.admit(attempt).await?;
                self.directory
                    .ldap_sign_in(
                        db,
                        settings,
                        attempt.key,
                        attempt.username,
                        attempt.password,
                    )
                    .await?
            }
        };
        let Some(id) = id else {
            return Ok(None);
        };
        let Some(user) = db.user_by_id(id).await? else {
            tracing::info!(username = %clip(attempt.username), "sign-in refused: the user was removed from Berth");
            self.directory.forget(&attempt.key);
            return Ok(None);
        };
        Ok(Some(user.into()))
    }

    /// Checks an OIDC user's CLI secret.
    async fn verify_cli_secret(
        &self,
        db: &Db,
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, SignInError> {
        let Some((user, sealed)) = db.oidc_user_by_name(username).await? else {
            tracing::info!(username = %clip(username), "sign-in failed: no such OIDC user");
            return Ok(None);
        };
        let matches = match self.secrets.open(&sealed) {
            Ok(secret) => bool::from(secret.expose().as_bytes().ct_eq(password.as_bytes())),
            Err(e) => {
                tracing::error!(username = %clip(username), error = %e, "an OIDC user's CLI secret does not open (secret_key changed?); they must set a new one");
                false
            }
        };
        if !matches {
            tracing::info!(username = %clip(username), "sign-in failed: wrong CLI secret");
            return Ok(None);
        }
        Ok(Some(user.into()))
    }

    /// Checks a password against the database's hash (or, for a name without one, the dummy hash).
    async fn verify_local(
        &self,
        db: &Db,
        attempt: &Attempt<'_>,
    ) -> Result<Option<Subject>, SignInError> {
        let Some((subject, phc)) = account(db, attempt.username).await? else {
            self.check_hash(attempt, self.dummy_hash.clone()).await?;
            return Ok(None);
        };
        if let Some(entry) = self.verified.get(&attempt.key)
            && entry.0 == phc
            && entry.1.elapsed() < CACHE_TTL
        {
            return Ok(Some(subject));
        }
        if !self.check_hash(attempt, phc.clone()).await? {
            tracing::info!(username = %clip(attempt.username), "sign-in failed: wrong password");
            return Ok(None);
        }
        if self.verified.len() >= CACHE_MAX {
            self.verified.clear();
        }
        self.verified.insert(attempt.key, (phc, Instant::now()));
        Ok(Some(subject))
    }

    /// Admits the attempt ([`super::admission`]), serves the throttle's delay, waits for a turn and runs argon2.
    async fn check_hash(&self, attempt: &Attempt<'_>, phc: String) -> Result<bool, SignInError> {
        let pending = self.admit(attempt).await?;
        let _turn = pending.hashing().await;
        self.hashes_checked.fetch_add(1, Ordering::Relaxed);
        Ok(verify(attempt.password.to_owned(), phc).await)
    }

    /// Admits the attempt and serves the throttle's delay (holding the place, so delayed attempts count
    /// against the limits too).
    async fn admit<'a>(
        &'a self,
        attempt: &Attempt<'_>,
    ) -> Result<super::admission::Pending<'a>, Busy> {
        let pending = self.admission.admit(attempt.username, attempt.address)?;
        if !attempt.delay.is_zero() {
            tokio::time::sleep(attempt.delay).await;
        }
        Ok(pending)
    }
}

/// The outcome of one check, shared by every caller waiting for it.
type SharedCheck = Arc<OnceCell<Option<Subject>>>;

/// One sign-in attempt being checked.
struct Attempt<'a> {
    username: &'a str,
    password: &'a str,
    address: Option<IpAddr>,
    /// What the throttle makes it wait before it is checked.
    delay: Duration,
    /// [`credential_key`] of the name and password.
    key: [u8; 32],
}

/// What remembers a name and password without keeping the password: SHA-256 of both.
fn credential_key(username: &str, password: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(username.as_bytes())
        .chain_update([0u8])
        .chain_update(password.as_bytes())
        .finalize()
        .into()
}

/// The account named `username` and its password hash, if it may sign in at all.
async fn account(db: &Db, username: &str) -> Result<Option<(Subject, String)>, sqlx::Error> {
    // A robot by its full stored name, whatever the prefix of new robots is now.
    if robots::is_robot(db, username).await? {
        return robot_account(db, username).await;
    }
    let Some(user) = db.find_user(username).await? else {
        tracing::info!(username = %clip(username), "sign-in failed: no such user");
        return Ok(None);
    };
    let Some(phc) = user.password_hash.clone() else {
        tracing::info!(username = %clip(username), "sign-in failed: the user has no local password");
        return Ok(None);
    };
    Ok(Some((user.into(), phc)))
}

/// The robot named `name`, with its permissions as they are now, and its secret's hash; `None` if there is
/// no such robot or it may not act (disabled, expired, unreadable permissions).
pub async fn robot_account(db: &Db, name: &str) -> Result<Option<(Subject, String)>, sqlx::Error> {
    let Some(robot) = db.robot_by_name(name).await? else {
        tracing::info!(username = %clip(name), "robot refused: no such robot");
        return Ok(None);
    };
    if robot.disabled {
        tracing::info!(username = %clip(name), "robot refused: the robot is disabled");
        return Ok(None);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if robot.expires_at >= 0 && robot.expires_at <= now {
        tracing::info!(username = %clip(name), "robot refused: the robot has expired");
        return Ok(None);
    }
    let permissions: Vec<RobotPermission> = match serde_json::from_str(&robot.permissions) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(username = %clip(name), error = %e, "robot permissions in the database are not valid JSON");
            return Ok(None);
        }
    };
    let subject = Subject::Robot {
        id: robot.id,
        name: robot.name,
        permissions: permissions.into(),
    };
    Ok(Some((subject, robot.secret_hash)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let phc = hash("correct horse".to_owned()).await.unwrap_or_default();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify("correct horse".to_owned(), phc.clone()).await);
        assert!(!verify("wrong".to_owned(), phc).await);
        assert!(!verify("x".to_owned(), "not a phc string".to_owned()).await);
    }
}
