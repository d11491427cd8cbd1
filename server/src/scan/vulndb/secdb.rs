//! Alpine secdb (<https://secdb.alpinelinux.org/>): the published per-branch JSON (`v3.18/main.json`: the shared
//! fields once, then `packages: [{pkg: {name, secfixes}}]`) and the per-package files of the vuln-list layout
//! (`{name, secfixes, distroversion, reponame}`). The YAML form is not read (convert it to JSON first).
//!
//! `secfixes` maps a fixed version to the ids it fixes. Each (id, origin package) becomes one affected entry
//! `introduced 0, fixed <key>` in ecosystem `Alpine:<distroversion>`; the key `"0"` means "not affected in this
//! branch" and gives no row; an id listed under several keys keeps the lowest; ids that are not CVEs
//! (`ALPINE-13661`) are kept as they are.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use serde::Deserialize;
use serde_json::Value;

use super::import::{Item, Sink};
use super::record::{Record, VulnRow, VulnWrite, natural_cmp};
use crate::scan::model::{Advisory, AffectedEntry, AffectedRange, RangeEvent, RangeKind};

/// The largest secdb file read (the biggest published branch, community, is about 1 MB).
pub const MAX_SECDB_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Deserialize)]
struct SecdbFile {
    #[serde(default)]
    distroversion: Option<String>,
    #[serde(default)]
    reponame: Option<String>,
    /// The published shape.
    #[serde(default)]
    packages: Option<Vec<Value>>,
    /// The per-package (vuln-list) shape.
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    secfixes: Option<Value>,
}

/// Whether a JSON document looks like secdb (used by format detection).
pub fn looks_like(head: &str) -> bool {
    head.contains("\"secfixes\"") || head.contains("\"distroversion\"")
}

/// Reads one secdb file (either shape) and emits one record per package.
pub fn read_file(path: &Path, sink: &mut Sink<'_>) -> anyhow::Result<()> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("{}", path.display()))?
        .len();
    if size > MAX_SECDB_BYTES {
        anyhow::bail!(
            "{} is {size} bytes; a secdb file is at most {MAX_SECDB_BYTES}",
            path.display()
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let file: SecdbFile = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not Alpine secdb JSON", path.display()))?;
    let Some(branch) = file
        .distroversion
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    else {
        anyhow::bail!(
            "{} is not Alpine secdb JSON: it has no `distroversion`",
            path.display()
        );
    };
    let branch = if branch.starts_with('v') {
        branch.to_owned()
    } else {
        format!("v{branch}")
    };
    let repo = file.reponame.as_deref().unwrap_or("main").trim();
    let source = format!("secdb:{branch}/{repo}");
    let ecosystem = format!("Alpine:{branch}");
    if let (Some(name), Some(secfixes)) = (&file.name, &file.secfixes) {
        sink(convert(&source, &ecosystem, name, secfixes));
        return Ok(());
    }
    let Some(packages) = file.packages else {
        anyhow::bail!(
            "{} is not Alpine secdb JSON: it has neither `packages` nor `secfixes`",
            path.display()
        );
    };
    for (index, package) in packages.iter().enumerate() {
        let pkg = package.get("pkg");
        let name = pkg.and_then(|p| p.get("name")).and_then(Value::as_str);
        let secfixes = pkg.and_then(|p| p.get("secfixes"));
        let item = match (name, secfixes) {
            (Some(name), Some(secfixes)) => convert(&source, &ecosystem, name, secfixes),
            _ => Item::Malformed {
                at: format!("{} packages[{index}]", path.display()),
                reason: "no `pkg.name` and `pkg.secfixes`".to_owned(),
            },
        };
        if !sink(item) {
            break;
        }
    }
    Ok(())
}

fn convert(source: &str, ecosystem: &str, name: &str, secfixes: &Value) -> Item {
    let name = name.trim();
    let Some(fixes) = secfixes.as_object().filter(|_| !name.is_empty()) else {
        return Item::Malformed {
            at: format!("{source} package {name:?}"),
            reason: "`secfixes` is not an object".to_owned(),
        };
    };
    // id → lowest fixed version ("0": never affected here).
    let mut lowest: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (key, ids) in fixes {
        let key = key.trim();
        let not_affected = key == "0";
        let ids = match ids {
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>(),
            Value::String(s) => vec![s.as_str()],
            _ => Vec::new(),
        };
        // Entries sometimes hold several ids separated by spaces ("CVE-2019-1 CVE-2019-2").
        for id in ids.iter().flat_map(|s| s.split_whitespace()) {
            let slot = lowest.entry(id.to_owned()).or_insert(None);
            if not_affected {
                continue;
            }
            match slot {
                Some(current) if natural_cmp(current, key).is_le() => {}
                _ => *slot = Some(key.to_owned()),
            }
        }
    }
    let mut vulns = Vec::new();
    let mut affected = Vec::new();
    for (id, fixed) in lowest {
        let Some(fixed) = fixed else {
            continue;
        };
        vulns.push(VulnRow {
            advisory: Advisory {
                id: id.clone(),
                ..Advisory::default()
            },
            withdrawn: None,
            cvss4_vector: None,
            cvss4_score: None,
            write: VulnWrite::Fill,
        });
        affected.push(AffectedEntry {
            vuln_id: id,
            ecosystem: ecosystem.to_owned(),
            package: name.to_owned(),
            ranges: vec![AffectedRange {
                kind: RangeKind::Ecosystem,
                events: vec![
                    RangeEvent::Introduced("0".to_owned()),
                    RangeEvent::Fixed(fixed),
                ],
            }],
            versions: Vec::new(),
            severity: None,
            status: None,
        });
    }
    Item::Record(Box::new(Record::new(
        source.to_owned(),
        name.to_owned(),
        None,
        None,
        vulns,
        Vec::new(),
        affected,
    )))
}

/// Reads every `*.json` file of a directory of per-package secdb files (the vuln-list layout), recursively; a
/// file that is not secdb is counted as malformed.
pub fn read_dir(path: &Path, sink: &mut Sink<'_>) -> anyhow::Result<()> {
    super::osv::walk_json_files(path, |child| match read_file(child, sink) {
        Ok(()) => true,
        Err(e) => sink(Item::Malformed {
            at: child.display().to_string(),
            reason: format!("{e:#}"),
        }),
    })
}
