//! rpm databases in layers: one built with sqlx from header blobs, one written by rpm itself.

use super::*;

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
