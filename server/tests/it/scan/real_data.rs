//! The expected matches and non-matches of the test data's README (§5, §6), found by the built-in scanner in
//! images pushed with skopeo.

use super::*;

/// The findings with no fix and the negligible ones, the same for both Debian 12 images (README §5).
pub(super) const DEBIAN_UNFIXED: [(&str, &str, &str); 15] = [
    ("zlib", "CVE-2023-45853", ""),
    ("expat", "CVE-2023-52425", ""),
    ("expat", "CVE-2024-8176", ""),
    ("sqlite3", "CVE-2023-7104", ""),
    ("sqlite3", "CVE-2025-6965", ""),
    ("libxml2", "CVE-2025-49794", ""),
    ("systemd", "CVE-2023-7008", ""),
    ("curl", "CVE-2024-2398", ""),
    ("ncurses", "CVE-2023-50495", ""),
    ("gnutls28", "CVE-2024-0553", ""),
    ("openssl", "CVE-2025-9230", ""),
    ("tar", "CVE-2005-2541", ""),
    ("tar", "CVE-2022-48303", ""),
    ("openssl", "CVE-2007-6755", ""),
    ("glibc", "CVE-2019-1010022", ""),
];

/// D1–D11: what Debian fixed in bookworm after 12.0.
pub(super) const DEBIAN_FIXED: [(&str, &str, &str); 12] = [
    ("openssl", "CVE-2023-5363", "3.0.11-1~deb12u2"),
    ("openssl", "CVE-2023-5678", "3.0.13-1~deb12u1"),
    ("openssl", "CVE-2024-6119", "3.0.14-1~deb12u2"),
    ("glibc", "CVE-2023-4911", "2.36-9+deb12u3"),
    ("glibc", "CVE-2024-2961", "2.36-9+deb12u6"),
    ("curl", "CVE-2023-38545", "7.88.1-10+deb12u4"),
    ("curl", "CVE-2023-46218", "7.88.1-10+deb12u5"),
    ("expat", "CVE-2024-45490", "2.5.0-1+deb12u1"),
    ("xz-utils", "CVE-2025-31115", "5.4.1-1"),
    ("perl", "CVE-2024-56406", "5.36.0-7+deb12u2"),
    ("perl", "CVE-2023-47038", "5.36.0-7+deb12u1"),
    ("gnutls28", "CVE-2024-12243", "3.7.9-2+deb12u4"),
];

pub(super) const DEBIAN_FILES: [&str; 2] = ["etc/os-release", "var/lib/dpkg/status"];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn real_debian_and_alpine_images_have_exactly_the_expected_findings() {
    crate::images::require_tool("skopeo");
    let server = TestServer::start().await;
    import_advisories(&server).await;
    server.create_project("scans", false).await;
    let env = ClientEnv::new();
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));

    // Debian 12.0's versions: D1–D11 and every unfixed and negligible finding; nothing else (N2–N7).
    push(
        &server,
        &env,
        work.path(),
        "debian-12.0",
        &[package_files("debian12-derived-12.0", &DEBIAN_FILES)],
    );
    // The fully updated host: only the unfixed and negligible ones (N1).
    push(
        &server,
        &env,
        work.path(),
        "debian-host",
        &[package_files("debian12-host", &DEBIAN_FILES)],
    );
    // Alpine 3.18: the datadog excerpt's installed packages over the minirootfs's OS identity (A1–A3, N9).
    let mut datadog = package_files(
        "alpine3.18-minirootfs-3.18.9",
        &["etc/os-release", "etc/alpine-release"],
    );
    datadog.extend(package_files(
        "alpine3.18-datadog-excerpt",
        &["lib/apk/db/installed"],
    ));
    push(&server, &env, work.path(), "alpine-datadog", &[datadog]);
    // The minirootfs alone: musl's CVE-2025-26519 only (A4, N8, N10).
    push(
        &server,
        &env,
        work.path(),
        "alpine-minirootfs",
        &[package_files(
            "alpine3.18-minirootfs-3.18.9",
            &[
                "etc/os-release",
                "etc/alpine-release",
                "lib/apk/db/installed",
            ],
        )],
    );

    let report = scan_and_wait(&server, "debian-12.0").await;
    let mut want = expected(&DEBIAN_FIXED);
    want.extend(expected(&DEBIAN_UNFIXED));
    assert_eq!(findings(&report), want, "Debian 12.0 findings");
    let negligible: BTreeSet<&str> = report["vulnerabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["severity"] == "Negligible")
        .filter_map(|v| v["id"].as_str())
        .collect();
    assert_eq!(
        negligible,
        BTreeSet::from([
            "CVE-2005-2541",
            "CVE-2022-48303",
            "CVE-2007-6755",
            "CVE-2019-1010022"
        ]),
        "unimportant urgencies are Negligible"
    );
    let libssl: Vec<&Value> = report["vulnerabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["id"] == "CVE-2023-5363")
        .collect();
    assert!(
        libssl
            .iter()
            .any(|v| v["package"] == "libssl3" && v["version"] == "3.0.9-1"),
        "findings name the installed binary package: {libssl:?}"
    );

    let report = scan_and_wait(&server, "debian-host").await;
    assert_eq!(
        findings(&report),
        expected(&DEBIAN_UNFIXED),
        "updated Debian 12 findings"
    );

    let report = scan_and_wait(&server, "alpine-datadog").await;
    assert_eq!(
        findings(&report),
        expected(&[
            ("openssl", "CVE-2023-5363", "3.1.4-r0"),
            ("openssl", "CVE-2023-5678", "3.1.4-r1"),
            ("openssl", "CVE-2023-6129", "3.1.4-r3"),
            ("openssl", "CVE-2023-6237", "3.1.4-r4"),
            ("openssl", "CVE-2024-0727", "3.1.4-r5"),
            ("busybox", "CVE-2023-42366", "1.36.1-r6"),
            ("busybox", "CVE-2023-42363", "1.36.1-r7"),
            ("busybox", "CVE-2023-42364", "1.36.1-r7"),
            ("busybox", "CVE-2023-42365", "1.36.1-r7"),
            ("musl", "CVE-2025-26519", "1.2.4-r3"),
        ]),
        "Alpine datadog excerpt findings"
    );

    let report = scan_and_wait(&server, "alpine-minirootfs").await;
    assert_eq!(
        findings(&report),
        expected(&[("musl", "CVE-2025-26519", "1.2.4-r3")]),
        "Alpine minirootfs findings"
    );
    server.stop().await;
}
