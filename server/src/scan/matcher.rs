//! The matcher: an [`Inventory`] and the vulnerability database's answers in, [`Finding`]s out. Pure and
//! synchronous, in two steps so the database work stays with the caller:
//! 1. [`queries`] names, for each package, the ecosystem and the name its advisories use (design §5.2 "Keys"
//!    and "Ecosystem mapping"): Debian and Ubuntu by the dpkg **source** package, Alpine by the apk origin,
//!    PyPI by the PEP 503 name, npm as is, Go by module path, crates.io by crate name. Distro packages of an
//!    OS the table does not know are skipped ([`os_ecosystem`] tells the caller the OS is unsupported).
//! 2. [`findings`] evaluates each answer with the ecosystem's version order ([`version::affected`]; dpkg
//!    compares the source version) and collapses the answers that name one vulnerability (the alias group: a
//!    DSA and its CVE, `ALPINE-CVE-2025-26519` and `CVE-2025-26519`) into one finding per (vulnerability,
//!    package, installed version), whose id is the CVE.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::model::{
    Advisory, AffectedEntry, Finding, Inventory, OsIdentity, Package, PackageKind, PackageQuery,
    Severity,
};
use super::version::{self, Scheme, Verdict};

/// At most this many links are kept on one finding (the union of its advisories' references).
const MAX_LINKS: usize = 32;

/// The OSV ecosystem of an image's OS (`debian` 12 → `Debian:12`, `ubuntu` 22.04 → `Ubuntu:22.04:LTS`,
/// `alpine` 3.18.4 → `Alpine:v3.18`, …), or `None` when Berth has no advisories for it.
pub fn os_ecosystem(os: &OsIdentity) -> Option<String> {
    let version = os.version_id.trim();
    let numbers: Vec<&str> = version
        .split(|c: char| !c.is_ascii_digit())
        .take(2)
        .collect();
    let major = numbers.first().copied().filter(|n| !n.is_empty());
    match os.id.as_str() {
        "debian" => major.map(|m| format!("Debian:{m}")),
        "ubuntu" => {
            let (year, month) = (major?, numbers.get(1).copied().filter(|n| !n.is_empty())?);
            let year_number: u32 = year.parse().ok()?;
            // Long-term support: every April release of an even year (14.04, …, 24.04).
            let lts = month == "04" && year_number.is_multiple_of(2);
            Some(format!(
                "Ubuntu:{year}.{month}{}",
                if lts { ":LTS" } else { "" }
            ))
        }
        "alpine" => {
            let minor = numbers.get(1).copied().filter(|n| !n.is_empty())?;
            Some(format!("Alpine:v{}.{minor}", major?))
        }
        "wolfi" => Some("Wolfi".to_owned()),
        "chainguard" => Some("Chainguard".to_owned()),
        "almalinux" => major.map(|m| format!("AlmaLinux:{m}")),
        "rocky" => major.map(|m| format!("Rocky Linux:{m}")),
        _ => None,
    }
}

/// Whether packages of `kind` are the package manager of the OS `id` (a stray dpkg database in an Alpine image
/// is not matched against Alpine's advisories).
fn kind_fits_os(kind: PackageKind, os_id: &str) -> bool {
    match kind {
        PackageKind::Dpkg => matches!(os_id, "debian" | "ubuntu"),
        PackageKind::Apk => matches!(os_id, "alpine" | "wolfi" | "chainguard"),
        PackageKind::Rpm => matches!(os_id, "almalinux" | "rocky"),
        _ => false,
    }
}

/// PEP 503 normalisation: lower case, every run of `-`, `_` and `.` as one `-`.
pub fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            in_separator = true;
        } else {
            if in_separator && !out.is_empty() {
                out.push('-');
            }
            in_separator = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The question to ask the database for one package, or `None` when it cannot be matched (a distro package of
/// an unsupported or missing OS).
pub fn query_for(os: Option<&OsIdentity>, package: &Package) -> Option<PackageQuery> {
    let (ecosystem, name) = match package.kind {
        PackageKind::Dpkg | PackageKind::Apk | PackageKind::Rpm => {
            let os = os?;
            if !kind_fits_os(package.kind, &os.id) {
                return None;
            }
            let name = package.source_name.as_deref().unwrap_or(&package.name);
            (os_ecosystem(os)?, name.to_owned())
        }
        PackageKind::Python => ("PyPI".to_owned(), pep503(&package.name)),
        PackageKind::Npm => ("npm".to_owned(), package.name.clone()),
        PackageKind::Cargo => ("crates.io".to_owned(), package.name.clone()),
        PackageKind::Go => ("Go".to_owned(), package.name.clone()),
    };
    (!name.is_empty()).then_some(PackageQuery {
        ecosystem,
        package: name,
    })
}

/// The distinct questions for an inventory, sorted.
pub fn queries(inv: &Inventory) -> Vec<PackageQuery> {
    let set: BTreeSet<PackageQuery> = inv
        .packages
        .iter()
        .filter_map(|p| query_for(inv.os.as_ref(), p))
        .collect();
    set.into_iter().collect()
}

/// The version the advisories of this package speak about: dpkg's source version when it differs.
fn matched_version(package: &Package) -> &str {
    match package.kind {
        PackageKind::Dpkg => package
            .source_version
            .as_deref()
            .unwrap_or(&package.version),
        _ => &package.version,
    }
}

fn is_cve(id: &str) -> bool {
    id.starts_with("CVE-")
}

/// One entry that says the package is affected, before alias collapsing.
struct Hit<'a> {
    entry: &'a AffectedEntry,
    /// The fix this entry offers (none when the vendor's status says it stays unfixed).
    fix: Option<String>,
    /// The ids this hit contributes to its finding: its own, and its aliases unless it was split per CVE.
    ids: Vec<&'a str>,
}

/// The hits of one installed package (name and version), by vulnerability identity.
struct PackageHits<'a> {
    package: &'a Package,
    query: PackageQuery,
    by_identity: BTreeMap<String, Vec<Hit<'a>>>,
}

/// The identity keys of one entry: the CVE(s) it is about, else its lowest id among its aliases. An advisory
/// naming several CVEs (a DSA fixing three) is about each of them.
fn identities<'a>(
    entry: &'a AffectedEntry,
    advisory: Option<&'a Advisory>,
) -> Vec<(String, Vec<&'a str>)> {
    let own = entry.vuln_id.as_str();
    let aliases: Vec<&str> = advisory
        .map(|a| {
            a.aliases
                .iter()
                .map(String::as_str)
                .filter(|a| *a != own)
                .collect()
        })
        .unwrap_or_default();
    if is_cve(own) {
        let mut ids = vec![own];
        ids.extend(aliases);
        return vec![(own.to_owned(), ids)];
    }
    let cves: BTreeSet<&str> = aliases.iter().copied().filter(|a| is_cve(a)).collect();
    match cves.len() {
        0 => {
            let key = aliases.iter().copied().chain([own]).min().unwrap_or(own);
            let mut ids = vec![own];
            ids.extend(aliases);
            vec![(key.to_owned(), ids)]
        }
        1 => {
            let mut ids = vec![own];
            ids.extend(aliases);
            cves.into_iter()
                .map(|cve| (cve.to_owned(), ids.clone()))
                .collect()
        }
        _ => cves
            .into_iter()
            .map(|cve| (cve.to_owned(), vec![own]))
            .collect(),
    }
}

/// The findings of an inventory, given the database's answers for [`queries`] and the advisories they name
/// (by id, including the aliases' advisories the database knows).
pub fn findings(
    inv: &Inventory,
    answers: &HashMap<PackageQuery, Vec<AffectedEntry>>,
    advisories: &HashMap<String, Advisory>,
) -> Vec<Finding> {
    // (kind, name, version) → identity key → hits, so a package listed twice gives one finding.
    let mut grouped: BTreeMap<(PackageKind, &str, &str), PackageHits<'_>> = BTreeMap::new();
    for package in &inv.packages {
        let Some(query) = query_for(inv.os.as_ref(), package) else {
            continue;
        };
        let Some(entries) = answers.get(&query) else {
            continue;
        };
        let installed = matched_version(package);
        let slot = grouped
            .entry((
                package.kind,
                package.name.as_str(),
                package.version.as_str(),
            ))
            .or_insert_with(|| PackageHits {
                package,
                query: query.clone(),
                by_identity: BTreeMap::new(),
            });
        for entry in entries {
            let Some(scheme) = Scheme::for_ecosystem(&entry.ecosystem) else {
                continue;
            };
            let fix = match version::affected(scheme, installed, &entry.ranges, &entry.versions) {
                Verdict::NotAffected => continue,
                Verdict::Unparsable => {
                    tracing::debug!(
                        package = %package.name, version = installed, ecosystem = %entry.ecosystem,
                        "installed version does not parse in its ecosystem's scheme; not matched"
                    );
                    continue;
                }
                Verdict::Affected { fix } => fix,
            };
            let fix = if entry.status.is_some() { None } else { fix };
            for (key, ids) in identities(entry, advisories.get(&entry.vuln_id)) {
                let hits = slot.by_identity.entry(key).or_default();
                // The same entry twice (one package listed twice) adds nothing.
                if hits.iter().any(|h| std::ptr::eq(h.entry, entry)) {
                    continue;
                }
                hits.push(Hit {
                    entry,
                    fix: fix.clone(),
                    ids,
                });
            }
        }
    }
    let mut out = Vec::new();
    for slot in grouped.into_values() {
        for (id, hits) in slot.by_identity {
            out.push(finding(slot.package, &slot.query, id, &hits, advisories));
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.package.cmp(&b.package))
            .then_with(|| a.version.cmp(&b.version))
    });
    out
}

/// One finding from the hits of one identity on one package.
fn finding(
    package: &Package,
    query: &PackageQuery,
    id: String,
    hits: &[Hit<'_>],
    advisories: &HashMap<String, Advisory>,
) -> Finding {
    let aliases: Vec<String> = hits
        .iter()
        .flat_map(|h| h.ids.iter().copied())
        .filter(|a| *a != id)
        .collect::<BTreeSet<&str>>()
        .into_iter()
        .map(str::to_owned)
        .collect();
    // The lowest fix among the hits (each is above the installed version already).
    let mut fix_version: Option<&str> = None;
    for hit in hits {
        let (Some(candidate), Some(scheme)) = (
            hit.fix.as_deref(),
            Scheme::for_ecosystem(&hit.entry.ecosystem),
        ) else {
            continue;
        };
        if fix_version.is_none_or(|current| {
            scheme
                .compare(candidate, current)
                .is_some_and(|o| o.is_lt())
        }) {
            fix_version = Some(candidate);
        }
    }
    let status = if fix_version.is_none() {
        hits.iter().find_map(|h| h.entry.status.clone())
    } else {
        None
    };
    // The advisories behind the finding: the primary id's first, then each hit's own, then their aliases'.
    let mut sources: Vec<&Advisory> = Vec::new();
    let ids = std::iter::once(id.as_str())
        .chain(hits.iter().map(|h| h.entry.vuln_id.as_str()))
        .chain(aliases.iter().map(String::as_str));
    for advisory in ids.filter_map(|i| advisories.get(i)) {
        if !sources.iter().any(|s| std::ptr::eq(*s, advisory)) {
            sources.push(advisory);
        }
    }
    let severity = severity(hits, &id, &aliases, advisories);
    let source_package = (query.package != package.name).then(|| query.package.clone());
    let mut links: Vec<String> = Vec::new();
    for link in sources.iter().flat_map(|a| a.links.iter()) {
        if links.len() >= MAX_LINKS {
            break;
        }
        if !links.contains(link) {
            links.push(link.clone());
        }
    }
    let cwe_ids: Vec<String> = sources
        .iter()
        .flat_map(|a| a.cwe_ids.iter().cloned())
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect();
    let cvss = sources
        .iter()
        .find(|a| a.cvss3_vector.is_some() || a.cvss3_score.is_some());
    Finding {
        id,
        aliases,
        package: package.name.clone(),
        version: package.version.clone(),
        kind: package.kind,
        source_package,
        ecosystem: query.ecosystem.clone(),
        fix_version: fix_version.map(str::to_owned),
        severity,
        status,
        description: sources
            .iter()
            .find_map(|a| a.details.clone().or_else(|| a.summary.clone())),
        links,
        cvss3_vector: cvss.and_then(|a| a.cvss3_vector.clone()),
        cvss3_score: cvss.and_then(|a| a.cvss3_score),
        cwe_ids,
        layer: package.layer.clone(),
    }
}

/// The entry's override (the highest among the hits), else the advisories' own (the highest among the hits'
/// advisories and the primary id's), else the highest among the aliases' advisories, else Unknown.
fn severity(
    hits: &[Hit<'_>],
    id: &str,
    aliases: &[String],
    advisories: &HashMap<String, Advisory>,
) -> Severity {
    let known = |s: &Severity| *s != Severity::Unknown;
    if let Some(s) = hits
        .iter()
        .filter_map(|h| h.entry.severity)
        .filter(known)
        .max()
    {
        return s;
    }
    let own = hits
        .iter()
        .map(|h| h.entry.vuln_id.as_str())
        .filter_map(|v| advisories.get(v))
        .map(|a| a.severity)
        .filter(known)
        .max();
    if let Some(s) = own {
        return s;
    }
    std::iter::once(id)
        .chain(aliases.iter().map(String::as_str))
        .filter_map(|v| advisories.get(v))
        .map(|a| a.severity)
        .filter(known)
        .max()
        .unwrap_or(Severity::Unknown)
}

#[cfg(test)]
mod tests;
