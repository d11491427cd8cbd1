//! Each scheme against known orderings (tables), OSV range evaluation, and properties: no panic on arbitrary
//! strings, antisymmetry, transitivity on random triples of plausible versions.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failing test panics"
)]

use std::cmp::Ordering;

use proptest::prelude::*;

use super::{Scheme, Verdict, affected};
use crate::scan::model::{AffectedRange, RangeEvent, RangeKind};

/// Checks that every chain is strictly increasing in `scheme` (every pair, both ways).
fn assert_chains(scheme: Scheme, chains: &[&[&str]]) {
    for chain in chains {
        for (i, a) in chain.iter().enumerate() {
            for b in &chain[i + 1..] {
                assert_eq!(
                    scheme.compare(a, b),
                    Some(Ordering::Less),
                    "{scheme:?}: {a} < {b}"
                );
                assert_eq!(
                    scheme.compare(b, a),
                    Some(Ordering::Greater),
                    "{scheme:?}: {b} > {a}"
                );
            }
        }
    }
}

fn assert_equal(scheme: Scheme, pairs: &[(&str, &str)]) {
    for (a, b) in pairs {
        assert_eq!(
            scheme.compare(a, b),
            Some(Ordering::Equal),
            "{scheme:?}: {a} == {b}"
        );
    }
}

fn assert_unparsable(scheme: Scheme, versions: &[&str]) {
    for v in versions {
        assert_eq!(
            scheme.compare(v, "1"),
            None,
            "{scheme:?}: {v:?} must not parse"
        );
        assert!(!scheme.parses(v), "{scheme:?}: {v:?} must not parse");
    }
}

/// Debian orderings. Every pair was checked with `dpkg --compare-versions A lt B` (dpkg 1.21.22, Debian 12);
/// [`dpkg_agrees_with_the_dpkg_binary`] re-checks the table with the binary when it is installed.
///
/// One known difference of `debversion` 0.5.5 from dpkg, left out of the tables: an empty run of digits
/// against a run of zeros (`1.0.` vs `1.0.0`, `1.0a` vs `1.0a0`) is "less" for `debversion`, equal for dpkg.
/// No archive version is written that way.
const DPKG_CHAINS: &[&[&str]] = &[
    &[
        "1.0~~",
        "1.0~~a",
        "1.0~",
        "1.0~rc1",
        "1.0",
        "1.0-1",
        "1.0-1+b1",
        "1.0+dfsg-1",
        "1.0.1",
        "1:0.9",
    ],
    &[
        "3.0.9-1",
        "3.0.11-1~deb12u2",
        "3.0.11-1",
        "3.0.13-1~deb12u1",
        "3.0.14-1~deb12u2",
        "3.0.19-1~deb12u2",
    ],
    &["1.1.1n-0+deb11u4", "1.1.1w-0+deb11u1"],
    &[
        "2.36-9",
        "2.36-9+deb12u3",
        "2.36-9+deb12u6",
        "2.36-9+deb12u14",
    ],
    &[
        "7.88.1-10",
        "7.88.1-10+deb12u4",
        "7.88.1-10+deb12u5",
        "7.88.1-10+deb12u15",
    ],
    &["5.4.1-0.2", "5.4.1-1"],
    &["1.2.13.dfsg-1", "1:1.2.11.dfsg-4.1", "1:1.2.13.dfsg-1"],
    &["6.4-3", "6.4-4", "6.4+20230625-1"],
    &["3.40.0-2", "3.40.1-2"],
    &["5.36.0-7", "5.36.0-7+deb12u1", "5.36.0-7+deb12u2"],
    &["3.7.9-2", "3.7.9-2+deb12u4", "3.8.3-1"],
    &[
        "2.9.14+dfsg-1.2",
        "2.9.14+dfsg-1.3~deb12u1",
        "2.9.14+dfsg-1.3",
    ],
    &["252.6-1", "252.38-1~deb12u1"],
    &["1.0a", "1.0b", "1.0+", "1.0."],
];
const DPKG_EQUAL: &[(&str, &str)] = &[
    ("1.0", "1.00"),
    ("0:1.0", "1.0"),
    ("1.0-0", "1.0"),
    ("01.0", "1.0"),
];
const DPKG_INVALID: &[&str] = &["", "1.0 ", "1.0_1", "1.0!", "é1"];

#[test]
fn dpkg_orders_as_debian_does() {
    assert_chains(Scheme::Dpkg, DPKG_CHAINS);
    assert_equal(Scheme::Dpkg, DPKG_EQUAL);
    assert_unparsable(Scheme::Dpkg, DPKG_INVALID);
}

/// The tables above, and every pair of them, against the real `dpkg --compare-versions` (Debian's own order).
#[test]
fn dpkg_agrees_with_the_dpkg_binary() {
    let Ok(status) = std::process::Command::new("dpkg").arg("--version").output() else {
        eprintln!("dpkg is not installed: comparison against the binary skipped");
        return;
    };
    assert!(status.status.success());
    let all: Vec<&str> = DPKG_CHAINS.iter().flat_map(|c| c.iter().copied()).collect();
    // dpkg_lt(a, b) for every pair of one chain and a sample across chains.
    let dpkg_lt = |a: &str, b: &str| {
        std::process::Command::new("dpkg")
            .args(["--compare-versions", a, "lt", b])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    for (i, a) in all.iter().enumerate() {
        for b in all.iter().skip(i + 1).step_by(3) {
            let ours = Scheme::Dpkg.compare(a, b) == Some(Ordering::Less);
            assert_eq!(ours, dpkg_lt(a, b), "{a} < {b}: berth says {ours}");
        }
    }
    for (a, b) in DPKG_EQUAL {
        assert!(!dpkg_lt(a, b) && !dpkg_lt(b, a), "dpkg: {a} == {b}");
    }
    // And 300 random pairs of plausible versions (a fixed seed, so the test is repeatable).
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = proptest::string::string_regex(DPKG_PLAUSIBLE).unwrap();
    for _ in 0..300 {
        let a = strategy.new_tree(&mut runner).unwrap().current();
        let b = strategy.new_tree(&mut runner).unwrap().current();
        let ours = Scheme::Dpkg.compare(&a, &b);
        assert!(ours.is_some(), "{a} and {b} parse");
        assert_eq!(
            ours == Some(Ordering::Less),
            dpkg_lt(&a, &b),
            "{a} < {b}: berth says {ours:?}"
        );
    }
}

/// Alpine orderings: the secdb rules of the data README, then apk's suffix and revision rules.
const APK_CHAINS: &[&[&str]] = &[
    &["1.36.1-r2", "1.36.1-r6", "1.36.1-r7"],
    &["3.1.2-r0", "3.1.4-r0", "3.1.4-r1", "3.1.4-r5", "3.1.7-r0"],
    &["8.3.0-r0", "8.10.0-r0"],
    &["0.9.13", "1.2.4-r1", "1.2.4-r2", "1.2.4-r3"],
    &["1.2.12-r2", "1.2.13-r0", "1.2.13-r1"],
    &[
        "1.0_alpha",
        "1.0_alpha1",
        "1.0_alpha2",
        "1.0_beta",
        "1.0_pre1",
        "1.0_rc1",
        "1.0_rc1-r1",
        "1.0_rc2",
        "1.0",
        "1.0-r0",
        "1.0-r1",
        "1.0-r10",
        "1.0~abc1",
        "1.0_cvs",
        "1.0_svn",
        "1.0_git20230101",
        "1.0_hg",
        "1.0_p1",
        "1.0_p2",
        "1.0_p10",
        "1.0a",
        "1.0b",
        "1.0.1",
        "1.1",
    ],
    &["1.01", "1.1", "1.9", "1.10"],
    &["1.0", "1.00", "1.1"],
    &["2.38-r0", "2.38.1-r0", "10.0-r0"],
    &["6.4_p20230506-r0", "6.4_p20231007-r0", "6.4_p20231007-r1"],
];
const APK_EQUAL: &[(&str, &str)] = &[("1.0_p", "1.0_p0"), ("01.2", "1.2"), ("1.2-r01", "1.2-r1")];
const APK_INVALID: &[&str] = &[
    "",
    "abc",
    "1.0-r",
    "1.0_foo",
    "1..0",
    "1.0-R1",
    "1.0 ",
    "v1.0",
    "1.0A",
    "1.0ab",
    "1.0-r1-r2",
    "1.0~",
    "1.0~xyz",
    ".1",
    "1.",
];

#[test]
fn apk_orders_as_alpine_does() {
    assert_chains(Scheme::Apk, APK_CHAINS);
    assert_equal(Scheme::Apk, APK_EQUAL);
    assert_unparsable(Scheme::Apk, APK_INVALID);
}

#[test]
fn rpm_orders_as_rpmvercmp_does() {
    assert_chains(
        Scheme::Rpm,
        &[
            &["1:9.9-1", "2:1.0-1"],
            &[
                "1.0~rc1-1",
                "1.0-1",
                "1.0-1.el9",
                "1.0-2.el9",
                "1.0^post1-1",
                "1.0a-1",
                "1.0.1-1",
            ],
            &["3.0.7-18.el9_2", "3.0.7-24.el9", "1:3.0.7-1.el9"],
            &["2.28-225.el8", "2.28-225.el8_8.6", "2.34-60.el9"],
        ],
    );
    assert_equal(Scheme::Rpm, &[("0:1.0-1", "1.0-1"), ("1.0-1", "1.00-1")]);
    assert_unparsable(
        Scheme::Rpm,
        &["", "a:1.0", ":1.0", "1.0 -1", "1.0\n", "-1", "1:2:3"],
    );
}

#[test]
fn pep440_orders_as_pypi_does() {
    assert_chains(
        Scheme::Pep440,
        &[
            &[
                "1.0.dev1",
                "1.0a1",
                "1.0b2",
                "1.0rc1",
                "1.0",
                "1.0+local",
                "1.0.post1",
                "1.0.1",
                "1!0.1",
            ],
            &["2.0.0rc1", "2.0.0", "2.0.1"],
            &["0.9", "0.10", "1.2.3"],
        ],
    );
    assert_equal(
        Scheme::Pep440,
        &[("1.0", "1.0.0"), ("1.0RC1", "1.0rc1"), ("v1.0", "1.0")],
    );
    assert_unparsable(Scheme::Pep440, &["", "abc", "1.0-foo bar", "1..0"]);
}

#[test]
fn semver_orders_by_precedence() {
    assert_chains(
        Scheme::Semver,
        &[
            &[
                "0.0.0-0",
                "0.2.33",
                "0.2.36",
                "0.10.0",
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-alpha.beta",
            ],
            &[
                "1.0.0-beta",
                "1.0.0-beta.2",
                "1.0.0-beta.11",
                "1.0.0-rc.1",
                "1.0.0",
                "1.0.1",
                "2.0.0",
            ],
        ],
    );
    assert_equal(
        Scheme::Semver,
        &[("1.0.0+build.1", "1.0.0"), ("1.0.0+a", "1.0.0+b")],
    );
    assert_unparsable(
        Scheme::Semver,
        &["", "v1.0.0", "1.0", "1.0.0.0", "01.0.0", "1.0.0-"],
    );
}

#[test]
fn npm_orders_as_node_semver_does() {
    assert_chains(
        Scheme::Npm,
        &[
            &["1.6.0", "2.1.4", "2.8.9", "3.0.0-rc.1", "3.0.0"],
            &["0.0.1", "0.0.8"],
            &["2.5.0", "4.1.3"],
            &["2.88.2", "2.88.3"],
        ],
    );
    assert_equal(Scheme::Npm, &[("v2.8.9", "2.8.9"), ("1.0.0+x", "1.0.0")]);
    assert_unparsable(Scheme::Npm, &["", "abc", "1.x", "latest"]);
}

#[test]
fn go_orders_modules_and_the_toolchain() {
    assert_chains(
        Scheme::Go,
        &[
            &["v1.3.1", "1.3.2"],
            &["v1.0.0", "1.1.0"],
            &[
                "v0.0.0-20191109021931-daa7c04131f5",
                "0.0.0-20200101000000-abcdef123456",
                "v0.1.0-0.20200101000000-abcdef123456",
                "v0.1.0",
            ],
            &[
                "go1.20.5",
                "1.20.6",
                "go1.21rc2",
                "go1.21",
                "go1.21.5",
                "go1.22rc1",
                "1.22.0",
            ],
        ],
    );
    assert_equal(
        Scheme::Go,
        &[
            ("v2.0.0+incompatible", "2.0.0"),
            ("go1.21", "1.21.0"),
            ("go1.22rc1", "1.22.0-rc.1"),
            ("go1.9", "v1.9.0"),
        ],
    );
    assert_unparsable(
        Scheme::Go,
        &[
            "", "vv1.0.0", "go", "go1.21x1", "1.2.3.4", "gofoo", "v1.0.0 ",
        ],
    );
}

#[test]
fn ecosystems_map_to_their_schemes() {
    for (ecosystem, scheme) in [
        ("Debian:12", Some(Scheme::Dpkg)),
        ("Debian", Some(Scheme::Dpkg)),
        ("Ubuntu:22.04:LTS", Some(Scheme::Dpkg)),
        ("Alpine:v3.18", Some(Scheme::Apk)),
        ("Wolfi", Some(Scheme::Apk)),
        ("Chainguard", Some(Scheme::Apk)),
        ("AlmaLinux:9", Some(Scheme::Rpm)),
        ("Rocky Linux:9", Some(Scheme::Rpm)),
        ("PyPI", Some(Scheme::Pep440)),
        ("npm", Some(Scheme::Npm)),
        ("Go", Some(Scheme::Go)),
        ("crates.io", Some(Scheme::Semver)),
        ("Maven", None),
        ("Packagist:https://packages.drupal.org/8", None),
        ("OSS-Fuzz", None),
        ("", None),
    ] {
        assert_eq!(Scheme::for_ecosystem(ecosystem), scheme, "{ecosystem}");
    }
}

#[test]
fn over_long_versions_are_not_compared() {
    let long = format!("1.{}", "0".repeat(super::MAX_VERSION_LEN));
    for scheme in SCHEMES {
        assert_eq!(scheme.compare(&long, "1.0.0"), None, "{scheme:?}");
    }
}

// ---------------------------------------------------------------- ranges

fn range(kind: RangeKind, events: &[(&str, &str)]) -> AffectedRange {
    AffectedRange {
        kind,
        events: events
            .iter()
            .map(|(what, v)| {
                let v = (*v).to_owned();
                match *what {
                    "introduced" => RangeEvent::Introduced(v),
                    "fixed" => RangeEvent::Fixed(v),
                    "last_affected" => RangeEvent::LastAffected(v),
                    _ => RangeEvent::Limit(v),
                }
            })
            .collect(),
    }
}

fn eco(events: &[(&str, &str)]) -> Vec<AffectedRange> {
    vec![range(RangeKind::Ecosystem, events)]
}

fn fixed(v: &str) -> Verdict {
    Verdict::Affected {
        fix: Some(v.to_owned()),
    }
}

const NO_FIX: Verdict = Verdict::Affected { fix: None };

#[test]
fn introduced_zero_to_fixed() {
    let r = eco(&[("introduced", "0"), ("fixed", "3.0.11-1~deb12u2")]);
    assert_eq!(
        affected(Scheme::Dpkg, "3.0.9-1", &r, &[]),
        fixed("3.0.11-1~deb12u2")
    );
    // Equal to the fix: fixed.
    assert_eq!(
        affected(Scheme::Dpkg, "3.0.11-1~deb12u2", &r, &[]),
        Verdict::NotAffected
    );
    assert_eq!(
        affected(Scheme::Dpkg, "3.0.19-1~deb12u2", &r, &[]),
        Verdict::NotAffected
    );
}

#[test]
fn introduced_above_zero() {
    // ALPINE-CVE-2025-26519: introduced 0.9.13, fixed 1.2.4-r3 (apk order).
    let r = eco(&[("introduced", "0.9.13"), ("fixed", "1.2.4-r3")]);
    assert_eq!(
        affected(Scheme::Apk, "0.9.12-r0", &r, &[]),
        Verdict::NotAffected
    );
    assert_eq!(affected(Scheme::Apk, "0.9.13", &r, &[]), fixed("1.2.4-r3"));
    assert_eq!(
        affected(Scheme::Apk, "1.2.4-r2", &r, &[]),
        fixed("1.2.4-r3")
    );
    assert_eq!(
        affected(Scheme::Apk, "1.2.4-r3", &r, &[]),
        Verdict::NotAffected
    );
}

#[test]
fn last_affected_is_inclusive_and_offers_no_fix() {
    // GHSA-p8p7-x288-28g6 (request): introduced 0, last_affected 2.88.2.
    let r = eco(&[("introduced", "0"), ("last_affected", "2.88.2")]);
    assert_eq!(affected(Scheme::Npm, "2.88.2", &r, &[]), NO_FIX);
    assert_eq!(affected(Scheme::Npm, "2.0.0", &r, &[]), NO_FIX);
    assert_eq!(
        affected(Scheme::Npm, "2.88.3", &r, &[]),
        Verdict::NotAffected
    );
}

#[test]
fn several_pairs_in_one_range_and_several_ranges() {
    let r = vec![range(
        RangeKind::Semver,
        &[
            ("introduced", "1.0.0"),
            ("fixed", "1.0.2"),
            ("introduced", "3.0.0"),
            ("fixed", "3.2.5"),
        ],
    )];
    assert_eq!(
        affected(Scheme::Semver, "0.9.0", &r, &[]),
        Verdict::NotAffected
    );
    assert_eq!(affected(Scheme::Semver, "1.0.1", &r, &[]), fixed("1.0.2"));
    assert_eq!(
        affected(Scheme::Semver, "2.0.0", &r, &[]),
        Verdict::NotAffected
    );
    assert_eq!(affected(Scheme::Semver, "3.1.0", &r, &[]), fixed("3.2.5"));
    assert_eq!(
        affected(Scheme::Semver, "3.2.5", &r, &[]),
        Verdict::NotAffected
    );
    // The same, written as two ranges and out of order.
    let r = vec![
        range(
            RangeKind::Semver,
            &[("fixed", "3.2.5"), ("introduced", "3.0.0")],
        ),
        range(
            RangeKind::Semver,
            &[("introduced", "1.0.0"), ("fixed", "1.0.2")],
        ),
    ];
    assert_eq!(affected(Scheme::Semver, "3.1.0", &r, &[]), fixed("3.2.5"));
    assert_eq!(affected(Scheme::Semver, "1.0.0", &r, &[]), fixed("1.0.2"));
    assert_eq!(
        affected(Scheme::Semver, "2.0.0", &r, &[]),
        Verdict::NotAffected
    );
}

#[test]
fn ghsa_hosted_git_info_two_ranges() {
    // GHSA-43f8-2h32-f4cj: [0, 2.8.9) and [3.0.0, 3.0.8), npm SEMVER ranges.
    let r = vec![
        range(
            RangeKind::Semver,
            &[("introduced", "0"), ("fixed", "2.8.9")],
        ),
        range(
            RangeKind::Semver,
            &[("introduced", "3.0.0"), ("fixed", "3.0.8")],
        ),
    ];
    assert_eq!(affected(Scheme::Npm, "2.1.4", &r, &[]), fixed("2.8.9"));
    assert_eq!(affected(Scheme::Npm, "1.6.0", &r, &[]), fixed("2.8.9"));
    assert_eq!(affected(Scheme::Npm, "3.0.7", &r, &[]), fixed("3.0.8"));
    assert_eq!(
        affected(Scheme::Npm, "2.8.9", &r, &[]),
        Verdict::NotAffected
    );
    assert_eq!(
        affected(Scheme::Npm, "4.0.0", &r, &[]),
        Verdict::NotAffected
    );
}

#[test]
fn the_lowest_fix_above_the_installed_version_is_offered() {
    // Two fixed events in one range (a backport and a mainline fix).
    let r = eco(&[("introduced", "0"), ("fixed", "2.0.0"), ("fixed", "1.5.0")]);
    assert_eq!(affected(Scheme::Semver, "1.0.0", &r, &[]), fixed("1.5.0"));
    // Overlapping ranges: the lowest fix wins.
    let r = vec![
        range(
            RangeKind::Ecosystem,
            &[("introduced", "0"), ("fixed", "1.9.0")],
        ),
        range(
            RangeKind::Ecosystem,
            &[("introduced", "1.0.0"), ("fixed", "1.2.0")],
        ),
    ];
    assert_eq!(affected(Scheme::Semver, "1.1.0", &r, &[]), fixed("1.2.0"));
}

#[test]
fn introduced_and_fixed_at_the_same_version_is_empty() {
    // How an importer may write Alpine's `"0"` key or Debian's `fixed_version: "0"`: never affected.
    let r = eco(&[("introduced", "0"), ("fixed", "0")]);
    assert_eq!(
        affected(Scheme::Apk, "1.0-r0", &r, &[]),
        Verdict::NotAffected
    );
    let r = eco(&[("introduced", "1.0.0"), ("fixed", "1.0.0")]);
    assert_eq!(
        affected(Scheme::Semver, "1.0.0", &r, &[]),
        Verdict::NotAffected
    );
}

#[test]
fn an_open_range_is_affected_without_a_fix() {
    let r = eco(&[("introduced", "0")]);
    assert_eq!(affected(Scheme::Dpkg, "1:1.2.13.dfsg-1", &r, &[]), NO_FIX);
}

#[test]
fn limits_bound_the_range() {
    let r = eco(&[("introduced", "0"), ("limit", "2.0.0")]);
    assert_eq!(affected(Scheme::Semver, "1.9.9", &r, &[]), NO_FIX);
    assert_eq!(
        affected(Scheme::Semver, "2.0.0", &r, &[]),
        Verdict::NotAffected
    );
    let r = eco(&[("introduced", "0"), ("limit", "2.0.0"), ("limit", "3.0.0")]);
    assert_eq!(affected(Scheme::Semver, "2.5.0", &r, &[]), NO_FIX);
    assert_eq!(
        affected(Scheme::Semver, "3.0.0", &r, &[]),
        Verdict::NotAffected
    );
}

#[test]
fn explicit_versions_match_alone() {
    let listed = vec!["1.2.3".to_owned(), "v1.4.0".to_owned()];
    assert_eq!(affected(Scheme::Semver, "1.2.3", &[], &listed), NO_FIX);
    assert_eq!(affected(Scheme::Go, "v1.2.3", &[], &listed), NO_FIX);
    assert_eq!(affected(Scheme::Go, "1.4.0", &[], &listed), NO_FIX);
    assert_eq!(
        affected(Scheme::Semver, "1.2.4", &[], &listed),
        Verdict::NotAffected
    );
}

#[test]
fn git_ranges_are_ignored() {
    let r = vec![range(
        RangeKind::Git,
        &[("introduced", "0"), ("fixed", "abc123")],
    )];
    assert_eq!(
        affected(Scheme::Semver, "1.0.0", &r, &[]),
        Verdict::NotAffected
    );
}

#[test]
fn semver_ranges_read_go_spellings() {
    // GO-2021-0053 (gogo/protobuf): SEMVER [0, 1.3.2); go.sum says v1.3.1.
    let r = vec![range(
        RangeKind::Semver,
        &[("introduced", "0"), ("fixed", "1.3.2")],
    )];
    assert_eq!(affected(Scheme::Go, "v1.3.1", &r, &[]), fixed("1.3.2"));
    assert_eq!(
        affected(Scheme::Go, "v1.3.2", &r, &[]),
        Verdict::NotAffected
    );
    // RUSTSEC: `-0` pre-release bounds.
    let r = vec![range(
        RangeKind::Semver,
        &[("introduced", "0.0.0-0"), ("fixed", "0.2.36")],
    )];
    assert_eq!(affected(Scheme::Semver, "0.2.33", &r, &[]), fixed("0.2.36"));
    assert_eq!(
        affected(Scheme::Semver, "0.2.36", &r, &[]),
        Verdict::NotAffected
    );
}

#[test]
fn unparsable_versions_decide_nothing() {
    let r = eco(&[("introduced", "0"), ("fixed", "1.0.0")]);
    assert_eq!(
        affected(Scheme::Semver, "not a version", &r, &[]),
        Verdict::Unparsable
    );
    // A range whose event does not parse is skipped; the others still count.
    let r = vec![
        range(
            RangeKind::Ecosystem,
            &[("introduced", "0"), ("fixed", "garbage!")],
        ),
        range(
            RangeKind::Ecosystem,
            &[("introduced", "0"), ("fixed", "2.0.0")],
        ),
    ];
    assert_eq!(affected(Scheme::Semver, "1.0.0", &r, &[]), fixed("2.0.0"));
}

// ---------------------------------------------------------------- properties

const SCHEMES: [Scheme; 7] = [
    Scheme::Dpkg,
    Scheme::Apk,
    Scheme::Rpm,
    Scheme::Pep440,
    Scheme::Semver,
    Scheme::Npm,
    Scheme::Go,
];

/// Plausible Debian versions: every run of digits is non-empty where dpkg and `debversion` differ on empty
/// ones (see [`DPKG_CHAINS`]).
const DPKG_PLAUSIBLE: &str = "([0-2]:)?[0-9]{1,2}(\\.[0-9]{1,2}[a-c]?){0,2}([~+][a-z]{1,3}[0-9]{1,2})?(-[0-9]{1,2}([.+~][a-z]{1,4}[0-9])?)?";

/// Plausible versions of a scheme (so most parse and the order is exercised, not just the parser).
fn plausible(scheme: Scheme) -> BoxedStrategy<String> {
    let pattern = match scheme {
        Scheme::Dpkg => DPKG_PLAUSIBLE,
        Scheme::Apk => {
            "[0-9]{1,2}(\\.[0-9]{1,2}){0,2}[a-c]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]{0,2}){0,2}(~[0-9a-f]{1,3})?(-r[0-9]{1,2})?"
        }
        Scheme::Rpm => {
            "([0-2]:)?[0-9]{1,2}(\\.[0-9a-c]{1,2}){0,2}([~^][a-z0-9]{1,3})?(-[0-9]{1,2}(\\.el[89](_[0-9])?)?)?"
        }
        Scheme::Pep440 => {
            "([0-2]!)?[0-9]{1,2}(\\.[0-9]{1,2}){0,2}((a|b|rc)[0-9])?(\\.post[0-9])?(\\.dev[0-9])?(\\+[a-z0-9]{1,3})?"
        }
        Scheme::Semver | Scheme::Npm => {
            "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}(-[0-9a-z]{1,3}(\\.[0-9a-z]{1,3}){0,2})?(\\+[a-z0-9]{1,3})?"
        }
        Scheme::Go => {
            "(v|go)?[0-9]{1,2}\\.[0-9]{1,2}(\\.[0-9]{1,2})?(-[0-9a-z]{1,3}(\\.[0-9a-z]{1,3}){0,2}|rc[0-9])?(\\+incompatible)?"
        }
    };
    prop_oneof![
        9 => proptest::string::string_regex(pattern).expect("pattern").boxed(),
        1 => any::<String>().boxed(),
    ]
    .boxed()
}

fn scheme() -> impl Strategy<Value = Scheme> {
    proptest::sample::select(SCHEMES.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(s in scheme(), a in any::<String>(), b in "\\PC{0,40}") {
        let _ = s.compare(&a, &b);
        let _ = s.compare(&b, &a);
        let ranges = [range(RangeKind::Ecosystem, &[("introduced", &b), ("fixed", &a)])];
        let _ = affected(s, &a, &ranges, std::slice::from_ref(&b));
    }

    #[test]
    fn antisymmetric_and_transitive(
        (s, a, b, c) in scheme().prop_flat_map(|s| (Just(s), plausible(s), plausible(s), plausible(s)))
    ) {
        let ab = s.compare(&a, &b);
        prop_assert_eq!(ab.map(Ordering::reverse), s.compare(&b, &a));
        prop_assert_eq!(s.compare(&a, &a).is_none_or(Ordering::is_eq), true);
        if let (Some(ab), Some(bc), Some(ac)) = (ab, s.compare(&b, &c), s.compare(&a, &c)) {
            if ab.is_le() && bc.is_le() {
                prop_assert!(ac.is_le(), "{:?}: {} <= {} <= {} but {:?}", s, a, b, c, ac);
            }
            if ab.is_eq() && bc.is_eq() {
                prop_assert!(ac.is_eq());
            }
        }
    }
}
