//! OSV records (<https://ossf.github.io/osv-schema/>), from an `all.zip` dump (per ecosystem or global), a directory
//! of `*.json` records (recursive), or one record file.
//!
//! The structs are our own and lenient: the ecosystem is a string (records of ecosystems Berth does not scan are
//! stored all the same and never break an import), unknown fields are ignored, and a record that does not parse
//! is counted and logged, never fatal. Withdrawn records keep their advisory row but get no affected rows, so they
//! never match.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;

use anyhow::Context as _;
use serde::Deserialize;
use serde_json::Value;

use super::import::{Item, Sink};
use super::record::{
    AliasRow, Record, VulnRow, VulnWrite, cvss3, cvss4, normalise_package, severity_word,
    split_ecosystem,
};
use crate::scan::model::{Advisory, AffectedEntry, AffectedRange, RangeEvent, RangeKind, Severity};

/// The largest record read from a zip entry or a file: real records are a few kB, the largest (PyPI records with
/// every version listed) a few hundred.
pub const MAX_RECORD_BYTES: u64 = 4 * 1024 * 1024;
/// The most entries read from one zip (npm's dump, the largest, has about 200k).
pub const MAX_ZIP_ENTRIES: usize = 2_000_000;
/// The most files read from one directory tree, and how deep it is walked.
pub const MAX_DIR_FILES: usize = 2_000_000;
pub const MAX_DIR_DEPTH: usize = 16;
/// The most `affected` entries, ranges per entry and events per range kept from one record.
const MAX_AFFECTED: usize = 10_000;
const MAX_RANGES: usize = 1_000;
const MAX_EVENTS: usize = 10_000;

#[derive(Deserialize)]
struct OsvRecord {
    id: String,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    #[serde(default)]
    upstream: Option<Vec<String>>,
    #[serde(default)]
    related: Option<Vec<String>>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    severity: Option<Vec<OsvSeverity>>,
    #[serde(default)]
    affected: Option<Vec<OsvAffected>>,
    #[serde(default)]
    references: Option<Vec<OsvReference>>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct OsvSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct OsvAffected {
    #[serde(default)]
    package: Option<OsvPackage>,
    #[serde(default)]
    severity: Option<Vec<OsvSeverity>>,
    #[serde(default)]
    ranges: Option<Vec<OsvRange>>,
    #[serde(default)]
    versions: Option<Vec<String>>,
    #[serde(default)]
    ecosystem_specific: Option<Value>,
    #[serde(default)]
    database_specific: Option<Value>,
}

#[derive(Deserialize)]
struct OsvPackage {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
struct OsvRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<serde_json::Map<String, Value>>,
}

#[derive(Deserialize)]
struct OsvReference {
    #[serde(default)]
    url: Option<String>,
}

/// Converts one OSV record's JSON into a [`Record`]; the error says why it is not an OSV record.
pub fn convert(bytes: &[u8]) -> Result<Record, String> {
    let raw: OsvRecord = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let id = raw.id.trim().to_owned();
    if id.is_empty() || id.len() > 256 {
        return Err("the record has no usable `id`".to_owned());
    }
    let mut aliases = Vec::new();
    let mut push_alias = |alias: &str, kind: &'static str| {
        let alias = alias.trim();
        if !alias.is_empty() && alias != id && !aliases.iter().any(|a: &AliasRow| a.alias == alias)
        {
            aliases.push(AliasRow {
                alias: alias.to_owned(),
                vuln_id: id.clone(),
                kind,
            });
        }
    };
    for a in raw.aliases.iter().flatten() {
        push_alias(a, "alias");
    }
    for a in raw.upstream.iter().flatten() {
        push_alias(a, "upstream");
    }
    // A Debian DSA/DLA names its CVEs in `related`, not `aliases` (google/osv.dev#1381); elsewhere `related`
    // means "see also", not "the same vulnerability", and so do a DLA's other DLAs (regression updates).
    if ["DSA-", "DLA-", "DTSA-"].iter().any(|p| id.starts_with(p)) {
        for a in raw.related.iter().flatten() {
            if a.trim().starts_with("CVE-") {
                push_alias(a, "related");
            }
        }
    }

    let mut advisory = Advisory {
        id: id.clone(),
        summary: raw.summary.filter(|s| !s.trim().is_empty()),
        details: raw.details.filter(|s| !s.trim().is_empty()),
        published: raw.published,
        modified: raw.modified.clone(),
        ..Advisory::default()
    };
    let mut cvss4_vector = None;
    let mut cvss4_score = None;
    for s in raw.severity.iter().flatten() {
        match s.kind.as_str() {
            "CVSS_V3" if advisory.cvss3_vector.is_none() => {
                advisory.cvss3_score = cvss3(&s.score).map(|(score, _)| score);
                advisory.cvss3_vector = Some(s.score.clone());
            }
            "CVSS_V4" if cvss4_vector.is_none() => {
                cvss4_score = cvss4(&s.score).map(|(score, _)| score);
                cvss4_vector = Some(s.score.clone());
            }
            _ => {}
        }
    }
    let db_specific = raw.database_specific.as_ref();
    advisory.severity = db_specific
        .and_then(|d| d.get("severity"))
        .and_then(Value::as_str)
        .and_then(severity_word)
        .or_else(|| {
            advisory
                .cvss3_vector
                .as_deref()
                .and_then(cvss3)
                .map(|(_, s)| s)
        })
        .or_else(|| cvss4_vector.as_deref().and_then(cvss4).map(|(_, s)| s))
        .unwrap_or(Severity::Unknown);
    advisory.cwe_ids = db_specific
        .and_then(|d| d.get("cwe_ids"))
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    advisory.links = raw
        .references
        .into_iter()
        .flatten()
        .filter_map(|r| r.url)
        .collect();

    let withdrawn = raw.withdrawn.filter(|w| !w.trim().is_empty());
    let mut affected = Vec::new();
    let mut source_eco = None;
    for entry in raw.affected.into_iter().flatten().take(MAX_AFFECTED) {
        let Some(package) = entry.package else {
            continue;
        };
        let ecosystem = package.ecosystem.trim().to_owned();
        if ecosystem.is_empty() || package.name.trim().is_empty() {
            continue;
        }
        let (base, _) = split_ecosystem(&ecosystem);
        source_eco.get_or_insert_with(|| base.to_owned());
        if withdrawn.is_some() {
            continue;
        }
        let ranges = entry
            .ranges
            .into_iter()
            .flatten()
            .take(MAX_RANGES)
            .filter_map(convert_range)
            .collect::<Vec<_>>();
        let versions = entry.versions.unwrap_or_default();
        if ranges.iter().all(|r| r.kind == RangeKind::Git) && versions.is_empty() {
            // Only git commits: nothing an installed package can be compared with.
            continue;
        }
        let severity = entry_severity(
            entry.ecosystem_specific.as_ref(),
            entry.database_specific.as_ref(),
            entry.severity.as_deref(),
        );
        affected.push(AffectedEntry {
            vuln_id: id.clone(),
            package: normalise_package(base, package.name.trim()),
            ecosystem,
            ranges,
            versions,
            severity,
            status: None,
        });
    }
    let source = match source_eco {
        Some(eco) => format!("osv:{eco}"),
        None => "osv".to_owned(),
    };
    let vulns = vec![VulnRow {
        advisory,
        withdrawn,
        cvss4_vector,
        cvss4_score,
        write: VulnWrite::Replace,
    }];
    Ok(Record::new(
        source,
        id.clone(),
        Some(id),
        raw.modified,
        vulns,
        aliases,
        affected,
    ))
}

fn convert_range(range: OsvRange) -> Option<AffectedRange> {
    let kind = match range.kind.as_str() {
        "ECOSYSTEM" => RangeKind::Ecosystem,
        "SEMVER" => RangeKind::Semver,
        "GIT" => RangeKind::Git,
        _ => return None,
    };
    let events = range
        .events
        .into_iter()
        .take(MAX_EVENTS)
        .filter_map(|event| {
            let (key, value) = event.into_iter().next()?;
            let value = value.as_str()?.to_owned();
            Some(match key.as_str() {
                "introduced" => RangeEvent::Introduced(value),
                "fixed" => RangeEvent::Fixed(value),
                "last_affected" => RangeEvent::LastAffected(value),
                "limit" => RangeEvent::Limit(value),
                _ => return None,
            })
        })
        .collect::<Vec<_>>();
    (!events.is_empty()).then_some(AffectedRange { kind, events })
}

/// A per-package severity: Debian's `ecosystem_specific.urgency`, a severity word in `ecosystem_specific` or
/// `database_specific`, else the entry's own CVSS vector.
fn entry_severity(
    ecosystem_specific: Option<&Value>,
    database_specific: Option<&Value>,
    severity: Option<&[OsvSeverity]>,
) -> Option<Severity> {
    let word = |v: Option<&Value>, key: &str| {
        v.and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if let Some(urgency) = word(ecosystem_specific, "urgency") {
        return severity_word(&urgency);
    }
    word(ecosystem_specific, "severity")
        .or_else(|| word(database_specific, "severity"))
        .and_then(|w| severity_word(&w))
        .or_else(|| {
            severity?.iter().find_map(|s| match s.kind.as_str() {
                "CVSS_V3" => cvss3(&s.score).map(|(_, sev)| sev),
                "CVSS_V4" => cvss4(&s.score).map(|(_, sev)| sev),
                _ => None,
            })
        })
}

/// Reads at most [`MAX_RECORD_BYTES`] from `reader`; an error when there is more.
fn read_capped(reader: impl std::io::Read, what: &str) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {what}"))?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        anyhow::bail!("{what} is larger than {MAX_RECORD_BYTES} bytes");
    }
    Ok(bytes)
}

fn emit(bytes: &[u8], at: String, sink: &mut Sink<'_>) -> bool {
    match convert(bytes) {
        Ok(record) => sink(Item::Record(Box::new(record))),
        Err(reason) => sink(Item::Malformed {
            at,
            reason: format!("not an OSV record: {reason}"),
        }),
    }
}

/// Opens an OSV `all.zip` far enough to tell it is one (its central directory reads, and it has at least one
/// `.json` entry), without reading a record; returns how many `.json` entries it has.
pub fn check_zip(path: &Path) -> anyhow::Result<usize> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let archive =
        zip::ZipArchive::new(std::io::BufReader::new(file)).context("not a zip archive")?;
    let records = archive
        .file_names_raw()
        .filter(|name| name.ends_with(b".json"))
        .count();
    if records == 0 {
        anyhow::bail!("a zip archive with no OSV record (no .json entry)");
    }
    Ok(records)
}

/// Streams the records of an OSV `all.zip`, one entry at a time (never the whole dump in memory).
pub fn read_zip(path: &Path, sink: &mut Sink<'_>) -> anyhow::Result<()> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .with_context(|| format!("{} is not a zip archive", path.display()))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        anyhow::bail!(
            "{} has {} entries; at most {MAX_ZIP_ENTRIES} are read",
            path.display(),
            archive.len()
        );
    }
    for index in 0..archive.len() {
        // An entry this build cannot read (encrypted, another compression method) is one malformed record.
        let entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(e) => {
                if !sink(Item::Malformed {
                    at: format!("entry {index}"),
                    reason: e.to_string(),
                }) {
                    break;
                }
                continue;
            }
        };
        let name = match entry.name() {
            Ok(name) => name.into_owned(),
            Err(e) => {
                if !sink(Item::Malformed {
                    at: format!("entry {index}"),
                    reason: format!("unreadable name: {e}"),
                }) {
                    break;
                }
                continue;
            }
        };
        if entry.is_dir() || !name.ends_with(".json") {
            continue;
        }
        let at = format!("entry {name}");
        let bytes = if entry.size() > MAX_RECORD_BYTES {
            Err(anyhow::anyhow!("larger than {MAX_RECORD_BYTES} bytes"))
        } else {
            read_capped(entry, &at)
        };
        let keep_going = match bytes {
            Ok(bytes) => emit(&bytes, at, sink),
            Err(e) => sink(Item::Malformed {
                at,
                reason: format!("{e:#}"),
            }),
        };
        if !keep_going {
            break;
        }
    }
    Ok(())
}

/// Streams the `*.json` records under a directory (recursive, symlinks not followed), or one record file.
pub fn read_path(path: &Path, sink: &mut Sink<'_>) -> anyhow::Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
    if meta.is_file() {
        let bytes = read_capped(
            File::open(path).with_context(|| format!("opening {}", path.display()))?,
            &path.display().to_string(),
        )?;
        emit(&bytes, path.display().to_string(), sink);
        return Ok(());
    }
    walk_json_files(path, |child| {
        let at = child.display().to_string();
        match File::open(child)
            .map_err(anyhow::Error::from)
            .and_then(|f| read_capped(f, &at))
        {
            Ok(bytes) => emit(&bytes, at, sink),
            Err(e) => sink(Item::Malformed {
                at,
                reason: format!("{e:#}"),
            }),
        }
    })
}

/// Visits the `*.json` files under `root` in name order (recursive to [`MAX_DIR_DEPTH`], at most
/// [`MAX_DIR_FILES`], symlinks not followed) until `visit` says `false`.
pub fn walk_json_files(root: &Path, mut visit: impl FnMut(&Path) -> bool) -> anyhow::Result<()> {
    let mut files = 0usize;
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let mut entries = std::fs::read_dir(&dir)
            .with_context(|| format!("reading directory {}", dir.display()))?
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("reading directory {}", dir.display()))?;
        // Reversed, so popping the stack visits directories in name order.
        entries.sort_by_key(|e| std::cmp::Reverse(e.file_name()));
        for entry in entries {
            let file_type = entry.file_type()?;
            let child = entry.path();
            if file_type.is_dir() {
                if depth + 1 < MAX_DIR_DEPTH {
                    stack.push((child, depth + 1));
                }
                continue;
            }
            if !file_type.is_file() || child.extension().is_none_or(|e| e != "json") {
                continue;
            }
            files += 1;
            if files > MAX_DIR_FILES {
                anyhow::bail!("{} holds more than {MAX_DIR_FILES} files", root.display());
            }
            if !visit(&child) {
                return Ok(());
            }
        }
    }
    Ok(())
}
