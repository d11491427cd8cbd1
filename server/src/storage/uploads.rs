//! Upload staging: the bytes of open blob uploads, one file per session under `<data>/uploads/<id>`.
//!
//! The file length is the upload's offset. A sha256 state is kept in memory as bytes arrive, so finishing
//! an upload needs no second read; after a restart the state is rebuilt from the file on first use. A chunk
//! that fails part-way is cut off again, so a session only ever holds whole acknowledged chunks — except
//! after a crash, when the file may end with the acknowledged-or-not prefix of the chunk in flight; the
//! client learns the true offset from the upload status endpoint.
//!
//! Rule: staging never holds more than the limits allow. Each project has a count of the bytes its open
//! sessions hold; an append reserves its bytes against the project's cap before they are written (the
//! declared `Content-Length` up front, then frame by frame), and is cut off — and cut back — the moment a
//! session would pass its quota room or the project its staging cap. The count is in memory, because the
//! staged bytes are on this node's disk; [`UploadStaging::restore`] rebuilds it at start-up.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};

use crate::oci::{Algorithm, Digest, DigestHasher};

/// Batches of body frames queued between the network and the writer thread.
const WRITE_QUEUE: usize = 4;
/// Frames are gathered into batches of about this many bytes before the writer thread is woken, so a push
/// costs one thread hand-off per mebibyte rather than one per network read.
const WRITE_BATCH: usize = 1024 * 1024;

/// Caps on uploads in progress, per project (`[uploads]` in TOML, `BERTH_UPLOADS__*` in the environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadLimits {
    /// Bytes that the open upload sessions of one project may hold in the staging area together.
    pub max_staged_bytes_per_project: u64,
    /// Upload sessions one project may have open at once.
    pub max_sessions_per_project: u32,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_staged_bytes_per_project: 32 * 1024 * 1024 * 1024,
            max_sessions_per_project: 256,
        }
    }
}

/// The limits one append must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendLimits {
    /// The project's quota (`None` without one): the session may hold no more than what is left of it.
    pub quota: Option<QuotaRoom>,
    /// The most bytes all sessions of the project may hold together.
    pub project_cap: u64,
    /// The body's declared length (`Content-Length`), checked before a byte is read.
    pub declared: Option<u64>,
}

/// A project's storage limit and usage, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaRoom {
    pub limit: u64,
    pub used: u64,
}

/// What is known of one staged upload.
struct Staged {
    len: u64,
    /// `None` until rebuilt from the file (after a restart).
    sha256: Option<DigestHasher>,
    /// The staged-bytes count of the session's project, which includes `len` once set.
    project: Option<Arc<AtomicU64>>,
}

/// The staging area.
pub struct UploadStaging {
    dir: PathBuf,
    sessions: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Staged>>>>,
    /// Bytes staged per project: the sessions' lengths plus the bytes of chunks being written.
    projects: Mutex<HashMap<i64, Arc<AtomicU64>>>,
}

/// Why bytes could not be appended.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("chunk starts at {requested} but the upload is at offset {current}")]
    OutOfOrder { requested: u64, current: u64 },
    #[error("the request body failed: {0}")]
    Body(String),
    #[error("no staged data for this upload")]
    Missing,
    /// The session would hold more than the project's remaining quota.
    #[error(
        "an upload of at least {len} bytes, which when added to the current usage of {used} bytes would exceed the configured upper limit of {limit} bytes"
    )]
    OverQuota { len: u64, used: u64, limit: u64 },
    /// The session alone would hold more than a project may stage.
    #[error(
        "the upload would hold at least {len} bytes, more than the {cap} bytes a project may stage at once"
    )]
    TooLarge { len: u64, cap: u64 },
    /// The project's other sessions hold the staging room this chunk needs.
    #[error(
        "the project's open uploads already hold {staged} of the {cap} bytes a project may stage at once; finish or cancel them, or retry later"
    )]
    StagingFull { staged: u64, cap: u64 },
    /// Another request is appending to the upload (on any node), or took it over from this one.
    #[error(
        "another request is appending to this upload; retry when it is done (a stalled one gives the upload up within {} seconds)",
        crate::storage::UPLOAD_LEASE.as_secs()
    )]
    Busy,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl AppendError {
    /// Whether the error is a limit: the upload cannot go on and should be ended.
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            AppendError::OverQuota { .. }
                | AppendError::TooLarge { .. }
                | AppendError::StagingFull { .. }
        )
    }
}

/// Why an upload could not be finished.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    #[error("digest mismatch: the uploaded content is {computed}")]
    Mismatch { computed: Digest },
    #[error("no staged data for this upload")]
    Missing,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl std::fmt::Debug for UploadStaging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadStaging")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl UploadStaging {
    pub fn new(dir: PathBuf) -> std::io::Result<UploadStaging> {
        std::fs::create_dir_all(&dir)?;
        Ok(UploadStaging {
            dir,
            sessions: Mutex::new(HashMap::new()),
            projects: Mutex::new(HashMap::new()),
        })
    }

    /// The staged-bytes count of `project_id`.
    fn project(&self, project_id: i64) -> Arc<AtomicU64> {
        self.projects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(project_id)
            .or_default()
            .clone()
    }

    /// Bytes the open sessions of `project_id` hold (and are writing) in the staging area.
    pub fn staged_bytes(&self, project_id: i64) -> u64 {
        self.projects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&project_id)
            .map_or(0, |count| count.load(Ordering::Acquire))
    }

    /// Counts the staged files of open sessions (`(id, project)`), at start-up, so the per-project caps hold
    /// across a restart. Files are only measured; their hash state is rebuilt on first use.
    pub async fn restore(&self, sessions: Vec<(String, i64)>) -> std::io::Result<()> {
        for (id, project_id) in sessions {
            let len = match tokio::fs::metadata(self.path(&id)).await {
                Ok(meta) => meta.len(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let project = self.project(project_id);
            project.fetch_add(len, Ordering::AcqRel);
            let state = self.state_of(&id);
            let mut staged = state.lock().await;
            staged.len = len;
            staged.project = Some(project);
        }
        Ok(())
    }

    /// The file holding upload `id`'s bytes. Ids are UUIDs generated by Berth, never client input.
    pub fn path(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// Creates an empty staged upload of project `project_id`.
    pub async fn create(&self, id: &str, project_id: i64) -> std::io::Result<()> {
        tokio::fs::File::create(self.path(id)).await?;
        let state = self.state_of(id);
        let mut staged = state.lock().await;
        staged.sha256 = Some(DigestHasher::new(Algorithm::Sha256));
        staged.project = Some(self.project(project_id));
        Ok(())
    }

    fn state_of(&self, id: &str) -> Arc<tokio::sync::Mutex<Staged>> {
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sessions
            .entry(id.to_owned())
            .or_insert_with(|| {
                Arc::new(tokio::sync::Mutex::new(Staged {
                    len: 0,
                    sha256: None,
                    project: None,
                }))
            })
            .clone()
    }

    /// Loads the hash state from disk if it is not in memory.
    async fn ensure_loaded(&self, id: &str, staged: &mut Staged) -> Result<(), std::io::Error> {
        if staged.sha256.is_none() {
            let (len, hasher) = hash_file(self.path(id), Algorithm::Sha256).await?;
            if let Some(project) = &staged.project {
                // The file was counted at its length when restored; keep the count exact.
                project.fetch_add(len, Ordering::AcqRel);
                project.fetch_sub(staged.len, Ordering::AcqRel);
            }
            staged.len = len;
            staged.sha256 = Some(hasher);
        }
        Ok(())
    }

    /// The current offset (bytes received) of upload `id`.
    pub async fn offset(&self, id: &str) -> Result<u64, AppendError> {
        let state = self.state_of(id);
        let mut staged = state.lock().await;
        self.ensure_loaded(id, &mut staged)
            .await
            .map_err(missing_as)?;
        Ok(staged.len)
    }

    /// Appends `body` to upload `id` of project `project_id`. With `start`, the chunk must begin at the
    /// current offset. Returns the new offset. On any failure the upload is left as it was; past a limit
    /// the append stops at once (before reading the body when its declared length already passes it).
    pub async fn append<S, E>(
        &self,
        id: &str,
        project_id: i64,
        start: Option<u64>,
        limits: AppendLimits,
        mut body: S,
    ) -> Result<u64, AppendError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let state = self.state_of(id);
        let mut staged = state.lock().await;
        self.ensure_loaded(id, &mut staged)
            .await
            .map_err(missing_as)?;
        let project = match &staged.project {
            Some(project) => project.clone(),
            None => {
                let project = self.project(project_id);
                project.fetch_add(staged.len, Ordering::AcqRel);
                staged.project = Some(project.clone());
                project
            }
        };
        if let Some(requested) = start
            && requested != staged.len
        {
            return Err(AppendError::OutOfOrder {
                requested,
                current: staged.len,
            });
        }
        let offset = staged.len;
        let mut reservation = Reservation {
            project,
            reserved: 0,
        };
        if let Some(declared) = limits.declared.filter(|n| *n > 0) {
            reservation.check(&limits, offset, declared)?;
        }
        let hasher = staged
            .sha256
            .clone()
            .unwrap_or_else(|| DigestHasher::new(Algorithm::Sha256));
        let path = self.path(id);
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Bytes>>(WRITE_QUEUE);
        let writer_path = path.clone();
        let writer =
            tokio::task::spawn_blocking(move || -> std::io::Result<(u64, DigestHasher)> {
                let mut hasher = hasher;
                let mut file = std::fs::OpenOptions::new().write(true).open(&writer_path)?;
                file.seek(SeekFrom::Start(offset))?;
                let mut written = 0u64;
                while let Some(batch) = rx.blocking_recv() {
                    for chunk in batch {
                        file.write_all(&chunk)?;
                        hasher.update(&chunk);
                        written += chunk.len() as u64;
                    }
                }
                Ok((written, hasher))
            });
        let mut failure = None;
        let mut received = 0u64;
        let mut batch = Vec::new();
        let mut batched = 0;
        while let Some(frame) = body.next().await {
            match frame {
                Ok(chunk) => {
                    received = received.saturating_add(chunk.len() as u64);
                    if let Err(e) = reservation.check(&limits, offset, received) {
                        failure = Some(e);
                        break;
                    }
                    batched += chunk.len();
                    batch.push(chunk);
                    if batched >= WRITE_BATCH {
                        batched = 0;
                        if tx.send(std::mem::take(&mut batch)).await.is_err() {
                            break; // the writer failed; its error is reported below
                        }
                    }
                }
                Err(e) => {
                    failure = Some(AppendError::Body(e.to_string()));
                    break;
                }
            }
        }
        if failure.is_none() && !batch.is_empty() {
            // A failed send means the writer failed; its error is reported below.
            let _ = tx.send(batch).await;
        }
        drop(tx);
        let written = writer.await.map_err(std::io::Error::other)?;
        match (failure, written) {
            (None, Ok((written, hasher))) => {
                reservation.keep(written);
                staged.len = offset + written;
                staged.sha256 = Some(hasher);
                Ok(staged.len)
            }
            (failure, written) => {
                truncate(&path, offset).await?;
                match (failure, written) {
                    (Some(e), _) => Err(e),
                    (None, Err(e)) => Err(e.into()),
                    (None, Ok(_)) => Err(AppendError::Missing),
                }
            }
        }
    }

    /// Checks that upload `id`'s bytes have digest `expected`; returns their length. The staged file stays
    /// in place for [`crate::storage::BlobStore::import`].
    pub async fn verify(&self, id: &str, expected: &Digest) -> Result<u64, FinishError> {
        let state = self.state_of(id);
        let mut staged = state.lock().await;
        self.ensure_loaded(id, &mut staged)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => FinishError::Missing,
                _ => FinishError::Io(e),
            })?;
        let computed = match (expected.algorithm(), &staged.sha256) {
            (Algorithm::Sha256, Some(hasher)) => hasher.clone().finish(),
            (algorithm, _) => hash_file(self.path(id), algorithm).await?.1.finish(),
        };
        if &computed != expected {
            return Err(FinishError::Mismatch { computed });
        }
        Ok(staged.len)
    }

    /// Forgets upload `id` and removes its staged file if still there (after it was imported into the
    /// store, only the in-memory state is left to forget).
    pub async fn discard(&self, id: &str) -> std::io::Result<()> {
        let state = self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id);
        if let Some(state) = state {
            // Waits for an append in flight, then gives the session's bytes back to its project.
            let mut staged = state.lock().await;
            if let Some(project) = staged.project.take() {
                project.fetch_sub(staged.len, Ordering::AcqRel);
            }
            staged.len = 0;
        }
        match tokio::fs::remove_file(self.path(id)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Ids of the staged files present on disk.
    pub fn staged_ids(&self) -> std::io::Result<Vec<String>> {
        let mut ids = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            if let Some(name) = entry?.file_name().to_str() {
                ids.push(name.to_owned());
            }
        }
        Ok(ids)
    }
}

/// Bytes one append has reserved against its project's staging cap; what is not kept is given back on drop.
struct Reservation {
    project: Arc<AtomicU64>,
    reserved: u64,
}

impl Reservation {
    /// Checks that the session may grow from `offset` by `appended` bytes, reserving them.
    fn check(
        &mut self,
        limits: &AppendLimits,
        offset: u64,
        appended: u64,
    ) -> Result<(), AppendError> {
        let len = offset.saturating_add(appended);
        if let Some(QuotaRoom { limit, used }) = limits.quota
            && len > limit.saturating_sub(used)
        {
            return Err(AppendError::OverQuota { len, used, limit });
        }
        let cap = limits.project_cap;
        if len > cap {
            return Err(AppendError::TooLarge { len, cap });
        }
        if appended > self.reserved {
            let more = appended - self.reserved;
            self.project
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |staged| {
                    staged.checked_add(more).filter(|n| *n <= cap)
                })
                .map_err(|staged| AppendError::StagingFull { staged, cap })?;
            self.reserved = appended;
        }
        Ok(())
    }

    /// Keeps `written` reserved bytes as the session's own; the rest is given back on drop.
    fn keep(&mut self, written: u64) {
        self.reserved = self.reserved.saturating_sub(written);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.project.fetch_sub(self.reserved, Ordering::AcqRel);
    }
}

fn missing_as(e: std::io::Error) -> AppendError {
    match e.kind() {
        std::io::ErrorKind::NotFound => AppendError::Missing,
        _ => AppendError::Io(e),
    }
}

async fn truncate(path: &Path, len: u64) -> std::io::Result<()> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)?
            .set_len(len)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Hashes a whole file off the async executor; returns its length and hash state.
pub async fn hash_file(
    path: PathBuf,
    algorithm: Algorithm,
) -> std::io::Result<(u64, DigestHasher)> {
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(path)?;
        let mut hasher = DigestHasher::new(algorithm);
        let mut buffer = vec![0u8; 1024 * 1024];
        let mut len = 0u64;
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                return Ok((len, hasher));
            }
            hasher.update(&buffer[..n]);
            len += n as u64;
        }
    })
    .await
    .map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: AppendLimits = AppendLimits {
        quota: None,
        project_cap: u64::MAX,
        declared: None,
    };

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, String>> + Unpin {
        futures_util::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn appends_verifies_and_rejects_out_of_order_chunks()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let staging = UploadStaging::new(dir.path().join("uploads"))?;
        staging.create("u1", 1).await?;
        assert_eq!(
            staging
                .append("u1", 1, Some(0), OPEN, chunks(&[b"hello ", b"wor"]))
                .await?,
            9
        );
        let out_of_order = staging
            .append("u1", 1, Some(3), OPEN, chunks(&[b"x"]))
            .await;
        assert!(matches!(
            out_of_order,
            Err(AppendError::OutOfOrder {
                requested: 3,
                current: 9
            })
        ));
        assert_eq!(
            staging
                .append("u1", 1, None, OPEN, chunks(&[b"ld"]))
                .await?,
            11
        );
        assert_eq!(
            staging
                .verify("u1", &Digest::sha256_of(b"hello world"))
                .await?,
            11
        );
        let sha512 = Digest::of(Algorithm::Sha512, b"hello world");
        assert_eq!(staging.verify("u1", &sha512).await?, 11);
        let wrong = staging.verify("u1", &Digest::sha256_of(b"other")).await;
        assert!(matches!(wrong, Err(FinishError::Mismatch { .. })));
        Ok(())
    }

    #[tokio::test]
    async fn a_failed_chunk_leaves_the_upload_unchanged() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let staging = UploadStaging::new(dir.path().to_owned())?;
        staging.create("u2", 1).await?;
        staging
            .append("u2", 1, None, OPEN, chunks(&[b"abc"]))
            .await?;
        let failing = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"def")),
            Err("reset".to_owned()),
        ]);
        assert!(matches!(
            staging.append("u2", 1, None, OPEN, failing).await,
            Err(AppendError::Body(_))
        ));
        assert_eq!(std::fs::metadata(staging.path("u2"))?.len(), 3);
        assert_eq!(staging.verify("u2", &Digest::sha256_of(b"abc")).await?, 3);
        Ok(())
    }

    #[tokio::test]
    async fn state_is_rebuilt_from_disk_after_a_restart() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let first = UploadStaging::new(dir.path().to_owned())?;
        first.create("u3", 1).await?;
        first
            .append("u3", 1, None, OPEN, chunks(&[b"part one "]))
            .await?;
        drop(first);
        let second = UploadStaging::new(dir.path().to_owned())?;
        assert_eq!(second.offset("u3").await?, 9);
        second
            .append("u3", 1, Some(9), OPEN, chunks(&[b"part two"]))
            .await?;
        assert_eq!(
            second
                .verify("u3", &Digest::sha256_of(b"part one part two"))
                .await?,
            17
        );
        assert!(matches!(
            second.offset("nope").await,
            Err(AppendError::Missing)
        ));
        Ok(())
    }

    #[tokio::test]
    async fn limits_cut_an_append_off_and_leave_the_upload_as_it_was()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let staging = UploadStaging::new(dir.path().to_owned())?;
        let limits = AppendLimits {
            quota: Some(QuotaRoom { limit: 12, used: 2 }),
            project_cap: 16,
            declared: None,
        };
        staging.create("a", 7).await?;
        staging.create("b", 7).await?;
        assert_eq!(
            staging
                .append("a", 7, None, limits, chunks(&[b"12345"]))
                .await?,
            5
        );
        // A declared length past the quota room is refused before a byte is read.
        let declared = AppendLimits {
            declared: Some(6),
            ..limits
        };
        assert!(matches!(
            staging
                .append("a", 7, None, declared, chunks(&[b"678901"]))
                .await,
            Err(AppendError::OverQuota {
                len: 11,
                used: 2,
                limit: 12
            })
        ));
        // A streamed body is cut off at the frame that passes it.
        assert!(matches!(
            staging
                .append("a", 7, None, limits, chunks(&[b"678", b"901"]))
                .await,
            Err(AppendError::OverQuota {
                len: 11,
                used: 2,
                limit: 12
            })
        ));
        assert_eq!(std::fs::metadata(staging.path("a"))?.len(), 5);
        assert_eq!(staging.staged_bytes(7), 5);
        // The project's cap counts every session: b may add 11 more bytes, not 12.
        let roomy = AppendLimits {
            quota: None,
            ..limits
        };
        assert!(matches!(
            staging
                .append("b", 7, None, roomy, chunks(&[b"123456", b"789012"]))
                .await,
            Err(AppendError::StagingFull {
                staged: 11,
                cap: 16
            })
        ));
        assert_eq!(staging.staged_bytes(7), 5);
        assert!(matches!(
            staging
                .append("b", 7, None, roomy, chunks(&[&[0u8; 17]]))
                .await,
            Err(AppendError::TooLarge { len: 17, cap: 16 })
        ));
        assert_eq!(
            staging
                .append("b", 7, None, roomy, chunks(&[b"12345678901"]))
                .await?,
            11
        );
        assert_eq!(staging.staged_bytes(7), 16);
        // Finished or cancelled sessions give their bytes back.
        staging.discard("a").await?;
        assert_eq!(staging.staged_bytes(7), 11);
        staging.discard("b").await?;
        assert_eq!(staging.staged_bytes(7), 0);
        Ok(())
    }

    #[tokio::test]
    async fn restore_counts_the_staged_files_of_open_sessions()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let first = UploadStaging::new(dir.path().to_owned())?;
        first.create("r1", 3).await?;
        first
            .append("r1", 3, None, OPEN, chunks(&[b"12345"]))
            .await?;
        drop(first);
        let second = UploadStaging::new(dir.path().to_owned())?;
        second
            .restore(vec![("r1".to_owned(), 3), ("gone".to_owned(), 3)])
            .await?;
        assert_eq!(second.staged_bytes(3), 5);
        assert_eq!(
            second
                .append("r1", 3, None, OPEN, chunks(&[b"678"]))
                .await?,
            8
        );
        assert_eq!(second.staged_bytes(3), 8);
        second.discard("r1").await?;
        assert_eq!(second.staged_bytes(3), 0);
        Ok(())
    }
}
