//! The files of the database's generations under `<data_dir>/vulndb/`: `vulndb-<n>.sqlite` (complete, never
//! written after it got its name), `current` (the name of the generation in force, replaced atomically) and
//! `import.lock` (held while a generation is built).

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

const POINTER: &str = "current";
const LOCK: &str = "import.lock";
/// The longest a pointer file may be (it holds one file name).
const MAX_POINTER_BYTES: u64 = 256;

/// `<data_dir>/vulndb`.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("vulndb")
}

pub fn file_name(generation: i64) -> String {
    format!("vulndb-{generation}.sqlite")
}

/// The generation a file name names (`vulndb-7.sqlite` → 7); `None` for anything else.
pub fn parse_file_name(name: &str) -> Option<i64> {
    let n = name.strip_prefix("vulndb-")?.strip_suffix(".sqlite")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) || n.len() > 18 {
        return None;
    }
    i64::from_str(n).ok().filter(|g| *g > 0)
}

/// The generation `current` points at; `None` when there is none yet.
pub fn read_pointer(dir: &Path) -> anyhow::Result<Option<i64>> {
    let path = dir.join(POINTER);
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    if meta.len() > MAX_POINTER_BYTES {
        anyhow::bail!("{} is not a generation pointer (too long)", path.display());
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    parse_file_name(text.trim()).map(Some).with_context(|| {
        format!(
            "{} does not name a generation: {:?}",
            path.display(),
            text.trim()
        )
    })
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Points `current` at `generation`: writes a temporary file, fsyncs it, renames it over `current`, fsyncs the
/// directory. A reader sees the old pointer or the new one, never a torn one.
pub fn write_pointer(dir: &Path, generation: i64) -> anyhow::Result<()> {
    let tmp = dir.join(format!("{POINTER}.tmp"));
    let mut file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(format!("{}\n", file_name(generation)).as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, dir.join(POINTER)).context("replacing the generation pointer")?;
    sync_dir(dir).context("syncing the vulndb directory")?;
    Ok(())
}

/// Gives a finished temporary file its generation's name, durably.
pub fn publish(tmp: &Path, dir: &Path, generation: i64) -> anyhow::Result<PathBuf> {
    File::open(tmp)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", tmp.display()))?;
    let path = dir.join(file_name(generation));
    std::fs::rename(tmp, &path).with_context(|| format!("renaming to {}", path.display()))?;
    sync_dir(dir).context("syncing the vulndb directory")?;
    Ok(path)
}

/// The generations present as files, lowest first.
pub fn present(dir: &Path) -> anyhow::Result<Vec<i64>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        if let Some(g) = entry?.file_name().to_str().and_then(parse_file_name) {
            out.push(g);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Deletes generation files older than the last two (`current` and the one before), and temporary files left
/// by an interrupted import. Called with the import lock held. Readers that still have an old file open keep
/// reading it (the inode lives until they close it).
pub fn clean(dir: &Path, current: i64) -> anyhow::Result<()> {
    let generations = present(dir)?;
    let keep_from = generations
        .iter()
        .copied()
        .filter(|g| *g < current)
        .max()
        .unwrap_or(current);
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stale = match parse_file_name(name) {
            Some(g) => g < keep_from,
            None => name.starts_with("vulndb-") && name.contains(".sqlite.tmp"),
        };
        if stale && let Err(e) = std::fs::remove_file(entry.path()) {
            tracing::warn!(file = %entry.path().display(), error = %e, "could not delete an old vulndb generation");
        }
    }
    Ok(())
}

/// The exclusive lock held while a generation is built (across processes: `flock`).
pub struct ImportLock {
    _file: File,
}

/// Takes the import lock, waiting for another import to finish first.
pub fn lock(dir: &Path) -> anyhow::Result<ImportLock> {
    let path = dir.join(LOCK);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            tracing::info!(lock = %path.display(), "another vulndb import is running; waiting for it to finish");
            file.lock()
                .with_context(|| format!("locking {}", path.display()))?;
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("locking {}", path.display()));
        }
    }
    Ok(ImportLock { _file: file })
}

/// Opens a published generation read-only. The file never changes once published, so SQLite may skip locking
/// (`immutable`).
pub async fn open_read(dir: &Path, generation: i64) -> anyhow::Result<SqlitePool> {
    let path = dir.join(file_name(generation));
    if !path.is_file() {
        anyhow::bail!("{} is missing", path.display());
    }
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .read_only(true)
        .immutable(true);
    SqlitePoolOptions::new()
        .max_connections(4)
        .min_connections(0)
        .idle_timeout(Duration::from_secs(300))
        .connect_with(options)
        .await
        .with_context(|| format!("opening {}", path.display()))
}

/// Opens the file a generation is being built in. Its journal stays in memory and writes are not synced one by
/// one: the file is synced once, whole, before it is published, and a crashed build is simply discarded.
pub async fn open_build(path: &Path) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Memory)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Off)
        .pragma("cache_size", "-65536");
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .with_context(|| format!("opening {}", path.display()))
}
