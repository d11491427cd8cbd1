//! Passwords: argon2id hashes, computed and checked on the blocking pool, and a short-lived cache of
//! successful checks so registry clients that send Basic credentials on every request stay fast.

use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use dashmap::DashMap;
use sha2::{Digest as _, Sha256};

use crate::db::{Db, User};

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

/// Checks usernames and passwords against the database, remembering recent successes.
#[derive(Debug, Default)]
pub struct PasswordChecker {
    recent: DashMap<[u8; 32], (User, Instant)>,
}

impl PasswordChecker {
    /// The user whose name and password these are, or `None`.
    pub async fn check(
        &self,
        db: &Db,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, sqlx::Error> {
        let key: [u8; 32] = Sha256::new()
            .chain_update(username.as_bytes())
            .chain_update([0u8])
            .chain_update(password.as_bytes())
            .finalize()
            .into();
        if let Some(entry) = self.recent.get(&key)
            && entry.1.elapsed() < CACHE_TTL
        {
            return Ok(Some(entry.0.clone()));
        }
        let Some(user) = db.find_user(username).await? else {
            tracing::info!(username, "sign-in failed: no such user");
            return Ok(None);
        };
        let Some(phc) = user.password_hash.clone() else {
            tracing::info!(username, "sign-in failed: the user has no local password");
            return Ok(None);
        };
        if !verify(password.to_owned(), phc).await {
            tracing::info!(username, "sign-in failed: wrong password");
            return Ok(None);
        }
        if self.recent.len() >= CACHE_MAX {
            self.recent.clear();
        }
        self.recent.insert(key, (user.clone(), Instant::now()));
        Ok(Some(user))
    }
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
