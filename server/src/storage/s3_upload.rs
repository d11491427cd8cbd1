//! S3-native blob uploads (scale-out.md 5.2): the bytes of an upload go straight into an S3 multipart upload,
//! and everything needed to continue it is in an [`UploadState`] that the caller keeps (the upload's database
//! row), so any node can take the next chunk and nothing is ever learned from S3 listings.
//!
//! Keys, under the store's prefix: the upload's object `uploads/<id>/data` (the multipart upload's target, and
//! where the blob is once completed), and at most one tail object `uploads/<id>/tail-<offset>` holding the
//! bytes past the last whole part (fewer than a part: S3 refuses a part under 5 MiB unless it is the last), so
//! no middle part is ever too small. A chunk reads the tail back, prepends it, sends whole parts, and leaves the
//! rest as a new tail under a new name: the old tail stays valid until the caller has saved the new state, and
//! is deleted only then ([`S3Uploads::remove`]).
//!
//! Rule: memory per append is one part being filled plus the parts on their way to S3: one always, and up
//! to [`PARTS_IN_FLIGHT`] while the node's pool of extra parts ([`EXTRA_PARTS`]) has room, so a client is
//! slowed to the store's pace and a node's part buffers stay bounded however many uploads run. A part is
//! filled in blocks of 1 MiB, so it holds what arrived plus at most one block, whatever the client's framing
//! (a body of one-byte chunks costs no more than one large frame). A failed append changes nothing the
//! saved state refers to: parts sent past the saved list are overwritten by the next attempt or left out of
//! the completion.
//!
//! This is the storage half. The database half (the state's columns, the conditional save, the lease that
//! keeps one writer per upload) is `db/uploads.rs`, and `registry/s3_uploads.rs` puts them together.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt as _};
use object_store::aws::AmazonS3;
use object_store::multipart::{MultipartStore as _, PartId};
use object_store::path::Path;
use object_store::{ObjectStoreExt as _, PutPayload};
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::PARTS_IN_FLIGHT;
use super::resumable_sha256::{ResumableSha256, StateError};
use super::uploads::AppendError;

/// How long a request that appends to an upload holds it without renewing: another request (on any node) may
/// continue the upload this long after its node stopped answering.
pub const UPLOAD_LEASE: std::time::Duration = std::time::Duration::from_secs(20);

/// S3's limit on the parts of one multipart upload.
const MAX_PARTS: usize = 10_000;
/// S3's smallest part but the last.
const MIN_PART: u64 = 5 * 1024 * 1024;
/// The blocks a part is filled in.
const BLOCK: usize = 1024 * 1024;
/// Parts that appends on this node may have on their way to S3 beyond their first: the pool that lets a
/// few uploads send [`PARTS_IN_FLIGHT`] at once without letting many hold that much memory.
pub const EXTRA_PARTS: usize = 8;

/// One upload's progress: what the caller saves after each append and hands to the next, on any node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadState {
    /// The upload's id (a UUID made by Berth): its keys are under `uploads/<id>/`.
    pub id: String,
    /// Bytes per part, fixed for the upload's life (so a configuration change does not disturb it).
    pub part_size: u64,
    /// The S3 multipart upload, created with the first whole part; `None` while everything fits the tail.
    pub multipart_id: Option<String>,
    /// The parts sent, in order (part number = index + 1), each `part_size` bytes.
    pub parts: Vec<UploadedPart>,
    /// Bytes received: the parts plus the tail.
    pub offset: u64,
    /// Bytes in the tail object `uploads/<id>/tail-<offset>`; 0: no tail object.
    pub tail_len: u64,
    /// The SHA-256 of the bytes received so far ([`ResumableSha256::to_bytes`]).
    pub sha256: Vec<u8>,
}

/// A part of the multipart upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedPart {
    /// The ETag S3 gave the part, which completing the upload must name.
    pub etag: String,
}

/// What an append leaves: the state to save, and the objects to delete once it is saved.
#[derive(Debug)]
pub struct Appended {
    pub state: UploadState,
    /// The tail the new state no longer refers to. Delete it (with [`S3Uploads::remove`]) only after the new
    /// state is saved: until then it is what the saved state names.
    pub stale: Vec<Path>,
}

/// What an append must keep, asked as it goes: the caller's limits (quota, staging caps) and its lease.
pub trait AppendGuard {
    /// The upload would grow to `len` bytes: an error stops the append before the bytes are used.
    fn check(&mut self, len: u64) -> Result<(), AppendError>;
    /// The upload is about to hold up to `len` bytes in the store (a part or the tail is written next).
    fn reserve(&mut self, len: u64) -> impl Future<Output = Result<(), AppendError>> + Send;
}

/// No limits (tests, and tools that have checked them already).
impl AppendGuard for () {
    fn check(&mut self, _len: u64) -> Result<(), AppendError> {
        Ok(())
    }

    async fn reserve(&mut self, _len: u64) -> Result<(), AppendError> {
        Ok(())
    }
}

/// A completed upload: the object holding the blob and what it hashes to.
#[derive(Debug)]
pub struct Completed {
    /// Where the blob is: `uploads/<id>/data` under the prefix.
    pub key: Path,
    /// The same key without the prefix: what the blob's row records as its `object_key`.
    pub object_key: String,
    pub size: u64,
    pub sha256: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum S3UploadError {
    #[error("the request body failed: {0}")]
    Body(String),
    #[error("the upload would pass S3's 10,000 parts of {part_size} bytes")]
    TooManyParts { part_size: u64 },
    /// The guard refused the bytes (a limit, or the lease was lost).
    #[error(transparent)]
    Refused(AppendError),
    #[error("the upload's saved state is inconsistent: {0}")]
    State(String),
    #[error(transparent)]
    Hash(#[from] StateError),
    #[error("the object store failed: {0}")]
    Store(#[from] object_store::Error),
    #[error("sending a part stopped: {0}")]
    Task(String),
}

/// The key, under the store's prefix, of upload `id`'s object: where its blob stays once completed.
pub fn object_key(id: &str) -> String {
    format!("uploads/{id}/data")
}

/// The S3 upload driver of one bucket and prefix.
#[derive(Debug, Clone)]
pub struct S3Uploads {
    store: Arc<AmazonS3>,
    /// `""` or a prefix ending in `/`.
    root: String,
    part_size: u64,
    /// The node's [`EXTRA_PARTS`].
    extra_parts: Arc<Semaphore>,
}

impl S3Uploads {
    pub(super) fn new(
        store: Arc<AmazonS3>,
        root: String,
        part_size: u64,
        extra_parts: Arc<Semaphore>,
    ) -> S3Uploads {
        S3Uploads {
            store,
            root,
            part_size: part_size.max(MIN_PART),
            extra_parts,
        }
    }

    fn data_key(&self, id: &str) -> Path {
        Path::from(format!("{}{}", self.root, object_key(id)))
    }

    fn tail_key(&self, state: &UploadState) -> Path {
        // Named by the offset it ends at: every append that adds bytes writes a new name, so the tail the
        // saved state names is never overwritten.
        Path::from(format!(
            "{}uploads/{}/tail-{}",
            self.root, state.id, state.offset
        ))
    }

    /// The state of a new, empty upload `id`. Nothing is sent to S3 until bytes arrive.
    pub fn start(&self, id: &str) -> UploadState {
        UploadState {
            id: id.to_owned(),
            part_size: self.part_size,
            multipart_id: None,
            parts: Vec::new(),
            offset: 0,
            tail_len: 0,
            sha256: ResumableSha256::new().to_bytes(),
        }
    }

    /// Appends `body` to the upload `state` describes. On success the caller saves the returned state (only if
    /// its saved offset is still `state.offset`) and then removes the stale objects. On failure nothing the
    /// saved state refers to has changed. `last`: no chunk follows (the request that ends the upload), so what
    /// does not fill a part is sent as the last part, or as the whole object, rather than kept as a tail.
    pub async fn append<S, E, G>(
        &self,
        state: &UploadState,
        mut body: S,
        guard: &mut G,
        last: bool,
    ) -> Result<Appended, S3UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
        G: AppendGuard,
    {
        let mut next = state.clone();
        let mut hasher = ResumableSha256::from_bytes(&state.sha256)?;
        if hasher.len() != state.offset
            || state.parts.len() as u64 * state.part_size + state.tail_len != state.offset
            || state.tail_len >= state.part_size
        {
            return Err(S3UploadError::State(format!(
                "offset {} does not match {} parts of {} bytes, a tail of {} and {} bytes hashed",
                state.offset,
                state.parts.len(),
                state.part_size,
                state.tail_len,
                hasher.len()
            )));
        }
        let part_size = usize::try_from(state.part_size)
            .map_err(|_| S3UploadError::State("part size".to_owned()))?;
        // The bytes past the last part sent: a slow client holds what it sent, not a part.
        let mut pending = Pending::default();
        if state.tail_len > 0 {
            let tail = self.store.get(&self.tail_key(state)).await?.bytes().await?;
            if tail.len() as u64 != state.tail_len {
                return Err(S3UploadError::State(format!(
                    "the tail object holds {} bytes, the state says {}",
                    tail.len(),
                    state.tail_len
                )));
            }
            pending.push(&tail);
        }
        let created_here = state.multipart_id.is_none();
        let result = async {
            // Dropped with this block: an append that fails stops its parts still being sent.
            let mut sending = Sending::new(next.parts.len());
            while let Some(frame) = body.next().await {
                let frame = frame.map_err(|e| S3UploadError::Body(e.to_string()))?;
                let len = next.offset + frame.len() as u64;
                guard.check(len).map_err(S3UploadError::Refused)?;
                hasher.update(&frame);
                next.offset = len;
                let mut rest: &[u8] = &frame;
                while !rest.is_empty() {
                    let take = (part_size - pending.len).min(rest.len());
                    pending.push(&rest[..take]);
                    rest = &rest[take..];
                    if pending.len == part_size {
                        guard
                            .reserve(next.offset)
                            .await
                            .map_err(S3UploadError::Refused)?;
                        self.send_part(&mut next, &mut sending, pending.take())
                            .await?;
                    }
                }
            }
            if pending.len > 0 && next.offset != state.offset {
                guard
                    .reserve(next.offset)
                    .await
                    .map_err(S3UploadError::Refused)?;
            }
            if last {
                // No tail to keep: what is left is the last part, or (an upload that never filled a part)
                // the object itself, written once instead of a tail now and a copy at completion.
                let rest = pending.take();
                if next.multipart_id.is_some() {
                    if rest.content_length() > 0 {
                        self.send_part(&mut next, &mut sending, rest).await?;
                    }
                } else {
                    self.store.put(&self.data_key(&next.id), rest).await?;
                }
            }
            sending.finish(&mut next.parts).await
        }
        .await;
        if let Err(e) = result {
            // A multipart upload this append created is not in any saved state: abort it.
            if created_here
                && let Some(id) = &next.multipart_id
                && let Err(abort) = self
                    .store
                    .abort_multipart(&self.data_key(&next.id), id)
                    .await
            {
                tracing::warn!(upload = %next.id, error = %abort, "could not abort an unsaved multipart upload");
            }
            return Err(e);
        }
        next.sha256 = hasher.to_bytes();
        next.tail_len = pending.len as u64;
        let mut stale = Vec::new();
        let old_tail = (state.tail_len > 0).then(|| self.tail_key(state));
        let new_tail = (next.tail_len > 0).then(|| self.tail_key(&next));
        if old_tail != new_tail {
            if let Some(key) = &new_tail {
                self.store.put(key, pending.take()).await?;
            }
            stale.extend(old_tail);
        }
        Ok(Appended { state: next, stale })
    }

    /// Starts sending `part` as the next part of the upload, creating its multipart upload with the first.
    /// Waits while the append has as many parts on their way as it may.
    async fn send_part(
        &self,
        state: &mut UploadState,
        sending: &mut Sending,
        part: PutPayload,
    ) -> Result<(), S3UploadError> {
        let index = sending.next_index();
        if index >= MAX_PARTS - 1 {
            return Err(S3UploadError::TooManyParts {
                part_size: state.part_size,
            });
        }
        let key = self.data_key(&state.id);
        let id = match &state.multipart_id {
            Some(id) => id.clone(),
            None => {
                let id = self.store.create_multipart(&key).await?;
                state.multipart_id = Some(id.clone());
                id
            }
        };
        // The first part on its way needs nothing; more need a place in the node's pool.
        let permit = loop {
            if sending.tasks.is_empty() {
                break None;
            }
            if sending.tasks.len() < PARTS_IN_FLIGHT
                && let Ok(permit) = self.extra_parts.clone().try_acquire_owned()
            {
                break Some(permit);
            }
            sending.collect_one().await?;
        };
        let store = self.store.clone();
        sending.start(index, async move {
            let _permit: Option<OwnedSemaphorePermit> = permit;
            store.put_part(&key, &id, index, part).await
        });
        Ok(())
    }

    /// Completes the upload: the tail, if any, becomes the last part (or, for an upload that never filled a
    /// part, the object itself, by a copy of at most one part); after a `last` append the parts or the object
    /// are already whole. The caller checks the digest, records the blob at
    /// `key` and forgets the upload; the tail is deleted here.
    pub async fn complete(&self, state: &UploadState) -> Result<Completed, S3UploadError> {
        let sha256 = ResumableSha256::from_bytes(&state.sha256)?;
        if sha256.len() != state.offset {
            return Err(S3UploadError::State(format!(
                "{} bytes hashed for an offset of {}",
                sha256.len(),
                state.offset
            )));
        }
        let key = self.data_key(&state.id);
        let tail = (state.tail_len > 0).then(|| self.tail_key(state));
        match (&state.multipart_id, &tail) {
            (Some(id), _) => {
                let mut parts: Vec<PartId> = state
                    .parts
                    .iter()
                    .map(|p| PartId {
                        content_id: p.etag.clone(),
                    })
                    .collect();
                if let Some(tail) = &tail {
                    let bytes = self.store.get(tail).await?.bytes().await?;
                    parts.push(
                        self.store
                            .put_part(&key, id, parts.len(), PutPayload::from(bytes))
                            .await?,
                    );
                }
                self.store.complete_multipart(&key, id, parts).await?;
            }
            (None, Some(tail)) => {
                self.store.copy(tail, &key).await?;
            }
            // The last append wrote the object whole.
            (None, None) if state.offset > 0 => {}
            (None, None) => {
                self.store.put(&key, PutPayload::default()).await?;
            }
        }
        if let Some(tail) = tail {
            self.remove(&[tail]).await;
        }
        Ok(Completed {
            key,
            object_key: object_key(&state.id),
            size: state.offset,
            sha256: sha256.finish(),
        })
    }

    /// Cancels the upload: aborts its multipart upload and deletes its tail, and its object too unless
    /// `keep_object` (it was completed and a blob's row names it).
    pub async fn abort(&self, state: &UploadState, keep_object: bool) -> Result<(), S3UploadError> {
        let key = self.data_key(&state.id);
        if let Some(id) = &state.multipart_id {
            match self.store.abort_multipart(&key, id).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let mut keys = Vec::new();
        if !keep_object {
            keys.push(key);
        }
        if state.tail_len > 0 {
            keys.push(self.tail_key(state));
        }
        self.remove(&keys).await;
        Ok(())
    }

    /// Deletes `keys`, logging (not failing on) what cannot be deleted: a leftover tail costs storage, never
    /// correctness, and the purge of abandoned uploads removes the rest.
    pub async fn remove(&self, keys: &[Path]) {
        for key in keys {
            match self.store.delete(key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => {
                    tracing::warn!(%key, error = %e, "could not delete an upload's leftover object")
                }
            }
        }
    }
}

/// Bytes received and not yet sent, in blocks of [`BLOCK`] bytes.
#[derive(Default)]
struct Pending {
    full: Vec<Bytes>,
    /// The block being filled (no allocation until bytes come).
    block: BytesMut,
    len: usize,
}

impl Pending {
    fn push(&mut self, mut data: &[u8]) {
        self.len += data.len();
        while !data.is_empty() {
            if self.block.len() == self.block.capacity() {
                if !self.block.is_empty() {
                    self.full.push(self.block.split().freeze());
                }
                self.block = BytesMut::with_capacity(BLOCK);
            }
            let n = (self.block.capacity() - self.block.len()).min(data.len());
            self.block.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
    }

    /// Everything held, as one payload, leaving nothing.
    fn take(&mut self) -> PutPayload {
        if !self.block.is_empty() {
            self.full.push(self.block.split().freeze());
        }
        self.block = BytesMut::new();
        self.len = 0;
        std::mem::take(&mut self.full).into_iter().collect()
    }
}

/// The parts of one append on their way to S3, and the ETags of those that arrived.
struct Sending {
    tasks: JoinSet<(usize, Result<PartId, object_store::Error>)>,
    /// The index of the append's first part.
    first: usize,
    /// The ETag of part `first + i` at `i`, once S3 has it.
    etags: Vec<Option<String>>,
}

impl Sending {
    fn new(first: usize) -> Sending {
        Sending {
            tasks: JoinSet::new(),
            first,
            etags: Vec::new(),
        }
    }

    fn next_index(&self) -> usize {
        self.first + self.etags.len()
    }

    fn start(
        &mut self,
        index: usize,
        send: impl Future<Output = Result<PartId, object_store::Error>> + Send + 'static,
    ) {
        self.etags.push(None);
        self.tasks.spawn(async move { (index, send.await) });
    }

    /// Waits for one part to arrive (or fail).
    async fn collect_one(&mut self) -> Result<(), S3UploadError> {
        match self.tasks.join_next().await {
            None => Ok(()),
            Some(Ok((index, Ok(PartId { content_id })))) => {
                if let Some(slot) = self.etags.get_mut(index - self.first) {
                    *slot = Some(content_id);
                }
                Ok(())
            }
            Some(Ok((_, Err(e)))) => Err(e.into()),
            Some(Err(e)) => Err(S3UploadError::Task(e.to_string())),
        }
    }

    /// Waits for every part, then adds them to `parts` in order.
    async fn finish(mut self, parts: &mut Vec<UploadedPart>) -> Result<(), S3UploadError> {
        while !self.tasks.is_empty() {
            self.collect_one().await?;
        }
        for etag in self.etags {
            let etag = etag.ok_or_else(|| S3UploadError::Task("a part has no ETag".to_owned()))?;
            parts.push(UploadedPart { etag });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_bytes_are_held_in_whole_blocks_whatever_the_framing() {
        let mut pending = Pending::default();
        // A body of one-byte frames, then one large frame.
        for i in 0..(BLOCK + 10) {
            pending.push(&[i as u8]);
        }
        pending.push(&vec![7u8; 3 * BLOCK]);
        assert_eq!(pending.len, 4 * BLOCK + 10);
        assert_eq!(
            pending.full.len(),
            4,
            "four full blocks, not a chunk per frame"
        );
        assert!(pending.full.iter().all(|b| b.len() == BLOCK));
        assert_eq!(pending.block.capacity(), BLOCK);
        let payload = pending.take();
        assert_eq!(payload.content_length(), 4 * BLOCK + 10);
        let bytes: Vec<u8> = payload.iter().flat_map(|b| b.iter().copied()).collect();
        assert_eq!(
            bytes[..BLOCK + 10],
            (0..BLOCK + 10).map(|i| i as u8).collect::<Vec<_>>()[..]
        );
        assert!(bytes[BLOCK + 10..].iter().all(|&b| b == 7));
        assert_eq!(
            (pending.len, pending.full.len(), pending.block.capacity()),
            (0, 0, 0)
        );
    }
}
