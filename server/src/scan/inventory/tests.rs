//! Layers built in memory (tar, tar+gzip, tar+zstd) from the real package databases of
//! `tests/data/vulndata/packages/`, analysed and merged; and hostile layers.

use std::cell::Cell;
use std::io::{Read, Write as _};

use proptest::prelude::*;

use super::*;
use crate::scan::model::PackageKind;

const OCI_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
const OCI_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const OCI_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
const DOCKER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

fn data(path: &str) -> Vec<u8> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vulndata/packages/");
    std::fs::read(format!("{root}{path}")).unwrap_or_default()
}

enum Item {
    File(&'static str, Vec<u8>),
    Exec(&'static str, Vec<u8>),
    Link(&'static str, &'static str),
    Dir(&'static str),
}

fn tar(items: Vec<Item>) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for item in items {
        let mut header = tar::Header::new_gnu();
        let result = match item {
            Item::File(path, bytes) => {
                header.set_size(bytes.len() as u64);
                header.set_mode(0o644);
                builder.append_data(&mut header, path, bytes.as_slice())
            }
            Item::Exec(path, bytes) => {
                header.set_size(bytes.len() as u64);
                header.set_mode(0o755);
                builder.append_data(&mut header, path, bytes.as_slice())
            }
            Item::Link(path, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder.append_link(&mut header, path, target)
            }
            Item::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder.append_data(&mut header, path, std::io::empty())
            }
        };
        assert!(result.is_ok());
    }
    builder.into_inner().unwrap_or_default()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    assert!(encoder.write_all(bytes).is_ok());
    encoder.finish().unwrap_or_default()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).unwrap_or_default()
}

fn analyze(blob: &[u8], media_type: &str, digest: &str) -> LayerInventory {
    analyze_with(blob, media_type, digest, &Limits::default())
}

#[expect(clippy::panic, reason = "a failing test panics")]
fn analyze_with(blob: &[u8], media_type: &str, digest: &str, limits: &Limits) -> LayerInventory {
    match analyze_layer(blob, media_type, digest, limits) {
        Ok(analysis) => analysis.inventory,
        Err(e) => panic!("analysis failed: {e}"),
    }
}

fn debian_base() -> Vec<u8> {
    tar(vec![
        Item::Dir("./etc/"),
        Item::Link("./etc/os-release", "../usr/lib/os-release"),
        Item::File(
            "./usr/lib/os-release",
            data("debian12-derived-12.0/etc/os-release"),
        ),
        Item::File("./etc/debian_version", b"12.0\n".to_vec()),
        Item::File("./etc/passwd", b"root:x:0:0::/root:/bin/sh\n".to_vec()),
        Item::File(
            "./var/lib/dpkg/status",
            data("debian12-derived-12.0/var/lib/dpkg/status"),
        ),
    ])
}

#[test]
fn a_gzip_debian_layer_lists_the_86_packages_with_their_sources() {
    let layer = analyze(&gzip(&debian_base()), OCI_GZIP, "sha256:base");
    assert_eq!(layer.analyzer_version, ANALYZER_VERSION);
    let paths: Vec<&str> = layer.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "etc/debian_version",
            "etc/os-release",
            "usr/lib/os-release",
            "var/lib/dpkg/status"
        ]
    );
    let image = merge(&[("sha256:base".to_owned(), layer)]);
    assert_eq!(image.os.as_ref().map(|o| o.id.as_str()), Some("debian"));
    assert_eq!(image.os.as_ref().map(|o| o.version_id.as_str()), Some("12"));
    assert_eq!(
        image.os.and_then(|o| o.codename).as_deref(),
        Some("bookworm")
    );
    assert_eq!(image.packages.len(), 86);
    assert!(image.packages.iter().all(|p| p.kind == PackageKind::Dpkg
        && p.layer == "sha256:base"
        && p.path == "var/lib/dpkg/status"));
    let openssl: Vec<(&str, &str)> = image
        .packages
        .iter()
        .filter(|p| p.source_name.as_deref() == Some("openssl"))
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert!(openssl.contains(&("libssl3", "3.0.9-1")), "{openssl:?}");
}

#[test]
fn a_later_zstd_layer_rewriting_the_status_file_wins_and_records_its_layer() {
    let base = analyze(&gzip(&debian_base()), DOCKER_GZIP, "sha256:base");
    let upgrade = tar(vec![Item::File(
        "var/lib/dpkg/status",
        data("debian12-host/var/lib/dpkg/status"),
    )]);
    let upgrade = analyze(&zstd(&upgrade), OCI_ZSTD, "sha256:upgrade");
    let image = merge(&[
        ("sha256:base".to_owned(), base),
        ("sha256:upgrade".to_owned(), upgrade),
    ]);
    assert_eq!(image.packages.len(), 86);
    assert!(image.packages.iter().all(|p| p.layer == "sha256:upgrade"));
    let libssl = image.packages.iter().find(|p| p.name == "libssl3");
    assert_eq!(libssl.map(|p| p.version.as_str()), Some("3.0.19-1~deb12u2"));
    // The OS still comes from the base layer.
    assert_eq!(image.os.map(|o| o.id), Some("debian".to_owned()));
}

#[test]
fn whiteouts_and_opaque_directories_remove_lower_files() {
    let base = analyze(&gzip(&debian_base()), OCI_GZIP, "sha256:base");
    let npm = |name: &'static str, version: &str| {
        format!(r#"{{"name":"{name}","version":"{version}","license":"MIT"}}"#).into_bytes()
    };
    let app = tar(vec![
        Item::File(
            "app/node_modules/left-pad/package.json",
            npm("left-pad", "1.3.0"),
        ),
        Item::File(
            "app/node_modules/@babel/core/package.json",
            npm("@babel/core", "7.0.0"),
        ),
        Item::File(
            "app/node_modules/@babel/core/node_modules/semver/package.json",
            npm("semver", "5.7.0"),
        ),
    ]);
    let app = analyze(&app, OCI_TAR, "sha256:app");
    assert_eq!(app.packages().count(), 3);
    // The top layer deletes the dpkg database and the os-release link, and makes node_modules opaque while
    // writing one package of its own into it.
    let top = tar(vec![
        Item::File("var/lib/dpkg/.wh.status", Vec::new()),
        Item::File("etc/.wh.os-release", Vec::new()),
        Item::File("usr/lib/.wh.os-release", Vec::new()),
        Item::File("app/node_modules/.wh..wh..opq", Vec::new()),
        Item::File(
            "app/node_modules/lodash/package.json",
            npm("lodash", "4.17.21"),
        ),
    ]);
    let top = analyze(&top, OCI_TAR, "sha256:top");
    assert_eq!(
        top.whiteouts,
        [
            "var/lib/dpkg/status",
            "etc/os-release",
            "usr/lib/os-release"
        ]
    );
    assert_eq!(top.opaque_dirs, ["app/node_modules"]);
    let layers = [
        ("sha256:base".to_owned(), base),
        ("sha256:app".to_owned(), app),
        ("sha256:top".to_owned(), top),
    ];
    let image = merge(&layers);
    let names: Vec<(&str, &str)> = image
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.layer.as_str()))
        .collect();
    assert_eq!(names, [("lodash", "sha256:top")]);
    // os-release is gone: the OS falls back to etc/debian_version.
    assert_eq!(
        image.os.map(|o| (o.id, o.version_id)),
        Some(("debian".to_owned(), "12".to_owned()))
    );
    // Without the top layer, the nested node_modules give separate packages.
    let image = merge(&layers[..2]);
    let mut npm_names: Vec<&str> = image
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Npm)
        .map(|p| p.name.as_str())
        .collect();
    npm_names.sort_unstable();
    assert_eq!(npm_names, ["@babel/core", "left-pad", "semver"]);
}

#[test]
fn an_alpine_layer_lists_the_15_packages_with_origins() {
    let base = tar(vec![
        Item::File(
            "etc/os-release",
            data("alpine3.18-minirootfs-3.18.9/etc/os-release"),
        ),
        Item::File(
            "etc/alpine-release",
            data("alpine3.18-minirootfs-3.18.9/etc/alpine-release"),
        ),
        Item::File(
            "lib/apk/db/installed",
            data("alpine3.18-minirootfs-3.18.9/lib/apk/db/installed"),
        ),
    ]);
    let base = analyze(&gzip(&base), OCI_GZIP, "sha256:alpine");
    let image = merge(&[("sha256:alpine".to_owned(), base.clone())]);
    assert_eq!(
        image
            .os
            .as_ref()
            .map(|o| (o.id.as_str(), o.version_id.as_str())),
        Some(("alpine", "3.18.9"))
    );
    assert_eq!(image.packages.len(), 15);
    assert!(image.packages.iter().all(|p| p.kind == PackageKind::Apk));
    let musl_utils = image.packages.iter().find(|p| p.name == "musl-utils");
    assert_eq!(
        musl_utils.and_then(|p| p.source_name.as_deref()),
        Some("musl")
    );
    assert_eq!(musl_utils.map(|p| p.version.as_str()), Some("1.2.4-r2"));
    // A later layer replaces the database with the datadog excerpt's (a different set of packages).
    let next = tar(vec![Item::File(
        "lib/apk/db/installed",
        data("alpine3.18-datadog-excerpt/lib/apk/db/installed"),
    )]);
    let next = analyze(&zstd(&next), OCI_ZSTD, "sha256:next");
    let image = merge(&[
        ("sha256:alpine".to_owned(), base),
        ("sha256:next".to_owned(), next),
    ]);
    let libssl = image.packages.iter().find(|p| p.name == "libssl3");
    assert_eq!(
        libssl.map(|p| (p.version.as_str(), p.layer.as_str())),
        Some(("3.1.2-r0", "sha256:next"))
    );
    assert!(image.packages.iter().all(|p| p.layer == "sha256:next"));
}

#[test]
fn language_packages_are_found_anywhere_in_a_layer() {
    let metadata =
        b"Metadata-Version: 2.1\nName: urllib3\nVersion: 1.26.5\nLicense: MIT\n\nbody\n".to_vec();
    let binary = {
        let mut b = vec![0x7f, b'E', b'L', b'F'];
        b.resize(4096, 0);
        b.extend(elf::tests::go_block("go1.20.1", elf::tests::MODINFO));
        b
    };
    let layer = tar(vec![
        Item::File(
            "usr/lib/python3.11/site-packages/urllib3-1.26.5.dist-info/METADATA",
            metadata,
        ),
        Item::File(
            "srv/app/Cargo.lock",
            data("cargo-osv-scanner-deprecated-vuln/Cargo.lock"),
        ),
        Item::Exec("usr/local/bin/app", binary.clone()),
        Item::Exec(
            "usr/local/bin/rust-app",
            auditable::tests::auditable_elf(auditable::tests::AUDIT_JSON),
        ),
        // The same bytes without an execute bit are not looked at.
        Item::File("usr/share/app.bin", binary),
    ]);
    let layer = analyze(&gzip(&layer), OCI_GZIP, "sha256:lang");
    let kinds: Vec<(PackageKind, &str)> = layer
        .packages()
        .map(|p| (p.kind, p.name.as_str()))
        .collect();
    assert!(kinds.contains(&(PackageKind::Python, "urllib3")));
    assert!(kinds.contains(&(PackageKind::Cargo, "net2")));
    assert!(kinds.contains(&(PackageKind::Go, "stdlib")));
    assert!(kinds.contains(&(PackageKind::Go, "github.com/gogo/protobuf")));
    let go_paths: Vec<&str> = layer
        .packages()
        .filter(|p| p.kind == PackageKind::Go)
        .map(|p| p.path.as_str())
        .collect();
    assert!(go_paths.iter().all(|p| *p == "usr/local/bin/app"));
    let audited = layer
        .packages()
        .find(|p| p.name == "smallvec")
        .map(|p| (p.kind, p.path.as_str()));
    assert_eq!(
        audited,
        Some((PackageKind::Cargo, "usr/local/bin/rust-app"))
    );
}

#[test]
fn executables_over_the_auditable_cap_are_only_searched_for_go() {
    let layer = tar(vec![Item::Exec(
        "usr/local/bin/rust-app",
        auditable::tests::auditable_elf(auditable::tests::AUDIT_JSON),
    )]);
    let limits = Limits {
        max_auditable_binary: 64,
        ..Limits::default()
    };
    let layer = analyze_with(&layer, OCI_TAR, "sha256:x", &limits);
    assert_eq!(layer.packages().count(), 0);
}

#[test]
fn a_layer_that_is_not_a_filesystem_is_an_empty_inventory() {
    let layer = analyze(
        b"not a tar",
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
        "sha256:h",
    );
    assert!(layer.files.is_empty());
    assert_eq!(layer.notes.len(), 1);
    let layer = analyze(b"{}", "application/vnd.in-toto+json", "sha256:i");
    assert!(layer.files.is_empty());
}

#[test]
fn the_media_type_is_a_hint_and_the_magic_bytes_decide() {
    let blob = tar(vec![Item::File("etc/alpine-release", b"3.18.9\n".to_vec())]);
    for (bytes, media_type) in [
        (gzip(&blob), OCI_TAR),
        (zstd(&blob), OCI_GZIP),
        (blob.clone(), OCI_ZSTD),
        (
            gzip(&blob),
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        ),
    ] {
        let layer = analyze(&bytes, media_type, "sha256:x");
        assert_eq!(layer.files.len(), 1, "{media_type}");
    }
}

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

#[tokio::test]
async fn a_stored_blob_is_analysed_from_the_blob_store_stream() {
    let dir = tempfile::tempdir();
    assert!(dir.is_ok());
    let Ok(dir) = dir else {
        return;
    };
    let store = crate::storage::BlobStore::local(&dir.path().join("store"));
    assert!(store.is_ok());
    let Ok(store) = store else {
        return;
    };
    // Larger than one memory-mapped window of the local store, so the body arrives in several chunks.
    let mut items = vec![Item::File(
        "etc/os-release",
        data("debian12-derived-12.0/etc/os-release"),
    )];
    items.push(Item::File(
        "opt/filler",
        (0..3_000_000u64).map(|i| (i * 7919 % 251) as u8).collect(),
    ));
    items.push(Item::File(
        "var/lib/dpkg/status",
        data("debian12-derived-12.0/var/lib/dpkg/status"),
    ));
    let blob = gzip(&tar(items));
    let digest = crate::oci::Digest::sha256_of(&blob);
    let staged = dir.path().join("staged");
    assert!(std::fs::write(&staged, &blob).is_ok());
    assert!(store.import(&staged, &digest).await.is_ok());
    let inventory = analyze_blob(&store, &digest, OCI_GZIP, &Limits::default()).await;
    let inventory = inventory.map_err(|e| e.to_string());
    assert_eq!(inventory.as_ref().map(|i| i.packages().count()), Ok(86));
    let digest_text = digest.to_string();
    assert!(
        inventory
            .iter()
            .flat_map(|i| i.packages())
            .all(|p| p.layer == digest_text)
    );
    // A blob that is not there is an error, not an empty inventory.
    let missing = crate::oci::Digest::sha256_of(b"missing");
    assert!(
        analyze_blob(&store, &missing, OCI_GZIP, &Limits::default())
            .await
            .is_err()
    );
}

/// An `rpmdb.sqlite` as rpm ≥ 4.16 writes it (WAL mode, table `Packages(hnum, blob)`), built with sqlx from
/// header blobs.
async fn rpmdb_sqlite(dir: &std::path::Path, blobs: &[Vec<u8>]) -> Vec<u8> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    use sqlx::{ConnectOptions as _, Connection as _};
    let path = dir.join("rpmdb.sqlite");
    let conn = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .connect()
        .await;
    assert!(conn.is_ok());
    let Ok(mut conn) = conn else {
        return Vec::new();
    };
    let create =
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)";
    assert!(sqlx::query(create).execute(&mut conn).await.is_ok());
    for blob in blobs {
        let insert = sqlx::query("INSERT INTO Packages (blob) VALUES ($1)").bind(blob.as_slice());
        assert!(insert.execute(&mut conn).await.is_ok());
    }
    assert!(conn.close().await.is_ok());
    std::fs::read(&path).unwrap_or_default()
}

#[tokio::test]
async fn an_rpmdb_sqlite_in_a_layer_lists_its_packages() {
    let dir = tempfile::tempdir();
    assert!(dir.is_ok());
    let Ok(dir) = dir else {
        return;
    };
    let gpg = rpm::tests::header_blob(
        &[(1000, "gpg-pubkey"), (1001, "fd431d51"), (1002, "4ae0493b")],
        None,
    );
    let zlib = rpm::tests::header_blob(
        &[
            (1000, "zlib"),
            (1001, "1.2.11"),
            (1002, "40.el9"),
            (1022, "x86_64"),
            (1044, "zlib-1.2.11-40.el9.src.rpm"),
        ],
        None,
    );
    let db = rpmdb_sqlite(
        dir.path(),
        &[rpm::tests::openssl_libs(), gpg, b"junk".to_vec(), zlib],
    )
    .await;
    assert!(db.starts_with(b"SQLite format 3\0"));
    let blob = gzip(&tar(vec![
        Item::File(
            "etc/redhat-release",
            b"Rocky Linux release 9.2 (Blue Onyx)\n".to_vec(),
        ),
        Item::File("usr/lib/sysimage/rpm/rpmdb.sqlite", db),
    ]));
    let analysis = analyze_layer(
        blob.as_slice(),
        OCI_GZIP,
        "sha256:rocky",
        &Limits::default(),
    );
    let analysis = analysis.map_err(|e| e.to_string());
    assert_eq!(analysis.as_ref().map(LayerAnalysis::needs_finish), Ok(true));
    let Ok(analysis) = analysis else {
        return;
    };
    let layer = analysis.finish().await.map_err(|e| e.to_string());
    let packages: Vec<(String, String, Option<String>)> = layer
        .iter()
        .flat_map(|l| l.packages())
        .map(|p| (p.name.clone(), p.version.clone(), p.source_name.clone()))
        .collect();
    assert_eq!(
        packages,
        [
            (
                "openssl-libs".into(),
                "1:3.0.7-24.el9".into(),
                Some("openssl".into())
            ),
            ("zlib".into(), "1.2.11-40.el9".into(), None),
        ]
    );
    assert!(layer.is_ok());
    let Ok(layer) = layer else {
        return;
    };
    let image = merge(&[("sha256:rocky".to_owned(), layer)]);
    assert_eq!(
        image.os.map(|o| (o.id, o.version_id)),
        Some(("rocky".into(), "9.2".into()))
    );
    assert!(
        image
            .packages
            .iter()
            .all(|p| p.kind == PackageKind::Rpm && p.layer == "sha256:rocky")
    );
}

#[tokio::test]
async fn an_rpmdb_that_is_not_sqlite_is_skipped_with_a_note() {
    let blob = tar(vec![Item::File(
        "var/lib/rpm/rpmdb.sqlite",
        b"not a database".to_vec(),
    )]);
    let analysis = analyze_layer(blob.as_slice(), OCI_TAR, "sha256:x", &Limits::default());
    assert!(analysis.is_ok());
    let Ok(analysis) = analysis else {
        return;
    };
    let layer = analysis.finish().await.map_err(|e| e.to_string());
    assert!(layer.is_ok(), "{layer:?}");
    let Ok(layer) = layer else {
        return;
    };
    assert!(matches!(
        layer.files.first().map(|f| &f.content),
        Some(FileContent::Skipped { .. })
    ));
    assert!(
        layer
            .notes
            .iter()
            .any(|n| n.starts_with("var/lib/rpm/rpmdb.sqlite not read")),
        "{:?}",
        layer.notes
    );
}

/// A real `rpmdb.sqlite` written by rpm itself: a tiny package built with `rpmbuild` and recorded with
/// `rpm -i --justdb` into a fresh database. Skipped (with a message) where `rpm`/`rpmbuild` are not installed
/// (`apt-get install rpm` on Debian).
#[tokio::test]
async fn a_real_rpmdb_written_by_rpm_is_read() {
    use std::process::Command;
    let have = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have("rpm") || !have("rpmbuild") {
        eprintln!("skipped: rpm and rpmbuild are not installed");
        return;
    }
    let dir = tempfile::tempdir();
    assert!(dir.is_ok());
    let Ok(dir) = dir else {
        return;
    };
    let spec = "Name: berth-tiny\nVersion: 1.2.3\nRelease: 4.el9\nEpoch: 2\nSummary: tiny\nLicense: MIT\n\
        BuildArch: noarch\n%description\ntiny\n%files\n";
    let spec_path = dir.path().join("tiny.spec");
    assert!(std::fs::write(&spec_path, spec).is_ok());
    let top = dir.path().join("top");
    let built = Command::new("rpmbuild")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .arg("-bb")
        .arg(&spec_path)
        .output();
    assert!(
        built.as_ref().is_ok_and(|o| o.status.success()),
        "{built:?}"
    );
    let package = top.join("RPMS/noarch/berth-tiny-1.2.3-4.el9.noarch.rpm");
    let db = dir.path().join("db");
    let dbpath = db.display().to_string();
    let init = Command::new("rpm")
        .args(["--dbpath", &dbpath, "--initdb"])
        .output();
    assert!(init.as_ref().is_ok_and(|o| o.status.success()), "{init:?}");
    let install = Command::new("rpm")
        .args([
            "--dbpath",
            &dbpath,
            "-i",
            "--justdb",
            "--nodeps",
            "--ignorearch",
            "--ignoreos",
        ])
        .arg(&package)
        .output();
    assert!(
        install.as_ref().is_ok_and(|o| o.status.success()),
        "{install:?}"
    );
    let rpmdb = std::fs::read(db.join("rpmdb.sqlite")).unwrap_or_default();
    let blob = tar(vec![Item::File("var/lib/rpm/rpmdb.sqlite", rpmdb)]);
    let analysis = analyze_layer(blob.as_slice(), OCI_TAR, "sha256:rpm", &Limits::default());
    assert!(analysis.is_ok());
    let Ok(analysis) = analysis else {
        return;
    };
    let layer = analysis.finish().await.map_err(|e| e.to_string());
    let packages: Vec<String> = layer
        .iter()
        .flat_map(|l| l.packages())
        .map(|p| {
            format!(
                "{} {} {:?} {:?} {:?}",
                p.name, p.version, p.arch, p.license, p.source_name
            )
        })
        .collect();
    assert_eq!(
        packages,
        [r#"berth-tiny 2:1.2.3-4.el9 Some("noarch") Some("MIT") None"#],
        "{layer:?}"
    );
}
