//! The library-backed comparators: rpm, PEP 440, semver, npm and Go. Each parses both sides first and gives
//! `None` when either does not parse.

use std::cmp::Ordering;
use std::str::FromStr;

/// RPM's `[epoch:]version[-release]` order (rpmvercmp). `rpm-version` accepts any text, so the grammar is
/// checked here: printable ASCII without blanks, a numeric epoch when there is one.
pub(super) fn rpm(a: &str, b: &str) -> Option<Ordering> {
    fn valid(evr: &str) -> bool {
        let version = match evr.split_once(':') {
            Some((epoch, rest)) => {
                if epoch.is_empty() || !epoch.bytes().all(|c| c.is_ascii_digit()) {
                    return false;
                }
                rest
            }
            None => evr,
        };
        !version.is_empty()
            && !version.starts_with('-')
            && version.bytes().all(|c| c.is_ascii_graphic() && c != b':')
    }
    (valid(a) && valid(b)).then(|| rpm_version::rpm_evr_compare(a, b))
}

/// PEP 440 order (PyPI).
pub(super) fn pep440(a: &str, b: &str) -> Option<Ordering> {
    let a = pep440_rs::Version::from_str(a).ok()?;
    let b = pep440_rs::Version::from_str(b).ok()?;
    Some(a.cmp(&b))
}

/// Semantic Versioning 2.0 precedence (build metadata ignored), strictly parsed.
pub(super) fn semver(a: &str, b: &str) -> Option<Ordering> {
    let a = semver::Version::parse(a).ok()?;
    let b = semver::Version::parse(b).ok()?;
    Some(a.cmp_precedence(&b))
}

/// npm's order, as `node-semver` parses and orders.
pub(super) fn npm(a: &str, b: &str) -> Option<Ordering> {
    let a = nodejs_semver::Version::parse(a).ok()?;
    let b = nodejs_semver::Version::parse(b).ok()?;
    Some(a.cmp(&b))
}

/// Go's order: module versions (`v1.2.3`, pseudo-versions, `+incompatible`) and the toolchain's versions
/// (`go1.21.5`, `go1.21`, `go1.22rc1`) as the Go vulnerability database writes them (`1.21.0-rc.1`).
pub(super) fn go(a: &str, b: &str) -> Option<Ordering> {
    Some(go_version(a)?.cmp_precedence(&go_version(b)?))
}

fn go_version(text: &str) -> Option<semver::Version> {
    let text = text
        .strip_prefix("go")
        .or_else(|| text.strip_prefix('v'))
        .unwrap_or(text);
    if let Ok(version) = semver::Version::parse(text) {
        return Some(version);
    }
    // A toolchain version: one to three numbers, then an optional `rcN` / `betaN` without separators.
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (numbers, pre) = text.split_at(split);
    let mut parts = numbers.split('.');
    let mut release = [0u64; 3];
    for slot in &mut release {
        if let Some(part) = parts.next() {
            if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            *slot = part.parse().ok()?;
        }
    }
    if parts.next().is_some() || numbers.is_empty() {
        return None;
    }
    let mut version = semver::Version::new(release[0], release[1], release[2]);
    if !pre.is_empty() {
        let digits = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
        let (word, number) = pre.split_at(digits);
        if !matches!(word, "rc" | "beta" | "alpha")
            || number.is_empty()
            || !number.bytes().all(|c| c.is_ascii_digit())
        {
            return None;
        }
        version.pre = semver::Prerelease::new(&format!("{word}.{number}")).ok()?;
    }
    Some(version)
}
