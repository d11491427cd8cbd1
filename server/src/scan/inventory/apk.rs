//! apk: `lib/apk/db/installed` (Alpine, Wolfi, Chainguard). Stanzas separated by blank lines, one `X:value`
//! field per line: `P:` name, `V:` version, `A:` architecture, `o:` origin (the source package secdb names),
//! `L:` licence.

use crate::scan::model::{Package, PackageKind};

use super::Origin;

/// The packages of an apk database, at most `max`; the second value is true when more were listed.
pub(super) fn parse(text: &str, origin: &Origin<'_>, max: usize) -> (Vec<Package>, bool) {
    let mut packages = Vec::new();
    let mut current = Fields::default();
    for line in text.lines().chain(std::iter::once("")) {
        if line.trim().is_empty() {
            if let Some(package) = std::mem::take(&mut current).into_package(origin) {
                if packages.len() >= max {
                    return (packages, true);
                }
                packages.push(package);
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "P" => current.name = Some(value),
            "V" => current.version = Some(value),
            "A" => current.arch = Some(value),
            "o" => current.origin = Some(value),
            "L" => current.license = Some(value),
            _ => {}
        }
    }
    (packages, false)
}

#[derive(Default)]
struct Fields<'t> {
    name: Option<&'t str>,
    version: Option<&'t str>,
    arch: Option<&'t str>,
    origin: Option<&'t str>,
    license: Option<&'t str>,
}

impl Fields<'_> {
    fn into_package(self, origin: &Origin<'_>) -> Option<Package> {
        let name = self.name.filter(|n| !n.is_empty())?;
        let version = self.version.filter(|v| !v.is_empty())?;
        let mut package = origin.package(PackageKind::Apk, name, version);
        package.source_name = self
            .origin
            .filter(|o| !o.is_empty() && *o != name)
            .map(str::to_owned);
        package.arch = self.arch.filter(|a| !a.is_empty()).map(str::to_owned);
        package.license = self.license.filter(|l| !l.is_empty()).map(str::to_owned);
        Some(package)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: Origin<'static> = Origin {
        path: "lib/apk/db/installed",
        layer: "sha256:l1",
    };

    fn installed(folder: &str) -> String {
        crate::scan::inventory::test_data(&format!("{folder}/lib/apk/db/installed"))
    }

    #[test]
    fn reads_the_15_packages_of_the_minirootfs_with_origins() {
        let (packages, truncated) =
            parse(&installed("alpine3.18-minirootfs-3.18.9"), &ORIGIN, 1000);
        assert!(!truncated);
        assert_eq!(packages.len(), 15);
        let find = |name: &str| packages.iter().find(|p| p.name == name);
        let musl_utils = find("musl-utils");
        assert_eq!(musl_utils.map(|p| p.version.as_str()), Some("1.2.4-r2"));
        assert_eq!(
            musl_utils.and_then(|p| p.source_name.as_deref()),
            Some("musl")
        );
        assert_eq!(
            find("libssl3").and_then(|p| p.source_name.as_deref()),
            Some("openssl")
        );
        assert_eq!(
            find("ssl_client").and_then(|p| p.source_name.as_deref()),
            Some("busybox")
        );
        let base = find("alpine-baselayout");
        assert_eq!(
            base.and_then(|p| p.license.as_deref()),
            Some("GPL-2.0-only")
        );
        assert_eq!(base.and_then(|p| p.arch.as_deref()), Some("x86_64"));
        assert_eq!(base.and_then(|p| p.source_name.as_deref()), None);
    }

    #[test]
    fn reads_the_datadog_excerpt() {
        let (packages, _) = parse(&installed("alpine3.18-datadog-excerpt"), &ORIGIN, 1000);
        let libssl = packages.iter().find(|p| p.name == "libssl3");
        assert_eq!(libssl.map(|p| p.version.as_str()), Some("3.1.2-r0"));
        assert_eq!(
            libssl.and_then(|p| p.source_name.as_deref()),
            Some("openssl")
        );
        assert!(
            packages
                .iter()
                .any(|p| p.name == "ssl_client" && p.version == "1.36.1-r2")
        );
    }

    #[test]
    fn a_stanza_without_version_is_skipped_and_the_cap_holds() {
        let (packages, _) = parse("P:a\n\nP:b\nV:1-r0\n", &ORIGIN, 10);
        assert_eq!(packages.len(), 1);
        let (packages, truncated) = parse("P:a\nV:1\n\nP:b\nV:1\n", &ORIGIN, 1);
        assert_eq!((packages.len(), truncated), (1, true));
    }
}
