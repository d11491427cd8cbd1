//! The local vulnerability database: advisories imported offline from OSV (`all.zip` dumps and record
//! directories), Alpine secdb and the Debian security tracker, answering the matcher's [`PackageQuery`]s.
//!
//! **Its own SQLite file, always.** It lives under `<data_dir>/vulndb/`, apart from Berth's main database, and is
//! never part of the main migrations: it is SQLite also when the main database is PostgreSQL. That is why its
//! SQL lives here ([`store`]) and not in `db/`. Keeping it apart lets an import build a complete new file and swap
//! it in, keeps the main database's WAL small, and makes the file something one can copy to another Berth.
//!
//! **Generations.** Each import builds `vulndb-<n>.sqlite` through a temporary name (starting from a copy of
//! generation n-1, so sources imported earlier stay), syncs and renames it, then points the `current` file at it
//! (write, sync, rename). A scan therefore never sees a half-imported database; an import that fails leaves the
//! generation in force as it was. Imports take turns on an exclusive `flock` on `import.lock`, so two CLI
//! processes, or the CLI and the server, cannot interleave. Files older than the last two generations are
//! deleted.
//!
//! **Readers.** [`VulnDb::open`] follows `current`; every lookup checks the pointer (at most every
//! [`CHECK_EVERY`]) and opens a new generation when it appears, serving the old one until the new pool is open.
//! A pool is closed when the last lookup using it is done.
//!
//! Schema (design §5.3): `meta`, `source`, `record` (one per importer unit, with its content SHA-256, so unchanged
//! records are skipped), `vuln`, `alias`, `affected` (indexed on ecosystem base, release and package) and
//! `changed` (the (ecosystem, package) keys each generation changed, for targeted re-matching), and
//! `online_state` (the [`online`] refresh's watermark and `ETag` per ecosystem).

pub mod cli;
mod generation;
pub mod import;
pub mod online;
pub mod osv;
pub mod record;
pub mod secdb;
mod store;
pub mod tracker;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::SqlitePool;

pub use import::{Format, ImportOptions, ImportSummary, InputSummary, import};
pub use store::{OnlineState, SourceStatus};

use self::record::{normalise_package, split_ecosystem};
use super::model::{Advisory, AffectedEntry, PackageQuery, Severity};

/// How often a reader looks at the `current` pointer for a new generation.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);

/// The database's state, for `berth vulndb status` and the console.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Status {
    pub generation: i64,
    /// RFC 3339.
    pub built_at: String,
    pub file: PathBuf,
    pub advisories: i64,
    pub affected: i64,
    pub sources: Vec<SourceStatus>,
    /// What the online refresh brought, per ecosystem (empty when it never ran).
    pub online: Vec<OnlineState>,
    /// The outcome of the last online refresh (changed or not), if one ran.
    pub last_check: Option<online::LastCheck>,
}

struct Open {
    generation: i64,
    pool: SqlitePool,
}

impl Drop for Open {
    fn drop(&mut self) {
        // The last lookup using this generation is done: close its connections now rather than when idle.
        let pool = self.pool.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { pool.close().await });
        }
    }
}

/// A reader of the generation in force.
pub struct VulnDb {
    dir: PathBuf,
    check_every: Duration,
    current: RwLock<Option<Arc<Open>>>,
    last_check: tokio::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for VulnDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VulnDb")
            .field("dir", &self.dir)
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

impl VulnDb {
    /// Opens the generation `current` points at under `data_dir`. No database yet is not an error: lookups
    /// answer nothing and [`Self::status`] says `None` until the first import.
    pub async fn open(data_dir: &Path) -> anyhow::Result<VulnDb> {
        let db = VulnDb {
            dir: generation::dir(data_dir),
            check_every: CHECK_EVERY,
            current: RwLock::new(None),
            last_check: tokio::sync::Mutex::new(None),
        };
        db.refresh().await?;
        Ok(db)
    }

    /// Looks at the pointer at most every `interval` instead of [`CHECK_EVERY`] (tests use zero: every lookup).
    pub fn with_check_interval(mut self, interval: Duration) -> VulnDb {
        self.check_every = interval;
        self
    }

    /// Switches to the generation `current` names if it is not the one open; `true` when it switched.
    pub async fn refresh(&self) -> anyhow::Result<bool> {
        let mut last = self.last_check.lock().await;
        *last = Some(Instant::now());
        let Some(pointed) = generation::read_pointer(&self.dir)? else {
            return Ok(false);
        };
        if self.generation() == Some(pointed) {
            return Ok(false);
        }
        let pool = generation::open_read(&self.dir, pointed).await?;
        let old = self
            .current
            .write()
            .map_err(|_| anyhow::anyhow!("vulndb reader lock poisoned"))?
            .replace(Arc::new(Open {
                generation: pointed,
                pool,
            }));
        drop(last);
        tracing::info!(generation = pointed, previous = ?old.as_ref().map(|o| o.generation), "vulnerability database generation opened");
        Ok(true)
    }

    /// The generation in force, after looking for a newer one if [`CHECK_EVERY`] has passed. A check that fails
    /// (a generation deleted under us, a bad pointer) is logged and the open generation kept.
    async fn snapshot(&self) -> Option<Arc<Open>> {
        let due = match self.last_check.try_lock() {
            Ok(last) => last.is_none_or(|t| t.elapsed() >= self.check_every),
            // Another lookup is switching generations right now; use the one open.
            Err(_) => false,
        };
        if due && let Err(e) = self.refresh().await {
            tracing::warn!(dir = %self.dir.display(), error = %format!("{e:#}"), "could not open the new vulnerability database generation; keeping the one open");
        }
        self.current.read().ok().and_then(|c| c.clone())
    }

    /// The generation open (without looking for a newer one).
    pub fn generation(&self) -> Option<i64> {
        self.current
            .read()
            .ok()
            .and_then(|c| c.as_ref().map(|o| o.generation))
    }

    /// The affected entries of each queried package (all from one generation). Package names are normalised as
    /// the importers store them (PEP 503 for PyPI); the answer is keyed by the queries as given, and a query
    /// with no entries is absent.
    pub async fn lookup(
        &self,
        queries: &[PackageQuery],
    ) -> anyhow::Result<HashMap<PackageQuery, Vec<AffectedEntry>>> {
        let mut out = HashMap::new();
        let Some(open) = self.snapshot().await else {
            return Ok(out);
        };
        let normalised = queries
            .iter()
            .map(|q| {
                let (base, _) = split_ecosystem(&q.ecosystem);
                (q, normalise_package(base, &q.package))
            })
            .collect::<Vec<_>>();
        let groups = store::group_by_ecosystem(
            normalised
                .iter()
                .map(|(q, name)| (q.ecosystem.as_str(), name.clone())),
        );
        let mut by_key: HashMap<(String, String, String), Vec<AffectedEntry>> = HashMap::new();
        for ((base, release), packages) in groups {
            for entry in store::affected(&open.pool, &base, &release, &packages).await? {
                by_key
                    .entry((base.clone(), release.clone(), entry.package.clone()))
                    .or_default()
                    .push(entry);
            }
        }
        for (query, name) in normalised {
            let (base, release) = split_ecosystem(&query.ecosystem);
            if let Some(entries) = by_key.get(&(base.to_owned(), release.to_owned(), name)) {
                out.insert(query.clone(), entries.clone());
            }
        }
        Ok(out)
    }

    /// The advisories of `ids`, plus those of their alias groups (a DSA's CVEs, a GHSA's CVE, and the records
    /// naming an id as an alias), each with its aliases filled in, so the matcher can collapse them into one
    /// finding. An advisory with no severity of its own takes the highest CVSS-derived one of its group.
    pub async fn advisories(&self, ids: &[String]) -> anyhow::Result<HashMap<String, Advisory>> {
        let mut out = HashMap::new();
        let Some(open) = self.snapshot().await else {
            return Ok(out);
        };
        let wanted: BTreeSet<String> = ids.iter().cloned().collect();
        let wanted = wanted.into_iter().collect::<Vec<_>>();
        let pairs = store::alias_pairs(&open.pool, &wanted).await?;
        let mut group: BTreeSet<String> = wanted.iter().cloned().collect();
        for (alias, vuln_id) in &pairs {
            group.insert(alias.clone());
            group.insert(vuln_id.clone());
        }
        // Aliases of the members found (one more hop: a DSA → CVE ← GHSA).
        let members = group.iter().cloned().collect::<Vec<_>>();
        let pairs = store::alias_pairs(&open.pool, &members).await?;
        let mut aliases: HashMap<String, BTreeSet<String>> = HashMap::new();
        for (alias, vuln_id) in &pairs {
            aliases
                .entry(vuln_id.clone())
                .or_default()
                .insert(alias.clone());
            aliases
                .entry(alias.clone())
                .or_default()
                .insert(vuln_id.clone());
            group.insert(alias.clone());
            group.insert(vuln_id.clone());
        }
        let members = group.into_iter().collect::<Vec<_>>();
        for mut advisory in store::vulns(&open.pool, &members).await? {
            advisory.aliases = aliases
                .get(&advisory.id)
                .map(|a| a.iter().filter(|x| **x != advisory.id).cloned().collect())
                .unwrap_or_default();
            out.insert(advisory.id.clone(), advisory);
        }
        // Design §5.3 step 3: no severity of its own → the same vulnerability's score from another record.
        let borrowed = out
            .values()
            .filter(|a| a.severity == Severity::Unknown)
            .filter_map(|a| {
                let best = a
                    .aliases
                    .iter()
                    .filter_map(|alias| out.get(alias))
                    .filter(|other| other.cvss3_score.is_some())
                    .map(|other| other.severity)
                    .max()?;
                Some((a.id.clone(), best))
            })
            .collect::<Vec<_>>();
        for (id, severity) in borrowed {
            if let Some(a) = out.get_mut(&id) {
                a.severity = severity;
            }
        }
        Ok(out)
    }

    /// The generation in force and when it was built (RFC 3339), without counting its records (what a
    /// scanner's metadata names); `None` before the first import.
    pub async fn in_force(&self) -> anyhow::Result<Option<(i64, String)>> {
        let Some(open) = self.snapshot().await else {
            return Ok(None);
        };
        let built_at = store::meta(&open.pool, "built_at")
            .await?
            .unwrap_or_default();
        Ok(Some((open.generation, built_at)))
    }

    /// The generation in force and its sources; `None` before the first import.
    pub async fn status(&self) -> anyhow::Result<Option<Status>> {
        let Some(open) = self.snapshot().await else {
            return Ok(None);
        };
        let pool = &open.pool;
        Ok(Some(Status {
            generation: open.generation,
            built_at: store::meta(pool, "built_at").await?.unwrap_or_default(),
            file: self.dir.join(generation::file_name(open.generation)),
            advisories: store::count(pool, "vuln").await?,
            affected: store::count(pool, "affected").await?,
            sources: store::sources(pool).await?,
            online: store::online_states(pool).await?,
            last_check: online::last_check(&self.dir).unwrap_or_else(|e| {
                tracing::warn!(error = %format!("{e:#}"), "could not read the online refresh's last outcome");
                None
            }),
        }))
    }

    /// The (ecosystem, package) keys whose entries changed after generation `from` up to the generation open,
    /// as queries; `None` when that cannot be told (no database, or `from` older than the history kept): then
    /// every stored inventory should be re-matched.
    pub async fn changed_packages(&self, from: i64) -> anyhow::Result<Option<Vec<PackageQuery>>> {
        let Some(open) = self.snapshot().await else {
            return Ok(None);
        };
        Ok(store::changed(&open.pool, from, open.generation)
            .await?
            .map(|keys| {
                keys.into_iter()
                    .map(|(ecosystem, package)| PackageQuery { ecosystem, package })
                    .collect()
            }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
