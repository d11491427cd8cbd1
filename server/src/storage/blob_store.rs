//! The blob store: blobs at `blobs/<algorithm>/<first two hex>/<hex>` in an object store.
//!
//! On the local filesystem, reads stream straight from the file with large buffers and uploads are
//! committed with a rename; other backends (S3, later) go through the generic `ObjectStore` calls.

use std::ops::Range;
use std::os::unix::fs::FileExt as _;
use std::path::Path as FsPath;
use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use futures_util::{StreamExt as _, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt as _, WriteMultipart};
use tokio::io::AsyncReadExt;

use crate::oci::Digest;

/// Local blobs at least this large are served from memory maps; smaller ones are read into memory.
const MMAP_THRESHOLD: u64 = 256 * 1024;
/// Size of each memory-mapped window of a large blob read. A response holds one or two at a time.
const MAP_WINDOW: u64 = 2 * 1024 * 1024;

/// A blob body ready to send.
pub type BlobBody = Body;

/// Verified blobs, addressed by digest.
#[derive(Clone, Debug)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// Set when `store` is the local filesystem, for the direct read and rename fast paths.
    local: Option<Arc<LocalFileSystem>>,
}

impl BlobStore {
    /// A store rooted at `root` on the local filesystem.
    pub fn local(root: &FsPath) -> std::io::Result<BlobStore> {
        std::fs::create_dir_all(root)?;
        let fs = LocalFileSystem::new_with_prefix(root).map_err(std::io::Error::other)?;
        let fs = Arc::new(fs);
        Ok(BlobStore {
            store: fs.clone(),
            local: Some(fs),
        })
    }

    fn location(digest: &Digest) -> Path {
        let hex = digest.hex();
        Path::from(format!(
            "blobs/{}/{}/{}",
            digest.algorithm().as_str(),
            &hex[..2],
            hex
        ))
    }

    /// Streams the bytes of `digest` in `range` (the whole blob when `None`).
    pub async fn read(
        &self,
        digest: &Digest,
        range: Option<Range<u64>>,
    ) -> std::io::Result<BlobBody> {
        let location = Self::location(digest);
        if let Some(fs) = &self.local {
            let path = fs
                .path_to_filesystem(&location)
                .map_err(std::io::Error::other)?;
            return tokio::task::spawn_blocking(move || read_local(&path, range))
                .await
                .map_err(std::io::Error::other)?;
        }
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = self
            .store
            .get_opts(&location, options)
            .await
            .map_err(std::io::Error::other)?;
        Ok(Body::from_stream(
            result.into_stream().map_err(std::io::Error::other),
        ))
    }

    /// Moves the verified file `staged` into the store as `digest`. The file is consumed.
    pub async fn import(&self, staged: &FsPath, digest: &Digest) -> std::io::Result<()> {
        let location = Self::location(digest);
        if let Some(fs) = &self.local {
            let target = fs
                .path_to_filesystem(&location)
                .map_err(std::io::Error::other)?;
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            return tokio::fs::rename(staged, target).await;
        }
        let upload = self
            .store
            .put_multipart(&location)
            .await
            .map_err(std::io::Error::other)?;
        let mut writer = WriteMultipart::new(upload);
        let mut file = tokio::fs::File::open(staged).await?;
        let mut buffer = vec![0u8; 8 * 1024 * 1024];
        loop {
            let n = file.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            writer
                .wait_for_capacity(4)
                .await
                .map_err(std::io::Error::other)?;
            writer.write(&buffer[..n]);
        }
        writer.finish().await.map_err(std::io::Error::other)?;
        tokio::fs::remove_file(staged).await
    }
}

/// A file found in the blob store by [`BlobStore::list`].
#[derive(Debug, Clone)]
pub struct StoredBlob {
    pub digest: Digest,
    pub size: u64,
    pub modified: chrono::DateTime<chrono::Utc>,
}

impl BlobStore {
    /// Deletes the file of `digest`; one already gone is not an error.
    pub async fn delete(&self, digest: &Digest) -> std::io::Result<()> {
        match self.store.delete(&Self::location(digest)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    /// Every blob file in the store, in no particular order. Files whose name is not a digest are skipped
    /// (and logged).
    pub fn list(
        &self,
    ) -> impl futures_util::Stream<Item = std::io::Result<StoredBlob>> + Send + use<> {
        let prefix = Path::from("blobs");
        self.store.list(Some(&prefix)).filter_map(|meta| async move {
            match meta {
                Ok(meta) => {
                    let parts: Vec<_> = meta.location.parts().collect();
                    let digest = match parts.as_slice() {
                        [_, algorithm, _, hex] => {
                            format!("{}:{}", algorithm.as_ref(), hex.as_ref()).parse::<Digest>().ok()
                        }
                        _ => None,
                    };
                    match digest {
                        Some(digest) => Some(Ok(StoredBlob {
                            digest,
                            size: meta.size,
                            modified: meta.last_modified,
                        })),
                        None => {
                            tracing::warn!(location = %meta.location, "garbage collection: a file in the blob store is not named by a digest; left alone");
                            None
                        }
                    }
                }
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => Some(Err(std::io::Error::other(e))),
            }
        })
    }
}

/// Reads `range` (all when `None`) of the local blob file at `path`. Small reads go into memory; large
/// ones are streamed as a sequence of memory-mapped windows, so the bytes go from the page cache to the
/// socket without a copy into a user-space buffer, and memory stays bounded by a few windows per response.
fn read_local(path: &FsPath, range: Option<Range<u64>>) -> std::io::Result<BlobBody> {
    let file = std::fs::File::open(path)?;
    let range = match range {
        Some(range) => range,
        None => 0..file.metadata()?.len(),
    };
    let len = range.end.saturating_sub(range.start);
    if len == 0 {
        return Ok(Body::empty());
    }
    if len < MMAP_THRESHOLD {
        let mut buffer = vec![0u8; usize::try_from(len).map_err(std::io::Error::other)?];
        file.read_exact_at(&mut buffer, range.start)?;
        return Ok(Body::from(buffer));
    }
    let end = range.end;
    let windows =
        futures_util::stream::unfold(Some((file, range.start)), move |state| async move {
            let (file, offset) = state?;
            if offset >= end {
                return None;
            }
            let len = (end - offset).min(MAP_WINDOW);
            match map_window(&file, offset, len) {
                Ok(window) => Some((Ok(window), Some((file, offset + len)))),
                Err(e) => Some((Err(e), None)),
            }
        });
    Ok(Body::from_stream(windows))
}

/// Maps `len` bytes of `file` at `offset`, read-only and pre-faulted.
#[expect(
    unsafe_code,
    reason = "memory-mapping an immutable blob file; see the SAFETY comment"
)]
fn map_window(file: &std::fs::File, offset: u64, len: u64) -> std::io::Result<Bytes> {
    let len = usize::try_from(len).map_err(std::io::Error::other)?;
    // SAFETY: blobs are content-addressed and immutable. A blob file is written completely under another
    // name and renamed into place after its digest was verified; it is never modified or truncated after
    // that, and deleting it only unlinks the name, which leaves an existing mapping valid. So the mapped
    // bytes cannot change or disappear while the response is being sent.
    let map = unsafe {
        memmap2::MmapOptions::new()
            .offset(offset)
            .len(len)
            .populate()
            .map(file)?
    };
    Ok(Bytes::from_owner(map))
}
