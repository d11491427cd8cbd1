//! Token signing keys.

use super::Db;

impl Db {
    /// The token signing key as `(id, private key PEM)`, if one was generated.
    pub async fn signing_key(&self) -> Result<Option<(String, String)>, sqlx::Error> {
        sqlx::query_as("SELECT id, private_pem FROM signing_keys ORDER BY created_at LIMIT 1")
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
            sqlx::query_as("SELECT id, private_pem FROM signing_keys ORDER BY created_at LIMIT 1")
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
