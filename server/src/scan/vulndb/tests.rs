//! Tests of the importers and generations on the real data in `tests/data/vulndata` (see its README and
//! SOURCES.tsv), read through the real importers into real SQLite files.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::import::Item;
use super::*;
use crate::scan::model::{AffectedRange, RangeEvent, RangeKind};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/vulndata")
        .join(rel)
}

fn q(ecosystem: &str, package: &str) -> PackageQuery {
    PackageQuery {
        ecosystem: ecosystem.to_owned(),
        package: package.to_owned(),
    }
}

async fn import_paths(dir: &Path, paths: &[PathBuf]) -> anyhow::Result<ImportSummary> {
    import(dir, paths, &ImportOptions::default()).await
}

async fn entries(db: &VulnDb, ecosystem: &str, package: &str) -> Vec<AffectedEntry> {
    let query = q(ecosystem, package);
    db.lookup(std::slice::from_ref(&query))
        .await
        .unwrap()
        .remove(&query)
        .unwrap_or_default()
}

fn entry<'a>(list: &'a [AffectedEntry], id: &str) -> &'a AffectedEntry {
    list.iter()
        .find(|e| e.vuln_id == id)
        .unwrap_or_else(|| panic!("no {id} in {list:#?}"))
}

fn introduced_fixed(fixed: &str) -> Vec<AffectedRange> {
    vec![AffectedRange {
        kind: RangeKind::Ecosystem,
        events: vec![
            RangeEvent::Introduced("0".to_owned()),
            RangeEvent::Fixed(fixed.to_owned()),
        ],
    }]
}

fn open_only() -> Vec<AffectedRange> {
    vec![AffectedRange {
        kind: RangeKind::Ecosystem,
        events: vec![RangeEvent::Introduced("0".to_owned())],
    }]
}

#[tokio::test]
async fn debian_tracker_json_becomes_debian_12_entries() {
    let dir = tempfile::tempdir().unwrap();
    let summary = import_paths(dir.path(), &[data("debian/tracker-bookworm.json")])
        .await
        .unwrap();
    assert_eq!(summary.inputs[0].records, 32);
    assert_eq!(summary.inputs[0].format, Some(Format::DebianTracker));
    let db = VulnDb::open(dir.path()).await.unwrap();

    let openssl = entries(&db, "Debian:12", "openssl").await;
    let e = entry(&openssl, "CVE-2023-5363");
    assert_eq!(e.ranges, introduced_fixed("3.0.11-1~deb12u2"));
    assert_eq!((e.severity, e.status.as_deref()), (None, None));
    // `open`, no nodsa: no fix, vendor status `open`; `unimportant` → Negligible.
    assert_eq!(
        entry(&openssl, "CVE-2025-9230").status.as_deref(),
        Some("open")
    );
    let negligible = entry(&openssl, "CVE-2007-6755");
    assert_eq!(negligible.ranges, open_only());
    assert_eq!(negligible.severity, Some(Severity::Negligible));
    // nodsa_reason "" → no-dsa, "ignored", "postponed".
    let sqlite = entries(&db, "Debian:12", "sqlite3").await;
    assert_eq!(
        entry(&sqlite, "CVE-2023-7104").status.as_deref(),
        Some("no-dsa")
    );
    assert_eq!(entry(&sqlite, "CVE-2023-7104").ranges, open_only());
    let zlib = entries(&db, "Debian:12", "zlib").await;
    assert_eq!(
        entry(&zlib, "CVE-2023-45853").status.as_deref(),
        Some("ignored")
    );
    let libxml2 = entries(&db, "Debian:12", "libxml2").await;
    assert_eq!(
        entry(&libxml2, "CVE-2025-49794").status.as_deref(),
        Some("postponed")
    );
    // fixed_version "0": not affected, no row.
    let xz = entries(&db, "Debian:12", "xz-utils").await;
    assert!(xz.iter().all(|e| e.vuln_id != "CVE-2024-3094"), "{xz:#?}");
    assert_eq!(
        entry(&xz, "CVE-2025-31115").ranges,
        introduced_fixed("5.4.1-1")
    );
    // Only bookworm is in the file: nothing in Debian:11, nothing for a binary package name.
    assert!(entries(&db, "Debian:11", "openssl").await.is_empty());
    assert!(entries(&db, "Debian:12", "libssl3").await.is_empty());
    // The description is the advisory's summary.
    let advisories = db.advisories(&["CVE-2023-46218".to_owned()]).await.unwrap();
    assert_eq!(
        advisories["CVE-2023-46218"].summary.as_deref(),
        Some("curl: cookie mixed case PSL bypass")
    );
}

#[tokio::test]
async fn debian_tracker_real_excerpt_maps_codenames_and_urgencies() {
    let dir = tempfile::tempdir().unwrap();
    let summary = import_paths(
        dir.path(),
        &[data("debian/tracker-json-format/vunnel-debian.json")],
    )
    .await
    .unwrap();
    // chromium-browser/CVE-2022-0358 has `"releases": []` in the real feed: a record with no rows, not an error.
    assert_eq!(summary.inputs[0].malformed, 0);
    let db = VulnDb::open(dir.path()).await.unwrap();
    let buster = entries(&db, "Debian:10", "prototypejs").await;
    let e = entry(&buster, "CVE-2008-7220");
    assert_eq!(e.ranges, introduced_fixed("1.6.0.2-1"));
    assert_eq!(e.severity, Some(Severity::High)); // "high**"
    assert_eq!(entries(&db, "Debian:9", "prototypejs").await.len(), 1);
    // sid is never an ecosystem; fixed_version "0" gives no row.
    let status = db.status().await.unwrap().unwrap();
    assert!(status.sources.iter().any(|s| s.name == "debian-tracker"));
    assert!(buster.iter().all(|e| e.vuln_id != "CVE-2007-2383"));
}

#[tokio::test]
async fn alpine_secdb_published_file_and_per_package_files_agree() {
    let dir = tempfile::tempdir().unwrap();
    let summary = import_paths(dir.path(), &[data("alpine/secdb-v3.18-main.json")])
        .await
        .unwrap();
    assert_eq!(summary.inputs[0].records, 11);
    assert_eq!(
        summary.inputs[0].sources.iter().collect::<Vec<_>>(),
        ["secdb:v3.18/main"]
    );
    let db = VulnDb::open(dir.path()).await.unwrap();
    let busybox = entries(&db, "Alpine:v3.18", "busybox").await;
    let alpine_id = entry(&busybox, "ALPINE-13661");
    assert_eq!(alpine_id.ecosystem, "Alpine:v3.18");
    assert!(matches!(
        &alpine_id.ranges[0].events[1],
        RangeEvent::Fixed(_)
    ));
    assert_eq!(
        entry(&busybox, "CVE-2023-42366").ranges,
        introduced_fixed("1.36.1-r6")
    );
    // Key "0": not affected in this branch, no row.
    assert!(busybox.iter().all(|e| e.vuln_id != "CVE-2021-42373"));
    let openssl = entries(&db, "Alpine:v3.18", "openssl").await;
    assert_eq!(
        entry(&openssl, "CVE-2023-5363").ranges,
        introduced_fixed("3.1.4-r0")
    );
    assert!(openssl.iter().all(|e| e.vuln_id != "CVE-2022-1292"));
    let affected_from_published = db.status().await.unwrap().unwrap().affected;

    // The vuln-list layout (one file per package) is the same source and gives the same rows.
    let other = tempfile::tempdir().unwrap();
    import(
        other.path(),
        &[data("alpine/vuln-list")],
        &ImportOptions {
            format: Some(Format::Secdb),
            partial: false,
        },
    )
    .await
    .unwrap();
    let per_package = VulnDb::open(other.path()).await.unwrap();
    assert_eq!(
        per_package.status().await.unwrap().unwrap().affected,
        affected_from_published
    );
    assert_eq!(
        entries(&per_package, "Alpine:v3.18", "busybox").await,
        busybox
    );
}

#[tokio::test]
async fn osv_records_keep_their_edge_cases() {
    let dir = tempfile::tempdir().unwrap();
    let summary = import_paths(dir.path(), &[data("osv")]).await.unwrap();
    let input = &summary.inputs[0];
    assert_eq!((input.records, input.malformed), (58, 0));
    // Ecosystems Berth does not scan are stored, not fatal.
    assert!(input.sources.contains("osv:Packagist"));
    assert!(input.sources.contains("osv:OSS-Fuzz"));
    let db = VulnDb::open(dir.path()).await.unwrap();

    // last_affected (GHSA-p8p7), GHSA's MODERATE → Medium, aliases.
    let request = entries(&db, "npm", "request").await;
    let e = entry(&request, "GHSA-p8p7-x288-28g6");
    assert_eq!(
        e.ranges[0].events,
        [
            RangeEvent::Introduced("0".to_owned()),
            RangeEvent::LastAffected("2.88.2".to_owned())
        ]
    );
    let advisories = db
        .advisories(&["GHSA-p8p7-x288-28g6".to_owned()])
        .await
        .unwrap();
    let ghsa = &advisories["GHSA-p8p7-x288-28g6"];
    assert_eq!(ghsa.severity, Severity::Medium);
    assert_eq!(ghsa.aliases, ["CVE-2023-28155"]);
    assert!(
        ghsa.cvss3_vector
            .as_deref()
            .unwrap()
            .starts_with("CVSS:3.1/")
    );
    assert!(ghsa.links.iter().any(|l| l.contains("CVE-2023-28155")));

    // RUSTSEC SEMVER ranges keep their `-0` pre-release bounds.
    let time = entries(&db, "crates.io", "time").await;
    let e = entry(&time, "RUSTSEC-2020-0071");
    assert_eq!(e.ranges[0].kind, RangeKind::Semver);
    assert_eq!(
        e.ranges[0].events[0],
        RangeEvent::Introduced("0.0.0-0".to_owned())
    );
    assert!(
        e.ranges[0]
            .events
            .contains(&RangeEvent::Introduced("0.2.7-0".to_owned()))
    );

    // DLA-3623-1 has `"affected": []`: an advisory without rows.
    let dla = db.advisories(&["DLA-3623-1".to_owned()]).await.unwrap();
    assert!(dla.contains_key("DLA-3623-1"));
    // Its upstream CVE is an alias; the DLA it names in `related` (a regression update) is not.
    assert_eq!(dla["DLA-3623-1"].aliases, ["CVE-2023-21400"]);

    // Alpine OSV: introduced ≠ 0, upstream CVE as alias; PyPI names normalised.
    let musl = entries(&db, "Alpine:v3.16", "musl").await;
    let e = entry(&musl, "ALPINE-CVE-2025-26519");
    assert_eq!(
        e.ranges[0].events[0],
        RangeEvent::Introduced("0.9.13".to_owned())
    );
    let alpine = db.advisories(&["CVE-2025-26519".to_owned()]).await.unwrap();
    assert_eq!(alpine["ALPINE-CVE-2025-26519"].aliases, ["CVE-2025-26519"]);
    assert!(!entries(&db, "PyPI", "Django").await.is_empty());
    // A DSA/DLA's upstream CVEs are its aliases; the Debian ecosystem is split into base and release.
    let openssl9 = entries(&db, "Debian:9", "openssl").await;
    entry(&openssl9, "DLA-3008-1");
    let dla = db.advisories(&["CVE-2022-1292".to_owned()]).await.unwrap();
    assert!(
        dla["DLA-3008-1"]
            .aliases
            .contains(&"CVE-2022-1292".to_owned())
    );
}

fn osv_record(id: &str, package: &str, fixed: &str) -> String {
    serde_json::json!({
        "id": id, "modified": "2026-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Debian:12", "name": package},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]
    })
    .to_string()
}

fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

#[tokio::test]
async fn an_osv_zip_is_read_entry_by_entry_and_bad_entries_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("all.zip");
    let huge = vec![b' '; (osv::MAX_RECORD_BYTES + 1) as usize];
    write_zip(
        &zip_path,
        &[
            (
                "DSA-1-1.json",
                osv_record("DSA-1-1", "openssl", "1.0").as_bytes(),
            ),
            ("broken.json", b"{\"id\": 12"),
            ("not-osv.json", b"{\"hello\": \"world\"}"),
            ("huge.json", &huge),
            ("README.txt", b"not a record"),
        ],
    );
    let summary = import_paths(dir.path(), std::slice::from_ref(&zip_path))
        .await
        .unwrap();
    let input = &summary.inputs[0];
    assert_eq!((input.records, input.malformed), (1, 3));
    let db = VulnDb::open(dir.path()).await.unwrap();
    assert_eq!(entries(&db, "Debian:12", "openssl").await.len(), 1);

    // A zip with no readable record at all is an error naming the entry.
    let bad = dir.path().join("bad.zip");
    write_zip(&bad, &[("x.json", b"[1, 2]")]);
    let err = import_paths(dir.path(), &[bad]).await.unwrap_err();
    let message = format!("{err:#}");
    assert!(
        message.contains("entry x.json: not an OSV record"),
        "{message}"
    );
}

#[tokio::test]
async fn a_reader_follows_new_generations_and_a_failed_import_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let first = import_paths(dir.path(), &[data("alpine/secdb-v3.18-main.json")])
        .await
        .unwrap();
    assert_eq!((first.generation, first.previous), (1, None));
    let db = VulnDb::open(dir.path()).await.unwrap();
    assert_eq!(db.generation(), Some(1));
    assert!(entries(&db, "Debian:12", "openssl").await.is_empty());

    let second = import_paths(dir.path(), &[data("debian/tracker-bookworm.json")])
        .await
        .unwrap();
    assert_eq!((second.generation, second.previous), (2, Some(1)));
    // The open reader switches on its next check (here: its next lookup), and generation 2 still has generation
    // 1's source.
    let db = db.with_check_interval(std::time::Duration::ZERO);
    assert_eq!(entries(&db, "Debian:12", "openssl").await.len(), 5);
    assert_eq!(db.generation(), Some(2));
    assert!(!entries(&db, "Alpine:v3.18", "openssl").await.is_empty());
    // Only the tracker's packages changed in generation 2.
    let changed = db.changed_packages(1).await.unwrap().unwrap();
    assert!(changed.contains(&q("Debian:12", "openssl")));
    assert!(!changed.iter().any(|k| k.ecosystem.starts_with("Alpine")));
    assert_eq!(
        db.changed_packages(0).await.unwrap().unwrap().len(),
        11 + 13
    );

    // An import that fails halfway (its first input is written, its second is not a zip) leaves generation 2.
    let broken = dir.path().join("broken.zip");
    std::fs::write(&broken, b"this is not a zip archive").unwrap();
    let err = import_paths(dir.path(), &[data("osv"), broken])
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("is not a zip archive"),
        "{err:#}"
    );
    assert!(!db.refresh().await.unwrap());
    assert_eq!(db.generation(), Some(2));
    assert!(entries(&db, "npm", "request").await.is_empty());
    let files = generation::present(&generation::dir(dir.path())).unwrap();
    assert_eq!(files, [1, 2]);
    assert!(
        std::fs::read_dir(generation::dir(dir.path()))
            .unwrap()
            .all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".tmp")),
        "the failed build's file is gone"
    );

    // Old generations beyond the last two are deleted.
    import_paths(dir.path(), &[data("osv")]).await.unwrap();
    assert_eq!(
        generation::present(&generation::dir(dir.path())).unwrap(),
        [2, 3]
    );
    assert!(db.refresh().await.unwrap());
    assert_eq!(entries(&db, "npm", "request").await.len(), 1);
}

#[tokio::test]
async fn a_full_dump_removes_what_it_no_longer_has_and_a_partial_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records");
    std::fs::create_dir(&records).unwrap();
    std::fs::write(
        records.join("a.json"),
        osv_record("DSA-1-1", "openssl", "1.0"),
    )
    .unwrap();
    std::fs::write(records.join("b.json"), osv_record("DSA-2-1", "curl", "2.0")).unwrap();
    import_paths(dir.path(), std::slice::from_ref(&records))
        .await
        .unwrap();

    std::fs::remove_file(records.join("b.json")).unwrap();
    let partial = import(
        dir.path(),
        std::slice::from_ref(&records),
        &ImportOptions {
            format: None,
            partial: true,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (partial.inputs[0].changed, partial.inputs[0].removed),
        (0, 0)
    );
    let db = VulnDb::open(dir.path()).await.unwrap();
    assert_eq!(entries(&db, "Debian:12", "curl").await.len(), 1);

    let full = import_paths(dir.path(), std::slice::from_ref(&records))
        .await
        .unwrap();
    assert_eq!(full.inputs[0].removed, 1);
    assert!(db.refresh().await.unwrap());
    assert!(entries(&db, "Debian:12", "curl").await.is_empty());
    assert!(
        db.advisories(&["DSA-2-1".to_owned()])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.changed_packages(full.generation - 1)
            .await
            .unwrap()
            .unwrap(),
        [q("Debian:12", "curl")]
    );
    // One record file is an update: the rest of its source stays.
    std::fs::write(records.join("b.json"), osv_record("DSA-2-1", "curl", "2.0")).unwrap();
    import_paths(dir.path(), std::slice::from_ref(&records))
        .await
        .unwrap();
    let single = dir.path().join("DSA-1-1.json");
    std::fs::write(&single, osv_record("DSA-1-1", "openssl", "1.1")).unwrap();
    let update = import_paths(dir.path(), &[single]).await.unwrap();
    assert_eq!((update.inputs[0].changed, update.inputs[0].removed), (1, 0));
    assert!(db.refresh().await.unwrap());
    assert_eq!(entries(&db, "Debian:12", "curl").await.len(), 1);
    assert_eq!(
        entries(&db, "Debian:12", "openssl").await[0].ranges,
        introduced_fixed("1.1")
    );
    // A history that does not reach back says so.
    assert_eq!(db.changed_packages(-100).await.unwrap(), None);
}

#[tokio::test]
async fn an_ecosystem_s_dump_replaces_that_ecosystem_only() {
    // A GHSA advisory on a PyPI and an npm package is in both ecosystems' dumps; importing npm's must not
    // remove the PyPI records npm's dump does not hold.
    let record = |id: &str, packages: &[(&str, &str)]| {
        let affected: Vec<_> = packages
            .iter()
            .map(|(eco, name)| {
                serde_json::json!({"package": {"ecosystem": eco, "name": name},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.0"}]}]})
            })
            .collect();
        serde_json::json!({"id": id, "modified": "2026-01-01T00:00:00Z", "affected": affected})
            .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let shared = record("GHSA-both", &[("PyPI", "both-py"), ("npm", "both-js")]);
    let pypi = dir.path().join("pypi.zip");
    write_zip(
        &pypi,
        &[
            (
                "PYSEC-1.json",
                record("PYSEC-1", &[("PyPI", "requests")]).as_bytes(),
            ),
            ("GHSA-both.json", shared.as_bytes()),
        ],
    );
    let npm = dir.path().join("npm.zip");
    write_zip(
        &npm,
        &[
            (
                "GHSA-js.json",
                record("GHSA-js", &[("npm", "lodash")]).as_bytes(),
            ),
            ("GHSA-both.json", shared.as_bytes()),
        ],
    );
    import_paths(dir.path(), std::slice::from_ref(&pypi))
        .await
        .unwrap();
    let summary = import_paths(dir.path(), std::slice::from_ref(&npm))
        .await
        .unwrap();
    assert_eq!(summary.inputs[0].removed, 0, "{summary:?}");
    let db = VulnDb::open(dir.path()).await.unwrap();
    assert_eq!(entries(&db, "PyPI", "requests").await.len(), 1);
    assert_eq!(entries(&db, "npm", "lodash").await.len(), 1);
    // A dump whose every record names both ecosystems cannot be told apart: nothing is removed.
    write_zip(&npm, &[("GHSA-both.json", shared.as_bytes())]);
    let summary = import_paths(dir.path(), std::slice::from_ref(&npm))
        .await
        .unwrap();
    assert_eq!(summary.inputs[0].removed, 0, "{summary:?}");
    // npm's next dump without GHSA-js removes it, and only it.
    write_zip(
        &npm,
        &[
            ("GHSA-both.json", shared.as_bytes()),
            (
                "GHSA-js2.json",
                record("GHSA-js2", &[("npm", "left-pad")]).as_bytes(),
            ),
        ],
    );
    let summary = import_paths(dir.path(), std::slice::from_ref(&npm))
        .await
        .unwrap();
    assert_eq!(summary.inputs[0].removed, 1, "{summary:?}");
    assert!(db.refresh().await.unwrap());
    assert!(entries(&db, "npm", "lodash").await.is_empty());
    assert_eq!(entries(&db, "PyPI", "requests").await.len(), 1);
    assert_eq!(entries(&db, "PyPI", "both-py").await.len(), 1);
}

#[tokio::test]
async fn concurrent_imports_take_turns_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (secdb, tracker, rustsec) = (
        [data("alpine/secdb-v3.18-main.json")],
        [data("debian/tracker-bookworm.json")],
        [data("osv/rustsec")],
    );
    let (a, b, c) = tokio::join!(
        import_paths(dir.path(), &secdb),
        import_paths(dir.path(), &tracker),
        import_paths(dir.path(), &rustsec),
    );
    let mut generations = [
        a.unwrap().generation,
        b.unwrap().generation,
        c.unwrap().generation,
    ];
    generations.sort_unstable();
    assert_eq!(generations, [1, 2, 3]);
    let db = VulnDb::open(dir.path()).await.unwrap();
    let status = db.status().await.unwrap().unwrap();
    assert_eq!(status.generation, 3);
    let names = status
        .sources
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>();
    assert_eq!(
        names,
        ["debian-tracker", "osv:crates.io", "secdb:v3.18/main"]
    );
}

#[tokio::test]
async fn withdrawn_records_never_match_and_severity_is_borrowed_through_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records");
    std::fs::create_dir(&records).unwrap();
    let mut withdrawn: serde_json::Value =
        serde_json::from_str(&osv_record("GHSA-gone-gone-gone", "openssl", "1.0")).unwrap();
    withdrawn["withdrawn"] = "2026-02-01T00:00:00Z".into();
    std::fs::write(records.join("withdrawn.json"), withdrawn.to_string()).unwrap();
    // A DSA names its CVE in `related`; the CVE's own record has a CVSS vector, the DSA none.
    let mut dsa: serde_json::Value =
        serde_json::from_str(&osv_record("DSA-9-1", "curl", "2.0")).unwrap();
    dsa["related"] = serde_json::json!(["CVE-2099-1", "DLA-9-2"]);
    std::fs::write(records.join("dsa.json"), dsa.to_string()).unwrap();
    let cve = serde_json::json!({"id": "CVE-2099-1", "modified": "2026-01-01T00:00:00Z",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}]});
    std::fs::write(records.join("cve.json"), cve.to_string()).unwrap();
    import_paths(dir.path(), std::slice::from_ref(&records))
        .await
        .unwrap();
    let db = VulnDb::open(dir.path()).await.unwrap();

    assert!(entries(&db, "Debian:12", "openssl").await.is_empty());
    let found = db.advisories(&["DSA-9-1".to_owned()]).await.unwrap();
    assert_eq!(found["DSA-9-1"].aliases, ["CVE-2099-1"]);
    assert_eq!(found["CVE-2099-1"].aliases, ["DSA-9-1"]);
    assert_eq!(found["CVE-2099-1"].severity, Severity::High);
    assert_eq!(found["CVE-2099-1"].cvss3_score, Some(7.5));
    assert_eq!(
        found["DSA-9-1"].severity,
        Severity::High,
        "borrowed from its CVE"
    );
}

#[tokio::test]
async fn no_database_yet_answers_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = VulnDb::open(dir.path()).await.unwrap();
    assert_eq!(db.status().await.unwrap(), None);
    assert!(
        db.lookup(&[q("Debian:12", "openssl")])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.changed_packages(0).await.unwrap(), None);
    let err = import_paths(dir.path(), &[dir.path().join("missing.json")])
        .await
        .unwrap_err();
    assert!(
        format!("{err:#}").starts_with("file not found: "),
        "{err:#}"
    );
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-z0-9:._ -]{0,12}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("0"),
            Just("resolved"),
            Just("open"),
            Just("ECOSYSTEM"),
            Just("id"),
            Just("fixed")
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        let key = prop_oneof![
            Just("id".to_owned()),
            Just("affected".to_owned()),
            Just("package".to_owned()),
            Just("ecosystem".to_owned()),
            Just("name".to_owned()),
            Just("ranges".to_owned()),
            Just("events".to_owned()),
            Just("releases".to_owned()),
            Just("bookworm".to_owned()),
            Just("status".to_owned()),
            Just("fixed_version".to_owned()),
            Just("secfixes".to_owned()),
            "[a-z]{1,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(key, inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Whatever an OSV file holds, converting it gives a record or a reason, never a panic.
    #[test]
    fn osv_conversion_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512), value in json_value()) {
        let _ = osv::convert(&bytes);
        let _ = osv::convert(value.to_string().as_bytes());
    }

    /// Whatever a secdb or tracker file holds, reading it gives items or an error, never a panic.
    #[test]
    fn secdb_and_tracker_reading_never_panics(value in json_value()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.json");
        std::fs::write(&path, value.to_string()).unwrap();
        let mut count = 0usize;
        let mut sink = |item: Item| { if let Item::Record(r) = item { count += r.affected.len(); } true };
        let _ = secdb::read_file(&path, &mut sink);
        let _ = tracker::read_file(&path, &mut sink);
        let _ = osv::read_path(&path, &mut sink);
    }
}
