//! Version order per ecosystem: one comparator per version scheme behind [`Scheme::compare`], and OSV range
//! evaluation on top of it ([`affected`]).
//!
//! Each scheme is the ecosystem's own order, from a library made for it where one exists:
//! - [`Scheme::Dpkg`] (Debian, Ubuntu): `debversion`, checked against `dpkg --compare-versions`;
//! - [`Scheme::Apk`] (Alpine, Wolfi, Chainguard): our own ([`apk`]), no crate exists;
//! - [`Scheme::Rpm`] (AlmaLinux, Rocky Linux, …): `rpm-version` (epoch:version-release, rpmvercmp);
//! - [`Scheme::Pep440`] (PyPI): `pep440_rs`;
//! - [`Scheme::Semver`] (crates.io, and every OSV `SEMVER` range): `semver`, by precedence (build metadata
//!   ignored);
//! - [`Scheme::Npm`]: `nodejs-semver`, the Rust port of npm's own `node-semver`, so a version reads as npm reads
//!   it (a leading `v` or `=` and surrounding blanks are tolerated, as in `package.json`) and orders as npm
//!   orders it;
//! - [`Scheme::Go`]: `semver` after Go's spelling is undone (`v1.2.3`, the toolchain's `go1.21.5`, `go1.22rc1`);
//!   pseudo-versions are semver pre-releases already, and `+incompatible` is build metadata.
//!
//! Every comparison is bounded: a version longer than [`MAX_VERSION_LEN`] bytes is not compared (`None`), and a
//! string that does not parse in the scheme gives `None`, never a panic.

mod apk;
mod lang;
mod range;

#[cfg(test)]
mod tests;

use std::cmp::Ordering;

pub use range::{Verdict, affected};

/// Longer version strings are refused: no ecosystem writes them, and a hostile advisory or package database
/// must not make a comparison expensive.
pub const MAX_VERSION_LEN: usize = 256;

/// A version ordering scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Dpkg,
    Apk,
    Rpm,
    Pep440,
    Semver,
    Npm,
    Go,
}

impl Scheme {
    /// The scheme of an OSV ecosystem string (`Debian:12`, `Ubuntu:22.04:LTS`, `Alpine:v3.18`, `PyPI`, …), or
    /// `None` for an ecosystem Berth does not order (Maven, Packagist, OSS-Fuzz, …).
    pub fn for_ecosystem(ecosystem: &str) -> Option<Scheme> {
        let base = ecosystem.split(':').next().unwrap_or(ecosystem);
        Some(match base {
            "Debian" | "Ubuntu" => Scheme::Dpkg,
            "Alpine" | "Wolfi" | "Chainguard" => Scheme::Apk,
            "AlmaLinux" | "Rocky Linux" | "Red Hat" | "openSUSE" | "SUSE" | "Mageia"
            | "openEuler" | "Photon OS" => Scheme::Rpm,
            "PyPI" => Scheme::Pep440,
            "crates.io" => Scheme::Semver,
            "npm" => Scheme::Npm,
            "Go" => Scheme::Go,
            _ => return None,
        })
    }

    /// The scheme an OSV `SEMVER` range of this ecosystem is read in: semver itself, in the spelling of the
    /// ecosystem when it is a semver one (Go's `v`, npm's loose forms).
    pub fn for_semver_range(self) -> Scheme {
        match self {
            Scheme::Go | Scheme::Npm | Scheme::Semver => self,
            _ => Scheme::Semver,
        }
    }

    /// Orders `a` and `b` in this scheme, or `None` when either does not parse in it (or is too long).
    pub fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        if a.len() > MAX_VERSION_LEN || b.len() > MAX_VERSION_LEN {
            return None;
        }
        match self {
            Scheme::Dpkg => {
                let a: debversion::Version = a.parse().ok()?;
                let b: debversion::Version = b.parse().ok()?;
                Some(a.cmp(&b))
            }
            Scheme::Apk => apk::compare(a, b),
            Scheme::Rpm => lang::rpm(a, b),
            Scheme::Pep440 => lang::pep440(a, b),
            Scheme::Semver => lang::semver(a, b),
            Scheme::Npm => lang::npm(a, b),
            Scheme::Go => lang::go(a, b),
        }
    }

    /// Whether `version` parses in this scheme.
    pub fn parses(self, version: &str) -> bool {
        self.compare(version, version).is_some()
    }
}
