//! `berth migrate-storage`: moves a single-node installation (SQLite and blob files under its data directory)
//! onto the scale-out backends this node is configured for (PostgreSQL, and S3 or another blob store).
//!
//! 1. The source database is snapshotted (`VACUUM INTO`), so the source node may keep serving meanwhile.
//! 2. Every blob the snapshot records is sent to the target store, hashed on the way: a file whose bytes do
//!    not match its digest, or a live blob whose file is missing, fails the migration (after the rest were
//!    copied, so one run lists them all). A blob the target already holds at its size was sent by an earlier
//!    run (imports are atomic and follow the hash check) and is skipped: the migration resumes where it
//!    stopped.
//! 3. The snapshot's tables replace the target database's, in one transaction.
//!
//! Run it once while the old node serves (most blobs move then), stop the old node, run it again (only what
//! changed moves), then start the new nodes with the old node's `secret_key`.

use std::path::Path;

use anyhow::{Context as _, bail};
use futures_util::StreamExt as _;

use crate::config::Config;
use crate::db::{Backend, Db};
use crate::oci::Digest;
use crate::storage::BlobStore;

/// Blobs sent at once.
const CONCURRENT_BLOBS: usize = 4;
/// Blob rows read per page.
const PAGE: i64 = 500;

/// What a migration did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Blobs sent, and their bytes.
    pub sent: u64,
    pub sent_bytes: u64,
    /// Blobs the target held already (an earlier run sent them).
    pub present: u64,
    /// Blob rows being deleted by garbage collection whose file was already gone (the target finishes them).
    pub gone: u64,
    /// Tables and rows copied.
    pub tables: usize,
    pub rows: u64,
}

/// A blob that could not be moved.
#[derive(Debug)]
struct Failed {
    digest: String,
    reason: String,
}

/// Migrates the installation in data directory `from` into the database and blob store `target` configures.
pub async fn migrate_storage(
    target: &Config,
    from: &Path,
    replace: bool,
) -> anyhow::Result<Report> {
    let target_url = target.database_url();
    if Backend::of_url(&target_url).ok() != Some(Backend::Postgres) {
        bail!(
            "the target database must be PostgreSQL: set database_url (BERTH_DATABASE_URL) to postgres://…, \
             the database the new nodes will use"
        );
    }
    let source_db_path = from.join("berth.db");
    if !source_db_path.is_file() {
        bail!(
            "{} has no berth.db: --from names the old node's data directory",
            from.display()
        );
    }
    let source_store =
        BlobStore::local(&from.join("storage")).context("opening the source blob store")?;
    let target_store = match target
        .storage
        .validate()
        .context("the target storage configuration ([storage], BERTH_STORAGE__*)")?
    {
        Some(settings) => BlobStore::s3(&settings).context("opening the target S3 store")?,
        None => {
            let dir = target.data_dir.join("storage");
            if dir.canonicalize().ok() == from.join("storage").canonicalize().ok() {
                bail!(
                    "the target blob store is the source's own directory; configure [storage] kind = \"s3\" or another data_dir"
                );
            }
            BlobStore::local(&dir).context("opening the target blob store")?
        }
    };
    target_store
        .check()
        .await
        .context("the target blob store does not answer")?;

    // 1. A consistent snapshot of the source.
    let work = from.join("migrate-storage");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let snapshot_path = work.join("snapshot.db");
    for stale in ["snapshot.db", "snapshot.db-wal", "snapshot.db-shm"] {
        let _ = std::fs::remove_file(work.join(stale));
    }
    let source = Db::open(&format!("sqlite://{}", source_db_path.display()))
        .await
        .context("opening the source database")?;
    source
        .sqlite_snapshot(&snapshot_path)
        .await
        .context("snapshotting the source database")?;
    source.close().await;
    let snapshot = Db::open(&format!("sqlite://{}", snapshot_path.display()))
        .await
        .context("opening the snapshot of the source database")?;
    let target_db = Db::open(&target_url)
        .await
        .context("opening the target database")?;
    target_db
        .check_copy_target(replace)
        .await
        .context("checking the target database")?;
    tracing::info!(from = %from.display(), backend = target_store.backend(), "migrating: snapshot taken, sending blobs");

    // 2. The blobs.
    let mut report = Report::default();
    let mut failed = Vec::new();
    let mut after = String::new();
    loop {
        let page = snapshot
            .blobs_after(&after, PAGE)
            .await
            .context("listing the source's blobs")?;
        let Some((last, _, _)) = page.last() else {
            break;
        };
        after = last.clone();
        let outcomes: Vec<_> = futures_util::stream::iter(page)
            .map(|(digest, size, state)| {
                let (source_store, target_store, work) = (&source_store, &target_store, &work);
                async move {
                    let live = state == crate::db::gc::LIVE;
                    let outcome =
                        send_blob(source_store, target_store, work, &digest, size, live).await;
                    (digest, size, outcome)
                }
            })
            .buffer_unordered(CONCURRENT_BLOBS)
            .collect()
            .await;
        for (digest, size, outcome) in outcomes {
            match outcome {
                Ok(Moved::Sent) => {
                    report.sent += 1;
                    report.sent_bytes += u64::try_from(size).unwrap_or(0);
                }
                Ok(Moved::Present) => report.present += 1,
                Ok(Moved::Gone) => report.gone += 1,
                Err(reason) => {
                    tracing::error!(%digest, %reason, "migrating: blob not sent");
                    failed.push(Failed { digest, reason });
                }
            }
        }
        tracing::info!(
            sent = report.sent,
            present = report.present,
            "migrating: blobs so far"
        );
    }
    if !failed.is_empty() {
        let list: Vec<String> = failed
            .iter()
            .map(|f| format!("{}: {}", f.digest, f.reason))
            .collect();
        bail!(
            "{} blobs could not be sent (the database was not copied; fix them and run again):\n{}",
            failed.len(),
            list.join("\n")
        );
    }

    // 3. The metadata.
    let tables = target_db
        .copy_from_sqlite(&snapshot, replace)
        .await
        .context("copying the database")?;
    report.tables = tables.len();
    report.rows = tables.iter().map(|t| t.rows).sum();
    snapshot.close().await;
    target_db.close().await;
    for stale in ["snapshot.db", "snapshot.db-wal", "snapshot.db-shm"] {
        let _ = std::fs::remove_file(work.join(stale));
    }
    let _ = std::fs::remove_dir(&work);
    Ok(report)
}

enum Moved {
    Sent,
    Present,
    Gone,
}

/// Sends blob `digest` of `size` bytes from `source` to `target`, checking its bytes on the way; `live`: its
/// row is not being deleted by garbage collection.
async fn send_blob(
    source: &BlobStore,
    target: &BlobStore,
    work: &Path,
    digest: &str,
    size: i64,
    live: bool,
) -> Result<Moved, String> {
    let parsed: Digest = digest.parse().map_err(|e| format!("not a digest: {e}"))?;
    let size = u64::try_from(size).map_err(|_| "a negative size".to_owned())?;
    if target.size(&parsed).await.map_err(|e| e.to_string())? == Some(size) {
        return Ok(Moved::Present);
    }
    let Some(path) = source.local_path(&parsed) else {
        return Err("the source store is not on the filesystem".to_owned());
    };
    match tokio::fs::metadata(&path).await {
        Ok(meta) if meta.len() != size => {
            return Err(format!(
                "the file holds {} bytes, the row says {size}",
                meta.len()
            ));
        }
        Ok(_) => {}
        // Being deleted by garbage collection: the target's collector finishes it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !live => return Ok(Moved::Gone),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("recorded, but its file is missing from the source store".to_owned());
        }
        Err(e) => return Err(e.to_string()),
    }
    let computed = crate::storage::hash_file(path.clone(), parsed.algorithm())
        .await
        .map_err(|e| format!("reading it: {e}"))?
        .1
        .finish();
    if computed != parsed {
        return Err(format!("its file's bytes are {computed}"));
    }
    // The import consumes the file it is given: give it a second name for the same bytes (or a copy).
    let staged = work.join(parsed.hex());
    let _ = tokio::fs::remove_file(&staged).await;
    if tokio::fs::hard_link(&path, &staged).await.is_err() {
        tokio::fs::copy(&path, &staged)
            .await
            .map_err(|e| format!("staging it: {e}"))?;
    }
    let imported = target.import(&staged, &parsed).await;
    let _ = tokio::fs::remove_file(&staged).await;
    imported.map_err(|e| format!("sending it: {e}"))?;
    Ok(Moved::Sent)
}
