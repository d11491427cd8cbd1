//! Hostile layers: huge and sparse entries, caps, `..` paths, tar bombs, truncated streams, random bytes.

use std::cell::Cell;
use std::io::Read;

use proptest::prelude::*;

use super::*;

/// A GNU sparse entry that claims 1 GiB but stores nothing.
fn sparse_entry(path: &str, size: u64) -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    assert!(header.set_path(path).is_ok());
    header.set_entry_type(tar::EntryType::GNUSparse);
    header.set_mode(0o755);
    header.set_size(0);
    if let Some(gnu) = header.as_gnu_mut() {
        gnu.set_real_size(size);
        gnu.sparse[0].set_offset(size);
        gnu.sparse[0].set_length(0);
    }
    header.set_cksum();
    let mut out = header.as_bytes().to_vec();
    out.extend([0u8; 1024]);
    out
}

#[test]
fn a_huge_sparse_status_file_is_not_read_and_hides_the_lower_one() {
    let base = analyze(&debian_base(), OCI_TAR, "sha256:base");
    let blob = sparse_entry("var/lib/dpkg/status", 1 << 30);
    let top = analyze(&gzip(&blob), OCI_GZIP, "sha256:top");
    assert!(matches!(
        top.files.first().map(|f| &f.content),
        Some(FileContent::Skipped { .. })
    ));
    assert!(
        top.notes
            .iter()
            .any(|n| n.contains("var/lib/dpkg/status not read")),
        "{:?}",
        top.notes
    );
    let image = merge(&[
        ("sha256:base".to_owned(), base),
        ("sha256:top".to_owned(), top),
    ]);
    assert!(image.packages.is_empty());
    // A sparse executable is never scanned either.
    let blob = sparse_entry("usr/bin/huge", 1 << 30);
    assert!(analyze(&blob, OCI_TAR, "sha256:s").files.is_empty());
}

#[test]
fn a_status_file_over_the_cap_is_skipped_with_a_note() {
    let limits = Limits {
        max_dpkg_status: 1000,
        ..Limits::default()
    };
    let layer = analyze_with(&debian_base(), OCI_TAR, "sha256:base", &limits);
    let status = layer.files.iter().find(|f| f.path == "var/lib/dpkg/status");
    assert!(
        matches!(status.map(|f| &f.content), Some(FileContent::Skipped { reason }) if reason.contains("cap"))
    );
    assert!(
        layer
            .notes
            .iter()
            .any(|n| n.starts_with("var/lib/dpkg/status not read"))
    );
    assert_eq!(layer.packages().count(), 0);
}

#[test]
fn the_package_cap_holds_across_files() {
    let limits = Limits {
        max_packages: 50,
        ..Limits::default()
    };
    let layer = analyze_with(&debian_base(), OCI_TAR, "sha256:base", &limits);
    assert_eq!(layer.packages().count(), 50);
    assert!(layer.notes.iter().any(|n| n.contains("package cap")));
}

/// A raw tar header with any name, `..` included (the tar builder refuses those).
fn raw_entry(name: &[u8], body: &[u8]) -> Vec<u8> {
    let mut header = tar::Header::new_old();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let mut out = header.as_bytes().to_vec();
    out.extend(body);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

#[test]
fn a_path_with_parent_components_is_refused() {
    let mut blob = raw_entry(b"../../etc/os-release", b"ID=evil\n");
    blob.extend(raw_entry(b"etc/../.wh.etc", b""));
    blob.extend(raw_entry(b"./etc/alpine-release", b"3.18.9\n"));
    blob.extend([0u8; 1024]);
    let layer = analyze(&blob, OCI_TAR, "sha256:x");
    let paths: Vec<&str> = layer.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["etc/alpine-release"]);
    assert!(layer.whiteouts.is_empty());
    assert_eq!(layer.notes.iter().filter(|n| n.contains("`..`")).count(), 2);
}

/// An endless-looking tar of empty files, generated on the fly (1M entries would be 512 MB), counting what
/// was read from it.
struct TarBomb<'c> {
    entries: u64,
    next: u64,
    block: Vec<u8>,
    at: usize,
    read: &'c Cell<u64>,
}

impl Read for TarBomb<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.block.len() {
            if self.next > self.entries {
                return Ok(0);
            }
            self.block = if self.next == self.entries {
                vec![0u8; 1024]
            } else {
                let mut header = tar::Header::new_gnu();
                let _ = header.set_path(format!("f/{}", self.next));
                header.set_size(0);
                header.set_cksum();
                header.as_bytes().to_vec()
            };
            self.next += 1;
            self.at = 0;
        }
        let n = buf.len().min(self.block.len() - self.at);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

#[test]
fn a_tar_bomb_of_a_million_entries_stops_at_the_entry_cap() {
    let read = Cell::new(0);
    let bomb = TarBomb {
        entries: 1_000_000,
        next: 0,
        block: Vec::new(),
        at: 0,
        read: &read,
    };
    let limits = Limits {
        max_entries: 10_000,
        ..Limits::default()
    };
    let result = analyze_layer(bomb, OCI_TAR, "sha256:bomb", &limits);
    assert!(
        matches!(result, Err(InventoryError::TooManyEntries(10_000))),
        "{result:?}"
    );
    // Read: the entries up to the cap, and at most one buffer more.
    assert!(read.get() <= 10_001 * 512 + 64 * 1024, "{}", read.get());
}

#[test]
fn a_layer_larger_than_the_byte_cap_is_refused() {
    let limits = Limits {
        max_layer_bytes: 4096,
        ..Limits::default()
    };
    let blob = tar(vec![Item::File("big", vec![7u8; 10_000])]);
    let result = analyze_layer(gzip(&blob).as_slice(), OCI_GZIP, "sha256:x", &limits);
    assert!(
        matches!(result, Err(InventoryError::TooLarge(4096))),
        "{result:?}"
    );
}

#[test]
fn a_truncated_gzip_or_zstd_stream_is_an_error() {
    let blob = debian_base();
    for compressed in [gzip(&blob), zstd(&blob)] {
        for cut in [compressed.len() / 2, compressed.len() - 4] {
            let result =
                analyze_layer(&compressed[..cut], OCI_GZIP, "sha256:x", &Limits::default());
            assert!(
                matches!(result, Err(InventoryError::Read(_))),
                "cut at {cut}: {result:?}"
            );
        }
    }
    // A tar cut in the middle of the status file.
    let result = analyze_layer(
        &blob[..blob.len() / 2],
        OCI_TAR,
        "sha256:x",
        &Limits::default(),
    );
    assert!(matches!(result, Err(InventoryError::Read(_))), "{result:?}");
}

#[test]
fn a_layer_inventory_round_trips_through_json() {
    let layer = analyze(&debian_base(), OCI_TAR, "sha256:base");
    let json = serde_json::to_vec(&layer).unwrap_or_default();
    let back: Result<LayerInventory, _> = serde_json::from_slice(&json);
    assert_eq!(back.ok(), Some(layer));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        for media_type in [OCI_TAR, OCI_GZIP, OCI_ZSTD] {
            let _ = analyze_layer(bytes.as_slice(), media_type, "sha256:p", &Limits::default());
        }
        let mut tarred = gzip(&bytes);
        tarred.truncate(tarred.len().saturating_sub(bytes.len() % 7));
        let _ = analyze_layer(tarred.as_slice(), OCI_GZIP, "sha256:p", &Limits::default());
    }

    #[test]
    fn random_metadata_files_never_panic(text in "(?s).{0,2000}") {
        let origin = Origin { path: "p", layer: "l" };
        let _ = dpkg::parse(&text, &origin, 100);
        let _ = apk::parse(&text, &origin, 100);
        let _ = python::parse(&text, &origin, 100);
        let _ = npm::parse(&text, &origin, 100);
        let _ = cargo::parse_lock(&text, &origin, 100);
        for kind in [paths::Interest::OsRelease, paths::Interest::DebianVersion, paths::Interest::RedhatRelease] {
            let _ = os_release::parse(kind, &text);
        }
        let _ = paths::interest(&text);
        let _ = paths::normalise(text.as_bytes(), 4096).map(paths::entry_name);
    }

    #[test]
    fn random_rpm_headers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = rpm::parse_header(&bytes);
        // A valid header with random bytes written over part of it.
        let mut header = rpm::tests::openssl_libs();
        for (i, b) in bytes.iter().enumerate().take(header.len()) {
            if i % 3 == 0 {
                header[i] = *b;
            }
        }
        let _ = rpm::parse_header(&header);
    }

    #[test]
    fn random_elf_sections_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut binary = auditable::tests::auditable_elf(auditable::tests::AUDIT_JSON);
        let at = 64 + bytes.len() % 64;
        for (i, b) in bytes.iter().enumerate() {
            let len = binary.len().max(1);
            if let Some(slot) = binary.get_mut((at + i * 7) % len) {
                *slot = *b;
            }
        }
        let origin = Origin { path: "p", layer: "l" };
        let _ = auditable::read(&binary, &origin, &Limits::default(), 100);
        let _ = auditable::read(&bytes, &origin, &Limits::default(), 100);
    }

    #[test]
    fn random_go_blocks_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut block = b"\xff Go buildinf:\x08\x02".to_vec();
        block.extend(bytes);
        let _ = elf::go_buildinfo(&block);
    }

    #[test]
    fn random_tar_entries_in_a_valid_archive_never_panic(
        name in proptest::collection::vec(any::<u8>(), 1..100),
        body in proptest::collection::vec(any::<u8>(), 0..2000),
    ) {
        let mut blob = raw_entry(&name, &body);
        blob.extend([0u8; 1024]);
        let _ = analyze_layer(blob.as_slice(), OCI_TAR, "sha256:p", &Limits::default());
    }
}
