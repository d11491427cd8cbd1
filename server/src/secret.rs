//! A wrapper that keeps secrets (passwords, tokens, keys) out of logs and `Debug` output.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret string. `Debug` and `Display` print `[redacted]`; use [`Secret::expose`] to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// A secret kept sealed in the database (by [`crate::crypto::SecretBox`]), as opened at load time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StoredSecret {
    #[default]
    Unset,
    Set(Secret),
    /// Stored, but it does not open with the current key (`secret_key` changed?). Using it is an error, never
    /// an empty secret.
    Unreadable,
}

impl StoredSecret {
    /// The secret, `None` if unset, an error if it does not open.
    pub fn get(&self) -> Result<Option<&Secret>, crate::crypto::SealError> {
        match self {
            StoredSecret::Unset => Ok(None),
            StoredSecret::Set(secret) => Ok(Some(secret)),
            StoredSecret::Unreadable => Err(crate::crypto::SealError::Open),
        }
    }
}

impl From<Secret> for StoredSecret {
    fn from(secret: Secret) -> StoredSecret {
        StoredSecret::Set(secret)
    }
}
