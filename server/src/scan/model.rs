//! The scanner's shared vocabulary: what an inventory lists, what the vulnerability database answers for a
//! package, and what a scan finds. [`super::inventory`] produces [`Inventory`], [`super::vulndb`] answers
//! [`PackageQuery`]s with [`AffectedEntry`]s and [`Advisory`]s, and [`super::matcher`] turns both into
//! [`Finding`]s.

use serde::{Deserialize, Serialize};

/// Harbor's severities, lowest first (Harbor's `vuln.Severity`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub enum Severity {
    None,
    #[default]
    Unknown,
    Negligible,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 7] = [
        Severity::None,
        Severity::Unknown,
        Severity::Negligible,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// Harbor's spelling (`Critical`, `High`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "None",
            Severity::Unknown => "Unknown",
            Severity::Negligible => "Negligible",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }

    /// Reads Harbor's spelling, case-insensitively.
    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text))
    }
}

/// What an installed package was recorded by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageKind {
    /// `var/lib/dpkg/status` or `status.d/*` (Debian, Ubuntu, distroless).
    Dpkg,
    /// `lib/apk/db/installed` (Alpine, Wolfi, Chainguard).
    Apk,
    /// `rpmdb.sqlite` (RHEL family, Fedora, SUSE).
    Rpm,
    /// A Python distribution's `*.dist-info/METADATA` or `*.egg-info/PKG-INFO`.
    Python,
    /// `node_modules/**/package.json`.
    Npm,
    /// A `Cargo.lock` or a cargo-auditable binary.
    Cargo,
    /// A Go binary's module build information (modules, and the toolchain as `stdlib`).
    Go,
}

/// The operating system an image says it is (`etc/os-release` and friends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OsIdentity {
    /// os-release `ID`, lowercase (`debian`, `ubuntu`, `alpine`, `rocky`, …).
    pub id: String,
    /// os-release `VERSION_ID` (`12`, `22.04`, `3.18.9`); may be empty (Debian sid).
    pub version_id: String,
    /// os-release `VERSION_CODENAME` when present (`bookworm`).
    pub codename: Option<String>,
    /// os-release `PRETTY_NAME` when present, for display.
    pub pretty_name: Option<String>,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub kind: PackageKind,
    /// The name as installed (the dpkg binary package, apk `P:`, the npm package name, the Go module path).
    pub name: String,
    /// The installed version, as the package manager writes it (dpkg with its epoch, apk with `-rN`).
    pub version: String,
    /// The source package the advisories name, when it differs from `name`: dpkg `Source:`, apk origin `o:`,
    /// rpm `SOURCERPM`'s name.
    pub source_name: Option<String>,
    /// The source package's version when it differs from `version` (dpkg `Source: name (version)`).
    pub source_version: Option<String>,
    pub arch: Option<String>,
    /// SPDX-ish licence text when the database records one (apk `L:`, rpm LICENSE, Python `License:`).
    pub license: Option<String>,
    /// The file it was read from, relative to the image root (`var/lib/dpkg/status`).
    pub path: String,
    /// The digest of the layer that last wrote that file.
    pub layer: String,
}

/// What is installed in one image (its layers merged, whiteouts applied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Inventory {
    pub os: Option<OsIdentity>,
    pub packages: Vec<Package>,
}

/// A question to the vulnerability database: the advisories for one package of one ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PackageQuery {
    /// OSV's ecosystem string: `Debian:12`, `Alpine:v3.18`, `Ubuntu:22.04:LTS`, `PyPI`, `npm`, `Go`,
    /// `crates.io`.
    pub ecosystem: String,
    /// The package name as that ecosystem's advisories write it (a Debian source package, an apk origin, a
    /// PEP 503-normalised PyPI name, a Go module path).
    pub package: String,
}

/// One event of an OSV range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeEvent {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

/// How a range's versions are ordered (OSV `ranges[].type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeKind {
    /// The ecosystem's own version order.
    Ecosystem,
    /// Semantic Versioning 2.0.
    Semver,
    /// Git commits: never matched against installed packages.
    Git,
}

/// One range of affected versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedRange {
    pub kind: RangeKind,
    pub events: Vec<RangeEvent>,
}

/// What one advisory says about one package of one ecosystem (an OSV `affected[]` entry, or its equivalent
/// converted from Alpine secdb or the Debian tracker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedEntry {
    /// The advisory's id (`CVE-2023-5363`, `DSA-5532-1`, `GHSA-…`, `ALPINE-CVE-…`).
    pub vuln_id: String,
    pub ecosystem: String,
    pub package: String,
    pub ranges: Vec<AffectedRange>,
    /// Explicitly listed affected versions (OSV `versions`), possibly empty.
    pub versions: Vec<String>,
    /// A severity for this package that overrides the advisory's (Debian urgency, GHSA's database severity).
    pub severity: Option<Severity>,
    /// The vendor's status when the advisory says the package stays affected without a fix in this release
    /// (Debian tracker `open`, `no-dsa`, `ignored`, `postponed`, `end-of-life`); `None` otherwise.
    pub status: Option<String>,
}

/// An advisory's details (one per id), shared by all its [`AffectedEntry`]s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Advisory {
    pub id: String,
    /// Every other id it is known by (OSV `aliases`, `upstream`, and a DSA's `related` CVEs), without `id`.
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub details: Option<String>,
    /// The advisory's own severity (CVSS-derived or the source's), `Unknown` when it has none.
    pub severity: Severity,
    pub cvss3_vector: Option<String>,
    pub cvss3_score: Option<f64>,
    pub cwe_ids: Vec<String>,
    pub links: Vec<String>,
    /// RFC 3339, when known.
    pub published: Option<String>,
    pub modified: Option<String>,
}

/// One vulnerability of one installed package: one per (vulnerability with its aliases, package, version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The primary id: a CVE id when the advisory or one of its aliases is one, else the advisory's id.
    pub id: String,
    /// The other ids of the same vulnerability (sorted, without `id`).
    pub aliases: Vec<String>,
    /// The installed package's name, version and kind.
    pub package: String,
    pub version: String,
    pub kind: PackageKind,
    /// The source package the advisory named, when it differs from `package`.
    pub source_package: Option<String>,
    pub ecosystem: String,
    /// The first version that fixes it in this ecosystem or release; `None` when no fix is available.
    pub fix_version: Option<String>,
    pub severity: Severity,
    /// The vendor's status for a finding without a fix (`open`, `no-dsa`, `ignored`, `postponed`).
    pub status: Option<String>,
    pub description: Option<String>,
    pub links: Vec<String>,
    pub cvss3_vector: Option<String>,
    pub cvss3_score: Option<f64>,
    pub cwe_ids: Vec<String>,
    /// The layer that installed the package.
    pub layer: String,
}
