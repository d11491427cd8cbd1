//! Keys kept in the `signing_keys` table: the token signing key (`ES256`) and the key that seals stored
//! secrets (see [`crate::crypto`]), told apart by `algorithm`.

use super::Db;

/// The `algorithm` of the secret-sealing key's row.
const SECRET_KEY_ALGORITHM: &str = "XChaCha20-Poly1305";

impl Db {
    /// The token signing key as `(id, private key PEM)`, if one was generated.
    pub async fn signing_key(&self) -> Result<Option<(String, String)>, sqlx::Error> {
        sqlx::query_as("SELECT id, private_pem FROM signing_keys WHERE algorithm <> $1 ORDER BY created_at LIMIT 1")
            .bind(SECRET_KEY_ALGORITHM)
            .fetch_optional(&self.read)
            .await
    }

    /// Stores a key unless one exists already, and returns the key in force (the first one stored wins,
    /// so two nodes starting at once agree).
    pub async fn insert_signing_key(
        &self,
        id: &str,
        algorithm: &str,
        pem: &str,
    ) -> Result<(String, String), sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let existing: Option<(String, String)> =
            sqlx::query_as("SELECT id, private_pem FROM signing_keys WHERE algorithm <> $1 ORDER BY created_at LIMIT 1")
                .bind(SECRET_KEY_ALGORITHM)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(key) = existing {
            return Ok(key);
        }
        sqlx::query("INSERT INTO signing_keys (id, algorithm, private_pem, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(algorithm)
            .bind(pem)
            .bind(super::now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((id.to_owned(), pem.to_owned()))
    }
}

impl Db {
    /// The key that seals stored secrets, as 64 hex digits, if one was generated.
    pub async fn secret_key(&self) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT private_pem FROM signing_keys WHERE algorithm = $1 ORDER BY created_at LIMIT 1",
        )
        .bind(SECRET_KEY_ALGORITHM)
        .fetch_optional(&self.read)
        .await
    }

    /// Stores the secret-sealing key (64 hex digits) unless one exists already, and returns the key in force
    /// (the first one stored wins, so two nodes starting at once agree).
    pub async fn insert_secret_key(&self, hex_key: &str) -> Result<String, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let existing: Option<String> = sqlx::query_scalar(
            "SELECT private_pem FROM signing_keys WHERE algorithm = $1 ORDER BY created_at LIMIT 1",
        )
        .bind(SECRET_KEY_ALGORITHM)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(key) = existing {
            return Ok(key);
        }
        sqlx::query("INSERT INTO signing_keys (id, algorithm, private_pem, created_at) VALUES ($1, $2, $3, $4)")
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(SECRET_KEY_ALGORITHM)
            .bind(hex_key)
            .bind(super::now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(hex_key.to_owned())
    }
}
