//! npm: `node_modules/<name>/package.json` and `node_modules/@scope/<name>/package.json` (each nested
//! `node_modules` holds packages of its own). `name`, `version` and `license` (a string, or the legacy
//! `{ "type": … }` object and `licenses` array).

use serde::Deserialize;

use crate::scan::model::{Package, PackageKind};

use super::Origin;

#[derive(Deserialize)]
struct Manifest {
    name: Option<String>,
    version: Option<String>,
    license: Option<serde_json::Value>,
    licenses: Option<Vec<serde_json::Value>>,
}

/// The package a `package.json` describes (none when it is not JSON or lacks a name or version).
pub(super) fn parse(text: &str, origin: &Origin<'_>, max: usize) -> (Vec<Package>, bool) {
    let Ok(manifest) = serde_json::from_str::<Manifest>(text) else {
        return (Vec::new(), false);
    };
    let (Some(name), Some(version)) = (manifest.name, manifest.version) else {
        return (Vec::new(), false);
    };
    if name.is_empty() || version.is_empty() {
        return (Vec::new(), false);
    }
    if max == 0 {
        return (Vec::new(), true);
    }
    let mut package = origin.package(PackageKind::Npm, &name, &version);
    package.license = manifest.license.as_ref().and_then(license).or_else(|| {
        let names: Vec<String> = manifest.licenses?.iter().filter_map(license).collect();
        (!names.is_empty()).then(|| names.join(" OR "))
    });
    (vec![package], false)
}

fn license(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::String(s) => s.as_str(),
        serde_json::Value::Object(o) => o.get("type")?.as_str()?,
        _ => return None,
    };
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: Origin<'static> = Origin {
        path: "app/node_modules/ansi-html/package.json",
        layer: "sha256:l1",
    };

    /// The data folder has no installed `node_modules`, only lock files; `npm-osv-scanner-insecure` pins
    /// `ansi-html` 0.0.1. This restates the fields of that package's `package.json` (written here, not copied).
    const ANSI_HTML: &str = r#"{"name":"ansi-html","version":"0.0.1","description":"An elegant lib that converts the chalked (ANSI) text to HTML.","main":"index.js","license":"Apache-2.0","bin":{"ansi-html":"./bin/ansi-html"}}"#;

    #[test]
    fn reads_name_version_and_licence() {
        let (p, _) = parse(ANSI_HTML, &ORIGIN, 10);
        assert_eq!(
            (
                p[0].name.as_str(),
                p[0].version.as_str(),
                p[0].license.as_deref()
            ),
            ("ansi-html", "0.0.1", Some("Apache-2.0"))
        );
        assert_eq!(p[0].kind, PackageKind::Npm);
    }

    #[test]
    fn reads_legacy_licence_shapes_and_ignores_bad_files() {
        let (p, _) = parse(
            r#"{"name":"@s/a","version":"1.0.0","license":{"type":"MIT"}}"#,
            &ORIGIN,
            10,
        );
        assert_eq!(
            (p[0].name.as_str(), p[0].license.as_deref()),
            ("@s/a", Some("MIT"))
        );
        let (p, _) = parse(
            r#"{"name":"a","version":"1","licenses":[{"type":"MIT"},{"type":"GPL-2.0"}]}"#,
            &ORIGIN,
            10,
        );
        assert_eq!(p[0].license.as_deref(), Some("MIT OR GPL-2.0"));
        assert!(parse("{", &ORIGIN, 10).0.is_empty());
        assert!(parse(r#"{"name":"a"}"#, &ORIGIN, 10).0.is_empty());
        assert!(
            parse(r#"{"name":1,"version":"1"}"#, &ORIGIN, 10)
                .0
                .is_empty()
        );
    }
}
