//! What every importer produces: one [`Record`] per unit of the source (an OSV record, an Alpine secdb package of
//! one branch, a Debian tracker (package, CVE) entry), already converted to the model's rows. The writer stores
//! records, and skips a record whose [`Record::content_sha256`] is the one already stored.

use std::collections::BTreeSet;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::scan::model::{Advisory, AffectedEntry, Severity};

/// How a record's advisory rows meet rows of the same id written by other sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum VulnWrite {
    /// The record *is* the advisory (OSV): its row replaces what is stored.
    Replace,
    /// The record only names the id (Alpine secdb) or carries a short summary (Debian tracker): it inserts the row
    /// when none exists and fills an empty summary, never overwriting an OSV record's details.
    Fill,
}

/// One advisory row (`vuln`).
#[derive(Debug, Clone, Serialize)]
pub struct VulnRow {
    /// Everything but `aliases`, which live in their own rows.
    pub advisory: Advisory,
    pub withdrawn: Option<String>,
    pub cvss4_vector: Option<String>,
    pub cvss4_score: Option<f64>,
    pub write: VulnWrite,
}

/// One alias row: `alias` is another id of `vuln_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AliasRow {
    pub alias: String,
    pub vuln_id: String,
    /// `alias`, `upstream` or `related`.
    pub kind: &'static str,
}

/// One unit of a source, converted.
#[derive(Debug, Clone)]
pub struct Record {
    /// `osv:Debian`, `secdb:v3.18/main`, `debian-tracker`.
    pub source: String,
    /// Unique within the source: the OSV id, the apk origin, `package/CVE`.
    pub record_id: String,
    /// The advisory this record is about, when it is about one (OSV, tracker); kept while the record exists.
    pub vuln_id: Option<String>,
    pub modified: Option<String>,
    pub vulns: Vec<VulnRow>,
    pub aliases: Vec<AliasRow>,
    pub affected: Vec<AffectedEntry>,
    /// SHA-256 of the converted rows: an unchanged record is skipped.
    pub content_sha256: String,
    /// The sources whose full dump holds this record: its own, and for an OSV record `osv:<ecosystem>` of
    /// every package it affects (a GHSA advisory on an npm and a PyPI package is in both ecosystems' dumps).
    pub dumped_in: BTreeSet<String>,
}

impl Record {
    /// Builds a record and fingerprints its rows.
    pub fn new(
        source: String,
        record_id: String,
        vuln_id: Option<String>,
        modified: Option<String>,
        vulns: Vec<VulnRow>,
        aliases: Vec<AliasRow>,
        affected: Vec<AffectedEntry>,
    ) -> Record {
        let mut hasher = Sha256::new();
        // Serialising plain data structs cannot fail; an empty fingerprint would only force a rewrite.
        for part in [
            serde_json::to_vec(&(&source, &record_id, &vuln_id, &modified)),
            serde_json::to_vec(&vulns),
            serde_json::to_vec(&aliases),
            serde_json::to_vec(&affected),
        ] {
            hasher.update(part.unwrap_or_default());
            hasher.update([0u8]);
        }
        let dumped_in = BTreeSet::from([source.clone()]);
        Record {
            dumped_in,
            source,
            record_id,
            vuln_id,
            modified,
            vulns,
            aliases,
            affected,
            content_sha256: hex::encode(hasher.finalize()),
        }
    }

    /// The record, also held by the full dumps of `sources`.
    pub fn also_dumped_in(mut self, sources: BTreeSet<String>) -> Record {
        self.dumped_in.extend(sources);
        self
    }
}

/// A severity word as the sources write it (GHSA `MODERATE`, Debian `medium**`, `unimportant`).
pub fn severity_word(word: &str) -> Option<Severity> {
    let word = word.trim().trim_end_matches('*').to_ascii_lowercase();
    match word.as_str() {
        "critical" => Some(Severity::Critical),
        "high" | "important" => Some(Severity::High),
        "moderate" | "medium" => Some(Severity::Medium),
        "low" => Some(Severity::Low),
        "negligible" | "unimportant" => Some(Severity::Negligible),
        _ => None,
    }
}

/// A CVSS v3.x vector's base score and severity; `None` when the vector does not parse.
pub fn cvss3(vector: &str) -> Option<(f64, Severity)> {
    let parsed: cvss::v3::Vector = vector.trim().parse().ok()?;
    let score = parsed.score();
    Some((score.value(), from_cvss(score.severity())))
}

/// A CVSS v4.0 vector's score and severity; `None` when the vector does not parse.
pub fn cvss4(vector: &str) -> Option<(f64, Severity)> {
    let parsed: cvss::v4::Vector = vector.trim().parse().ok()?;
    Some((parsed.score().value(), from_cvss(parsed.score().severity())))
}

fn from_cvss(severity: cvss::Severity) -> Severity {
    match severity {
        cvss::Severity::None => Severity::None,
        cvss::Severity::Low => Severity::Low,
        cvss::Severity::Medium => Severity::Medium,
        cvss::Severity::High => Severity::High,
        cvss::Severity::Critical => Severity::Critical,
    }
}

/// Splits an OSV ecosystem into its base and release: `Debian:12` → (`Debian`, `12`), `Alpine:v3.18` →
/// (`Alpine`, `v3.18`), `Ubuntu:22.04:LTS` → (`Ubuntu`, `22.04:LTS`), `PyPI` → (`PyPI`, ``).
pub fn split_ecosystem(ecosystem: &str) -> (&str, &str) {
    ecosystem.split_once(':').unwrap_or((ecosystem, ""))
}

/// A package name as the matcher queries it: PyPI names PEP 503-normalised (lowercase, runs of `-`, `_`, `.`
/// become one `-`), every other ecosystem's as written.
pub fn normalise_package(eco_base: &str, name: &str) -> String {
    if eco_base != "PyPI" {
        return name.to_owned();
    }
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator {
                out.push('-');
            }
            in_separator = true;
        } else {
            out.extend(c.to_lowercase());
            in_separator = false;
        }
    }
    out
}

/// Orders two version strings by runs of digits (numerically) and of other characters (bytewise). Used only to
/// keep the lowest of several fixed versions one source lists for the same id (Alpine secdb keys); the matcher
/// applies each ecosystem's real order.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn runs(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ra, rb) = (runs(a), runs(b));
    for (x, y) in ra.iter().zip(rb.iter()) {
        let ord = match (x.0, y.0) {
            (true, true) => {
                let (tx, ty) = (x.1.trim_start_matches('0'), y.1.trim_start_matches('0'));
                tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty))
            }
            _ => x.1.cmp(y.1),
        };
        if ord.is_ne() {
            return ord;
        }
    }
    ra.len().cmp(&rb.len())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn ecosystems_split_into_base_and_release() {
        assert_eq!(split_ecosystem("Debian:12"), ("Debian", "12"));
        assert_eq!(split_ecosystem("Alpine:v3.18"), ("Alpine", "v3.18"));
        assert_eq!(split_ecosystem("Ubuntu:22.04:LTS"), ("Ubuntu", "22.04:LTS"));
        assert_eq!(split_ecosystem("PyPI"), ("PyPI", ""));
    }

    #[test]
    fn pypi_names_are_pep503_normalised_and_others_kept() {
        assert_eq!(
            normalise_package("PyPI", "Foo.Bar__baz-_Qux"),
            "foo-bar-baz-qux"
        );
        assert_eq!(normalise_package("npm", "@Scope/Pkg_x"), "@Scope/Pkg_x");
    }

    #[test]
    fn severities_from_words_and_vectors() {
        assert_eq!(severity_word("MODERATE"), Some(Severity::Medium));
        assert_eq!(severity_word("high**"), Some(Severity::High));
        assert_eq!(severity_word("unimportant"), Some(Severity::Negligible));
        assert_eq!(severity_word("not yet assigned"), None);
        let (score, sev) = cvss3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        assert_eq!((score, sev), (9.8, Severity::Critical));
        assert!(cvss3("CVSS:3.1/garbage").is_none());
        let (_, sev4) =
            cvss4("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").unwrap();
        assert_eq!(sev4, Severity::Critical);
    }

    #[test]
    fn natural_order_keeps_the_lowest_fix() {
        assert_eq!(natural_cmp("8.3.0-r0", "8.10.0-r0"), Ordering::Less);
        assert_eq!(natural_cmp("1.36.1-r6", "1.36.1-r7"), Ordering::Less);
        assert_eq!(natural_cmp("1.2", "1.2"), Ordering::Equal);
        assert_eq!(natural_cmp("", "1"), Ordering::Less);
    }
}
