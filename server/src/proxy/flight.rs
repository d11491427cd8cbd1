//! One upstream download per blob, shared by every client that asks while it runs.
//!
//! The first request for a blob that is not cached starts a [`BlobFlight`]: a task (not tied to that client's
//! connection) that streams the upstream body into a staging file, hashing it. Every client, the first and any
//! that arrive later, streams from that file as it grows, so time to first byte is close to upstream's and the
//! blob is downloaded once. The last byte is held back until the whole body was verified against its digest;
//! only then is the file moved into the blob store, and only then may a client see the end of its response. A
//! truncated body, a wrong digest, a stall or a reset ends every response early (the client sees a short body,
//! never a complete wrong one) and leaves nothing in the cache.
//!
//! The flight is per node: with several nodes a cold blob is fetched at most once per node (clients stream
//! from the local staging file as it grows, which a lock across nodes would forbid), and once any node has
//! stored it, every node serves it from the shared store.

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::StreamExt as _;
use reqwest::{Method, StatusCode};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::watch;

use super::ProxyError;
use super::upstream::Upstream;
use crate::db::Db;
use crate::oci::{Digest, DigestHasher};
use crate::storage::BlobStore;

/// The most a client reads from the staging file at once.
const READ_CHUNK: u64 = 1024 * 1024;

/// Where a flight is.
#[derive(Debug, Clone)]
pub enum Stage {
    /// Waiting for the upstream's response headers.
    Connecting,
    /// Receiving: `written` bytes are in the staging file; `size` is the upstream's `Content-Length`.
    Receiving { written: u64, size: Option<u64> },
    /// The whole blob was received and verified, and is in the blob store.
    Verified { size: u64 },
    /// The download failed; nothing was cached.
    Failed(ProxyError),
}

/// A download in progress.
#[derive(Debug)]
pub struct BlobFlight {
    pub digest: Digest,
    stage: watch::Receiver<Stage>,
    /// The staging file, opened for reading before any byte was written. It stays readable after the file is
    /// moved into the blob store or deleted.
    file: Arc<File>,
}

/// What a flight needs to run.
pub struct FlightJob {
    pub upstream: Arc<Upstream>,
    pub repository: String,
    pub digest: Digest,
    pub staging: PathBuf,
    pub blobs: BlobStore,
    pub db: Db,
    pub read_timeout: Duration,
}

impl BlobFlight {
    /// Starts downloading; the returned flight can be joined by any number of clients.
    pub fn start(
        job: FlightJob,
    ) -> Result<(Arc<BlobFlight>, tokio::task::JoinHandle<()>), ProxyError> {
        let file = File::options()
            .create_new(true)
            .write(true)
            .read(true)
            .open(&job.staging)
            .map_err(|e| ProxyError::internal("creating the proxy staging file", e))?;
        let reader = file
            .try_clone()
            .map_err(|e| ProxyError::internal("opening the proxy staging file", e))?;
        let (sender, stage) = watch::channel(Stage::Connecting);
        let flight = Arc::new(BlobFlight {
            digest: job.digest.clone(),
            stage,
            file: Arc::new(reader),
        });
        let task = tokio::spawn(async move {
            let staging = job.staging.clone();
            let digest = job.digest.clone();
            let outcome = download(&job, tokio::fs::File::from_std(file), &sender).await;
            match outcome {
                Ok(size) => {
                    tracing::info!(%digest, size, repository = %job.repository, "proxy: blob fetched and cached");
                    sender.send_replace(Stage::Verified { size });
                }
                Err(e) => {
                    tracing::warn!(%digest, repository = %job.repository, error = %e, "proxy: blob fetch failed; nothing cached");
                    if let Err(e) = tokio::fs::remove_file(&staging).await
                        && e.kind() != std::io::ErrorKind::NotFound
                    {
                        tracing::warn!(path = %staging.display(), error = %e, "could not remove proxy staging file");
                    }
                    sender.send_replace(Stage::Failed(e));
                }
            }
        });
        Ok((flight, task))
    }

    pub fn stage(&self) -> Stage {
        self.stage.borrow().clone()
    }

    /// Waits until the upstream answered (or the flight ended) and returns the stage then.
    pub async fn started(&self) -> Stage {
        let mut stage = self.stage.clone();
        let result = stage
            .wait_for(|s| !matches!(s, Stage::Connecting))
            .await
            .map(|s| s.clone());
        result.unwrap_or_else(|_| Stage::Failed(ProxyError::Internal("the fetch ended".into())))
    }

    /// Waits for the end of the flight.
    pub async fn finished(&self) -> Stage {
        let mut stage = self.stage.clone();
        let result = stage
            .wait_for(|s| matches!(s, Stage::Verified { .. } | Stage::Failed(_)))
            .await
            .map(|s| s.clone());
        result.unwrap_or_else(|_| Stage::Failed(ProxyError::Internal("the fetch ended".into())))
    }

    /// The blob as a response body that follows the download. It ends with an error (so the connection is cut
    /// short) if the download fails.
    pub fn body(self: &Arc<Self>) -> Body {
        let state = (self.clone(), self.stage.clone(), 0u64);
        let stream = futures_util::stream::unfold(Some(state), |state| async move {
            let (flight, mut stage, sent) = state?;
            loop {
                let current = stage.borrow_and_update().clone();
                let (limit, complete) = match current {
                    Stage::Connecting => (0, false),
                    // The last byte waits for verification.
                    Stage::Receiving { written, .. } => (written.saturating_sub(1), false),
                    Stage::Verified { size } => (size, true),
                    Stage::Failed(e) => {
                        return Some((Err(std::io::Error::other(e.to_string())), None));
                    }
                };
                if sent < limit {
                    let len = (limit - sent).min(READ_CHUNK);
                    let file = flight.file.clone();
                    let read = tokio::task::spawn_blocking(move || {
                        let mut buffer = vec![0u8; usize::try_from(len).unwrap_or(0)];
                        file.read_exact_at(&mut buffer, sent).map(|()| buffer)
                    })
                    .await
                    .map_err(std::io::Error::other)
                    .and_then(|r| r);
                    return match read {
                        Ok(buffer) => {
                            Some((Ok(Bytes::from(buffer)), Some((flight, stage, sent + len))))
                        }
                        Err(e) => Some((Err(e), None)),
                    };
                }
                if complete {
                    return None;
                }
                if stage.changed().await.is_err() {
                    // The flight's task is gone without a final stage.
                    return Some((Err(std::io::Error::other("proxy fetch aborted")), None));
                }
            }
        });
        Body::from_stream(stream)
    }

    /// Reads `range` of a verified blob from the staging file (used when it could not be cached).
    pub async fn read_range(&self, start: u64, end: u64) -> std::io::Result<Bytes> {
        let file = self.file.clone();
        tokio::task::spawn_blocking(move || {
            let mut buffer = vec![0u8; usize::try_from(end.saturating_sub(start)).unwrap_or(0)];
            file.read_exact_at(&mut buffer, start)
                .map(|()| Bytes::from(buffer))
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

/// Downloads the blob into `file`, verifies it, moves it into the blob store and records it. Returns its size.
async fn download(
    job: &FlightJob,
    mut file: tokio::fs::File,
    sender: &watch::Sender<Stage>,
) -> Result<u64, ProxyError> {
    let path = format!("/v2/{}/blobs/{}", job.repository, job.digest);
    let response = job
        .upstream
        .request(Method::GET, &job.repository, &path, None)
        .await?;
    let status = response.status();
    if status != StatusCode::OK {
        return Err(ProxyError::from_status(
            status,
            &format!("blob {} of {}", job.digest, job.repository),
        ));
    }
    let size = response.content_length();
    sender.send_replace(Stage::Receiving { written: 0, size });
    let mut hasher = DigestHasher::new(job.digest.algorithm());
    let mut written: u64 = 0;
    let mut body = response.bytes_stream();
    loop {
        let chunk = match tokio::time::timeout(job.read_timeout, body.next()).await {
            Err(_) => {
                return Err(ProxyError::Unavailable(format!(
                    "the upstream stalled for {} ms after {written} bytes",
                    job.read_timeout.as_millis()
                )));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(ProxyError::Unavailable(format!(
                    "the upstream body failed after {written} bytes: {e}"
                )));
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        if size.is_some_and(|size| written + chunk.len() as u64 > size) {
            return Err(ProxyError::Corrupt(format!(
                "the upstream sent more than its Content-Length of {} bytes",
                size.unwrap_or(0)
            )));
        }
        hasher.update(&chunk);
        // tokio's File hands writes to a blocking thread; the flush waits until the bytes are in the file, so
        // readers never look past what is there.
        file.write_all(&chunk)
            .await
            .map_err(|e| ProxyError::internal("writing the proxy staging file", e))?;
        file.flush()
            .await
            .map_err(|e| ProxyError::internal("writing the proxy staging file", e))?;
        written += chunk.len() as u64;
        sender.send_replace(Stage::Receiving { written, size });
    }
    if let Some(size) = size
        && written != size
    {
        return Err(ProxyError::Corrupt(format!(
            "the upstream body ended after {written} of {size} bytes"
        )));
    }
    let computed = hasher.finish();
    if computed != job.digest {
        return Err(ProxyError::Corrupt(format!(
            "the upstream sent content with digest {computed} for {}",
            job.digest
        )));
    }
    drop(file);
    // Row first (waiting out a garbage collection deleting an old copy), then the file, then the commit: a
    // sweep can never delete the file moved in here, and a crash leaves at most an orphan file.
    let size_i64 = i64::try_from(written).unwrap_or(i64::MAX);
    let digest_text = job.digest.to_string();
    // On S3 the bytes are sent before the transaction, which then holds the writer only for the completion.
    let prepared = job
        .blobs
        .prepare_import(&job.staging, &job.digest)
        .await
        .map_err(|e| ProxyError::internal("sending a proxied blob to the blob store", e))?;
    let record = match crate::gc::after_deletion(|| {
        job.db.begin_record_blob(&digest_text, size_i64)
    })
    .await
    {
        Ok(record) => record,
        Err(e) => {
            job.blobs.abandon_import(prepared).await;
            return Err(ProxyError::internal("recording a proxied blob", e));
        }
    };
    if record.newly_recorded() {
        job.blobs
            .finish_import(prepared)
            .await
            .map_err(|e| ProxyError::internal("moving a proxied blob into the blob store", e))?;
    } else {
        job.blobs.abandon_import(prepared).await;
    }
    record
        .commit()
        .await
        .map_err(|e| ProxyError::internal("recording a proxied blob", e))?;
    Ok(written)
}
