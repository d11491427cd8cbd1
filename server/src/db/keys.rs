//! Keys kept in the `signing_keys` table: the token signing key (`ES256`) and the key that seals stored
//! secrets (see [`crate::crypto`]), told apart by `algorithm`.

use super::Db;

/// The `algorithm` of the secret-sealing key's row.
const SECRET_KEY_ALGORITHM: &str = "XChaCha20-Poly1305";
/// The `algorithm` of the row that proves which secret key is in force (see [`Db::insert_secret_key_check`]).
const SECRET_KEY_CHECK: &str = "secret-key-check";
/// The token signing key: every row that is neither of the above.
const SIGNING_KEY: &str = "SELECT id, private_pem FROM signing_keys WHERE algorithm NOT IN ($1, $2)
     ORDER BY created_at, id LIMIT 1";

impl Db {
    /// The token signing key as `(id, private key PEM)`, if one was generated.
    pub async fn signing_key(&self) -> Result<Option<(String, String)>, sqlx::Error> {
        sqlx::query_as(SIGNING_KEY)
            .bind(SECRET_KEY_ALGORITHM)
            .bind(SECRET_KEY_CHECK)
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
        let first = || {
            sqlx::query_as::<_, (String, String)>(SIGNING_KEY)
                .bind(SECRET_KEY_ALGORITHM)
                .bind(SECRET_KEY_CHECK)
        };
        if let Some(key) = first().fetch_optional(&self.write).await? {
            return Ok(key);
        }
        sqlx::query("INSERT INTO signing_keys (id, algorithm, private_pem, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(algorithm)
            .bind(pem)
            .bind(super::now())
            .execute(&self.write)
            .await?;
        // Nodes that inserted at once (PostgreSQL lets each in) all read back the oldest.
        first().fetch_one(&self.write).await
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
        self.insert_first_key(SECRET_KEY_ALGORITHM, hex_key).await
    }

    /// Records `sealed` (hex), a known text sealed with the secret key, unless a node recorded one before;
    /// returns the one in force, which every node's key must open.
    pub async fn insert_secret_key_check(&self, sealed: &str) -> Result<String, sqlx::Error> {
        self.insert_first_key(SECRET_KEY_CHECK, sealed).await
    }

    /// Stores `value` under `algorithm` unless a row of it exists, then returns the first row's value. Two
    /// nodes inserting at once (PostgreSQL lets both in) still read back the same one: the oldest.
    async fn insert_first_key(&self, algorithm: &str, value: &str) -> Result<String, sqlx::Error> {
        let first = || {
            sqlx::query_scalar::<_, String>(
                "SELECT private_pem FROM signing_keys WHERE algorithm = $1 ORDER BY created_at, id LIMIT 1",
            )
            .bind(algorithm)
        };
        if let Some(existing) = first().fetch_optional(&self.write).await? {
            return Ok(existing);
        }
        sqlx::query("INSERT INTO signing_keys (id, algorithm, private_pem, created_at) VALUES ($1, $2, $3, $4)")
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(algorithm)
            .bind(value)
            .bind(super::now())
            .execute(&self.write)
            .await?;
        first().fetch_one(&self.write).await
    }
}
