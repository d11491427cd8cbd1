//! dpkg: `var/lib/dpkg/status` and the per-package files of `var/lib/dpkg/status.d/` (distroless images).
//!
//! Paragraphs are separated by blank lines; of each, `Package`, `Version`, `Architecture`, `Source: name
//! (version)` and `Status` are kept (continuation lines are ignored). Packages whose `Status` wants them removed
//! (`deinstall`, `purge`) or that are not installed (`not-installed`, `config-files`) are skipped, as Trivy does.

use crate::scan::model::{Package, PackageKind};

use super::Origin;

/// The installed packages of a dpkg status file, at most `max` of them; the second value is true when more were
/// listed.
pub(super) fn parse(text: &str, origin: &Origin<'_>, max: usize) -> (Vec<Package>, bool) {
    let mut packages = Vec::new();
    let mut truncated = false;
    for paragraph in paragraphs(text) {
        let Some(package) = package(paragraph, origin) else {
            continue;
        };
        if packages.len() >= max {
            truncated = true;
            break;
        }
        packages.push(package);
    }
    (packages, truncated)
}

/// The paragraphs of a control file: runs of lines separated by blank (or whitespace-only) lines.
fn paragraphs(text: &str) -> impl Iterator<Item = Vec<&str>> {
    let mut lines = text.lines().peekable();
    std::iter::from_fn(move || {
        while lines.peek().is_some_and(|l| l.trim().is_empty()) {
            lines.next();
        }
        lines.peek()?;
        let mut paragraph = Vec::new();
        while let Some(line) = lines.next_if(|l| !l.trim().is_empty()) {
            paragraph.push(line);
        }
        Some(paragraph)
    })
}

fn package(paragraph: Vec<&str>, origin: &Origin<'_>) -> Option<Package> {
    let (mut name, mut version, mut arch, mut source, mut status) = (None, None, None, None, None);
    for line in paragraph {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "Package" => name = Some(value),
            "Version" => version = Some(value),
            "Architecture" => arch = Some(value),
            "Source" => source = Some(value),
            "Status" => status = Some(value),
            _ => {}
        }
    }
    if status.is_some_and(|s| !is_installed(s)) {
        return None;
    }
    let name = name.filter(|n| !n.is_empty())?;
    let version = version.filter(|v| !v.is_empty())?;
    let (source_name, source_version) = match source {
        Some(source) => {
            let (source_name, source_version) = match source.split_once('(') {
                Some((n, v)) => (n.trim(), v.trim_end().strip_suffix(')').map(str::trim)),
                None => (source, None),
            };
            (
                Some(source_name).filter(|s| !s.is_empty() && *s != name),
                source_version.filter(|v| !v.is_empty() && *v != version),
            )
        }
        None => (None, None),
    };
    Some(Package {
        kind: PackageKind::Dpkg,
        name: name.to_owned(),
        version: version.to_owned(),
        source_name: source_name.map(str::to_owned),
        source_version: source_version.map(str::to_owned),
        arch: arch.filter(|a| !a.is_empty()).map(str::to_owned),
        license: None,
        path: origin.path.to_owned(),
        layer: origin.layer.to_owned(),
    })
}

/// `Status: <want> <flag> <state>`: installed unless the package is wanted removed or its files are not there.
fn is_installed(status: &str) -> bool {
    let words: Vec<&str> = status.split_whitespace().collect();
    let want = words.first().copied().unwrap_or_default();
    let state = words.last().copied().unwrap_or_default();
    !matches!(want, "deinstall" | "purge") && !matches!(state, "not-installed" | "config-files")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: Origin<'static> = Origin {
        path: "var/lib/dpkg/status",
        layer: "sha256:l1",
    };

    fn status(folder: &str) -> String {
        crate::scan::inventory::test_data(&format!("{folder}/var/lib/dpkg/status"))
    }

    #[test]
    fn reads_the_86_paragraphs_of_the_derived_status_with_their_sources() {
        let (packages, truncated) = parse(&status("debian12-derived-12.0"), &ORIGIN, 10_000);
        assert!(!truncated);
        assert_eq!(packages.len(), 86);
        let find = |name: &str| packages.iter().find(|p| p.name == name);
        let libssl = find("libssl3");
        assert_eq!(libssl.map(|p| p.version.as_str()), Some("3.0.9-1"));
        assert_eq!(
            libssl.and_then(|p| p.source_name.as_deref()),
            Some("openssl")
        );
        assert_eq!(libssl.and_then(|p| p.arch.as_deref()), Some("amd64"));
        assert_eq!(
            find("libc6").and_then(|p| p.source_name.as_deref()),
            Some("glibc")
        );
        assert_eq!(
            find("liblzma5").and_then(|p| p.source_name.as_deref()),
            Some("xz-utils")
        );
        assert_eq!(
            find("libgnutls30").and_then(|p| p.source_name.as_deref()),
            Some("gnutls28")
        );
        // A package whose source is itself has no separate source name.
        assert_eq!(find("apt").and_then(|p| p.source_name.as_deref()), None);
        assert!(
            packages
                .iter()
                .all(|p| p.kind == PackageKind::Dpkg && p.layer == "sha256:l1")
        );
        // Every `Source:` line that names another package is kept.
        let sources = status("debian12-derived-12.0")
            .lines()
            .filter(|l| l.starts_with("Source:"))
            .count();
        assert_eq!(sources, 62);
        let with_source = packages
            .iter()
            .filter(|p| p.source_name.is_some() || p.source_version.is_some());
        assert_eq!(with_source.count(), 62);
        // A binNMU: the source has the package's own name and an older version.
        let bash = find("bash");
        assert_eq!(bash.and_then(|p| p.source_name.as_deref()), None);
        assert_eq!(
            bash.and_then(|p| p.source_version.as_deref()),
            Some("5.2.15-2")
        );
    }

    #[test]
    fn keeps_a_source_version_in_parentheses() {
        let text = "Package: libperl5.36\nStatus: install ok installed\nVersion: 5.36.0-7+b1\nSource: perl (5.36.0-7)\n";
        let (packages, _) = parse(text, &ORIGIN, 10);
        assert_eq!(packages[0].source_name.as_deref(), Some("perl"));
        assert_eq!(packages[0].source_version.as_deref(), Some("5.36.0-7"));
    }

    #[test]
    fn skips_removed_and_not_installed_packages_and_continuations() {
        let text = "Package: a\nStatus: deinstall ok config-files\nVersion: 1\n\n\
                    Package: b\nStatus: purge ok installed\nVersion: 1\n\n\
                    Package: c\nStatus: install ok not-installed\nVersion: 1\n\n\
                    Package: d\nStatus: install ok installed\nVersion: 2\nDescription: x\n Package: evil\n\n\
                    Package: e\nVersion: 3\n\n\
                    Package: f\nStatus: install ok installed\n";
        let (packages, _) = parse(text, &ORIGIN, 10);
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["d", "e"]);
    }

    #[test]
    fn stops_at_the_package_cap() {
        let (packages, truncated) = parse(&status("debian12-host"), &ORIGIN, 10);
        assert_eq!(packages.len(), 10);
        assert!(truncated);
    }
}
