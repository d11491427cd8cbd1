//! Python distributions: `*.dist-info/METADATA` and `*.egg-info/PKG-INFO` (or an `*.egg-info` file), in
//! `site-packages` or `dist-packages`. The core metadata header (RFC 822 style, up to the first blank line) gives
//! `Name`, `Version` and `License` (or `License-Expression`, metadata 2.4).

use crate::scan::model::{Package, PackageKind};

use super::Origin;

/// The one distribution a metadata file describes (none when it lacks a name or version).
pub(super) fn parse(text: &str, origin: &Origin<'_>, max: usize) -> (Vec<Package>, bool) {
    let (mut name, mut version, mut license, mut expression) = (None, None, None, None);
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.to_ascii_lowercase().as_str() {
            "name" => name = Some(value),
            "version" => version = Some(value),
            "license" => license = Some(value),
            "license-expression" => expression = Some(value),
            _ => {}
        }
    }
    let (Some(name), Some(version)) = (name, version) else {
        return (Vec::new(), false);
    };
    if name.is_empty() || version.is_empty() {
        return (Vec::new(), false);
    }
    if max == 0 {
        return (Vec::new(), true);
    }
    let mut package = origin.package(PackageKind::Python, name, version);
    package.license = expression
        .or(license)
        .filter(|l| !l.is_empty() && !l.eq_ignore_ascii_case("UNKNOWN"))
        .map(str::to_owned);
    (vec![package], false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: Origin<'static> = Origin {
        path: "usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA",
        layer: "sha256:l1",
    };

    /// The data folder has no Python metadata; this restates the header of requests 2.28.1's `METADATA` in the
    /// core metadata 2.1 shape (written here, not copied), with a description that looks like a field.
    const REQUESTS_METADATA: &str = "Metadata-Version: 2.1\nName: requests\nVersion: 2.28.1\n\
        Summary: Python HTTP for Humans.\nHome-page: https://requests.readthedocs.io\nAuthor: Kenneth Reitz\n\
        Author-email: me@kennethreitz.org\nLicense: Apache 2.0\nProject-URL: Source, https://github.com/psf/requests\n\
        Platform: UNKNOWN\nClassifier: License :: OSI Approved :: Apache Software License\n\
        Requires-Python: >=3.7, <4\nDescription-Content-Type: text/markdown\nLicense-File: LICENSE\n\
        Requires-Dist: charset-normalizer (<3,>=2)\n\n# Requests\n\nName: not-a-field\n";

    #[test]
    fn reads_name_version_and_licence_from_the_header_only() {
        let (packages, _) = parse(REQUESTS_METADATA, &ORIGIN, 10);
        assert_eq!(packages.len(), 1);
        assert_eq!(packages[0].name, "requests");
        assert_eq!(packages[0].version, "2.28.1");
        assert_eq!(packages[0].license.as_deref(), Some("Apache 2.0"));
        assert_eq!(packages[0].kind, PackageKind::Python);
    }

    #[test]
    fn prefers_a_license_expression_and_drops_unknown() {
        let (p, _) = parse("Name: a\nVersion: 1\nLicense: UNKNOWN\n", &ORIGIN, 10);
        assert_eq!(p[0].license, None);
        let (p, _) = parse(
            "Name: a\nVersion: 1\nLicense-Expression: MIT\nLicense: x\n",
            &ORIGIN,
            10,
        );
        assert_eq!(p[0].license.as_deref(), Some("MIT"));
        let (p, _) = parse("Name: a\n", &ORIGIN, 10);
        assert!(p.is_empty());
    }
}
