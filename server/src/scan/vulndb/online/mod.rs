//! The online refresh (`[scan] vulndb_url`, off by default): `berth vulndb update`, and the server's periodic
//! `VULNDB_UPDATE` job ([`job`]), bring the database up to date from an OSV mirror in the bucket's layout
//! (design §1.6 and §5.3 "Online mode").
//!
//! Per ecosystem, [`update`] reads `<URL>/<ECO>/modified_id.csv` down to the stored watermark ([`feed`]) and
//! fetches only the changed `<ECO>/<ID>.json` records. On the first refresh, when more than
//! [`MAX_CHANGED`] records changed, when the feed is missing or unreadable, or when a listed record is missing,
//! it reads `<ECO>/all.zip` instead (with `If-None-Match`, so an unchanged dump is not downloaded again): a
//! full dump of `osv:<ECO>`, whose records absent from it are removed.
//!
//! Everything fetched goes through the importers `berth vulndb import` uses (the OSV reader, never a second
//! parser) into **one** new generation, built from the previous one under the import lock and swapped in
//! atomically; each ecosystem's watermark and `ETag` are written in that same generation (`online_state`), so
//! they never run ahead of the data. An ecosystem whose refresh fails keeps its data and watermark (one log line
//! says what failed and why); the others are applied. When nothing changed, no generation is built. The outcome
//! of the last check, changed or not, is kept beside the generations in `online.json` for
//! `berth vulndb status`.

pub mod feed;
pub mod fetch;
pub mod job;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use url::Url;

use self::feed::{Feed, MAX_LINE_BYTES, Plan, Watermark};
use self::fetch::{Download, FetchError, Fetcher, shown};
use super::import::{self, ImportSummary, Input};
use super::store::{self, OnlineState};
use super::{generation, osv};
use crate::config::ScanConfig;

/// More changed records than this in one ecosystem: its `all.zip` is read instead.
pub const MAX_CHANGED: usize = 5_000;
/// The shortest `vulndb_refresh_interval` accepted.
pub const MIN_INTERVAL: Duration = Duration::from_secs(60 * 60);
/// Records downloaded at once.
const CONCURRENT_RECORDS: usize = 8;
/// The outcome of the last check, beside the generations.
const CHECK_FILE: &str = "online.json";
const MAX_CHECK_FILE_BYTES: u64 = 1024 * 1024;
/// Where downloads wait for the import (under the vulndb directory, deleted after each refresh).
const DOWNLOADS: &str = "download";

/// What the online refresh fetches, and from where.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The mirror's base URL, ending in `/`.
    pub url: Url,
    pub ecosystems: Vec<String>,
    pub interval: Duration,
    pub max_download_bytes: u64,
    pub max_changed: usize,
}

/// Whether `name` can be an ecosystem folder: OSV's names are letters, digits, spaces and `.:+_-`
/// (`crates.io`, `Rocky Linux`); a `/` or `..` is refused, since the name becomes part of a URL.
fn valid_ecosystem(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | ':' | '+' | '_' | '-'))
}

impl Settings {
    /// The settings of `[scan]`; `None` when `vulndb_url` is unset or empty (the refresh is off).
    pub fn from_config(scan: &ScanConfig) -> anyhow::Result<Option<Settings>> {
        let Some(url) = scan
            .vulndb_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        else {
            return Ok(None);
        };
        let interval = scan.vulndb_refresh_interval.0;
        if interval < MIN_INTERVAL {
            anyhow::bail!(
                "[scan] vulndb_refresh_interval must be at least 1h, not {}",
                scan.vulndb_refresh_interval
            );
        }
        Settings::new(
            url,
            &scan.vulndb_ecosystems.0,
            interval,
            scan.vulndb_max_download_bytes,
        )
        .map(Some)
    }

    /// Checks and builds settings (`url`: `https://…`, or `http://…` written out).
    pub fn new(
        url: &str,
        ecosystems: &[String],
        interval: Duration,
        max_download_bytes: u64,
    ) -> anyhow::Result<Settings> {
        let mut parsed = Url::parse(url.trim())
            .map_err(|e| anyhow::anyhow!("[scan] vulndb_url {url:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "https" | "http") || parsed.host().is_none() {
            anyhow::bail!(
                "[scan] vulndb_url must be an https:// (or http://) URL of an OSV mirror, not {:?}",
                shown(&parsed)
            );
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            anyhow::bail!("[scan] vulndb_url takes no query or fragment");
        }
        if !parsed.path().ends_with('/') {
            let path = format!("{}/", parsed.path());
            parsed.set_path(&path);
        }
        let mut names = Vec::new();
        for name in ecosystems {
            if !valid_ecosystem(name) {
                anyhow::bail!("[scan] vulndb_ecosystems: {name:?} is not an OSV ecosystem name");
            }
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        if names.is_empty() {
            anyhow::bail!("[scan] vulndb_ecosystems is empty: name at least one OSV ecosystem");
        }
        if max_download_bytes == 0 {
            anyhow::bail!("[scan] vulndb_max_download_bytes must be more than 0");
        }
        Ok(Settings {
            url: parsed,
            ecosystems: names,
            interval,
            max_download_bytes,
            max_changed: MAX_CHANGED,
        })
    }

    /// `<URL>/<ecosystem>/<file>`, each part one path segment (percent-encoded: `Rocky%20Linux`).
    fn file_url(&self, ecosystem: &str, file: &str) -> anyhow::Result<Url> {
        let mut url = self.url.clone();
        url.path_segments_mut()
            .map_err(|()| anyhow::anyhow!("{} cannot hold a path", shown(&self.url)))?
            .pop_if_empty()
            .push(ecosystem)
            .push(file);
        Ok(url)
    }
}

/// The outcome of one ecosystem's last check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub ecosystem: String,
    pub ok: bool,
    /// What happened, or why it failed.
    pub result: String,
}

/// The last refresh's checks (`online.json`): when, from where, and each ecosystem's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCheck {
    pub url: String,
    /// RFC 3339.
    pub checked_at: String,
    /// The generation in force after it.
    pub generation: Option<i64>,
    pub ecosystems: Vec<Check>,
}

/// What one refresh did.
#[derive(Debug, Clone)]
pub struct UpdateReport {
    /// The generation it built, when anything changed.
    pub built: Option<ImportSummary>,
    pub check: LastCheck,
}

impl UpdateReport {
    /// The ecosystems that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.check.ecosystems.iter().filter(|c| !c.ok)
    }
}

/// What refreshing one ecosystem produced.
enum Step {
    UpToDate(String),
    Changed {
        input: Box<Input>,
        state: Box<OnlineState>,
        note: String,
    },
}

/// Refreshes the database under `data_dir` from the mirror of `settings`; `full` reads every ecosystem's
/// `all.zip` (still with `If-None-Match`). Takes the import lock for the whole refresh, so it never interleaves
/// with an import or another refresh. `stop` is asked before each ecosystem and before the build: when it says
/// `true` the refresh ends with nothing changed. An error means nothing changed (stopped, or the new
/// generation could not be built); an ecosystem that failed is in [`UpdateReport::failures`] and logged.
pub async fn update(
    data_dir: &Path,
    settings: &Settings,
    full: bool,
    stop: &(dyn Fn() -> bool + Sync),
) -> anyhow::Result<UpdateReport> {
    let dir = generation::dir(data_dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let lock = import::lock(&dir).await?;
    let downloads = dir.join(DOWNLOADS);
    remove_dir_if_present(&downloads)?;
    std::fs::create_dir(&downloads).with_context(|| format!("creating {}", downloads.display()))?;
    let result = refresh(&dir, &lock, settings, full, stop, &downloads).await;
    if let Err(e) = remove_dir_if_present(&downloads) {
        tracing::warn!(dir = %downloads.display(), error = %format!("{e:#}"), "could not delete the refresh's downloads");
    }
    result
}

fn remove_dir_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("deleting {}", path.display())),
    }
}

/// The online state of each ecosystem in the generation in force.
async fn stored_states(dir: &Path) -> anyhow::Result<(Option<i64>, HashMap<String, OnlineState>)> {
    let Some(in_force) = generation::read_pointer(dir)? else {
        return Ok((None, HashMap::new()));
    };
    let pool = generation::open_read(dir, in_force).await?;
    let states = store::online_states(&pool).await;
    pool.close().await;
    Ok((
        Some(in_force),
        states?
            .into_iter()
            .map(|s| (s.ecosystem.clone(), s))
            .collect(),
    ))
}

async fn refresh(
    dir: &Path,
    lock: &generation::ImportLock,
    settings: &Settings,
    full: bool,
    stop: &(dyn Fn() -> bool + Sync),
    downloads: &Path,
) -> anyhow::Result<UpdateReport> {
    let url = shown(&settings.url);
    let (in_force, stored) = stored_states(dir)
        .await
        .context("reading the generation in force")?;
    let fetcher = Fetcher::new(&settings.url, settings.max_download_bytes)?;
    let mut inputs = Vec::new();
    let mut states = Vec::new();
    let mut checks = Vec::new();
    for (n, ecosystem) in settings.ecosystems.iter().enumerate() {
        if stop() {
            anyhow::bail!("stopped before refreshing {ecosystem}; nothing changed");
        }
        // A watermark taken from another mirror says nothing about this one.
        let previous = stored.get(ecosystem).filter(|s| s.url == url);
        let work = downloads.join(n.to_string());
        std::fs::create_dir(&work).with_context(|| format!("creating {}", work.display()))?;
        match refresh_ecosystem(&fetcher, settings, ecosystem, previous, full, &work).await {
            Ok(Step::UpToDate(note)) => checks.push(Check {
                ecosystem: ecosystem.clone(),
                ok: true,
                result: note,
            }),
            Ok(Step::Changed { input, state, note }) => {
                inputs.push(*input);
                states.push(*state);
                checks.push(Check {
                    ecosystem: ecosystem.clone(),
                    ok: true,
                    result: note,
                });
            }
            Err(e) => {
                let reason = format!("{e:#}");
                tracing::error!(
                    ecosystem = %ecosystem,
                    url = %url,
                    error = %reason,
                    "vulnerability database refresh failed for this ecosystem; its data and watermark stay as they were"
                );
                checks.push(Check {
                    ecosystem: ecosystem.clone(),
                    ok: false,
                    result: reason,
                });
            }
        }
    }
    let mut check = LastCheck {
        url,
        checked_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        generation: in_force,
        ecosystems: checks,
    };
    if stop() && !inputs.is_empty() {
        anyhow::bail!("stopped before building the new generation; nothing changed");
    }
    let built = if inputs.is_empty() {
        None
    } else {
        match import::build_generation(dir, lock, &inputs, &states).await {
            Ok(summary) => {
                check.generation = Some(summary.generation);
                Some(summary)
            }
            Err(e) => {
                let reason = format!("building the new generation failed: {e:#}");
                for c in &mut check.ecosystems {
                    if states.iter().any(|s| s.ecosystem == c.ecosystem) {
                        c.ok = false;
                        c.result = reason.clone();
                    }
                }
                write_check(dir, &check);
                return Err(e.context(format!(
                    "building the new generation from {}; generation {} stays in force",
                    check.url,
                    in_force.map_or_else(|| "none".to_owned(), |g| g.to_string())
                )));
            }
        }
    };
    write_check(dir, &check);
    Ok(UpdateReport { built, check })
}

/// Refreshes one ecosystem into `work`.
async fn refresh_ecosystem(
    fetcher: &Fetcher,
    settings: &Settings,
    ecosystem: &str,
    previous: Option<&OnlineState>,
    full: bool,
    work: &Path,
) -> anyhow::Result<Step> {
    let stored = previous
        .and_then(|p| Some((p.watermark.as_deref()?, &p.watermark_ids)))
        .and_then(|(at, ids)| Watermark::parse(at, ids));
    let mut feed = Feed::new(if full { None } else { stored }, settings.max_changed);
    let feed_url = settings.file_url(ecosystem, "modified_id.csv")?;
    let plan = match fetcher
        .lines(&feed_url, MAX_LINE_BYTES, |line| feed.push(line))
        .await
    {
        Ok(()) => match feed.finish() {
            Plan::Dump { watermark, .. } if full => Plan::Dump {
                watermark,
                reason: "a full refresh was asked for".to_owned(),
            },
            plan => plan,
        },
        Err(FetchError::NotFound { .. }) => Plan::Dump {
            watermark: None,
            reason: "the mirror has no modified_id.csv".to_owned(),
        },
        Err(e) => return Err(e.into()),
    };
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let state =
        |method: &str, detail: String, watermark: Option<&Watermark>, etag: Option<String>| {
            OnlineState {
                ecosystem: ecosystem.to_owned(),
                url: shown(&settings.url),
                refreshed_at: now.clone(),
                method: method.to_owned(),
                detail,
                watermark: watermark.map(Watermark::time),
                watermark_ids: watermark
                    .map(|w| w.ids.iter().cloned().collect())
                    .unwrap_or_default(),
                etag,
            }
        };
    let (watermark, reason) = match plan {
        Plan::UpToDate => {
            return Ok(Step::UpToDate(format!(
                "up to date (watermark {})",
                previous
                    .and_then(|p| p.watermark.clone())
                    .unwrap_or_default()
            )));
        }
        Plan::Records { ids, watermark } => {
            match fetch_records(fetcher, settings, ecosystem, &ids, work).await? {
                None => {
                    let detail = format!("{} changed record(s)", ids.len());
                    return Ok(Step::Changed {
                        input: Box::new(Input::osv_records(work.to_path_buf())),
                        state: Box::new(state(
                            "records",
                            detail.clone(),
                            Some(&watermark),
                            previous.and_then(|p| p.etag.clone()),
                        )),
                        note: format!("{detail} fetched; watermark {}", watermark.time()),
                    });
                }
                Some(missing) => (
                    Some(watermark),
                    format!("record {missing} is listed in modified_id.csv but missing"),
                ),
            }
        }
        Plan::Dump { watermark, reason } => (watermark, reason),
    };
    let dump = work.join("all.zip");
    let dump_url = settings.file_url(ecosystem, "all.zip")?;
    let etag = previous.and_then(|p| p.etag.as_deref());
    match fetcher.download(&dump_url, &dump, etag).await? {
        Download::NotModified => Ok(Step::UpToDate(format!(
            "all.zip unchanged since the last refresh (ETag; {reason})"
        ))),
        Download::Saved { bytes, etag } => {
            // A truncated or wrong file fails this ecosystem here, not the whole refresh's build.
            let check = dump.clone();
            let records = tokio::task::spawn_blocking(move || osv::check_zip(&check))
                .await?
                .with_context(|| format!("GET {}: the {bytes} bytes read", shown(&dump_url)))?;
            let detail = format!("{bytes} bytes, {records} records; {reason}");
            Ok(Step::Changed {
                input: Box::new(Input::osv_dump(
                    dump,
                    BTreeSet::from([format!("osv:{ecosystem}")]),
                )),
                state: Box::new(state("all.zip", detail.clone(), watermark.as_ref(), etag)),
                note: format!(
                    "all.zip ({detail}) read; watermark {}",
                    watermark
                        .as_ref()
                        .map_or_else(|| "none".to_owned(), Watermark::time)
                ),
            })
        }
    }
}

/// Downloads `ids` into `work` as `<ID>.json`; `Some(id)` when the mirror does not have one of them.
async fn fetch_records(
    fetcher: &Fetcher,
    settings: &Settings,
    ecosystem: &str,
    ids: &[String],
    work: &Path,
) -> anyhow::Result<Option<String>> {
    let downloads = futures_util::stream::iter(ids.to_vec())
        .map(|id| fetch_record(fetcher, settings, ecosystem, work, id))
        .buffer_unordered(CONCURRENT_RECORDS);
    let mut downloads = std::pin::pin!(downloads);
    // The first failure or missing record ends the downloads (the rest are dropped).
    while let Some(done) = downloads.next().await {
        if let Some(missing) = done? {
            return Ok(Some(missing));
        }
    }
    Ok(None)
}

/// Downloads one record into `work/<ID>.json`; `Some(id)` when the mirror does not have it.
async fn fetch_record(
    fetcher: &Fetcher,
    settings: &Settings,
    ecosystem: &str,
    work: &Path,
    id: String,
) -> anyhow::Result<Option<String>> {
    let url = settings.file_url(ecosystem, &format!("{id}.json"))?;
    let bytes = match fetcher.bytes(&url, osv::MAX_RECORD_BYTES).await {
        Ok(bytes) => bytes,
        Err(FetchError::NotFound { .. }) => return Ok(Some(id)),
        Err(e) => return Err(e.into()),
    };
    // A record that does not read (an error page served as 200, another record) fails the ecosystem: its
    // watermark must not move past a record that was not stored.
    match osv::convert(&bytes) {
        Ok(record) if record.record_id == id => {}
        Ok(record) => anyhow::bail!(
            "GET {}: the record's id is {}, not {id}",
            shown(&url),
            record.record_id
        ),
        Err(reason) => anyhow::bail!("GET {}: not an OSV record: {reason}", shown(&url)),
    }
    let path: PathBuf = work.join(format!("{id}.json"));
    tokio::fs::write(&path, bytes)
        .await
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(None)
}

/// Writes `online.json` (through a temporary file and a rename); a failure is logged, never fatal.
fn write_check(dir: &Path, check: &LastCheck) {
    let write = || -> anyhow::Result<()> {
        let tmp = dir.join(format!("{CHECK_FILE}.tmp"));
        std::fs::write(&tmp, serde_json::to_vec_pretty(check)?)?;
        std::fs::rename(&tmp, dir.join(CHECK_FILE))?;
        Ok(())
    };
    if let Err(e) = write() {
        tracing::warn!(dir = %dir.display(), error = %format!("{e:#}"), "could not record the online refresh's outcome");
    }
}

/// The last refresh's outcome under the vulndb directory `dir`, if there was one.
pub fn last_check(dir: &Path) -> anyhow::Result<Option<LastCheck>> {
    let path = dir.join(CHECK_FILE);
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    if meta.len() > MAX_CHECK_FILE_BYTES {
        anyhow::bail!("{} is too large", path.display());
    }
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .with_context(|| format!("{} does not parse", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Ecosystems, Interval};

    fn config(url: Option<&str>) -> ScanConfig {
        ScanConfig {
            vulndb_url: url.map(str::to_owned),
            ..ScanConfig::default()
        }
    }

    #[test]
    fn settings_are_off_by_default_and_checked_when_on() -> anyhow::Result<()> {
        assert!(Settings::from_config(&ScanConfig::default())?.is_none());
        assert!(Settings::from_config(&config(Some("  ")))?.is_none());
        let on = Settings::from_config(&config(Some("https://mirror.example/osv")))?
            .ok_or_else(|| anyhow::anyhow!("off"))?;
        assert_eq!(on.url.as_str(), "https://mirror.example/osv/");
        assert_eq!(on.interval, Duration::from_secs(86_400));
        assert!(on.ecosystems.contains(&"crates.io".to_owned()));
        assert_eq!(
            on.file_url("Rocky Linux", "all.zip")?.as_str(),
            "https://mirror.example/osv/Rocky%20Linux/all.zip"
        );
        assert_eq!(
            on.file_url("PyPI", "PYSEC-2021-98.json")?.as_str(),
            "https://mirror.example/osv/PyPI/PYSEC-2021-98.json"
        );
        assert!(Settings::from_config(&config(Some("http://127.0.0.1:9/")))?.is_some());
        for bad in [
            "ftp://mirror.example/",
            "file:///srv/osv",
            "mirror.example/osv",
            "https://mirror.example/osv?x=1",
        ] {
            assert!(Settings::from_config(&config(Some(bad))).is_err(), "{bad}");
        }
        let mut short = config(Some("https://mirror.example/"));
        short.vulndb_refresh_interval = Interval(Duration::from_secs(600));
        let error = Settings::from_config(&short)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("at least 1h, not 10m"), "{error}");
        for bad in [vec![], vec!["../etc".to_owned()], vec!["a/b".to_owned()]] {
            let mut scan = config(Some("https://mirror.example/"));
            scan.vulndb_ecosystems = Ecosystems(bad.clone());
            assert!(Settings::from_config(&scan).is_err(), "{bad:?}");
        }
        Ok(())
    }
}
