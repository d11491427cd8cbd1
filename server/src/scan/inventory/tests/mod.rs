//! Layers built in memory (tar, tar+gzip, tar+zstd) from the real package databases of
//! `tests/data/vulndata/packages/`, analysed and merged; hostile layers in [`hostile`], rpm databases in
//! [`rpmdb`].

mod hostile;
mod rpmdb;

use std::io::Write as _;

use super::*;
use crate::scan::model::PackageKind;

pub(super) const OCI_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub(super) const OCI_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub(super) const OCI_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
const DOCKER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

pub(super) fn data(path: &str) -> Vec<u8> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vulndata/packages/");
    std::fs::read(format!("{root}{path}")).unwrap_or_default()
}

pub(super) enum Item {
    File(&'static str, Vec<u8>),
    Exec(&'static str, Vec<u8>),
    Link(&'static str, &'static str),
    Dir(&'static str),
}

pub(super) fn tar(items: Vec<Item>) -> Vec<u8> {
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

pub(super) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    assert!(encoder.write_all(bytes).is_ok());
    encoder.finish().unwrap_or_default()
}

pub(super) fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).unwrap_or_default()
}

pub(super) fn analyze(blob: &[u8], media_type: &str, digest: &str) -> LayerInventory {
    analyze_with(blob, media_type, digest, &Limits::default())
}

#[expect(clippy::panic, reason = "a failing test panics")]
pub(super) fn analyze_with(
    blob: &[u8],
    media_type: &str,
    digest: &str,
    limits: &Limits,
) -> LayerInventory {
    match analyze_layer(blob, media_type, digest, limits) {
        Ok(analysis) => analysis.inventory,
        Err(e) => panic!("analysis failed: {e}"),
    }
}

pub(super) fn debian_base() -> Vec<u8> {
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
    let encrypted = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted";
    let layer = analyze(b"\x1f\x8bciphertext", encrypted, "sha256:e");
    assert!(layer.files.is_empty() && layer.notes.len() == 1);
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
