//! Secrets at rest: small secrets Berth must give back in clear later (registry endpoint passwords and tokens)
//! are sealed with an AEAD before they reach the database.
//!
//! The cipher is XChaCha20-Poly1305 (<https://datatracker.ietf.org/doc/html/draft-irtf-cfrg-xchacha>) with a
//! random 24-byte nonce per seal, long enough that random nonces never repeat in practice. A sealed value is
//! `nonce || ciphertext || tag`. The key is `secret_key` from the configuration (64 hex digits) or, when that is
//! unset, one generated on first start and kept in the database beside the token signing key.
//!
//! Rule: a value that does not open (wrong key, altered bytes) is an error, never an empty secret.

use std::fmt;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use crate::db::Db;
use crate::secret::Secret;

/// Bytes of the key.
const KEY_LEN: usize = 32;
/// Bytes of the nonce stored in front of each sealed value.
const NONCE_LEN: usize = 24;

/// Why the key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "secret_key must be 64 hexadecimal digits (32 bytes), e.g. the output of `openssl rand -hex 32`"
    )]
    Malformed,
    #[error("the stored secret key is damaged: it is not 64 hexadecimal digits")]
    StoredMalformed,
    #[error(
        "secret_key is not the key this installation's secrets were sealed with (another node, or an earlier \
         start, uses a different one): every node must be given the same secret_key; this node refuses to start"
    )]
    Mismatch,
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// Why a seal or an open failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the sealed secret does not open: wrong key or altered data")]
    Open,
    #[error("the opened secret is not UTF-8")]
    NotText,
    #[error("sealing failed")]
    Seal,
}

/// Seals and opens secrets with one key. Cheap to share behind an `Arc`; `Debug` never shows the key.
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox([redacted])")
    }
}

impl SecretBox {
    /// A box with the 32-byte `key`.
    pub fn new(key: [u8; KEY_LEN]) -> SecretBox {
        SecretBox {
            cipher: XChaCha20Poly1305::new(&Key::from(key)),
        }
    }

    /// A box with the key written as 64 hex digits.
    pub fn from_hex(hex_key: &str) -> Result<SecretBox, KeyError> {
        parse_key(hex_key)
            .map(SecretBox::new)
            .ok_or(KeyError::Malformed)
    }

    /// The box of the configured key (`configured`, a bad value is an error), else of the key kept in the
    /// database, generating and storing one on first start.
    pub async fn load_or_create(
        db: &Db,
        configured: Option<&Secret>,
    ) -> Result<SecretBox, KeyError> {
        let secrets = match configured {
            Some(configured) => SecretBox::from_hex(configured.expose().trim())?,
            None => {
                let stored = match db.secret_key().await? {
                    Some(stored) => stored,
                    None => {
                        let fresh: [u8; KEY_LEN] = rand::random();
                        db.insert_secret_key(&hex::encode(fresh)).await?
                    }
                };
                parse_key(&stored)
                    .map(SecretBox::new)
                    .ok_or(KeyError::StoredMalformed)?
            }
        };
        secrets.check_shared(db).await?;
        Ok(secrets)
    }

    /// Checks that this key is the installation's: the first start seals a known text and stores it, and
    /// every later start, on any node, must open it. A node given another `secret_key` would seal secrets
    /// the others cannot open, so it is stopped here.
    async fn check_shared(&self, db: &Db) -> Result<(), KeyError> {
        const KNOWN: &str = "berth: the key that seals this installation's secrets";
        let mine = self.seal(KNOWN).map_err(|_| KeyError::Mismatch)?;
        let stored = db.insert_secret_key_check(&hex::encode(mine)).await?;
        let opened = hex::decode(stored)
            .ok()
            .and_then(|sealed| self.open(&sealed).ok());
        match opened {
            Some(text) if text.expose() == KNOWN => Ok(()),
            _ => Err(KeyError::Mismatch),
        }
    }

    /// Seals `plaintext`: a fresh random nonce followed by the ciphertext and its tag.
    pub fn seal(&self, plaintext: &str) -> Result<Vec<u8>, SealError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .map_err(|_| SealError::Seal)?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Opens a value [`SecretBox::seal`] made with the same key.
    pub fn open(&self, sealed: &[u8]) -> Result<Secret, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Open)?;
        let plaintext = self
            .cipher
            .decrypt(&XNonce::from(nonce), ciphertext)
            .map_err(|_| SealError::Open)?;
        String::from_utf8(plaintext)
            .map(Secret::new)
            .map_err(|_| SealError::NotText)
    }
}

fn parse_key(hex_key: &str) -> Option<[u8; KEY_LEN]> {
    let bytes = hex::decode(hex_key).ok()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn sealer() -> SecretBox {
        let mut key = [0; KEY_LEN];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = i as u8;
        }
        SecretBox::new(key)
    }

    #[test]
    fn round_trip_with_a_fresh_nonce_each_time() {
        let secrets = sealer();
        let a = secrets.seal("hunter2").unwrap_or_default();
        let b = secrets.seal("hunter2").unwrap_or_default();
        assert_ne!(a, b, "each seal uses a new nonce");
        assert!(!a.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(
            secrets.open(&a).map(|s| s.expose().to_owned()),
            Ok("hunter2".to_owned())
        );
        assert_eq!(
            secrets.open(&b).map(|s| s.expose().to_owned()),
            Ok("hunter2".to_owned())
        );
        let empty = secrets.seal("").unwrap_or_default();
        assert_eq!(
            secrets.open(&empty).map(|s| s.expose().to_owned()),
            Ok(String::new())
        );
    }

    #[test]
    fn tampered_values_are_refused() {
        let secrets = sealer();
        let sealed = secrets.seal("hunter2").unwrap_or_default();
        for i in [0, NONCE_LEN, sealed.len() - 1] {
            let mut altered = sealed.clone();
            altered[i] ^= 1;
            assert_eq!(
                secrets.open(&altered).err(),
                Some(SealError::Open),
                "byte {i}"
            );
        }
        assert_eq!(
            secrets.open(&sealed[..sealed.len() - 1]).err(),
            Some(SealError::Open)
        );
        assert_eq!(secrets.open(&sealed[..5]).err(), Some(SealError::Open));
    }

    #[test]
    fn another_key_cannot_open() {
        let sealed = sealer().seal("hunter2").unwrap_or_default();
        let other = SecretBox::new([7; KEY_LEN]);
        assert_eq!(other.open(&sealed).err(), Some(SealError::Open));
    }

    #[test]
    fn keys_must_be_64_hex_digits() {
        let from_hex = SecretBox::from_hex(KEY).ok();
        let sealed = sealer().seal("same key").unwrap_or_default();
        assert_eq!(
            from_hex.and_then(|b| b.open(&sealed).ok()),
            Some(Secret::new("same key"))
        );
        assert!(matches!(
            SecretBox::from_hex(&KEY[2..]),
            Err(KeyError::Malformed)
        ));
        assert!(matches!(
            SecretBox::from_hex(&format!("{KEY}00")),
            Err(KeyError::Malformed)
        ));
        assert!(matches!(
            SecretBox::from_hex(&KEY.replace('0', "g")),
            Err(KeyError::Malformed)
        ));
        assert_eq!(format!("{:?}", sealer()), "SecretBox([redacted])");
    }
}
