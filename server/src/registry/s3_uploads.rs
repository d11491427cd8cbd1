//! S3-native blob uploads (on an S3 store): a chunk goes straight into the upload's S3 multipart upload, and
//! its progress is saved in the session's row, so the next request may go to any node.
//!
//! Each request that touches a session takes its lease first ([`crate::db::Lease`]), renews it every few
//! seconds while the body streams, and saves its progress only while it holds it. A session held by another
//! request answers 429; one whose node died is free again [`UPLOAD_LEASE`] later. The per-project staging cap
//! counts what every session holds in the bucket (`upload_sessions.staged`), so it holds across nodes; a chunk
//! being received also counts up to [`RESERVE_AHEAD`] more, as far as the cap leaves room, until it is saved.
//!
//! A commit checks the digest from the saved SHA-256 state (no second read), decides the quota, and completes
//! the multipart upload inside the transaction that records the blob with the upload's object as its key:
//! nothing is copied. A refused or cancelled upload is aborted, and its parts and tail are deleted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use futures_util::Stream;

use super::RegistryError;
use crate::app::AppState;
use crate::db::{Lease, Project, Reserve};
use crate::oci::{Algorithm, Digest, DigestHasher, RepositoryName};
use crate::storage::{
    AppendError, AppendGuard, AppendLimits, QuotaRoom, ResumableSha256, S3UploadError, S3Uploads,
    UPLOAD_LEASE, UploadState,
};

/// How often a request holding a session's lease renews it.
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(5);
/// How far past the bytes it needs an append reserves against the staging cap, when the cap leaves room: one
/// database transaction per 64 MiB rather than per part. Saving the append counts exactly what it holds.
const RESERVE_AHEAD: u64 = 64 * 1024 * 1024;

/// A session's lease, held by one request: renewed in the background until dropped.
struct Leased<'a> {
    state: &'a AppState,
    id: String,
    token: String,
    saved: UploadState,
    /// Set when a renewal found the lease taken by another request.
    lost: Arc<AtomicBool>,
    renewal: tokio::task::JoinHandle<()>,
}

impl Drop for Leased<'_> {
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

impl<'a> Leased<'a> {
    async fn take(state: &'a AppState, id: &str) -> Result<Leased<'a>, AppendError> {
        let token = uuid::Uuid::new_v4().to_string();
        let now = chrono::Utc::now();
        let saved = match state
            .db
            .lease_upload(id, &token, now, now + lease())
            .await
            .map_err(std::io::Error::other)?
        {
            Lease::Taken(saved) => saved,
            Lease::Busy => return Err(AppendError::Busy),
            Lease::Missing => return Err(AppendError::Missing),
        };
        let lost = Arc::new(AtomicBool::new(false));
        let renewal = tokio::spawn({
            let (db, id, token, lost) =
                (state.db.clone(), id.to_owned(), token.clone(), lost.clone());
            async move {
                let mut ticks = tokio::time::interval(RENEW_EVERY);
                ticks.tick().await;
                loop {
                    ticks.tick().await;
                    match db
                        .renew_upload_lease(&id, &token, chrono::Utc::now() + lease())
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => {
                            lost.store(true, Ordering::Release);
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(upload = %id, error = %e, "could not renew an upload's lease; will retry");
                        }
                    }
                }
            }
        });
        Ok(Leased {
            state,
            id: id.to_owned(),
            token,
            saved,
            lost,
            renewal,
        })
    }

    /// Gives the lease back without saving anything.
    async fn release(self) {
        if let Err(e) = self
            .state
            .db
            .release_upload_lease(&self.id, &self.token)
            .await
        {
            tracing::warn!(upload = %self.id, error = %e, "could not give an upload's lease back; it runs out by itself");
        }
    }
}

fn lease() -> chrono::Duration {
    chrono::Duration::from_std(UPLOAD_LEASE).unwrap_or(chrono::Duration::seconds(20))
}

/// The limits of one append, checked as bytes arrive and, for the project's staging cap, in the database
/// before each part (or the tail) is written.
struct Guard<'a> {
    leased: &'a Leased<'a>,
    project_id: i64,
    limits: AppendLimits,
    /// Bytes counted as the session's in `upload_sessions.staged`.
    reserved: u64,
}

impl AppendGuard for Guard<'_> {
    fn check(&mut self, len: u64) -> Result<(), AppendError> {
        if self.leased.lost.load(Ordering::Acquire) {
            return Err(AppendError::Busy);
        }
        if let Some(QuotaRoom { limit, used }) = self.limits.quota
            && len > limit.saturating_sub(used)
        {
            return Err(AppendError::OverQuota { len, used, limit });
        }
        let cap = self.limits.project_cap;
        if len > cap {
            return Err(AppendError::TooLarge { len, cap });
        }
        Ok(())
    }

    async fn reserve(&mut self, len: u64) -> Result<(), AppendError> {
        if len <= self.reserved {
            return Ok(());
        }
        let cap = self.limits.project_cap;
        let leased = self.leased;
        match leased
            .state
            .db
            .reserve_upload_bytes(
                &leased.id,
                &leased.token,
                self.project_id,
                len,
                len.saturating_add(RESERVE_AHEAD),
                cap,
            )
            .await
            .map_err(std::io::Error::other)?
        {
            Reserve::Reserved(reserved) => {
                self.reserved = reserved;
                Ok(())
            }
            Reserve::Full { staged } => Err(AppendError::StagingFull { staged, cap }),
            Reserve::LeaseLost => Err(AppendError::Busy),
        }
    }
}

fn driver(state: &AppState) -> Result<S3Uploads, AppendError> {
    // `None`: a session opened on S3, continued after the store was switched to the filesystem.
    state.blobs.s3_uploads().ok_or(AppendError::Missing)
}

/// The state of a new S3-native session, `None` when the store is not S3.
pub(super) fn start(state: &AppState, id: &str) -> Option<UploadState> {
    state.blobs.s3_uploads().map(|uploads| uploads.start(id))
}

/// Appends `body` to S3-native session `id` of `project`, starting at `start` when given; returns the new
/// offset. `last`: the request ends the upload (see [`S3Uploads::append`]). On any failure the session keeps
/// its last saved state.
pub(super) async fn append<S, E>(
    state: &AppState,
    project: &Project,
    id: &str,
    start: Option<u64>,
    limits: AppendLimits,
    body: S,
    last: bool,
) -> Result<u64, AppendError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let uploads = driver(state)?;
    let leased = Leased::take(state, id).await?;
    let from = leased.saved.offset;
    let result = async {
        if let Some(requested) = start
            && requested != from
        {
            return Err(AppendError::OutOfOrder {
                requested,
                current: from,
            });
        }
        let mut guard = Guard {
            leased: &leased,
            project_id: project.id,
            limits,
            reserved: from,
        };
        // A declared length past a limit is refused before a byte is read.
        if let Some(declared) = limits.declared.filter(|n| *n > 0) {
            let len = from.saturating_add(declared);
            guard.check(len)?;
            guard.reserve(len).await?;
        }
        let appended = uploads
            .append(&leased.saved, body, &mut guard, last)
            .await
            .map_err(append_error)?;
        let saved = state
            .db
            .save_upload(&leased.token, from, &appended.state)
            .await
            .map_err(std::io::Error::other)?;
        if !saved {
            // Another request took the session over (this one stalled past its lease): what was sent here is
            // not part of the upload; the parts it overwrote are sent again by the next append.
            return Err(AppendError::Busy);
        }
        uploads.remove(&appended.stale).await;
        Ok(appended.state.offset)
    }
    .await;
    match &result {
        // Saved: the save gave the lease back.
        Ok(_) => drop(leased),
        Err(_) => leased.release().await,
    }
    result
}

fn append_error(e: S3UploadError) -> AppendError {
    match e {
        S3UploadError::Refused(e) => e,
        S3UploadError::Body(message) => AppendError::Body(message),
        e => AppendError::Io(std::io::Error::other(e)),
    }
}

/// Commits S3-native session `id` as blob `digest` of repository `name`: checks the digest, decides the quota,
/// completes the multipart upload and records the blob at the upload's object, in one transaction. A refused
/// commit leaves the session for the caller to end.
pub(super) async fn commit(
    state: &AppState,
    project: &Project,
    name: &RepositoryName,
    id: &str,
    digest: &Digest,
) -> Result<(), RegistryError> {
    let uploads = driver(state).map_err(|_| RegistryError::BlobUploadUnknown)?;
    let leased = Leased::take(state, id)
        .await
        .map_err(|e| super::uploads::append_error(name, id)(e))?;
    let saved = leased.saved.clone();
    let mismatch = |computed: Digest| {
        RegistryError::DigestInvalid(format!(
            "digest mismatch: the uploaded content is {computed}, not {digest}"
        ))
    };
    // SHA-256 is checked from the saved state; another algorithm needs the bytes, so the upload is completed
    // first and read back (the object is still no blob: nothing names it until the link below commits).
    let mut completed = None;
    if digest.algorithm() == Algorithm::Sha256 {
        let state_hash = ResumableSha256::from_bytes(&saved.sha256)
            .map_err(|e| RegistryError::internal("reading an upload's saved hash state", e))?;
        let computed: Digest = format!("sha256:{}", hex::encode(state_hash.finish()))
            .parse()
            .map_err(|e| RegistryError::internal("an upload's computed digest", e))?;
        if &computed != digest {
            return Err(mismatch(computed));
        }
    } else {
        let done = uploads
            .complete(&saved)
            .await
            .map_err(|e| RegistryError::internal("completing an S3 multipart upload", e))?;
        let computed = hash_object(state, &done.key, digest.algorithm()).await?;
        if &computed != digest {
            return Err(mismatch(computed));
        }
        completed = Some(done);
    }
    let size = i64::try_from(saved.offset).map_err(|e| RegistryError::internal("blob size", e))?;
    let object_key = crate::storage::object_key(id);
    let link =
        super::uploads::link_upload(state, project, name, digest, size, id, Some(&object_key))
            .await?;
    if !link.upload_ended() {
        // Cancelled or purged meanwhile: whoever ended it removes its objects, so nothing may name them.
        return Err(RegistryError::BlobUploadUnknown);
    }
    if link.newly_recorded() {
        if completed.is_none() {
            // Dropping `link` on failure rolls the rows back, and the session with them.
            completed =
                Some(uploads.complete(&saved).await.map_err(|e| {
                    RegistryError::internal("completing an S3 multipart upload", e)
                })?);
        }
        link.commit().await.map_err(|e| {
            RegistryError::internal(
                "committing an uploaded blob; its object may be left in the bucket unrecorded",
                e,
            )
        })?;
    } else {
        // The blob was already stored: this upload's bytes are redundant.
        link.commit()
            .await
            .map_err(|e| RegistryError::internal("committing an uploaded blob", e))?;
        if let Err(e) = uploads.abort(&saved, false).await {
            tracing::warn!(upload = id, error = %e, "could not remove a redundant upload's parts from the bucket");
        }
    }
    // The session row went with the link, and its lease with it.
    drop(leased);
    tracing::debug!(repository = %name, %digest, size, key = ?completed.map(|c| c.key), "blob committed");
    Ok(())
}

/// Hashes the object at `key` with `algorithm`, streaming it.
async fn hash_object(
    state: &AppState,
    key: &object_store::path::Path,
    algorithm: Algorithm,
) -> Result<Digest, RegistryError> {
    use futures_util::StreamExt as _;
    let body = state
        .blobs
        .read_key(key, None)
        .await
        .map_err(|e| RegistryError::internal("reading back a completed upload", e))?;
    let mut stream = body.into_data_stream();
    let mut hasher = DigestHasher::new(algorithm);
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| RegistryError::internal("reading back a completed upload", e))?;
        hasher.update(&chunk);
    }
    Ok(hasher.finish())
}

/// Ends session `id` if its row is there and no lease on it runs past `busy_after` (`None`: any lease):
/// deletes the row and, for an S3-native one, aborts its multipart upload and deletes its objects (those a
/// blob's row names are kept). Returns whether this call ended it. A staged file is the caller's to remove.
pub async fn end(
    state: &AppState,
    id: &str,
    busy_after: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<bool, sqlx::Error> {
    let Some(taken) = state.db.take_upload(id, busy_after).await? else {
        return Ok(false);
    };
    let Some(taken) = taken else {
        return Ok(true);
    };
    let Some(uploads) = state.blobs.s3_uploads() else {
        tracing::warn!(
            upload = id,
            "an S3 upload ended after the store moved off S3; its parts stay in the bucket"
        );
        return Ok(true);
    };
    let keep = state
        .db
        .object_key_in_use(&crate::storage::object_key(id))
        .await?;
    if let Err(e) = uploads.abort(&taken, keep).await {
        tracing::warn!(upload = id, error = %e, "could not remove an ended upload's parts from the bucket; the bucket's lifecycle rule for incomplete multipart uploads removes them");
    }
    Ok(true)
}
