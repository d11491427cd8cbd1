//! Sign-in failures shared by every node ([`crate::auth::throttle`]): one row per counted key.
//!
//! Rule: a failure is counted by one statement that also refuses it while the key is locked, so nodes
//! reserving attempts at once never both slip under a lock.

use chrono::{DateTime, Utc};

use super::{Db, timestamp};

impl Db {
    /// Counts one failure of `key` at `now` unless a lock on it runs past `now`; returns the count with it,
    /// `None` while locked. A count whose last failure is before `forget_before`, or whose lock ended, starts
    /// over.
    pub async fn count_signin_failure(
        &self,
        key: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<Option<u32>, sqlx::Error> {
        let failures: Option<i64> = sqlx::query_scalar(
            "INSERT INTO signin_failures (key, failures, last_failure, locked_until) VALUES ($1, 1, $2, NULL)
             ON CONFLICT (key) DO UPDATE SET
                 failures = CASE
                     WHEN signin_failures.locked_until IS NOT NULL OR signin_failures.last_failure < $3 THEN 1
                     ELSE signin_failures.failures + 1 END,
                 last_failure = $2,
                 locked_until = NULL
             WHERE signin_failures.locked_until IS NULL OR signin_failures.locked_until <= $2
             RETURNING failures",
        )
        .bind(key)
        .bind(timestamp(now))
        .bind(timestamp(forget_before))
        .fetch_optional(&self.write)
        .await?;
        Ok(failures.map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    /// Locks `key` until `until`.
    pub async fn lock_signin(&self, key: &str, until: DateTime<Utc>) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE signin_failures SET locked_until = $2 WHERE key = $1")
            .bind(key)
            .bind(timestamp(until))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Takes one failure back from `key`, and its lock when `unlock`.
    pub async fn take_back_signin_failure(
        &self,
        key: &str,
        unlock: bool,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE signin_failures SET failures = failures - 1,
                    locked_until = CASE WHEN $2 THEN NULL ELSE locked_until END
             WHERE key = $1 AND failures > 0",
        )
        .bind(key)
        .bind(unlock)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Forgets `key`'s count (a successful sign-in).
    pub async fn clear_signin_failures(&self, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM signin_failures WHERE key = $1")
            .bind(key)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Deletes counts whose last failure is before `before` and that hold no lock past `now`; returns how many.
    pub async fn forget_signin_failures(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "DELETE FROM signin_failures
             WHERE last_failure < $1 AND (locked_until IS NULL OR locked_until < $2)",
        )
        .bind(timestamp(before))
        .bind(timestamp(now))
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected())
    }
}
