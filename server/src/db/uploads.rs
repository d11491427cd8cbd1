//! Blob upload sessions. On the filesystem the staged bytes live on the disk of the node that took the POST,
//! and a row says the session exists and who owns it. On S3 the bytes are in an S3 multipart upload and the
//! row holds everything needed to continue it on any node ([`crate::storage::UploadState`], its parts in
//! `upload_parts`).
//!
//! Rule: one writer per S3-native session. An append first takes the session's lease (a random token and an
//! expiry, renewed while it streams), and saves its progress only while it still holds the lease and the row's
//! `received` is still what it started from, so two nodes never both continue the same upload and a node that
//! dies mid-chunk leaves the last saved state, which another takes over once the lease runs out.

use chrono::{DateTime, Utc};

use super::Db;
use super::quota;
use crate::storage::{UploadState, UploadedPart};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UploadSession {
    pub id: String,
    pub project_id: i64,
    pub repository: String,
    /// Bytes saved, for an S3-native session (0 for a staged one, whose file says).
    pub received: i64,
    /// Whether the bytes are in an S3 multipart upload rather than staged on a node's disk.
    #[sqlx(try_from = "super::Flag")]
    pub native: bool,
}

/// The outcome of asking for a session's lease.
#[derive(Debug)]
pub enum Lease {
    /// Taken, with the session's saved state.
    Taken(UploadState),
    /// Another request holds it (it is appending, or its node died less than a lease ago).
    Busy,
    /// No such S3-native session.
    Missing,
}

/// Why bytes could not be reserved against the project's staging cap.
#[derive(Debug)]
pub enum Reserve {
    /// The session now counts this many bytes (at least those needed).
    Reserved(u64),
    /// The project's other sessions hold `staged` bytes: with this one's, more than the cap.
    Full { staged: u64 },
    /// The lease ran out and another request took the session.
    LeaseLost,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

type StateRow = (String, i64, Option<String>, i64, i64, Option<Vec<u8>>);

fn state_of((id, part_size, multipart_id, received, tail_len, sha256): StateRow) -> UploadState {
    UploadState {
        id,
        part_size: to_u64(part_size),
        multipart_id,
        parts: Vec::new(),
        offset: to_u64(received),
        tail_len: to_u64(tail_len),
        sha256: sha256.unwrap_or_default(),
    }
}

const STATE_COLUMNS: &str = "id, part_size, multipart_id, received, tail_len, sha256_state";

impl Db {
    /// Opens a session unless project `project_id` already has `max_sessions` open; returns whether it was
    /// opened. One statement, so concurrent opens cannot pass the cap (the single writer serializes them).
    /// `native` is the starting state of an S3-native upload (`None` on the filesystem). On PostgreSQL the
    /// project's row lock makes the count and the insert one step, as the single writer does on SQLite.
    pub async fn create_upload(
        &self,
        id: &str,
        project_id: i64,
        repository: &str,
        max_sessions: u32,
        native: Option<&UploadState>,
    ) -> Result<bool, sqlx::Error> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        quota::lock_project(&mut tx, project_id).await?;
        let done = sqlx::query(
            "INSERT INTO upload_sessions (id, project_id, repository, created_at, updated_at, sha256_state,
                                          part_size)
             SELECT $1, $2, $3, $4, $4, $6, $7
             WHERE (SELECT COUNT(*) FROM upload_sessions WHERE project_id = $2) < $5",
        )
        .bind(id)
        .bind(project_id)
        .bind(repository)
        .bind(now)
        .bind(i64::from(max_sessions))
        .bind(native.map(|n| n.sha256.clone()))
        .bind(native.map_or(0, |n| to_i64(n.part_size)))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// How many sessions project `project_id` has open.
    pub async fn open_uploads(&self, project_id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM upload_sessions WHERE project_id = $1")
            .bind(project_id)
            .fetch_one(&self.read)
            .await
    }

    pub async fn find_upload(&self, id: &str) -> Result<Option<UploadSession>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, project_id, repository, received,
                    CASE WHEN sha256_state IS NULL THEN 0 ELSE 1 END AS native
             FROM upload_sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await
    }

    /// Marks a session as active now, so the idle purge leaves it alone.
    pub async fn touch_upload(&self, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE upload_sessions SET updated_at = $1 WHERE id = $2")
            .bind(super::now())
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Takes the lease of S3-native session `id` for `token` until `until`, unless another holder's lease is
    /// still running at `now`; returns the session's saved state with its parts.
    pub async fn lease_upload(
        &self,
        id: &str,
        token: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Lease, sqlx::Error> {
        let row: Option<StateRow> = sqlx::query_as(&format!(
            "UPDATE upload_sessions SET lease_owner = $2, lease_until = $3
             WHERE id = $1 AND sha256_state IS NOT NULL AND (lease_until IS NULL OR lease_until < $4)
             RETURNING {STATE_COLUMNS}"
        ))
        .bind(id)
        .bind(token)
        .bind(super::timestamp(until))
        .bind(super::timestamp(now))
        .fetch_optional(&self.write)
        .await?;
        let Some(row) = row else {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM upload_sessions WHERE id = $1 AND sha256_state IS NOT NULL",
            )
            .bind(id)
            .fetch_optional(&self.write)
            .await?;
            return Ok(if exists.is_some() {
                Lease::Busy
            } else {
                Lease::Missing
            });
        };
        let mut state = state_of(row);
        // Read from the writer: the parts a save on another node just committed.
        let etags: Vec<String> = sqlx::query_scalar(
            "SELECT etag FROM upload_parts WHERE upload_id = $1 ORDER BY part_number",
        )
        .bind(id)
        .fetch_all(&self.write)
        .await?;
        state.parts = etags
            .into_iter()
            .map(|etag| UploadedPart { etag })
            .collect();
        Ok(Lease::Taken(state))
    }

    /// Extends `token`'s lease on session `id` to `until`; false when it no longer holds it.
    pub async fn renew_upload_lease(
        &self,
        id: &str,
        token: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE upload_sessions SET lease_until = $3 WHERE id = $1 AND lease_owner = $2",
        )
        .bind(id)
        .bind(token)
        .bind(super::timestamp(until))
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Counts `needed` bytes as session `id`'s (held by `token`) if the sessions of project `project_id`
    /// together stay within `cap`, or more, up to `ahead`, as far as the cap leaves room: an append reserves
    /// ahead so that it need not come back for every part. The project's row lock makes the sum and the update
    /// one step on PostgreSQL.
    pub async fn reserve_upload_bytes(
        &self,
        id: &str,
        token: &str,
        project_id: i64,
        needed: u64,
        ahead: u64,
        cap: u64,
    ) -> Result<Reserve, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        quota::lock_project(&mut tx, project_id).await?;
        let others: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(staged), 0) AS BIGINT) FROM upload_sessions
             WHERE project_id = $1 AND id <> $2",
        )
        .bind(project_id)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let others = to_u64(others);
        if others.saturating_add(needed) > cap {
            return Ok(Reserve::Full { staged: others });
        }
        let staged = ahead.min(cap - others).max(needed);
        let done = sqlx::query(
            "UPDATE upload_sessions SET staged = $3 WHERE id = $1 AND lease_owner = $2",
        )
        .bind(id)
        .bind(token)
        .bind(to_i64(staged))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(if done.rows_affected() > 0 {
            Reserve::Reserved(staged)
        } else {
            Reserve::LeaseLost
        })
    }

    /// Saves an append's result and gives the lease back, if `token` still holds the lease and the session is
    /// still at `from` bytes; returns whether it was saved. Parts past those already saved are added.
    pub async fn save_upload(
        &self,
        token: &str,
        from: u64,
        state: &UploadState,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let done = sqlx::query(
            "UPDATE upload_sessions SET received = $4, staged = $4, tail_len = $5, multipart_id = $6,
                    sha256_state = $7, lease_owner = NULL, lease_until = NULL, updated_at = $8
             WHERE id = $1 AND lease_owner = $2 AND received = $3",
        )
        .bind(&state.id)
        .bind(token)
        .bind(to_i64(from))
        .bind(to_i64(state.offset))
        .bind(to_i64(state.tail_len))
        .bind(state.multipart_id.as_deref())
        .bind(state.sha256.clone())
        .bind(super::now())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let saved: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM upload_parts WHERE upload_id = $1")
                .bind(&state.id)
                .fetch_one(&mut *tx)
                .await?;
        for (index, part) in state.parts.iter().enumerate().skip(to_u64(saved) as usize) {
            sqlx::query(
                "INSERT INTO upload_parts (upload_id, part_number, etag) VALUES ($1, $2, $3)",
            )
            .bind(&state.id)
            .bind(to_i64(index as u64 + 1))
            .bind(&part.etag)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Gives `token`'s lease on session `id` back without saving (a failed append): the session keeps its
    /// saved state, and its staged count returns to it.
    pub async fn release_upload_lease(&self, id: &str, token: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE upload_sessions SET lease_owner = NULL, lease_until = NULL, staged = received
             WHERE id = $1 AND lease_owner = $2",
        )
        .bind(id)
        .bind(token)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Frees every session's lease: at the start of a node that is the only one (SQLite), whose leases can
    /// only be those of its previous run, so an upload cut off by a crash resumes at once.
    pub async fn release_all_upload_leases(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE upload_sessions SET lease_owner = NULL, lease_until = NULL, staged = received
             WHERE lease_owner IS NOT NULL",
        )
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected())
    }

    /// Deletes session `id` (with its parts) unless a lease on it runs past `busy_after` (`None`: whatever
    /// its lease). `None` when no row was deleted; else the deleted session's state when it was an S3-native
    /// one, so the caller (only the one who deleted the row) can remove its objects.
    pub async fn take_upload(
        &self,
        id: &str,
        busy_after: Option<DateTime<Utc>>,
    ) -> Result<Option<Option<UploadState>>, sqlx::Error> {
        let row: Option<StateRow> = sqlx::query_as(&format!(
            "DELETE FROM upload_sessions
             WHERE id = $1 AND (lease_until IS NULL OR lease_until < $2)
             RETURNING {STATE_COLUMNS}"
        ))
        .bind(id)
        // Past every timestamp: any lease.
        .bind(busy_after.map_or_else(|| "9999".to_owned(), super::timestamp))
        .fetch_optional(&self.write)
        .await?;
        Ok(row.map(|row| row.5.is_some().then(|| state_of(row))))
    }

    /// Bytes the open sessions of project `project_id` hold in the store (S3-native sessions).
    pub async fn staged_upload_bytes(&self, project_id: i64) -> Result<u64, sqlx::Error> {
        let staged: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(staged), 0) AS BIGINT) FROM upload_sessions WHERE project_id = $1",
        )
        .bind(project_id)
        .fetch_one(&self.read)
        .await?;
        Ok(to_u64(staged))
    }

    /// Ids of sessions idle since before `cutoff`.
    pub async fn idle_uploads(&self, cutoff: DateTime<Utc>) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM upload_sessions WHERE updated_at < $1")
            .bind(super::timestamp(cutoff))
            .fetch_all(&self.read)
            .await
    }

    /// Ids of every open session.
    pub async fn upload_ids(&self) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM upload_sessions")
            .fetch_all(&self.read)
            .await
    }

    /// Every open session as `(id, project)`.
    pub async fn upload_projects(&self) -> Result<Vec<(String, i64)>, sqlx::Error> {
        sqlx::query_as("SELECT id, project_id FROM upload_sessions")
            .fetch_all(&self.read)
            .await
    }
}
