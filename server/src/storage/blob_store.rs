//! The blob store: blobs at `blobs/<algorithm>/<first two hex>/<hex>` in an object store.
//!
//! On the local filesystem, reads stream straight from the file with large buffers and uploads are
//! committed with a rename; other backends (S3, later) go through the generic `ObjectStore` calls.

use std::io::SeekFrom;
use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;

use axum::body::Body;
use futures_util::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt as _, WriteMultipart};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::oci::Digest;

/// Read buffer for streaming blobs out: large enough to keep per-chunk overhead negligible.
const READ_CHUNK: usize = 512 * 1024;

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
            let mut file = tokio::fs::File::open(path).await?;
            let body = match range {
                Some(range) => {
                    file.seek(SeekFrom::Start(range.start)).await?;
                    let reader = file.take(range.end - range.start);
                    Body::from_stream(ReaderStream::with_capacity(reader, READ_CHUNK))
                }
                None => Body::from_stream(ReaderStream::with_capacity(file, READ_CHUNK)),
            };
            return Ok(body);
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
