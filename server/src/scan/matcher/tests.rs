//! The matcher against hand-built advisory entries: every rule of the test data's README (Debian rules 1–6,
//! Alpine's secdb rules, the language rows), alias collapsing, severities and the order of findings.
#![expect(clippy::unwrap_used, reason = "a failing test panics")]

use std::collections::HashMap;

use super::{findings, os_ecosystem, pep503, queries, query_for};
use crate::scan::model::{
    Advisory, AffectedEntry, AffectedRange, Finding, Inventory, OsIdentity, Package, PackageKind,
    PackageQuery, RangeEvent, RangeKind, Severity,
};

fn os(id: &str, version_id: &str) -> Option<OsIdentity> {
    Some(OsIdentity {
        id: id.to_owned(),
        version_id: version_id.to_owned(),
        ..OsIdentity::default()
    })
}

fn pkg(kind: PackageKind, name: &str, version: &str) -> Package {
    Package {
        kind,
        name: name.to_owned(),
        version: version.to_owned(),
        source_name: None,
        source_version: None,
        arch: None,
        license: None,
        path: String::new(),
        layer: "sha256:layer".to_owned(),
    }
}

/// A dpkg binary package built from `source` (whose version is the binary's unless `source_version`).
fn deb(name: &str, version: &str, source: &str) -> Package {
    Package {
        source_name: (source != name).then(|| source.to_owned()),
        ..pkg(PackageKind::Dpkg, name, version)
    }
}

/// An apk package with its origin.
fn apk(name: &str, version: &str, origin: &str) -> Package {
    Package {
        source_name: Some(origin.to_owned()),
        ..pkg(PackageKind::Apk, name, version)
    }
}

/// An entry: `introduced: 0`, then `fixed` if given, of `kind`.
fn entry(id: &str, ecosystem: &str, package: &str, fixed: Option<&str>) -> AffectedEntry {
    let mut events = vec![RangeEvent::Introduced("0".to_owned())];
    events.extend(fixed.map(|f| RangeEvent::Fixed(f.to_owned())));
    AffectedEntry {
        vuln_id: id.to_owned(),
        ecosystem: ecosystem.to_owned(),
        package: package.to_owned(),
        ranges: vec![AffectedRange {
            kind: RangeKind::Ecosystem,
            events,
        }],
        versions: Vec::new(),
        severity: None,
        status: None,
    }
}

fn with_status(mut e: AffectedEntry, status: &str) -> AffectedEntry {
    e.status = Some(status.to_owned());
    e
}

fn advisory(id: &str, aliases: &[&str], severity: Severity) -> (String, Advisory) {
    (
        id.to_owned(),
        Advisory {
            id: id.to_owned(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            severity,
            ..Advisory::default()
        },
    )
}

/// Builds the answers the database would give: entries filed under their (ecosystem, package).
fn answers(entries: Vec<AffectedEntry>) -> HashMap<PackageQuery, Vec<AffectedEntry>> {
    let mut map: HashMap<PackageQuery, Vec<AffectedEntry>> = HashMap::new();
    for e in entries {
        map.entry(PackageQuery {
            ecosystem: e.ecosystem.clone(),
            package: e.package.clone(),
        })
        .or_default()
        .push(e);
    }
    map
}

fn run(
    os: Option<OsIdentity>,
    packages: Vec<Package>,
    entries: Vec<AffectedEntry>,
    advisories: Vec<(String, Advisory)>,
) -> Vec<Finding> {
    let inv = Inventory { os, packages };
    findings(&inv, &answers(entries), &advisories.into_iter().collect())
}

/// (id, package, version, fix) of each finding, in order.
fn summary(found: &[Finding]) -> Vec<(String, String, String, Option<String>)> {
    found
        .iter()
        .map(|f| {
            (
                f.id.clone(),
                f.package.clone(),
                f.version.clone(),
                f.fix_version.clone(),
            )
        })
        .collect()
}

fn row(
    id: &str,
    package: &str,
    version: &str,
    fix: Option<&str>,
) -> (String, String, String, Option<String>) {
    (
        id.to_owned(),
        package.to_owned(),
        version.to_owned(),
        fix.map(str::to_owned),
    )
}

const BOOKWORM: &str = "Debian:12";

// ---------------------------------------------------------------- queries

#[test]
fn os_releases_map_to_osv_ecosystems() {
    for (id, version, expected) in [
        ("debian", "12", Some("Debian:12")),
        ("debian", "", None),
        ("ubuntu", "22.04", Some("Ubuntu:22.04:LTS")),
        ("ubuntu", "24.04", Some("Ubuntu:24.04:LTS")),
        ("ubuntu", "23.10", Some("Ubuntu:23.10")),
        ("ubuntu", "21.04", Some("Ubuntu:21.04")),
        ("alpine", "3.18.4", Some("Alpine:v3.18")),
        ("alpine", "3.18.9", Some("Alpine:v3.18")),
        ("alpine", "3.19_alpha20230901", Some("Alpine:v3.19")),
        ("alpine", "3", None),
        ("wolfi", "20230201", Some("Wolfi")),
        ("chainguard", "", Some("Chainguard")),
        ("almalinux", "9.3", Some("AlmaLinux:9")),
        ("rocky", "9.2", Some("Rocky Linux:9")),
        ("fedora", "39", None),
        ("arch", "", None),
    ] {
        assert_eq!(
            os_ecosystem(&os(id, version).unwrap()).as_deref(),
            expected,
            "{id} {version}"
        );
    }
}

#[test]
fn packages_are_asked_by_the_name_their_advisories_use() {
    let inv = Inventory {
        os: os("debian", "12"),
        packages: vec![
            deb("libssl3", "3.0.9-1", "openssl"),
            deb("openssl", "3.0.9-1", "openssl"),
            deb("libc6", "2.36-9", "glibc"),
            pkg(PackageKind::Python, "Django_REST.framework", "3.14.0"),
            pkg(PackageKind::Npm, "@scope/Pkg", "1.0.0"),
            pkg(PackageKind::Go, "github.com/gogo/protobuf", "v1.3.1"),
            pkg(PackageKind::Go, "stdlib", "go1.21.5"),
            pkg(PackageKind::Cargo, "net2", "0.2.33"),
            // An apk database in a Debian image is not asked about.
            apk("musl", "1.2.4-r1", "musl"),
        ],
    };
    let q = |e: &str, p: &str| PackageQuery {
        ecosystem: e.to_owned(),
        package: p.to_owned(),
    };
    assert_eq!(
        queries(&inv),
        vec![
            q("Debian:12", "glibc"),
            q("Debian:12", "openssl"),
            q("Go", "github.com/gogo/protobuf"),
            q("Go", "stdlib"),
            q("PyPI", "django-rest-framework"),
            q("crates.io", "net2"),
            q("npm", "@scope/Pkg"),
        ]
    );
    assert_eq!(pep503("Foo.._-Bar"), "foo-bar");
    assert_eq!(pep503("zope.interface"), "zope-interface");
}

#[test]
fn distro_packages_of_an_unknown_or_missing_os_are_skipped() {
    let packages = vec![
        deb("libc6", "2.36-9", "glibc"),
        pkg(PackageKind::Npm, "request", "2.88.2"),
    ];
    for os in [None, os("fedora", "39"), os("debian", "")] {
        let inv = Inventory {
            os: os.clone(),
            packages: packages.clone(),
        };
        assert_eq!(
            queries(&inv)
                .into_iter()
                .map(|q| q.ecosystem)
                .collect::<Vec<_>>(),
            vec!["npm".to_owned()],
            "{os:?}"
        );
    }
    assert!(
        query_for(
            os("alpine", "3.18.9").as_ref(),
            &deb("libc6", "2.36-9", "glibc")
        )
        .is_none()
    );
}

// ---------------------------------------------------------------- Debian rules

/// Rule 1, `fixed V` on the bookworm line (D2): affected while below V, with V as the fix; equal is fixed.
#[test]
fn debian_rule_1_release_line_fixed() {
    let e = || {
        vec![entry(
            "CVE-2023-5678",
            BOOKWORM,
            "openssl",
            Some("3.0.13-1~deb12u1"),
        )]
    };
    let found = run(
        os("debian", "12"),
        vec![deb("libssl3", "3.0.9-1", "openssl")],
        e(),
        vec![],
    );
    assert_eq!(
        summary(&found),
        vec![row(
            "CVE-2023-5678",
            "libssl3",
            "3.0.9-1",
            Some("3.0.13-1~deb12u1")
        )]
    );
    assert_eq!(found[0].source_package.as_deref(), Some("openssl"));
    assert_eq!(found[0].ecosystem, "Debian:12");
    assert_eq!(found[0].kind, PackageKind::Dpkg);
    for installed in ["3.0.13-1~deb12u1", "3.0.19-1~deb12u2"] {
        assert!(
            run(
                os("debian", "12"),
                vec![deb("libssl3", installed, "openssl")],
                e(),
                vec![]
            )
            .is_empty()
        );
    }
}

/// Rule 1, `not-affected` (N2): the tracker writes `fixed_version: "0"`; never a finding.
#[test]
fn debian_rule_1_not_affected() {
    let found = run(
        os("debian", "12"),
        vec![
            deb("liblzma5", "5.4.1-0.2", "xz-utils"),
            deb("xz-utils", "5.4.1-1", "xz-utils"),
        ],
        vec![entry("CVE-2024-3094", BOOKWORM, "xz-utils", Some("0"))],
        vec![],
    );
    assert!(found.is_empty(), "{found:?}");
}

/// Rule 1, `no-dsa` / `ignored` / `postponed`: affected, no fix, the vendor status kept.
#[test]
fn debian_rule_1_no_dsa_is_affected_without_a_fix() {
    let found = run(
        os("debian", "12"),
        vec![
            deb("libexpat1", "2.5.0-1+deb12u1", "expat"),
            deb("zlib1g", "1:1.2.13.dfsg-1", "zlib"),
        ],
        vec![
            with_status(entry("CVE-2023-52425", BOOKWORM, "expat", None), "no-dsa"),
            with_status(entry("CVE-2024-8176", BOOKWORM, "expat", None), "ignored"),
            with_status(entry("CVE-2023-45853", BOOKWORM, "zlib", None), "ignored"),
        ],
        vec![],
    );
    assert_eq!(
        summary(&found),
        vec![
            row("CVE-2023-45853", "zlib1g", "1:1.2.13.dfsg-1", None),
            row("CVE-2023-52425", "libexpat1", "2.5.0-1+deb12u1", None),
            row("CVE-2024-8176", "libexpat1", "2.5.0-1+deb12u1", None),
        ]
    );
    assert_eq!(found[0].status.as_deref(), Some("ignored"));
    assert_eq!(found[1].status.as_deref(), Some("no-dsa"));
}

/// Rule 2, a DSA (D1): the finding is the CVE it fixes, the DSA an alias, its version the fix.
#[test]
fn debian_rule_2_dsa() {
    let found = run(
        os("debian", "12"),
        vec![deb("libssl3", "3.0.9-1", "openssl")],
        vec![entry(
            "DSA-5532-1",
            BOOKWORM,
            "openssl",
            Some("3.0.11-1~deb12u2"),
        )],
        vec![advisory(
            "DSA-5532-1",
            &["CVE-2023-5363"],
            Severity::Unknown,
        )],
    );
    assert_eq!(
        summary(&found),
        vec![row(
            "CVE-2023-5363",
            "libssl3",
            "3.0.9-1",
            Some("3.0.11-1~deb12u2")
        )]
    );
    assert_eq!(found[0].aliases, vec!["DSA-5532-1".to_owned()]);
    // N1: the updated host is past the fix.
    let found = run(
        os("debian", "12"),
        vec![deb("libssl3", "3.0.19-1~deb12u2", "openssl")],
        vec![entry(
            "DSA-5532-1",
            BOOKWORM,
            "openssl",
            Some("3.0.11-1~deb12u2"),
        )],
        vec![advisory(
            "DSA-5532-1",
            &["CVE-2023-5363"],
            Severity::Unknown,
        )],
    );
    assert!(found.is_empty());
}

/// A DSA that fixes several CVEs is one finding per CVE, and merges with the CVE's own entry.
#[test]
fn a_dsa_of_several_cves_is_a_finding_per_cve() {
    let found = run(
        os("debian", "12"),
        vec![deb("curl", "7.88.1-10", "curl")],
        vec![
            entry("DSA-5523-1", BOOKWORM, "curl", Some("7.88.1-10+deb12u4")),
            entry(
                "CVE-2023-38545",
                BOOKWORM,
                "curl",
                Some("7.88.1-10+deb12u4"),
            ),
        ],
        vec![advisory(
            "DSA-5523-1",
            &["CVE-2023-38545", "CVE-2023-38546"],
            Severity::Unknown,
        )],
    );
    assert_eq!(
        summary(&found),
        vec![
            row(
                "CVE-2023-38545",
                "curl",
                "7.88.1-10",
                Some("7.88.1-10+deb12u4")
            ),
            row(
                "CVE-2023-38546",
                "curl",
                "7.88.1-10",
                Some("7.88.1-10+deb12u4")
            ),
        ]
    );
    assert_eq!(found[0].aliases, vec!["DSA-5523-1".to_owned()]);
    assert_eq!(found[1].aliases, vec!["DSA-5523-1".to_owned()]);
}

/// Rule 3, fixed only in sid (CVE-2023-50495, ncurses): affected below the sid version, but no fix offered;
/// above it (N5) nothing.
#[test]
fn debian_rule_3_fixed_in_sid_only() {
    let e = || {
        vec![
            with_status(
                entry(
                    "CVE-2023-50495",
                    BOOKWORM,
                    "ncurses",
                    Some("6.4+20230625-1"),
                ),
                "open",
            ),
            with_status(
                entry("CVE-2023-29491", BOOKWORM, "ncurses", Some("6.4-3")),
                "open",
            ),
        ]
    };
    let found = run(
        os("debian", "12"),
        vec![deb("libtinfo6", "6.4-4", "ncurses")],
        e(),
        vec![],
    );
    assert_eq!(
        summary(&found),
        vec![row("CVE-2023-50495", "libtinfo6", "6.4-4", None)]
    );
    assert_eq!(found[0].status.as_deref(), Some("open"));
}

/// Rule 3, `unfixed` (CVE-2025-9230): affected, no fix.
#[test]
fn debian_rule_3_unfixed() {
    let found = run(
        os("debian", "12"),
        vec![deb("openssl", "3.0.19-1~deb12u2", "openssl")],
        vec![with_status(
            entry("CVE-2025-9230", BOOKWORM, "openssl", None),
            "open",
        )],
        vec![],
    );
    assert_eq!(
        summary(&found),
        vec![row("CVE-2025-9230", "openssl", "3.0.19-1~deb12u2", None)]
    );
}

/// Rule 4: advisories for packages that are not installed give nothing; a package with no answer gives nothing.
#[test]
fn debian_rule_4_other_packages_give_nothing() {
    let found = run(
        os("debian", "12"),
        vec![deb("libxml2", "2.9.14+dfsg-1.2", "libxml2")],
        vec![
            entry("CVE-2023-1111", BOOKWORM, "minizip", Some("9.9")),
            entry("CVE-2023-2222", "Debian:11", "libxml2", Some("9.9")),
        ],
        vec![],
    );
    assert!(found.is_empty());
}

/// Rule 5: `unimportant` is Negligible (the entry's override beats the advisory's severity).
#[test]
fn debian_rule_5_unimportant_is_negligible() {
    let mut e = entry("CVE-2005-2541", BOOKWORM, "tar", None);
    e.severity = Some(Severity::Negligible);
    let found = run(
        os("debian", "12"),
        vec![deb("tar", "1.34+dfsg-1.2", "tar")],
        vec![e],
        vec![advisory("CVE-2005-2541", &[], Severity::Critical)],
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Negligible);
}

/// Rule 6: the **source** version is compared, not the binary's (a binNMU `+b1` is above the source version).
#[test]
fn debian_rule_6_compares_the_source_version() {
    let binnmu = Package {
        source_version: Some("1.0-1".to_owned()),
        ..deb("libfoo1", "1.0-1+b2", "foo")
    };
    let found = run(
        os("debian", "12"),
        vec![binnmu],
        vec![entry("CVE-2024-0001", BOOKWORM, "foo", Some("1.0-1+b1"))],
        vec![],
    );
    assert_eq!(
        summary(&found),
        vec![row(
            "CVE-2024-0001",
            "libfoo1",
            "1.0-1+b2",
            Some("1.0-1+b1")
        )]
    );
}

/// N3 (an epoch-1 version newer than the sid fix) and N4 (equal to the fix is fixed).
#[test]
fn debian_epochs_and_equal_versions() {
    let found = run(
        os("debian", "12"),
        vec![
            deb("zlib1g", "1:1.2.13.dfsg-1", "zlib"),
            deb("curl", "7.88.1-10", "curl"),
        ],
        vec![
            with_status(
                entry(
                    "CVE-2022-37434",
                    BOOKWORM,
                    "zlib",
                    Some("1:1.2.11.dfsg-4.1"),
                ),
                "open",
            ),
            entry("CVE-2023-28320", BOOKWORM, "curl", Some("7.88.1-10")),
        ],
        vec![],
    );
    assert!(found.is_empty(), "{found:?}");
}

/// Every binary of one source package gets its own finding (D6: curl, libcurl4, libcurl3-gnutls).
#[test]
fn each_binary_of_a_source_is_a_finding() {
    let found = run(
        os("debian", "12"),
        vec![
            deb("curl", "7.88.1-10", "curl"),
            deb("libcurl4", "7.88.1-10", "curl"),
            deb("libcurl3-gnutls", "7.88.1-10", "curl"),
        ],
        vec![entry(
            "CVE-2023-46218",
            BOOKWORM,
            "curl",
            Some("7.88.1-10+deb12u5"),
        )],
        vec![],
    );
    let packages: Vec<&str> = found.iter().map(|f| f.package.as_str()).collect();
    assert_eq!(packages, vec!["curl", "libcurl3-gnutls", "libcurl4"]);
    assert_eq!(found[1].source_package.as_deref(), Some("curl"));
    assert_eq!(found[0].source_package, None);
}

// ---------------------------------------------------------------- Alpine

const ALPINE: &str = "Alpine:v3.18";

/// A1/N9: by origin; below the key → fix = key; equal → fixed; key `"0"` → never.
#[test]
fn alpine_secdb_rules() {
    let found = run(
        os("alpine", "3.18.3"),
        vec![
            apk("libssl3", "3.1.2-r0", "openssl"),
            apk("libcrypto3", "3.1.2-r0", "openssl"),
        ],
        vec![
            entry("CVE-2023-5363", ALPINE, "openssl", Some("3.1.4-r0")),
            entry("CVE-2023-3817", ALPINE, "openssl", Some("3.1.2-r0")),
            entry("CVE-2023-0466", ALPINE, "openssl", Some("0")),
        ],
        vec![],
    );
    assert_eq!(
        summary(&found),
        vec![
            row("CVE-2023-5363", "libcrypto3", "3.1.2-r0", Some("3.1.4-r0")),
            row("CVE-2023-5363", "libssl3", "3.1.2-r0", Some("3.1.4-r0")),
        ]
    );
    assert_eq!(found[0].source_package.as_deref(), Some("openssl"));
}

/// A2: keys compare as versions, not strings (`1.36.1-r6 < 1.36.1-r7`), and ALPINE-13661 is not a CVE.
#[test]
fn alpine_busybox_by_origin() {
    let found = run(
        os("alpine", "3.18.3"),
        vec![apk("ssl_client", "1.36.1-r2", "busybox")],
        vec![
            entry("CVE-2023-42366", ALPINE, "busybox", Some("1.36.1-r6")),
            entry("CVE-2023-42363", ALPINE, "busybox", Some("1.36.1-r7")),
            entry("ALPINE-13661", ALPINE, "busybox", Some("1.36.1-r1")),
        ],
        vec![],
    );
    assert_eq!(
        summary(&found),
        vec![
            row(
                "CVE-2023-42363",
                "ssl_client",
                "1.36.1-r2",
                Some("1.36.1-r7")
            ),
            row(
                "CVE-2023-42366",
                "ssl_client",
                "1.36.1-r2",
                Some("1.36.1-r6")
            ),
        ]
    );
    // N8: the minirootfs's r7 is fixed.
    let found = run(
        os("alpine", "3.18.9"),
        vec![apk("busybox", "1.36.1-r7", "busybox")],
        vec![entry(
            "CVE-2023-42363",
            ALPINE,
            "busybox",
            Some("1.36.1-r7"),
        )],
        vec![],
    );
    assert!(found.is_empty());
}

/// A3/A4: the OSV record `ALPINE-CVE-2025-26519` (introduced 0.9.13, `upstream` CVE) and secdb's
/// `CVE-2025-26519` are one finding, whose id is the CVE.
#[test]
fn alpine_osv_and_secdb_collapse_into_one_finding() {
    let mut osv = entry("ALPINE-CVE-2025-26519", ALPINE, "musl", None);
    osv.ranges[0].events = vec![
        RangeEvent::Introduced("0.9.13".to_owned()),
        RangeEvent::Fixed("1.2.4-r3".to_owned()),
    ];
    let e = || {
        vec![
            osv.clone(),
            entry("CVE-2025-26519", ALPINE, "musl", Some("1.2.4-r3")),
        ]
    };
    let adv = || {
        vec![
            advisory(
                "ALPINE-CVE-2025-26519",
                &["CVE-2025-26519"],
                Severity::Unknown,
            ),
            advisory("CVE-2025-26519", &[], Severity::High),
        ]
    };
    let found = run(
        os("alpine", "3.18.9"),
        vec![
            apk("musl", "1.2.4-r2", "musl"),
            apk("musl-utils", "1.2.4-r2", "musl"),
        ],
        e(),
        adv(),
    );
    assert_eq!(
        summary(&found),
        vec![
            row("CVE-2025-26519", "musl", "1.2.4-r2", Some("1.2.4-r3")),
            row("CVE-2025-26519", "musl-utils", "1.2.4-r2", Some("1.2.4-r3")),
        ]
    );
    assert_eq!(found[0].aliases, vec!["ALPINE-CVE-2025-26519".to_owned()]);
    assert_eq!(found[0].severity, Severity::High);
    // Fixed: nothing.
    assert!(
        run(
            os("alpine", "3.18.9"),
            vec![apk("musl", "1.2.4-r3", "musl")],
            e(),
            adv()
        )
        .is_empty()
    );
}

// ---------------------------------------------------------------- language ecosystems

/// L1: two versions of hosted-git-info (one nested) are two findings; the same version twice is one.
#[test]
fn two_nested_npm_versions_are_two_findings() {
    let mut ghsa = entry(
        "GHSA-43f8-2h32-f4cj",
        "npm",
        "hosted-git-info",
        Some("2.8.9"),
    );
    ghsa.ranges.push(AffectedRange {
        kind: RangeKind::Ecosystem,
        events: vec![
            RangeEvent::Introduced("3.0.0".to_owned()),
            RangeEvent::Fixed("3.0.8".to_owned()),
        ],
    });
    ghsa.severity = Some(Severity::Medium);
    let nested = Package {
        path: "node_modules/npm-package-arg/node_modules/hosted-git-info/package.json".to_owned(),
        ..pkg(PackageKind::Npm, "hosted-git-info", "1.6.0")
    };
    let found = run(
        None,
        vec![
            pkg(PackageKind::Npm, "hosted-git-info", "2.1.4"),
            nested,
            pkg(PackageKind::Npm, "hosted-git-info", "2.1.4"),
            pkg(PackageKind::Npm, "hosted-git-info", "3.0.8"),
        ],
        vec![ghsa],
        vec![advisory(
            "GHSA-43f8-2h32-f4cj",
            &["CVE-2021-23362"],
            Severity::High,
        )],
    );
    assert_eq!(
        summary(&found),
        vec![
            row("CVE-2021-23362", "hosted-git-info", "1.6.0", Some("2.8.9")),
            row("CVE-2021-23362", "hosted-git-info", "2.1.4", Some("2.8.9")),
        ]
    );
    assert_eq!(found[0].aliases, vec!["GHSA-43f8-2h32-f4cj".to_owned()]);
    // The entry's override (GHSA's database severity) wins over the advisory's.
    assert_eq!(found[0].severity, Severity::Medium);
    assert_eq!(found[0].ecosystem, "npm");
}

/// L3: `last_affected` is affected with no fix.
#[test]
fn last_affected_gives_no_fix() {
    let mut e = entry("GHSA-p8p7-x288-28g6", "npm", "request", None);
    e.ranges[0]
        .events
        .push(RangeEvent::LastAffected("2.88.2".to_owned()));
    let found = run(
        None,
        vec![pkg(PackageKind::Npm, "request", "2.88.2")],
        vec![e.clone()],
        vec![],
    );
    assert_eq!(
        summary(&found),
        vec![row("GHSA-p8p7-x288-28g6", "request", "2.88.2", None)]
    );
    assert!(
        run(
            None,
            vec![pkg(PackageKind::Npm, "request", "2.88.3")],
            vec![e],
            vec![]
        )
        .is_empty()
    );
}

/// L5: net2 0.2.33 has RUSTSEC-2020-0078 (fixed 0.2.36) and the informational RUSTSEC-2020-0016 (open range,
/// no fix, no alias).
#[test]
fn informational_rustsec_has_no_fix() {
    let semver = |id: &str, fixed: Option<&str>| {
        let mut e = entry(id, "crates.io", "net2", fixed);
        e.ranges[0].kind = RangeKind::Semver;
        e.ranges[0].events[0] = RangeEvent::Introduced("0.0.0-0".to_owned());
        e
    };
    let found = run(
        None,
        vec![pkg(PackageKind::Cargo, "net2", "0.2.33")],
        vec![
            semver("RUSTSEC-2020-0016", None),
            semver("RUSTSEC-2020-0078", Some("0.2.36")),
        ],
        vec![
            advisory("RUSTSEC-2020-0016", &[], Severity::Unknown),
            advisory("RUSTSEC-2020-0078", &[], Severity::Unknown),
        ],
    );
    assert_eq!(
        summary(&found),
        vec![
            row("RUSTSEC-2020-0016", "net2", "0.2.33", None),
            row("RUSTSEC-2020-0078", "net2", "0.2.33", Some("0.2.36")),
        ]
    );
    assert_eq!(found[0].severity, Severity::Unknown);
    assert!(found[0].aliases.is_empty());
}

/// L6: Go module versions carry a `v` the advisories do not.
#[test]
fn go_modules_match_without_their_v() {
    let mut e = entry(
        "GO-2021-0053",
        "Go",
        "github.com/gogo/protobuf",
        Some("1.3.2"),
    );
    e.ranges[0].kind = RangeKind::Semver;
    let found = run(
        None,
        vec![pkg(PackageKind::Go, "github.com/gogo/protobuf", "v1.3.1")],
        vec![e],
        vec![advisory(
            "GO-2021-0053",
            &["CVE-2021-3121", "GHSA-c3h9-896r-86jm"],
            Severity::Unknown,
        )],
    );
    assert_eq!(
        summary(&found),
        vec![row(
            "CVE-2021-3121",
            "github.com/gogo/protobuf",
            "v1.3.1",
            Some("1.3.2")
        )]
    );
    assert_eq!(
        found[0].aliases,
        vec!["GHSA-c3h9-896r-86jm".to_owned(), "GO-2021-0053".to_owned()]
    );
}

/// PyPI names are matched PEP 503-normalised.
#[test]
fn pypi_names_are_normalised() {
    let found = run(
        None,
        vec![
            pkg(PackageKind::Python, "Jinja2", "2.10"),
            pkg(PackageKind::Python, "zope.interface", "4.0"),
        ],
        vec![
            entry("PYSEC-2019-217", "PyPI", "jinja2", Some("2.10.1")),
            entry("PYSEC-2000-1", "PyPI", "zope-interface", Some("4.0")),
        ],
        vec![],
    );
    assert_eq!(
        summary(&found),
        vec![row("PYSEC-2019-217", "Jinja2", "2.10", Some("2.10.1"))]
    );
}

// ---------------------------------------------------------------- collapsing, severity, order

/// Aliases collapse; the fix offered is the lowest among them; a vendor status takes the fix away only from
/// the entry that carries it.
#[test]
fn alias_group_offers_the_lowest_fix() {
    let found = run(
        None,
        vec![pkg(PackageKind::Npm, "tough-cookie", "2.5.0")],
        vec![
            entry("GHSA-72xf-g2v4-qvf3", "npm", "tough-cookie", Some("4.1.3")),
            entry("CVE-2023-26136", "npm", "tough-cookie", Some("4.1.10")),
            with_status(entry("OTHER-1", "npm", "tough-cookie", None), "open"),
        ],
        vec![
            advisory("GHSA-72xf-g2v4-qvf3", &["CVE-2023-26136"], Severity::Medium),
            advisory("OTHER-1", &["CVE-2023-26136"], Severity::Unknown),
        ],
    );
    assert_eq!(
        summary(&found),
        vec![row(
            "CVE-2023-26136",
            "tough-cookie",
            "2.5.0",
            Some("4.1.3")
        )]
    );
    assert_eq!(
        found[0].aliases,
        vec!["GHSA-72xf-g2v4-qvf3".to_owned(), "OTHER-1".to_owned()]
    );
    assert_eq!(found[0].status, None);
    assert_eq!(found[0].severity, Severity::Medium);
}

/// Severity: the entry's override, else the advisory's, else the highest of its aliases', else Unknown.
#[test]
fn severity_precedence() {
    let one = |entry_severity: Option<Severity>, advisories: Vec<(String, Advisory)>| {
        let mut e = entry("GHSA-aaaa", "npm", "p", None);
        e.severity = entry_severity;
        run(
            None,
            vec![pkg(PackageKind::Npm, "p", "1.0.0")],
            vec![e],
            advisories,
        )[0]
        .severity
    };
    let aliases = || {
        vec![
            advisory("GHSA-aaaa", &["CVE-2020-1", "PYSEC-1"], Severity::Unknown),
            advisory("CVE-2020-1", &[], Severity::Low),
            advisory("PYSEC-1", &[], Severity::Critical),
        ]
    };
    assert_eq!(one(Some(Severity::High), aliases()), Severity::High);
    assert_eq!(one(None, aliases()), Severity::Critical);
    let mut own = aliases();
    own[0].1.severity = Severity::Low;
    assert_eq!(one(None, own), Severity::Low);
    assert_eq!(one(None, vec![]), Severity::Unknown);
}

/// Findings are sorted by severity (highest first), then id, then package; details come from the advisories.
#[test]
fn findings_are_sorted_and_carry_the_advisory() {
    let mut cve = advisory("CVE-2024-2", &[], Severity::Critical);
    cve.1.details = Some("details".to_owned());
    cve.1.links = vec!["https://example.com/2".to_owned()];
    cve.1.cvss3_vector = Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".to_owned());
    cve.1.cvss3_score = Some(9.8);
    cve.1.cwe_ids = vec!["CWE-79".to_owned()];
    let found = run(
        None,
        vec![
            pkg(PackageKind::Npm, "b", "1.0.0"),
            pkg(PackageKind::Npm, "a", "1.0.0"),
        ],
        vec![
            entry("CVE-2024-1", "npm", "a", None),
            entry("CVE-2024-3", "npm", "a", None),
            entry("CVE-2024-2", "npm", "a", None),
            entry("CVE-2024-2", "npm", "b", None),
        ],
        vec![cve, advisory("CVE-2024-3", &[], Severity::Low)],
    );
    let order: Vec<(&str, &str)> = found
        .iter()
        .map(|f| (f.id.as_str(), f.package.as_str()))
        .collect();
    assert_eq!(
        order,
        vec![
            ("CVE-2024-2", "a"),
            ("CVE-2024-2", "b"),
            ("CVE-2024-3", "a"),
            ("CVE-2024-1", "a")
        ]
    );
    assert_eq!(found[0].description.as_deref(), Some("details"));
    assert_eq!(found[0].links, vec!["https://example.com/2".to_owned()]);
    assert_eq!(found[0].cvss3_score, Some(9.8));
    assert_eq!(found[0].cwe_ids, vec!["CWE-79".to_owned()]);
    assert_eq!(found[0].layer, "sha256:layer");
}

/// An installed version that does not parse in its scheme matches nothing (and does not panic).
#[test]
fn unparsable_installed_versions_match_nothing() {
    let found = run(
        None,
        vec![pkg(PackageKind::Npm, "p", "not-a-version")],
        vec![entry("CVE-2024-1", "npm", "p", Some("2.0.0"))],
        vec![],
    );
    assert!(found.is_empty());
}
