//! System configuration (`configurations`): the keys set through `PUT /configurations` or the CLI, each a JSON
//! value or a sealed secret (see [`crate::crypto`]). This layer only moves the bytes; the keys, their types and
//! defaults live in [`crate::service::configurations`].

use super::Db;

/// One stored key.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConfigRow {
    pub key: String,
    /// The value as JSON text, for a plain key.
    pub value: Option<String>,
    /// The value sealed by [`crate::crypto::SecretBox`], for a secret.
    pub sealed: Option<Vec<u8>>,
}

/// A change to one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigChange {
    /// Store this JSON text.
    Value(String),
    /// Store these sealed bytes.
    Sealed(Vec<u8>),
    /// Forget the key: it has its default again.
    Reset,
}

/// What saving a set of changes did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveConfig {
    Saved,
    /// Refused, nothing written: users other than `admin` exist, and the changes were only allowed without.
    UsersExist,
}

impl Db {
    /// Every stored key.
    pub async fn configuration_rows(&self) -> Result<Vec<ConfigRow>, sqlx::Error> {
        sqlx::query_as("SELECT key, value, sealed FROM configurations ORDER BY key")
            .fetch_all(&self.read)
            .await
    }

    /// Whether a user other than the built-in `admin` exists (deleted users and robots do not count), which
    /// is when Harbor stops letting the authentication mode change.
    pub async fn users_besides_admin(&self) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar::<_, super::Flag>(
            "SELECT EXISTS (SELECT 1 FROM users WHERE deleted = FALSE AND username <> 'admin')",
        )
        .fetch_one(&self.read)
        .await
        .map(bool::from)
    }

    /// Applies `changes` in one transaction: all of them or none. With `only_without_users`, checks inside the
    /// transaction that no user other than `admin` exists, and writes nothing if one does.
    pub async fn save_configuration(
        &self,
        changes: &[(&str, ConfigChange)],
        only_without_users: bool,
    ) -> Result<SaveConfig, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        if only_without_users {
            let exist: bool = sqlx::query_scalar::<_, super::Flag>(
                "SELECT EXISTS (SELECT 1 FROM users WHERE deleted = FALSE AND username <> 'admin')",
            )
            .fetch_one(&mut *tx)
            .await?
            .0;
            if exist {
                return Ok(SaveConfig::UsersExist);
            }
        }
        let now = super::now();
        for (key, change) in changes {
            let (value, sealed) = match change {
                ConfigChange::Value(json) => (Some(json.as_str()), None),
                ConfigChange::Sealed(bytes) => (None, Some(bytes.as_slice())),
                ConfigChange::Reset => {
                    sqlx::query("DELETE FROM configurations WHERE key = $1")
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                    continue;
                }
            };
            sqlx::query(
                "INSERT INTO configurations (key, value, sealed, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (key) DO UPDATE
                 SET value = excluded.value, sealed = excluded.sealed, updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(value)
            .bind(sealed)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(SaveConfig::Saved)
    }
}
