//! One layer, read as a stream: the compression is found from the media type and the first bytes, the tar
//! entries are walked once, and only the files of interest are read, each under its cap.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};

use tar::EntryType;

use super::paths::{self, BadName, EntryName, Interest};
use super::{
    FileContent, InventoryError, LayerFile, LayerInventory, Limits, Origin, apk, cargo, dpkg, elf,
    npm, os_release, python, rpm,
};

/// A layer's analysis before its rpm databases are read: those are copied to temporary files during the
/// synchronous pass and read with SQLite by [`LayerAnalysis::finish`].
#[derive(Debug)]
pub struct LayerAnalysis {
    pub inventory: LayerInventory,
    rpmdbs: Vec<(String, tempfile::NamedTempFile)>,
    layer: String,
    max_packages: usize,
}

impl LayerAnalysis {
    /// Reads the rpm databases copied out of the layer (if any) and returns the layer's inventory.
    pub async fn finish(self) -> Result<LayerInventory, InventoryError> {
        let LayerAnalysis {
            mut inventory,
            rpmdbs,
            layer,
            max_packages,
        } = self;
        for (path, file) in rpmdbs {
            let origin = Origin {
                path: &path,
                layer: &layer,
            };
            let content = match rpm::read_rpmdb(file.path(), &origin, max_packages).await {
                Ok((packages, truncated)) => {
                    if truncated {
                        inventory.note(format!(
                            "{path}: more than {max_packages} packages, the rest dropped"
                        ));
                    }
                    FileContent::Packages(packages)
                }
                Err(reason) => {
                    inventory.note(format!("{path} not read: {reason}"));
                    FileContent::Skipped { reason }
                }
            };
            if let Some(entry) = inventory.files.iter_mut().find(|f| f.path == path) {
                entry.content = content;
            }
        }
        Ok(inventory)
    }

    /// True when the analysis still has rpm databases to read.
    pub fn needs_finish(&self) -> bool {
        !self.rpmdbs.is_empty()
    }
}

/// How a layer's bytes are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The OCI and Docker layer media types that hold a filesystem changeset, plain, `+gzip` or `+zstd` (the
/// compression they name is only a hint: the magic bytes decide). False for everything else: a Helm chart, an
/// in-toto statement, a config, an encrypted layer (`+encrypted`).
fn is_filesystem_layer(media_type: &str) -> bool {
    let media_type = media_type.trim().to_ascii_lowercase();
    let (base, suffix) = media_type
        .split_once('+')
        .unwrap_or((media_type.as_str(), ""));
    let oci = matches!(
        base,
        "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar"
    ) && matches!(suffix, "" | "gzip" | "zstd");
    let docker = suffix.is_empty()
        && matches!(
            base,
            "application/vnd.docker.image.rootfs.diff.tar"
                | "application/vnd.docker.image.rootfs.diff.tar.gzip"
                | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
        );
    oci || docker
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const ZSTD_WINDOW_LOG_MAX: u32 = 27;

fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// A reader that fails once more than `remaining` bytes went through it, and says so in `exceeded`.
struct Capped<'c, R> {
    inner: R,
    remaining: u64,
    exceeded: &'c Cell<bool>,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let n64 = n as u64;
        if n64 > self.remaining {
            self.exceeded.set(true);
            return Err(std::io::Error::other("layer size limit exceeded"));
        }
        self.remaining -= n64;
        Ok(n)
    }
}

/// Reads one layer blob and records what matters to the inventory (see the module documentation of
/// [`super`]). `reader` is the blob as stored (compressed); `layer_digest` is recorded on every package.
pub fn analyze_layer(
    reader: impl Read,
    media_type: &str,
    layer_digest: &str,
    limits: &Limits,
) -> Result<LayerAnalysis, InventoryError> {
    let mut analysis = LayerAnalysis {
        inventory: LayerInventory::new(),
        rpmdbs: Vec::new(),
        layer: layer_digest.to_owned(),
        max_packages: limits.max_packages,
    };
    if !is_filesystem_layer(media_type) {
        analysis.inventory.note(format!(
            "not a filesystem layer ({media_type}): nothing read"
        ));
        return Ok(analysis);
    }
    let exceeded = Cell::new(false);
    let result = walk(reader, &exceeded, &mut analysis, limits);
    match result {
        Err(InventoryError::Read(_)) if exceeded.get() => {
            Err(InventoryError::TooLarge(limits.max_layer_bytes))
        }
        Err(e) => Err(e),
        Ok(()) => Ok(analysis),
    }
}

fn walk(
    reader: impl Read,
    exceeded: &Cell<bool>,
    analysis: &mut LayerAnalysis,
    limits: &Limits,
) -> Result<(), InventoryError> {
    let mut buffered = BufReader::with_capacity(64 * 1024, reader);
    let compression = sniff(buffered.fill_buf()?);
    let decompressed: Box<dyn Read + '_> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => {
            let mut decoder = zstd::stream::read::Decoder::with_buffer(buffered)?;
            // A frame may ask for a window of up to 2^31 bytes; zstd's default decoding limit, 2^27 (128 MiB),
            // made explicit: a frame that wants more is an error, not an allocation.
            decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
            Box::new(decoder)
        }
    };
    let capped = Capped {
        inner: decompressed,
        remaining: limits.max_layer_bytes,
        exceeded,
    };
    let mut archive = tar::Archive::new(capped);
    let mut walker = Walker {
        files: BTreeMap::new(),
        analysis,
        limits,
        packages_left: limits.max_packages,
        bad_names: 0,
        whiteouts_dropped: false,
    };
    let mut count: u64 = 0;
    for entry in archive.entries()? {
        let mut entry = entry?;
        count += 1;
        if count > limits.max_entries {
            return Err(InventoryError::TooManyEntries(limits.max_entries));
        }
        walker.entry(&mut entry)?;
    }
    walker.finish();
    // Read to the end of the stream, so a truncated or corrupt compressed stream (its checksum is at the end)
    // is an error rather than a silently partial layer.
    std::io::copy(&mut archive.into_inner(), &mut std::io::sink())?;
    Ok(())
}

struct Walker<'a> {
    files: BTreeMap<String, FileContent>,
    analysis: &'a mut LayerAnalysis,
    limits: &'a Limits,
    packages_left: usize,
    bad_names: u64,
    whiteouts_dropped: bool,
}

impl Walker<'_> {
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), InventoryError> {
        let path = match paths::normalise(&entry.path_bytes(), self.limits.max_path_len) {
            Ok(path) => path,
            Err(bad) => {
                self.bad_name(&entry.path_bytes(), bad);
                return Ok(());
            }
        };
        match paths::entry_name(path) {
            EntryName::Ignored => Ok(()),
            EntryName::Whiteout(path) => {
                self.whiteout(path, false);
                Ok(())
            }
            EntryName::Opaque(dir) => {
                self.whiteout(dir, true);
                Ok(())
            }
            EntryName::Path(path) => self.file(path, entry),
        }
    }

    fn bad_name(&mut self, raw: &[u8], bad: BadName) {
        self.bad_names += 1;
        if self.bad_names <= 8 {
            let shown: String = String::from_utf8_lossy(raw).chars().take(200).collect();
            let why = match bad {
                BadName::NotUtf8 => "not UTF-8",
                BadName::TooLong => "too long",
                BadName::ParentDir => "has a `..` component",
            };
            self.analysis
                .inventory
                .note(format!("entry {shown:?} skipped: its name {why}"));
        }
    }

    fn whiteout(&mut self, path: String, opaque: bool) {
        let inventory = &mut self.analysis.inventory;
        if inventory.whiteouts.len() + inventory.opaque_dirs.len() >= self.limits.max_whiteouts {
            if !self.whiteouts_dropped {
                self.whiteouts_dropped = true;
                inventory.note(format!(
                    "more than {} whiteouts: the rest are ignored, lower layers may show deleted files",
                    self.limits.max_whiteouts
                ));
            }
            return;
        }
        if opaque {
            inventory.opaque_dirs.push(path);
        } else {
            inventory.whiteouts.push(path);
        }
    }

    fn file<R: Read>(
        &mut self,
        path: String,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<(), InventoryError> {
        let header = entry.header();
        let kind = header.entry_type();
        let interest = paths::interest(&path);
        if kind.is_symlink() || kind.is_hard_link() {
            if interest.is_some() {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).chars().take(4096).collect())
                    .unwrap_or_default();
                self.files.insert(path, FileContent::Link { target });
            }
            return Ok(());
        }
        let regular = matches!(
            kind,
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse
        );
        if !regular {
            return Ok(());
        }
        let size = entry.size();
        match interest {
            Some(interest) => self.known_file(path, interest, size, entry),
            None => {
                let executable = header.mode().is_ok_and(|m| m & 0o111 != 0);
                if executable
                    && !kind.is_gnu_sparse()
                    && size >= 64
                    && size <= self.limits.max_binary
                {
                    self.executable(path, size, entry)
                } else {
                    Ok(())
                }
            }
        }
    }

    fn origin<'p>(&'p self, path: &'p str) -> Origin<'p> {
        Origin {
            path,
            layer: &self.analysis.layer,
        }
    }

    fn known_file<R: Read>(
        &mut self,
        path: String,
        interest: Interest,
        size: u64,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<(), InventoryError> {
        if interest == Interest::Rpmdb {
            return self.rpmdb(path, size, entry);
        }
        let cap = if interest == Interest::DpkgStatus {
            self.limits.max_dpkg_status
        } else {
            self.limits.max_metadata_file
        };
        let Some(bytes) = read_capped(entry, size, cap)? else {
            let reason = format!("{size} bytes, over the {cap}-byte cap for this file");
            self.analysis
                .inventory
                .note(format!("{path} not read: {reason}"));
            self.files.insert(path, FileContent::Skipped { reason });
            return Ok(());
        };
        let text = String::from_utf8_lossy(&bytes);
        let origin = self.origin(&path);
        let max = self.packages_left;
        let (packages, truncated) = match interest {
            Interest::OsRelease
            | Interest::AlpineRelease
            | Interest::DebianVersion
            | Interest::RedhatRelease => {
                let content = match os_release::parse(interest, &text) {
                    Some(os) => FileContent::Os(os),
                    None => FileContent::Skipped {
                        reason: "names no operating system".to_owned(),
                    },
                };
                self.files.insert(path, content);
                return Ok(());
            }
            Interest::DpkgStatus | Interest::DpkgStatusD => dpkg::parse(&text, &origin, max),
            Interest::Apk => apk::parse(&text, &origin, max),
            Interest::Python => python::parse(&text, &origin, max),
            Interest::Npm => npm::parse(&text, &origin, max),
            Interest::CargoLock => cargo::parse_lock(&text, &origin, max),
            Interest::Rpmdb => (Vec::new(), false),
        };
        self.record(path, packages, truncated);
        Ok(())
    }

    fn record(
        &mut self,
        path: String,
        packages: Vec<crate::scan::model::Package>,
        truncated: bool,
    ) {
        // A rewrite of the same path in the same layer gives back the earlier file's budget.
        if let Some(FileContent::Packages(old)) = self.files.get(&path) {
            self.packages_left += old.len();
        }
        self.packages_left = self.packages_left.saturating_sub(packages.len());
        if truncated {
            self.analysis.inventory.note(format!(
                "{path}: the layer's package cap ({}) was reached, the rest dropped",
                self.limits.max_packages
            ));
        }
        self.files.insert(path, FileContent::Packages(packages));
    }

    fn rpmdb<R: Read>(
        &mut self,
        path: String,
        size: u64,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<(), InventoryError> {
        let cap = self.limits.max_rpmdb;
        if size > cap {
            let reason = format!("{size} bytes, over the {cap}-byte cap for rpm databases");
            self.analysis
                .inventory
                .note(format!("{path} not read: {reason}"));
            self.files.insert(path, FileContent::Skipped { reason });
            return Ok(());
        }
        let mut file = tempfile::NamedTempFile::new()?;
        let copied = std::io::copy(&mut entry.take(cap), file.as_file_mut())?;
        if copied != size {
            return Err(InventoryError::Read(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("{path}: {copied} of {size} bytes"),
            )));
        }
        self.analysis.rpmdbs.retain(|(p, _)| *p != path);
        self.analysis.rpmdbs.push((path.clone(), file));
        self.files.insert(path, FileContent::Packages(Vec::new()));
        Ok(())
    }

    fn executable<R: Read>(
        &mut self,
        path: String,
        size: u64,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<(), InventoryError> {
        let origin = self.origin(&path);
        let found = elf::analyze(entry, size, &origin, self.limits, self.packages_left)?;
        for note in found.notes {
            self.analysis.inventory.note(format!("{path}: {note}"));
        }
        if found.packages.is_empty() {
            return Ok(());
        }
        self.record(path, found.packages, found.truncated);
        Ok(())
    }

    fn finish(self) {
        self.analysis.inventory.files = self
            .files
            .into_iter()
            .map(|(path, content)| LayerFile { path, content })
            .collect();
    }
}

/// Reads a whole entry when it is at most `cap` bytes, never more than `cap + 1` bytes of it; `None` when it is
/// larger (the declared size is checked first, so a huge entry is not read at all).
fn read_capped<R: Read>(entry: &mut R, size: u64, cap: u64) -> std::io::Result<Option<Vec<u8>>> {
    if size > cap {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    entry.take(cap + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= cap).then_some(bytes))
}
