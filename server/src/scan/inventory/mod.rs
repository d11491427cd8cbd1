//! Image inventory: what is installed in an image, read from its layers as streams (design `scanning.md` §5.2).
//!
//! The unit of work is the layer. [`analyze_layer`] reads one layer blob (plain, gzip or zstd tar) entry by entry
//! with `tar`'s streaming reader, never unpacking it and never buffering it: only the files that matter (OS
//! identity, package databases, language metadata, and the first bytes of executables) are read, each under a cap
//! ([`Limits`]). Its result, a [`LayerInventory`], is what the caller stores once per layer digest; [`merge`] then
//! stacks the layers of an image in order (a rewritten file replaces the lower one, whiteouts and opaque
//! directories delete lower files) into the image's [`Inventory`].
//!
//! Rule: everything an image controls is bounded (entry count, bytes, file sizes, package count, path length);
//! hostile input gives an [`InventoryError`] or a note in [`LayerInventory::notes`], never a panic.

mod apk;
mod auditable;
mod cargo;
mod dpkg;
mod elf;
mod layer;
mod merge;
mod npm;
mod os_release;
mod paths;
mod python;
mod rpm;
mod stream;

use serde::{Deserialize, Serialize};

use super::model::{OsIdentity, Package, PackageKind};

pub use layer::{LayerAnalysis, analyze_layer};
pub use merge::{layer_os, merge};
pub use stream::analyze_blob;

/// The version of the analysis. Bump it whenever what a layer's analysis records changes, so stored
/// [`LayerInventory`]s from an older analyzer are recomputed instead of reused.
pub const ANALYZER_VERSION: u32 = 1;

/// The bounds of one layer's analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Tar entries examined per layer; more is an error ([`InventoryError::TooManyEntries`]).
    pub max_entries: u64,
    /// Uncompressed bytes read per layer; more is an error ([`InventoryError::TooLarge`]).
    pub max_layer_bytes: u64,
    /// The largest `var/lib/dpkg/status` read.
    pub max_dpkg_status: u64,
    /// The largest of every other metadata file read (os-release, apk `installed`, `METADATA`, `package.json`,
    /// `Cargo.lock`, a `status.d` file).
    pub max_metadata_file: u64,
    /// The largest executable whose content is looked at (Go build information, cargo-auditable data).
    pub max_binary: u64,
    /// The largest executable kept in memory (one at a time) to read its cargo-auditable section, which only
    /// the section table at the end of the file locates; larger ones are only searched for Go build information.
    pub max_auditable_binary: u64,
    /// The largest Go build information block read.
    pub max_buildinfo: u64,
    /// The largest `rpmdb.sqlite` copied to a temporary file.
    pub max_rpmdb: u64,
    /// Packages recorded per layer; the rest are dropped with a note.
    pub max_packages: usize,
    /// Whiteouts and opaque directories recorded per layer; the rest are dropped with a note.
    pub max_whiteouts: usize,
    /// The longest path considered; longer paths are skipped.
    pub max_path_len: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        const MIB: u64 = 1024 * 1024;
        Limits {
            max_entries: 2_000_000,
            max_layer_bytes: 64 * 1024 * MIB,
            max_dpkg_status: 32 * MIB,
            max_metadata_file: MIB,
            max_binary: 256 * MIB,
            max_auditable_binary: 32 * MIB,
            max_buildinfo: MIB,
            max_rpmdb: 256 * MIB,
            max_packages: 200_000,
            max_whiteouts: 200_000,
            max_path_len: 4096,
        }
    }
}

/// Why a layer could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The stream could not be read or decompressed, or the tar is malformed or truncated.
    #[error("reading the layer failed: {0}")]
    Read(#[from] std::io::Error),
    /// More tar entries than [`Limits::max_entries`].
    #[error("the layer has more than {0} entries")]
    TooManyEntries(u64),
    /// More uncompressed bytes than [`Limits::max_layer_bytes`].
    #[error("the layer is larger than {0} bytes uncompressed")]
    TooLarge(u64),
    /// The blocking analysis task failed.
    #[error("the layer analysis task failed: {0}")]
    Task(String),
}

/// What one layer holds that matters to the inventory: the files it wrote at paths the analyzers read, and what it
/// deleted from lower layers. Stored per layer digest (with [`ANALYZER_VERSION`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LayerInventory {
    /// [`ANALYZER_VERSION`] when it was made.
    pub analyzer_version: u32,
    /// Files written by this layer at paths of interest, sorted by path (one per path: the last entry wins).
    pub files: Vec<LayerFile>,
    /// Paths this layer deletes from lower layers (`.wh.<name>`), with everything under them.
    pub whiteouts: Vec<String>,
    /// Directories this layer makes opaque (`.wh..wh..opq`): every lower file under them is gone.
    pub opaque_dirs: Vec<String>,
    /// What was skipped or cut, and why (for operators and the scan log).
    pub notes: Vec<String>,
}

/// One file of interest written by a layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerFile {
    /// Normalised: relative to the image root, no `./`, no leading `/`, no `..`.
    pub path: String,
    pub content: FileContent,
}

/// What the analysis made of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileContent {
    /// An OS identity file (`etc/os-release`, `etc/alpine-release`, …), parsed.
    Os(OsIdentity),
    /// A package database or a package's metadata: the packages it lists (possibly none).
    Packages(Vec<Package>),
    /// A symbolic or hard link: it hides the lower layers' file at this path, but is not read.
    Link { target: String },
    /// The file is there but was not read (over a cap, unreadable): it still hides the lower layers' file.
    Skipped { reason: String },
}

/// The most notes one layer keeps; later ones are counted in the last note.
const MAX_NOTES: usize = 64;

impl LayerInventory {
    fn new() -> LayerInventory {
        LayerInventory {
            analyzer_version: ANALYZER_VERSION,
            ..LayerInventory::default()
        }
    }

    fn note(&mut self, note: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(note);
        } else if self.notes.len() == MAX_NOTES {
            self.notes.push("more notes were dropped".to_owned());
        }
    }

    /// The packages this layer's files list.
    pub fn packages(&self) -> impl Iterator<Item = &Package> {
        self.files.iter().flat_map(|f| match &f.content {
            FileContent::Packages(p) => p.as_slice(),
            _ => &[],
        })
    }
}

/// Where a parsed file came from: its path and the layer that wrote it.
#[derive(Debug, Clone, Copy)]
struct Origin<'a> {
    path: &'a str,
    layer: &'a str,
}

impl Origin<'_> {
    /// A package read from this file, with no source, architecture or licence yet.
    fn package(&self, kind: PackageKind, name: &str, version: &str) -> Package {
        Package {
            kind,
            name: name.to_owned(),
            version: version.to_owned(),
            source_name: None,
            source_version: None,
            arch: None,
            license: None,
            path: self.path.to_owned(),
            layer: self.layer.to_owned(),
        }
    }

    /// Packages of one kind from `(name, version)` pairs, those with an empty name or version dropped, at most
    /// `max`; the flag is true when more were listed.
    fn packages<'n>(
        &self,
        kind: PackageKind,
        pairs: impl IntoIterator<Item = (&'n str, &'n str)>,
        max: usize,
    ) -> (Vec<Package>, bool) {
        let mut packages = Vec::new();
        for (name, version) in pairs {
            if name.is_empty() || version.is_empty() {
                continue;
            }
            if packages.len() >= max {
                return (packages, true);
            }
            packages.push(self.package(kind, name, version));
        }
        (packages, false)
    }
}

/// A file of the real package databases in `tests/data/vulndata/packages/` (empty when missing, so the
/// test's assertions fail).
#[cfg(test)]
fn test_data(path: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vulndata/packages/");
    std::fs::read_to_string(format!("{root}{path}")).unwrap_or_default()
}

#[cfg(test)]
mod tests;
