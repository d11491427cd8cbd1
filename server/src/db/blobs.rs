//! Blobs and their links to repositories.

use sqlx::AnyConnection;

use super::Db;
use super::quota::{self, ChargeError};

/// The upload a link ends ([`Db::begin_link`]), and where its bytes stay when they are not moved to the
/// digest's key (an S3-native upload's object).
#[derive(Debug, Clone, Copy)]
pub struct FromUpload<'a> {
    pub id: &'a str,
    pub object_key: Option<&'a str>,
}

/// A stored blob, as a read needs it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkedBlob {
    pub size: i64,
    /// Where its bytes are when not at its digest's key (an S3-native upload's object), for
    /// [`crate::storage::BlobStore::located`].
    pub object_key: Option<String>,
}

/// A blob link written in an open transaction: see [`Db::begin_link`]. Dropped without
/// [`PendingLink::commit`], it is rolled back.
#[derive(Debug)]
pub struct PendingLink {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    newly_recorded: bool,
    upload_ended: bool,
}

impl PendingLink {
    /// Whether the content store did not hold the blob before: its bytes must be moved in before
    /// [`PendingLink::commit`].
    pub fn newly_recorded(&self) -> bool {
        self.newly_recorded
    }

    /// Whether the link ended its upload session: false when the session was cancelled or purged meanwhile.
    /// An S3-native upload's object is removed by whoever ended its session, so a link that would name it
    /// must then be dropped.
    pub fn upload_ended(&self) -> bool {
        self.upload_ended
    }

    /// Makes the link visible.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

/// Makes blob `digest` (of `size` bytes) live and freshly linked before a link is written in `conn`'s
/// transaction: touches its row if it is live (on PostgreSQL this takes the row lock, so a garbage-collection
/// claim waits for the link and then sees it), else records it. Returns whether the row is new (the blob's
/// file must be moved into the store before the commit). A row being deleted by garbage collection is
/// refused: nothing may link a blob whose file is going away.
pub(super) async fn claim_for_link(
    conn: &mut AnyConnection,
    digest: &str,
    size: i64,
    now: &str,
    object_key: Option<&str>,
) -> Result<bool, ChargeError> {
    for _ in 0..2 {
        let touched =
            sqlx::query("UPDATE blobs SET linked_at = $2 WHERE digest = $1 AND state = 'live'")
                .bind(digest)
                .bind(now)
                .execute(&mut *conn)
                .await?;
        if touched.rows_affected() > 0 {
            return Ok(false);
        }
        let recorded = sqlx::query(
            "INSERT INTO blobs (digest, size, created_at, linked_at, state, object_key)
             VALUES ($1, $2, $3, $3, 'live', $4)
             ON CONFLICT (digest) DO NOTHING",
        )
        .bind(digest)
        .bind(size)
        .bind(now)
        .bind(object_key)
        .execute(&mut *conn)
        .await?;
        if recorded.rows_affected() > 0 {
            return Ok(true);
        }
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM blobs WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&mut *conn)
            .await?;
        if state.as_deref() == Some(super::gc::DELETING) {
            return Err(ChargeError::BlobDeleting(digest.to_owned()));
        }
        // Recorded (or removed) by someone else between the two statements: look again.
    }
    Err(ChargeError::BlobDeleting(digest.to_owned()))
}

/// Returns the id of repository `name` in `project_id`, creating it if needed.
pub(super) async fn ensure_repository(
    conn: &mut AnyConnection,
    project_id: i64,
    name: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO repositories (project_id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at RETURNING id",
    )
    .bind(project_id)
    .bind(name)
    .bind(super::now())
    .fetch_one(conn)
    .await
}

/// Blobs kept at an S3-native upload's object are found through their row.
#[async_trait::async_trait]
impl crate::storage::ObjectKeys for Db {
    async fn object_key(&self, digest: &str) -> std::io::Result<Option<String>> {
        let key: Option<Option<String>> =
            sqlx::query_scalar("SELECT object_key FROM blobs WHERE digest = $1")
                .bind(digest)
                .fetch_optional(&self.read)
                .await
                .map_err(std::io::Error::other)?;
        Ok(key.flatten())
    }
}

impl Db {
    /// Whether a blob's row names `object_key` as where its bytes are.
    pub async fn object_key_in_use(&self, object_key: &str) -> Result<bool, sqlx::Error> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM blobs WHERE object_key = $1")
            .bind(object_key)
            .fetch_optional(&self.write)
            .await?;
        Ok(found.is_some())
    }

    /// The blob `digest` if repository `repository` may serve it.
    pub async fn repository_blob(
        &self,
        repository: &str,
        digest: &str,
    ) -> Result<Option<LinkedBlob>, sqlx::Error> {
        sqlx::query_as(
            "SELECT b.size, b.object_key FROM repository_blobs rb
             JOIN repositories r ON r.id = rb.repository_id
             JOIN blobs b ON b.digest = rb.digest
             WHERE r.name = $1 AND rb.digest = $2",
        )
        .bind(repository)
        .bind(digest)
        .fetch_optional(&self.read)
        .await
    }

    /// Blob `digest` if the content store holds it (in any repository, or none).
    pub async fn stored_blob(&self, digest: &str) -> Result<Option<LinkedBlob>, sqlx::Error> {
        sqlx::query_as("SELECT size, object_key FROM blobs WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&self.read)
            .await
    }

    /// Blob `digest` if any repository of project `project_id` holds it.
    pub async fn project_blob(
        &self,
        project_id: i64,
        digest: &str,
    ) -> Result<Option<LinkedBlob>, sqlx::Error> {
        sqlx::query_as(
            "SELECT b.size, b.object_key FROM repository_blobs rb
             JOIN repositories r ON r.id = rb.repository_id
             JOIN blobs b ON b.digest = rb.digest
             WHERE r.project_id = $1 AND rb.digest = $2 LIMIT 1",
        )
        .bind(project_id)
        .bind(digest)
        .fetch_optional(&self.read)
        .await
    }

    /// Records blob `digest` as live, linked to no repository, whose file is already in the store (seeding
    /// and tests; the request paths use [`Db::begin_record_blob`] or [`Db::begin_link`]).
    pub async fn record_blob(&self, digest: &str, size: i64) -> Result<(), ChargeError> {
        self.begin_record_blob(digest, size).await?.commit().await?;
        Ok(())
    }

    /// Records a verified blob about to be moved into the content store, linked to no repository yet (a
    /// proxy-cache fetch), in a transaction left open: the caller moves the file in only when
    /// [`PendingLink::newly_recorded`], then commits. Refused while garbage collection deletes the blob
    /// ([`ChargeError::BlobDeleting`]): the caller waits and tries again, so a sweep that claimed the old row
    /// never deletes the new file.
    pub async fn begin_record_blob(
        &self,
        digest: &str,
        size: i64,
    ) -> Result<PendingLink, ChargeError> {
        let mut tx = self.write.begin().await?;
        let newly_recorded = claim_for_link(&mut tx, digest, size, &super::now(), None).await?;
        Ok(PendingLink {
            tx,
            newly_recorded,
            upload_ended: false,
        })
    }

    /// Records a verified blob and links it to `repository`, charging the project's quota for it and ending
    /// upload session `upload_id` if given, all in one transaction. Over the quota, nothing is written.
    pub async fn link_blob(
        &self,
        project_id: i64,
        repository: &str,
        digest: &str,
        size: i64,
        upload_id: Option<&str>,
    ) -> Result<(), ChargeError> {
        let upload = upload_id.map(|id| FromUpload {
            id,
            object_key: None,
        });
        self.begin_link(project_id, repository, digest, size, upload)
            .await?
            .commit()
            .await?;
        Ok(())
    }

    /// Writes what [`Db::link_blob`] writes, in a transaction left open: the quota is decided (over it,
    /// nothing is written and this fails) before the caller moves the blob's bytes into the store, and the
    /// rows become visible only at [`PendingLink::commit`]. Holds the single writer until then, so the
    /// caller's step in between must be short (a rename).
    pub async fn begin_link(
        &self,
        project_id: i64,
        repository: &str,
        digest: &str,
        size: i64,
        upload: Option<FromUpload<'_>>,
    ) -> Result<PendingLink, ChargeError> {
        super::retrying_conflicts("recording a blob", || {
            self.begin_link_once(project_id, repository, digest, size, upload)
        })
        .await
    }

    async fn begin_link_once(
        &self,
        project_id: i64,
        repository: &str,
        digest: &str,
        size: i64,
        upload: Option<FromUpload<'_>>,
    ) -> Result<PendingLink, ChargeError> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        quota::lock_project(&mut tx, project_id).await?;
        let object_key = upload.and_then(|u| u.object_key);
        let newly_recorded = claim_for_link(&mut tx, digest, size, &now, object_key).await?;
        quota::charge(&mut tx, project_id, digest, size).await?;
        let repository_id = ensure_repository(&mut tx, project_id, repository).await?;
        // A new upload or mount refreshes the link's time: deleting an older artifact keeps it (see
        // `delete_manifest_in`).
        sqlx::query(
            "INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (repository_id, digest) DO UPDATE SET created_at = excluded.created_at",
        )
        .bind(repository_id)
        .bind(digest)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let mut upload_ended = false;
        if let Some(upload) = upload {
            let ended = sqlx::query("DELETE FROM upload_sessions WHERE id = $1")
                .bind(upload.id)
                .execute(&mut *tx)
                .await?;
            upload_ended = ended.rows_affected() > 0;
        }
        Ok(PendingLink {
            tx,
            newly_recorded,
            upload_ended,
        })
    }

    /// Unlinks blobs uploaded to a repository before `cutoff` that no artifact there references: uploads whose
    /// manifest never came. Releases their quota; returns how many links were removed. Each link is removed
    /// by a statement that re-checks both conditions, so a manifest push that touched the link meanwhile
    /// keeps it (see [`Db::gc_unlink_stale`]).
    pub async fn purge_unreferenced_links(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, sqlx::Error> {
        let cutoff = super::timestamp(cutoff);
        let mut removed = 0;
        let mut after = (0, String::new());
        loop {
            let batch = self.gc_unlink_stale(&cutoff, &after, 500, false).await?;
            removed += batch.unlinked.len();
            match batch.next {
                Some(next) => after = next,
                None => return Ok(removed),
            }
        }
    }

    /// Removes blob `digest` from `repository`, releasing its quota if the project no longer uses it;
    /// returns whether it was linked there.
    pub async fn unlink_blob(&self, repository: &str, digest: &str) -> Result<bool, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let project_id: Option<i64> = sqlx::query_scalar(
            "DELETE FROM repository_blobs
             WHERE repository_id = (SELECT id FROM repositories WHERE name = $1) AND digest = $2
             RETURNING (SELECT project_id FROM repositories WHERE name = $1)",
        )
        .bind(repository)
        .bind(digest)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(project_id) = project_id else {
            return Ok(false);
        };
        quota::release_if_unused(&mut tx, project_id, digest).await?;
        tx.commit().await?;
        Ok(true)
    }
}
