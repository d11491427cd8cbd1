//! Passwords and robot secrets: argon2id hashes, computed and checked on the blocking pool.
//!
//! [`PasswordChecker::check_from`] is the one place credentials are verified, and it applies the sign-in
//! throttle ([`super::throttle`]) to every check. Which source checks a user's password follows the auth
//! mode: the database in `db_auth`, the LDAP server in `ldap_auth` ([`super::directory`]), and the user's
//! CLI secret in `oidc_auth` (the only password an OIDC user has). Robots and the local `admin` always use the
//! database.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use dashmap::DashMap;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use berth_api::robots::RobotPermission;

use super::directory::Directory;
use super::ldap::{LdapError, LdapSettings};
use super::throttle::{Gate, SignInThrottle, ThrottleConfig};
use super::{Subject, robots};
use crate::crypto::SecretBox;
use crate::db::Db;
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
}

/// How long a successful password check is remembered.
const CACHE_TTL: Duration = Duration::from_secs(60);
/// Entries kept at most; the cache is cleared when it grows past this.
const CACHE_MAX: usize = 10_000;

/// Hashes `password` with argon2id into a PHC string.
pub async fn hash(password: String) -> Result<String, argon2::password_hash::Error> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .unwrap_or(Err(argon2::password_hash::Error::Crypto))
}

/// Checks `password` against a PHC string.
pub async fn verify(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
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
    throttle: SignInThrottle,
    /// The auth mode and directory settings, read per check.
    config: Arc<LiveConfig>,
    directory: Directory,
    /// Opens OIDC users' CLI secrets.
    secrets: Arc<SecretBox>,
}

impl PasswordChecker {
    /// A checker for the auth mode of `config`, whose sign-in throttle uses `throttle`.
    pub fn new(
        throttle: ThrottleConfig,
        config: Arc<LiveConfig>,
        secrets: Arc<SecretBox>,
    ) -> PasswordChecker {
        PasswordChecker {
            verified: DashMap::new(),
            throttle: SignInThrottle::new(throttle),
            config,
            directory: Directory::default(),
            secrets,
        }
    }

    /// The directory side of sign-in (the LDAP client for the current settings).
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The subject (user or robot) whose name and password these are, or `None`. Throttled by username only;
    /// use [`Self::check_from`] where the client address is known.
    pub async fn check(
        &self,
        db: &Db,
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, SignInError> {
        self.check_from(db, username, password, None).await
    }

    /// As [`Self::check`], throttled by username and, when given, by the client `address` too.
    pub async fn check_from(
        &self,
        db: &Db,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<Option<Subject>, SignInError> {
        match self.throttle.gate(username, address) {
            Gate::Open => {}
            Gate::Delay(wait) => tokio::time::sleep(wait).await,
            Gate::Locked => {
                tracing::warn!(username, address = ?address, "sign-in refused: temporarily locked after repeated failures");
                return Ok(None);
            }
        }
        let subject = self.verify_account(db, username, password).await?;
        match &subject {
            Some(_) => self.throttle.succeeded(username, address),
            None => self.throttle.failed(username, address),
        }
        Ok(subject)
    }

    async fn verify_account(
        &self,
        db: &Db,
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, SignInError> {
        let key = credential_key(username, password);
        let config = self.config.current();
        let local = username == LOCAL_ADMIN
            || (config.auth_mode != AuthMode::Db && robots::is_robot(db, username).await?);
        match config.auth_mode {
            AuthMode::Ldap if !local => {
                self.verify_ldap(db, &config.ldap, key, username, password)
                    .await
            }
            AuthMode::Oidc if !local => self.verify_cli_secret(db, username, password).await,
            _ => self.verify_local(db, key, username, password).await,
        }
    }

    /// Checks a password with the LDAP server (or the memory of a recent sign-in there).
    async fn verify_ldap(
        &self,
        db: &Db,
        settings: &LdapSettings,
        key: [u8; 32],
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, SignInError> {
        let Some(id) = self
            .directory
            .ldap_sign_in(db, settings, key, username, password)
            .await?
        else {
            return Ok(None);
        };
        let Some(user) = db.user_by_id(id).await? else {
            tracing::info!(username, "sign-in refused: the user was removed from Berth");
            self.directory.forget(&key);
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
            tracing::info!(username, "sign-in failed: no such OIDC user");
            return Ok(None);
        };
        let matches = match self.secrets.open(&sealed) {
            Ok(secret) => bool::from(secret.expose().as_bytes().ct_eq(password.as_bytes())),
            Err(e) => {
                tracing::error!(username, error = %e, "an OIDC user's CLI secret does not open (secret_key changed?); they must set a new one");
                false
            }
        };
        if !matches {
            tracing::info!(username, "sign-in failed: wrong CLI secret");
            return Ok(None);
        }
        Ok(Some(user.into()))
    }

    /// Checks a password against the database's hash.
    async fn verify_local(
        &self,
        db: &Db,
        key: [u8; 32],
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, SignInError> {
        let Some((subject, phc)) = account(db, username).await? else {
            return Ok(None);
        };
        if let Some(entry) = self.verified.get(&key)
            && entry.0 == phc
            && entry.1.elapsed() < CACHE_TTL
        {
            return Ok(Some(subject));
        }
        if !verify(password.to_owned(), phc.clone()).await {
            tracing::info!(username, "sign-in failed: wrong password");
            return Ok(None);
        }
        if self.verified.len() >= CACHE_MAX {
            self.verified.clear();
        }
        self.verified.insert(key, (phc, Instant::now()));
        Ok(Some(subject))
    }
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
    if let Some(robot) = db.robot_by_name(username).await? {
        if robot.disabled {
            tracing::info!(username, "sign-in refused: the robot is disabled");
            return Ok(None);
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        if robot.expires_at >= 0 && robot.expires_at <= now {
            tracing::info!(username, "sign-in refused: the robot has expired");
            return Ok(None);
        }
        let permissions: Vec<RobotPermission> = match serde_json::from_str(&robot.permissions) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(username, error = %e, "robot permissions in the database are not valid JSON");
                return Ok(None);
            }
        };
        let subject = Subject::Robot {
            id: robot.id,
            name: robot.name,
            permissions: permissions.into(),
        };
        return Ok(Some((subject, robot.secret_hash)));
    }
    let Some(user) = db.find_user(username).await? else {
        tracing::info!(username, "sign-in failed: no such user");
        return Ok(None);
    };
    let Some(phc) = user.password_hash.clone() else {
        tracing::info!(username, "sign-in failed: the user has no local password");
        return Ok(None);
    };
    Ok(Some((user.into(), phc)))
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
