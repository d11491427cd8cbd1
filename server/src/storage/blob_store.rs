//! The blob store: blobs at `[<prefix>/]blobs/<algorithm>/<first two hex>/<hex>` in an object store, except
//! those pushed by S3-native uploads, which stay at `[<prefix>/]uploads/<id>/data` as their rows record
//! ([`ObjectKeys`]).
//!
//! Two backends: the local filesystem, where reads stream straight from the file (memory maps) and uploads
//! are committed with a rename; and S3 ([`super::s3`]), where reads are streamed ranged GETs (or presigned
//! URLs handed to the client) and a verified upload is copied in with a single PUT when it is small, or a
//! multipart upload of bounded parts otherwise. An import has two halves, so that a caller recording the blob
//! in a database transaction holds it only for a short step: [`BlobStore::prepare_import`] sends the parts
//! before the transaction, [`BlobStore::finish_import`] completes the upload (or renames the file) inside it.
//!
//! Rule: memory stays bounded whatever the blob's size. An S3 import holds at most
//! [`PARTS_IN_FLIGHT`] + 1 parts of 8 MiB (larger only for blobs past 80 GiB, which need bigger
//! parts to fit S3's 10,000 parts), and at most [`CONCURRENT_IMPORTS`] imports run at once per node.

use std::ops::Range;
use std::os::unix::fs::FileExt as _;
use std::path::Path as FsPath;
use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use futures_util::{StreamExt as _, TryStreamExt};
use object_store::aws::AmazonS3;
use object_store::local::LocalFileSystem;
use object_store::multipart::{MultipartStore as _, PartId};
use object_store::path::Path;
use object_store::signer::Signer as _;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt as _, PutPayload};
use tokio::io::AsyncReadExt;

use crate::config::S3Settings;
use crate::oci::Digest;

/// Local blobs at least this large are served from memory maps; smaller ones are read into memory.
const MMAP_THRESHOLD: u64 = 256 * 1024;
/// Size of each memory-mapped window of a large blob read. A response holds one or two at a time.
const MAP_WINDOW: u64 = 2 * 1024 * 1024;

/// The smallest part of a multipart import (S3's minimum is 5 MiB for every part but the last).
const MIN_PART: u64 = 8 * 1024 * 1024;
/// S3's limit on the parts of one multipart upload.
const MAX_PARTS: u64 = 10_000;
/// Parts of one import being sent at once.
pub const PARTS_IN_FLIGHT: usize = 2;
/// Imports into S3 running at once on this node; more wait their turn.
pub const CONCURRENT_IMPORTS: usize = 8;
/// How long a presigned download URL stays valid.
const REDIRECT_TTL: std::time::Duration = std::time::Duration::from_secs(20 * 60);

/// A blob body ready to send.
pub type BlobBody = Body;

/// Verified blobs, addressed by digest.
#[derive(Clone, Debug)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// Set when `store` is the local filesystem, for the direct read and rename fast paths.
    local: Option<Arc<LocalFileSystem>>,
    /// The local store's directory.
    local_root: Option<std::path::PathBuf>,
    /// Set when `store` is S3.
    s3: Option<S3Backend>,
    /// Prepended to every key (`""`, or a prefix ending in `/`).
    root: String,
    /// Where blobs not at their digest's key are (S3-native uploads): the database.
    keys: Option<Arc<dyn ObjectKeys>>,
}

/// Finds where a blob's bytes are when they are not at its digest's key: an S3-native upload's object, which
/// stays where the upload wrote it (`uploads/<id>/data`) rather than being copied at commit. The database
/// answers, from the blob's row.
#[async_trait::async_trait]
pub trait ObjectKeys: Send + Sync + std::fmt::Debug {
    /// The key of blob `digest` under the store's prefix, `None` when it is at its digest's key (or unknown).
    async fn object_key(&self, digest: &str) -> std::io::Result<Option<String>>;
}

#[derive(Clone, Debug)]
struct S3Backend {
    store: Arc<AmazonS3>,
    /// Downloads are redirected to presigned URLs.
    redirect: bool,
    /// Bounds the imports in progress (and so the part buffers held).
    imports: Arc<tokio::sync::Semaphore>,
    /// The node's pool of [`super::s3_upload::EXTRA_PARTS`] for S3-native appends.
    extra_parts: Arc<tokio::sync::Semaphore>,
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
            local_root: Some(root.to_owned()),
            s3: None,
            root: String::new(),
            keys: None,
        })
    }

    /// A store in the S3 bucket `settings` name, under its prefix. Nothing is sent until the first request.
    pub fn s3(settings: &S3Settings) -> std::io::Result<BlobStore> {
        let store = Arc::new(super::s3::open(settings).map_err(std::io::Error::other)?);
        Ok(BlobStore {
            store: store.clone(),
            local: None,
            local_root: None,
            s3: Some(S3Backend {
                store,
                redirect: settings.redirect,
                imports: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_IMPORTS)),
                extra_parts: Arc::new(tokio::sync::Semaphore::new(super::s3_upload::EXTRA_PARTS)),
            }),
            root: if settings.prefix.is_empty() {
                String::new()
            } else {
                format!("{}/", settings.prefix)
            },
            keys: None,
        })
    }

    /// Looks up blobs that are not at their digest's key in `keys` (on S3; the filesystem has none).
    pub fn with_object_keys(mut self, keys: Arc<dyn ObjectKeys>) -> BlobStore {
        if self.s3.is_some() {
            self.keys = Some(keys);
        }
        self
    }

    /// The driver of S3-native uploads in this store's bucket and prefix (parts of 8 MiB), `None` on the
    /// filesystem.
    pub fn s3_uploads(&self) -> Option<super::S3Uploads> {
        self.s3.as_ref().map(|s3| {
            super::S3Uploads::new(
                s3.store.clone(),
                self.root.clone(),
                MIN_PART,
                s3.extra_parts.clone(),
            )
        })
    }

    /// The directory of a store on the local filesystem; `None` on S3.
    pub fn local_root(&self) -> Option<&FsPath> {
        self.local_root.as_deref()
    }

    /// Which backend holds the blobs, for logs: `filesystem` or `s3`.
    pub fn backend(&self) -> &'static str {
        if self.s3.is_some() {
            "s3"
        } else {
            "filesystem"
        }
    }

    fn location(&self, digest: &Digest) -> Path {
        let hex = digest.hex();
        Path::from(format!(
            "{}blobs/{}/{}/{}",
            self.root,
            digest.algorithm().as_str(),
            &hex[..2],
            hex
        ))
    }

    /// The file of blob `digest` in a store on the local filesystem; `None` on S3.
    pub fn local_path(&self, digest: &Digest) -> Option<std::path::PathBuf> {
        self.local
            .as_ref()?
            .path_to_filesystem(&self.location(digest))
            .ok()
    }

    /// Where the bytes of blob `digest` are, given the `object_key` its row records (a caller that has just
    /// read the row saves [`BlobStore::resolve`]'s query).
    pub fn located(&self, digest: &Digest, object_key: Option<&str>) -> Path {
        match object_key {
            Some(key) => Path::from(format!("{}{key}", self.root)),
            None => self.location(digest),
        }
    }

    /// Where the bytes of blob `digest` are: its recorded object key, or its digest's key.
    async fn resolve(&self, digest: &Digest) -> std::io::Result<Path> {
        let key = match &self.keys {
            Some(keys) => keys.object_key(&digest.to_string()).await?,
            None => None,
        };
        Ok(self.located(digest, key.as_deref()))
    }

    /// Whether the store answers: its directory exists, or the bucket answers a `HEAD` (a missing object is
    /// an answer).
    pub async fn check(&self) -> std::io::Result<()> {
        if let Some(root) = &self.local_root {
            let meta = tokio::fs::metadata(root).await?;
            return if meta.is_dir() {
                Ok(())
            } else {
                Err(std::io::Error::new(
                    std::io::ErrorKind::NotADirectory,
                    format!("{} is not a directory", root.display()),
                ))
            };
        }
        let probe = Path::from(format!("{}health-check", self.root));
        match self.store.head(&probe).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }

    /// The size of the stored blob `digest`, `None` if the store has no such object.
    pub async fn size(&self, digest: &Digest) -> std::io::Result<Option<u64>> {
        match self.store.head(&self.resolve(digest).await?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(io_error(e)),
        }
    }

    /// A presigned URL that downloads the blob at `location` ([`BlobStore::located`]) straight from the
    /// store, when the store is S3 with `storage.s3.redirect` on; `None` otherwise (the blob is then served
    /// through Berth). The caller must have authorized the download: whoever holds the URL can fetch the blob
    /// until it expires.
    pub async fn download_url(&self, location: &Path) -> std::io::Result<Option<url::Url>> {
        let Some(s3) = self.s3.as_ref().filter(|s3| s3.redirect) else {
            return Ok(None);
        };
        s3.store
            .signed_url(axum::http::Method::GET, location, REDIRECT_TTL)
            .await
            .map(Some)
            .map_err(io_error)
    }

    /// Streams the bytes of `digest` in `range` (the whole blob when `None`).
    pub async fn read(
        &self,
        digest: &Digest,
        range: Option<Range<u64>>,
    ) -> std::io::Result<BlobBody> {
        self.read_key(&self.resolve(digest).await?, range).await
    }

    /// Streams the bytes of the object at `location` (a full key, prefix included, such as
    /// [`BlobStore::located`] or [`super::Completed::key`]) in `range`.
    pub async fn read_key(
        &self,
        location: &Path,
        range: Option<Range<u64>>,
    ) -> std::io::Result<BlobBody> {
        if let Some(fs) = &self.local {
            let path = fs
                .path_to_filesystem(location)
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
            .get_opts(location, options)
            .await
            .map_err(io_error)?;
        Ok(Body::from_stream(
            result.into_stream().map_err(std::io::Error::other),
        ))
    }

    /// Moves the verified file `staged` into the store as `digest`. The file is consumed.
    pub async fn import(&self, staged: &FsPath, digest: &Digest) -> std::io::Result<()> {
        let prepared = self.prepare_import(staged, digest).await?;
        self.finish_import(prepared).await
    }

    /// The slow half of [`BlobStore::import`], to run before any transaction: on S3, a blob larger than a
    /// part is sent as a multipart upload that is not completed, so nothing is visible at its key yet. The
    /// rest is [`BlobStore::finish_import`] (a rename, a PUT of at most one part, or the completion of the
    /// multipart upload: one short request), or [`BlobStore::abandon_import`] when the blob is not to be
    /// stored after all. The staged file stays until the import is finished.
    pub async fn prepare_import(
        &self,
        staged: &FsPath,
        digest: &Digest,
    ) -> std::io::Result<PreparedImport> {
        let at_finish = PreparedImport {
            staged: staged.to_owned(),
            digest: digest.clone(),
            multipart: None,
        };
        let Some(s3) = &self.s3 else {
            return Ok(at_finish);
        };
        let _turn = s3
            .imports
            .clone()
            .acquire_owned()
            .await
            .map_err(std::io::Error::other)?;
        let file = tokio::fs::File::open(staged).await?;
        let size = file.metadata().await?.len();
        let part = part_size(size);
        // One part or less is a single PUT at finish. A blob already in the store is not sent again: if it is
        // being deleted by garbage collection and must come back after all, finish sends it whole.
        if size <= part || self.size(digest).await?.is_some() {
            return Ok(at_finish);
        }
        let location = self.location(digest);
        let id = s3
            .store
            .create_multipart(&location)
            .await
            .map_err(io_error)?;
        match send_parts(&s3.store, &location, &id, file, part).await {
            Ok(parts) => Ok(PreparedImport {
                multipart: Some(PreparedParts {
                    location,
                    id,
                    parts,
                }),
                ..at_finish
            }),
            Err(e) => {
                abort_multipart(&s3.store, &location, &id, digest).await;
                Err(e)
            }
        }
    }

    /// Makes a prepared import visible as its digest and removes the staged file.
    pub async fn finish_import(&self, prepared: PreparedImport) -> std::io::Result<()> {
        let PreparedImport {
            staged,
            digest,
            multipart,
        } = prepared;
        let location = self.location(&digest);
        if let Some(fs) = &self.local {
            let target = fs
                .path_to_filesystem(&location)
                .map_err(std::io::Error::other)?;
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            return tokio::fs::rename(staged, target).await;
        }
        let Some(s3) = &self.s3 else {
            return Err(std::io::Error::other("the blob store has no backend"));
        };
        match multipart {
            Some(PreparedParts {
                location,
                id,
                parts,
            }) => {
                if let Err(e) = s3.store.complete_multipart(&location, &id, parts).await {
                    abort_multipart(&s3.store, &location, &id, &digest).await;
                    return Err(io_error(e));
                }
            }
            None => {
                let _turn = s3
                    .imports
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(std::io::Error::other)?;
                let file = tokio::fs::File::open(&staged).await?;
                let size = file.metadata().await?.len();
                let part = part_size(size);
                if size <= part {
                    // One part's worth or less: a single PUT (at most 8 MiB in memory).
                    let mut buffer =
                        Vec::with_capacity(usize::try_from(size).map_err(std::io::Error::other)?);
                    let mut file = file;
                    file.read_to_end(&mut buffer).await?;
                    self.store
                        .put(&location, PutPayload::from(buffer))
                        .await
                        .map_err(io_error)?;
                } else {
                    let id = s3
                        .store
                        .create_multipart(&location)
                        .await
                        .map_err(io_error)?;
                    let completed = match send_parts(&s3.store, &location, &id, file, part).await {
                        Ok(parts) => s3
                            .store
                            .complete_multipart(&location, &id, parts)
                            .await
                            .map_err(io_error),
                        Err(e) => Err(e),
                    };
                    if let Err(e) = completed {
                        abort_multipart(&s3.store, &location, &id, &digest).await;
                        return Err(e);
                    }
                }
            }
        }
        tracing::debug!(%digest, backend = self.backend(), "blob imported into the store");
        tokio::fs::remove_file(staged).await
    }

    /// Gives up a prepared import: a multipart upload is aborted (its parts deleted). The staged file is left
    /// to the caller, as after a failed import.
    pub async fn abandon_import(&self, prepared: PreparedImport) {
        if let (Some(s3), Some(parts)) = (&self.s3, prepared.multipart) {
            abort_multipart(&s3.store, &parts.location, &parts.id, &prepared.digest).await;
        }
    }
}

/// A verified staged file on its way into the store ([`BlobStore::prepare_import`]). Finish or abandon it: a
/// dropped one leaves an incomplete multipart upload for the bucket's lifecycle rules to remove.
#[must_use = "finish or abandon a prepared import"]
#[derive(Debug)]
pub struct PreparedImport {
    staged: std::path::PathBuf,
    digest: Digest,
    /// S3: the parts sent, waiting for the completion.
    multipart: Option<PreparedParts>,
}

#[derive(Debug)]
struct PreparedParts {
    location: Path,
    id: object_store::MultipartId,
    parts: Vec<PartId>,
}

async fn abort_multipart(store: &AmazonS3, location: &Path, id: &str, digest: &Digest) {
    if let Err(e) = store.abort_multipart(location, &id.to_owned()).await {
        tracing::warn!(%digest, error = %e, "could not abort a multipart import; the bucket's lifecycle rules must remove it");
    }
}

/// Sends `file` as the parts of multipart upload `id` at `location`, `part` bytes each (the last shorter), at
/// most [`PARTS_IN_FLIGHT`] at once, in order; returns their ids for the completion.
async fn send_parts(
    store: &AmazonS3,
    location: &Path,
    id: &object_store::MultipartId,
    file: tokio::fs::File,
    part: u64,
) -> std::io::Result<Vec<PartId>> {
    let part = usize::try_from(part).map_err(std::io::Error::other)?;
    let reads = futures_util::stream::unfold(Some((file, 0usize)), move |state| async move {
        let (mut file, index) = state?;
        let mut buffer = bytes::BytesMut::with_capacity(part);
        while buffer.len() < part {
            match file.read_buf(&mut buffer).await {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => return Some((Err(e), None)),
            }
        }
        if buffer.is_empty() {
            return None;
        }
        Some((Ok((index, buffer.freeze())), Some((file, index + 1))))
    });
    reads
        .map(|read| async move {
            let (index, bytes) = read?;
            store
                .put_part(location, id, index, PutPayload::from(bytes))
                .await
                .map_err(io_error)
        })
        .buffered(PARTS_IN_FLIGHT)
        .try_collect()
        .await
}

/// The part size of a multipart import of `size` bytes: 8 MiB, or more (whole MiB) when 10,000 parts of
/// 8 MiB would not hold the blob.
fn part_size(size: u64) -> u64 {
    const MIB: u64 = 1024 * 1024;
    let needed = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    needed.max(MIN_PART)
}

/// An `object_store` error as an I/O error; a missing object stays `NotFound`, so callers can tell it apart.
fn io_error(e: object_store::Error) -> std::io::Error {
    match e {
        object_store::Error::NotFound { .. } => {
            std::io::Error::new(std::io::ErrorKind::NotFound, e)
        }
        e => std::io::Error::other(e),
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
    /// Deletes the file of `digest` (where its row says it is, while the row is there); one already gone is
    /// not an error.
    pub async fn delete(&self, digest: &Digest) -> std::io::Result<()> {
        match self.store.delete(&self.resolve(digest).await?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }

    /// Every blob file at its digest's key, in no particular order; files whose name is not a digest are
    /// skipped (and logged). The objects of S3-native uploads are under `uploads/`, accounted for by their
    /// blob rows and upload sessions, and not listed.
    pub fn list(
        &self,
    ) -> impl futures_util::Stream<Item = std::io::Result<StoredBlob>> + Send + use<> {
        let prefix = Path::from(format!("{}blobs", self.root));
        // The parts of the prefix before `blobs`, skipped in each location.
        let depth = prefix.parts().count() - 1;
        self.store.list(Some(&prefix)).filter_map(move |meta| async move {
            match meta {
                Ok(meta) => {
                    let parts: Vec<_> = meta.location.parts().skip(depth).collect();
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
                Err(e) => Some(Err(io_error(e))),
            }
        })
    }
}

impl BlobStore {
    /// Every object under the store's prefix, as its key without the prefix and its size: for audits and tests
    /// of what the bucket or directory holds. (The parts of multipart uploads in progress are not objects yet.)
    pub fn list_objects(
        &self,
    ) -> impl futures_util::Stream<Item = std::io::Result<(String, u64)>> + Send + use<> {
        let root = self.root.clone();
        let prefix = (!root.is_empty()).then(|| Path::from(root.trim_end_matches('/')));
        self.store
            .list(prefix.as_ref())
            .map_ok(move |meta| {
                let key = meta.location.as_ref();
                (
                    key.strip_prefix(root.as_str()).unwrap_or(key).to_owned(),
                    meta.size,
                )
            })
            .map_err(io_error)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn settings(prefix: &str) -> S3Settings {
        S3Settings {
            endpoint: Some("https://s3.example.com".to_owned()),
            bucket: "berth".to_owned(),
            region: "us-east-1".to_owned(),
            credentials: Some(("AKEXAMPLE".to_owned(), Secret::new("topsecret"))),
            path_style: true,
            allow_http: false,
            redirect: true,
            prefix: prefix.to_owned(),
        }
    }

    #[test]
    fn keys_sit_under_the_prefix_and_the_secret_stays_out_of_debug()
    -> Result<(), Box<dyn std::error::Error>> {
        let digest: Digest =
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".parse()?;
        let store = BlobStore::s3(&settings("team/a"))?;
        assert_eq!(
            store.location(&digest).as_ref(),
            "team/a/blobs/sha256/e3/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let bare = BlobStore::s3(&settings(""))?;
        assert!(
            bare.location(&digest)
                .as_ref()
                .starts_with("blobs/sha256/e3/")
        );
        assert_eq!(store.backend(), "s3");
        assert!(!format!("{store:?}").contains("topsecret"));
        Ok(())
    }

    #[test]
    fn parts_are_8_mib_until_10000_of_them_would_not_hold_the_blob() {
        const MIB: u64 = 1024 * 1024;
        assert_eq!(part_size(0), 8 * MIB);
        assert_eq!(part_size(80_000 * MIB), 8 * MIB);
        assert_eq!(part_size(80_000 * MIB + 1), 9 * MIB);
        let huge = 5 * 1024 * 1024 * MIB;
        assert!(huge.div_ceil(part_size(huge)) <= MAX_PARTS);
    }

    #[tokio::test]
    async fn presigned_urls_are_signed_for_twenty_minutes() -> Result<(), Box<dyn std::error::Error>>
    {
        let digest: Digest =
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".parse()?;
        let store = BlobStore::s3(&settings("p"))?;
        let url = store
            .download_url(&store.located(&digest, None))
            .await?
            .ok_or("no URL")?;
        assert!(
            url.as_str()
                .starts_with("https://s3.example.com/berth/p/blobs/sha256/e3/"),
            "{url}"
        );
        assert!(url.as_str().contains("X-Amz-Expires=1200"), "{url}");
        // A blob pushed by an S3-native upload is where its row says, under the prefix.
        let url = store
            .download_url(&store.located(&digest, Some("uploads/u1/data")))
            .await?
            .ok_or("no URL")?;
        assert!(
            url.as_str()
                .starts_with("https://s3.example.com/berth/p/uploads/u1/data?"),
            "{url}"
        );
        let mut off = settings("p");
        off.redirect = false;
        let off = BlobStore::s3(&off)?;
        assert!(
            off.download_url(&off.located(&digest, None))
                .await?
                .is_none()
        );
        Ok(())
    }
}
