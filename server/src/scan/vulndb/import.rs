//! `berth vulndb import`: reads each input through its importer and builds the next generation.
//!
//! A generation is built in a temporary file that starts as a copy of the generation in force (so an import adds
//! to what is there: the previous generation plus the new source's records, a full dump replacing that source's
//! records), is synced and renamed when complete, and only then becomes `current`. An import that fails leaves
//! the generation in force untouched; two imports at once (two CLI processes, or the CLI and the server) take
//! turns on an exclusive lock.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;

use super::record::Record;
use super::{generation, osv, secdb, store, tracker};

/// What an importer hands on: a converted record, or a record it could not read (counted and logged; it never
/// aborts the import).
pub enum Item {
    Record(Box<Record>),
    Malformed { at: String, reason: String },
}

/// Where an importer puts its items; `false` back means "stop reading".
pub type Sink<'a> = dyn FnMut(Item) -> bool + 'a;

/// Records written per transaction.
const BATCH: usize = 2_000;
/// Items buffered between the reading thread and the writer (bounds the memory an import holds).
const CHANNEL: usize = 1_024;
/// Malformed records logged one by one per input; the rest are only counted.
const LOGGED_MALFORMED: u64 = 20;
/// How much of a JSON file is looked at to tell its format.
const SNIFF_BYTES: u64 = 64 * 1024;

/// An input format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// OSV: an `all.zip`, a directory of `*.json` records, or one record.
    Osv,
    /// Alpine secdb JSON (a published branch file, or a directory of per-package files).
    Secdb,
    /// The Debian security tracker's JSON (`/tracker/data/json`).
    DebianTracker,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Osv => "osv",
            Format::Secdb => "secdb",
            Format::DebianTracker => "debian-tracker",
        })
    }
}

/// How an input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    OsvZip,
    OsvPath,
    SecdbFile,
    SecdbDir,
    Tracker,
}

impl Reader {
    fn format(self) -> Format {
        match self {
            Reader::OsvZip | Reader::OsvPath => Format::Osv,
            Reader::SecdbFile | Reader::SecdbDir => Format::Secdb,
            Reader::Tracker => Format::DebianTracker,
        }
    }

    fn read(self, path: &Path, sink: &mut Sink<'_>) -> anyhow::Result<()> {
        match self {
            Reader::OsvZip => osv::read_zip(path, sink),
            Reader::OsvPath => osv::read_path(path, sink),
            Reader::SecdbFile => secdb::read_file(path, sink),
            Reader::SecdbDir => secdb::read_dir(path, sink),
            Reader::Tracker => tracker::read_file(path, sink),
        }
    }
}

/// Options of one import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The inputs' format; detected per input when `None`.
    pub format: Option<Format>,
    /// Add and update records only. By default each input (but a single OSV record file) is a full dump of its
    /// sources, and their records it does not contain are removed.
    pub partial: bool,
}

/// What one input contributed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputSummary {
    pub path: PathBuf,
    pub format: Option<Format>,
    /// Records read and converted.
    pub records: u64,
    /// Of those, new or changed since the previous generation.
    pub changed: u64,
    /// Records that could not be read (logged, skipped).
    pub malformed: u64,
    /// Records of its sources the dump no longer has, removed.
    pub removed: u64,
    pub sources: BTreeSet<String>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// The generation now in force.
    pub generation: i64,
    pub previous: Option<i64>,
    pub inputs: Vec<InputSummary>,
    pub built_at: String,
    pub seconds: u64,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sum = |field: fn(&InputSummary) -> u64| self.inputs.iter().map(field).sum::<u64>();
        let records = sum(|i| i.records);
        write!(
            f,
            "generation {} in force: {} record(s) read from {} input(s) ({} new or changed, {} unchanged, \
             {} malformed, {} removed) in {} s",
            self.generation,
            records,
            self.inputs.len(),
            sum(|i| i.changed),
            records - sum(|i| i.changed),
            sum(|i| i.malformed),
            sum(|i| i.removed),
            self.seconds,
        )
    }
}

/// Decides how to read `path`: a `.zip` is an OSV dump, a directory OSV records (or secdb files with
/// `--format secdb`), a JSON file is told apart by its first bytes (secdb has `secfixes`/`distroversion`, the
/// tracker `releases` with `status`, an OSV record `id` with `affected`, `modified` or `schema_version`).
fn detect(path: &Path, format: Option<Format>) -> anyhow::Result<Reader> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("file not found: {}", path.display())
        }
        Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
    };
    if meta.is_dir() {
        return match format {
            None | Some(Format::Osv) => Ok(Reader::OsvPath),
            Some(Format::Secdb) => Ok(Reader::SecdbDir),
            Some(Format::DebianTracker) => anyhow::bail!(
                "{} is a directory; the Debian tracker format is one JSON file",
                path.display()
            ),
        };
    }
    let is_zip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if is_zip {
        return match format {
            None | Some(Format::Osv) => Ok(Reader::OsvZip),
            Some(other) => anyhow::bail!("{} is a zip archive, not {other}", path.display()),
        };
    }
    match format {
        Some(Format::Osv) => return Ok(Reader::OsvPath),
        Some(Format::Secdb) => return Ok(Reader::SecdbFile),
        Some(Format::DebianTracker) => return Ok(Reader::Tracker),
        None => {}
    }
    let mut head = Vec::new();
    std::fs::File::open(path)
        .with_context(|| format!("opening {}", path.display()))?
        .take(SNIFF_BYTES)
        .read_to_end(&mut head)
        .with_context(|| format!("reading {}", path.display()))?;
    let head = String::from_utf8_lossy(&head);
    if secdb::looks_like(&head) {
        Ok(Reader::SecdbFile)
    } else if tracker::looks_like(&head) {
        Ok(Reader::Tracker)
    } else if head.contains("\"id\"")
        && ["\"affected\"", "\"modified\"", "\"schema_version\""]
            .iter()
            .any(|k| head.contains(k))
    {
        Ok(Reader::OsvPath)
    } else {
        anyhow::bail!(
            "cannot tell the format of {} (not an OSV record or dump, Alpine secdb or Debian tracker JSON); \
             pass --format",
            path.display()
        )
    }
}

/// One input of a generation build: a file or directory, how it is read, and what it is a full dump of.
#[derive(Debug, Clone)]
pub(super) struct Input {
    path: PathBuf,
    reader: Reader,
    dump: Dump,
}

/// Which stored records an input replaces (records of those sources it does not hold are removed).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dump {
    /// None: it only adds and updates.
    Partial,
    /// Every source its records belong to (`berth vulndb import` without `--partial`).
    SourcesSeen,
    /// Exactly these sources (an ecosystem's `all.zip` fetched online: `osv:<ecosystem>`).
    Sources(BTreeSet<String>),
}

impl Input {
    /// An OSV `all.zip` that is the full dump of `sources`.
    pub(super) fn osv_dump(path: PathBuf, sources: BTreeSet<String>) -> Input {
        Input {
            path,
            reader: Reader::OsvZip,
            dump: Dump::Sources(sources),
        }
    }

    /// A directory of OSV records that only add and update.
    pub(super) fn osv_records(path: PathBuf) -> Input {
        Input {
            path,
            reader: Reader::OsvPath,
            dump: Dump::Partial,
        }
    }
}

/// Imports `paths` into a new generation under `data_dir` and puts it in force.
pub async fn import(
    data_dir: &Path,
    paths: &[PathBuf],
    options: &ImportOptions,
) -> anyhow::Result<ImportSummary> {
    if paths.is_empty() {
        anyhow::bail!("nothing to import: name at least one file or directory");
    }
    let inputs = paths
        .iter()
        .map(|p| {
            let reader = detect(p, options.format)?;
            // One OSV record file is an update, never a full dump of its ecosystem.
            let single_record = reader == Reader::OsvPath && p.is_file();
            let dump = if options.partial || single_record {
                Dump::Partial
            } else {
                Dump::SourcesSeen
            };
            Ok(Input {
                path: p.clone(),
                reader,
                dump,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let dir = generation::dir(data_dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let lock = lock(&dir).await?;
    build_generation(&dir, &lock, &inputs, &[]).await
}

/// Takes the import lock of `dir` (waiting for another import to finish first).
pub(super) async fn lock(dir: &Path) -> anyhow::Result<generation::ImportLock> {
    let lock_dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || generation::lock(&lock_dir)).await?
}

/// Builds the next generation from the one in force plus `inputs` (and `online`, the online refresh's state of
/// each ecosystem it refreshed), and puts it in force. The caller holds the import lock.
pub(super) async fn build_generation(
    dir: &Path,
    _lock: &generation::ImportLock,
    inputs: &[Input],
    online: &[store::OnlineState],
) -> anyhow::Result<ImportSummary> {
    let started = Instant::now();
    let previous = generation::read_pointer(dir)?;
    let highest = generation::present(dir)?.last().copied();
    let next = previous.max(highest).unwrap_or(0) + 1;
    let tmp = dir.join(format!("{}.tmp", generation::file_name(next)));
    remove_if_present(&tmp)?;
    let built = build(dir, previous, next, &tmp, inputs, online).await;
    let (inputs, built_at) = match built {
        Ok(done) => done,
        Err(e) => {
            if let Err(cleanup) = remove_if_present(&tmp) {
                tracing::warn!(file = %tmp.display(), error = %cleanup, "could not delete a failed vulndb build");
            }
            return Err(e);
        }
    };
    generation::publish(&tmp, dir, next)?;
    generation::write_pointer(dir, next)?;
    generation::clean(dir, next)?;
    let summary = ImportSummary {
        generation: next,
        previous,
        inputs,
        built_at,
        seconds: started.elapsed().as_secs(),
    };
    tracing::info!(generation = next, previous = ?previous, summary = %summary, "vulndb generation in force");
    Ok(summary)
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("deleting {}", path.display())),
    }
}

/// Builds generation `next` in `tmp`: the previous generation's data, then each input.
async fn build(
    dir: &Path,
    previous: Option<i64>,
    next: i64,
    tmp: &Path,
    inputs: &[Input],
    online: &[store::OnlineState],
) -> anyhow::Result<(Vec<InputSummary>, String)> {
    let mut fresh = true;
    if let Some(prev) = previous {
        let from = dir.join(generation::file_name(prev));
        let to = tmp.to_path_buf();
        tokio::task::spawn_blocking(move || std::fs::copy(&from, &to))
            .await?
            .with_context(|| format!("copying generation {prev}"))?;
        let pool = generation::open_build(tmp).await?;
        let version = store::meta(&pool, "schema_version").await.ok().flatten();
        pool.close().await;
        if version.as_deref() == Some(store::SCHEMA_VERSION) {
            fresh = false;
        } else {
            tracing::warn!(generation = prev, schema = ?version, "the previous vulndb generation has another schema; building from empty");
            remove_if_present(tmp)?;
        }
    }
    let pool = generation::open_build(tmp).await?;
    let result = fill(&pool, fresh, next, inputs, online).await;
    pool.close().await;
    result
}

async fn fill(
    pool: &sqlx::SqlitePool,
    fresh: bool,
    next: i64,
    inputs: &[Input],
    online: &[store::OnlineState],
) -> anyhow::Result<(Vec<InputSummary>, String)> {
    {
        let mut conn = pool.acquire().await?;
        store::create_schema(&mut conn).await?;
        if fresh {
            store::set_meta(&mut conn, "history_from", &next.to_string()).await?;
        }
    }
    let mut summaries = Vec::new();
    let mut all_sources = BTreeSet::new();
    for input in inputs {
        let mut summary = read_input(pool, next, &input.path, input.reader).await?;
        let replaced = match &input.dump {
            Dump::Partial => BTreeSet::new(),
            Dump::SourcesSeen => summary.sources.clone(),
            Dump::Sources(sources) => sources.clone(),
        };
        if !replaced.is_empty() {
            let mut tx = pool.begin().await?;
            for source in &replaced {
                summary.removed += store::delete_unseen(&mut tx, next, source).await?;
            }
            tx.commit().await?;
        }
        all_sources.extend(summary.sources.iter().cloned());
        all_sources.extend(replaced);
        summaries.push(summary);
    }
    let built_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut tx = pool.begin().await?;
    for state in online {
        store::put_online_state(&mut tx, state).await?;
    }
    store::finish(&mut tx, next, &built_at, &all_sources).await?;
    tx.commit().await?;
    sqlx::query("PRAGMA optimize").execute(pool).await?;
    Ok((summaries, built_at))
}

/// Reads one input on a blocking thread and writes its records in batches as they come.
async fn read_input(
    pool: &sqlx::SqlitePool,
    generation: i64,
    path: &Path,
    reader: Reader,
) -> anyhow::Result<InputSummary> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Item>(CHANNEL);
    let thread_path = path.to_path_buf();
    let producer = tokio::task::spawn_blocking(move || {
        let mut sink = |item: Item| tx.blocking_send(item).is_ok();
        reader.read(&thread_path, &mut sink)
    });
    let mut summary = InputSummary {
        path: path.to_path_buf(),
        format: Some(reader.format()),
        ..InputSummary::default()
    };
    let mut first_problem = None;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(item) = rx.recv().await {
        match item {
            Item::Record(record) => {
                batch.push(*record);
                if batch.len() >= BATCH {
                    write_batch(pool, generation, &mut batch, &mut summary).await?;
                }
            }
            Item::Malformed { at, reason } => {
                summary.malformed += 1;
                if summary.malformed <= LOGGED_MALFORMED {
                    tracing::warn!(input = %path.display(), at = %at, reason = %reason, "skipped a record that could not be read");
                }
                first_problem.get_or_insert(format!("{at}: {reason}"));
            }
        }
    }
    write_batch(pool, generation, &mut batch, &mut summary).await?;
    producer
        .await
        .context("the import's reading thread failed")??;
    if summary.malformed > LOGGED_MALFORMED {
        tracing::warn!(input = %path.display(), malformed = summary.malformed, "records that could not be read (only the first {LOGGED_MALFORMED} logged)");
    }
    if summary.records == 0 {
        match first_problem {
            Some(problem) => anyhow::bail!(
                "no {} record could be read from {} ({} malformed; first: {problem})",
                reader.format(),
                path.display(),
                summary.malformed
            ),
            None => anyhow::bail!("{} holds no {} records", path.display(), reader.format()),
        }
    }
    Ok(summary)
}

async fn write_batch(
    pool: &sqlx::SqlitePool,
    generation: i64,
    batch: &mut Vec<Record>,
    summary: &mut InputSummary,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    for record in batch.drain(..) {
        let written = store::write_record(&mut tx, generation, &record)
            .await
            .with_context(|| format!("storing record {} of {}", record.record_id, record.source))?;
        summary.records += 1;
        if written == store::Written::Changed {
            summary.changed += 1;
        }
        if !summary.sources.contains(&record.source) {
            summary.sources.insert(record.source.clone());
        }
    }
    tx.commit().await?;
    Ok(())
}
