//! Console sessions: the rows behind [`crate::auth::session::DbSessionStore`]. A session is an opaque JSON
//! record with an expiry; ids are random (tower-sessions makes them), and a clash on create is reported so the
//! caller picks another id.

use super::Db;

impl Db {
    /// Stores a new session; `false` when the id is taken.
    pub async fn create_session(
        &self,
        id: &str,
        data: &str,
        expires_unix: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO sessions (id, data, expires_unix) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(data)
        .bind(expires_unix)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes a session, creating or replacing it.
    pub async fn save_session(
        &self,
        id: &str,
        data: &str,
        expires_unix: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_unix) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_unix = excluded.expires_unix",
        )
        .bind(id)
        .bind(data)
        .bind(expires_unix)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A session that has not expired by `now_unix`.
    pub async fn session(&self, id: &str, now_unix: i64) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT data FROM sessions WHERE id = $1 AND expires_unix > $2")
            .bind(id)
            .bind(now_unix)
            .fetch_optional(&self.read)
            .await
    }

    /// Ends a session.
    pub async fn delete_session(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Deletes every session expired by `now_unix`; returns how many.
    pub async fn delete_expired_sessions(&self, now_unix: i64) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_unix <= $1")
            .bind(now_unix)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }
}
