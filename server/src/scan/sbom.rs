//! SBOMs from a stored inventory, with no second pass over the layers: SPDX 2.3 JSON and CycloneDX 1.5 JSON
//! (design §5.7). Each package carries its package URL, its licence when the package database records one,
//! and the layer that installed it.

use std::collections::HashSet;

use packageurl::PackageUrl;
use serde_json::{Value, json};

use super::model::{Inventory, Package, PackageKind};

/// The SPDX media type (an SBOM accessory's layer, Harbor's `sbom_media_type`).
pub const SPDX_MEDIA_TYPE: &str = "application/spdx+json";
/// The CycloneDX media type.
pub const CYCLONEDX_MEDIA_TYPE: &str = "application/vnd.cyclonedx+json";

/// What an SBOM describes.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// `project/repository`.
    pub repository: &'a str,
    /// The artifact's digest.
    pub digest: &'a str,
    /// RFC 3339, second precision, UTC (`2026-12-06T10:00:00Z`).
    pub created: &'a str,
    /// A unique id for this document (a UUID), for SPDX's namespace and CycloneDX's serial number.
    pub document_id: &'a str,
    /// Berth's external URL (`https://registry.example.com`), the base of SPDX's document namespace.
    pub external_url: &'a str,
}

/// The package URL of `package` in an image whose OS is `inventory.os`, `None` when the spec has no type for it
/// or the name does not make a valid purl.
pub fn purl(inventory: &Inventory, package: &Package) -> Option<String> {
    let os = inventory.os.as_ref();
    let os_id = os.map(|o| o.id.as_str()).filter(|id| !id.is_empty());
    let (ty, namespace, name) = match package.kind {
        PackageKind::Dpkg => (
            "deb",
            Some(os_id.unwrap_or("debian").to_owned()),
            package.name.clone(),
        ),
        PackageKind::Apk => (
            "apk",
            Some(os_id.unwrap_or("alpine").to_owned()),
            package.name.clone(),
        ),
        PackageKind::Rpm => ("rpm", os_id.map(str::to_owned), package.name.clone()),
        PackageKind::Python => (
            "pypi",
            None,
            package.name.to_ascii_lowercase().replace('_', "-"),
        ),
        PackageKind::Npm => match package.name.split_once('/') {
            Some((scope, name)) if scope.starts_with('@') => {
                ("npm", Some(scope.to_owned()), name.to_owned())
            }
            _ => ("npm", None, package.name.clone()),
        },
        PackageKind::Cargo => ("cargo", None, package.name.clone()),
        PackageKind::Go => match package.name.rsplit_once('/') {
            Some((namespace, name)) => ("golang", Some(namespace.to_owned()), name.to_owned()),
            None => ("golang", None, package.name.clone()),
        },
    };
    let mut url = PackageUrl::new(ty, name).ok()?;
    if let Some(namespace) = namespace {
        url.with_namespace(namespace).ok()?;
    }
    url.with_version(package.version.clone()).ok()?;
    if let Some(arch) = package.arch.as_deref().filter(|a| !a.is_empty()) {
        url.add_qualifier("arch", arch.to_owned()).ok()?;
    }
    if matches!(
        package.kind,
        PackageKind::Dpkg | PackageKind::Apk | PackageKind::Rpm
    ) && let Some(os) = os.filter(|o| !o.version_id.is_empty())
    {
        url.add_qualifier("distro", format!("{}-{}", os.id, os.version_id))
            .ok()?;
    }
    Some(url.to_string())
}

/// The packages to list: one per package URL (two copies of the same npm package at two paths are one
/// component), in inventory order, with their purls.
fn listed(inventory: &Inventory) -> Vec<(&Package, Option<String>)> {
    let mut seen = HashSet::new();
    inventory
        .packages
        .iter()
        .map(|p| (p, purl(inventory, p)))
        .filter(|(p, purl)| {
            let key = purl
                .clone()
                .unwrap_or_else(|| format!("{:?}/{}@{}", p.kind, p.name, p.version));
            seen.insert(key)
        })
        .collect()
}

/// A licence as an SPDX expression when it reads as one (identifiers joined by AND, OR or WITH), else `None`.
fn spdx_expression(license: &str) -> Option<&str> {
    let license = license.trim();
    let is_id = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
    };
    let tokens: Vec<&str> = license.split_whitespace().collect();
    let well_formed = !tokens.is_empty()
        && tokens.len() <= 64
        && tokens.iter().enumerate().all(|(i, t)| {
            if i % 2 == 1 {
                matches!(*t, "AND" | "OR" | "WITH")
            } else {
                is_id(t) && !matches!(*t, "AND" | "OR" | "WITH")
            }
        })
        && tokens.len() % 2 == 1;
    well_formed.then_some(license)
}

/// An SPDX 2.3 JSON document: the image package `DESCRIBES`d by the document, the OS as an
/// `OPERATING-SYSTEM` package, and every installed package `CONTAINS`ed by the image.
pub fn spdx(inventory: &Inventory, subject: &Subject<'_>) -> Value {
    let mut packages = vec![json!({
        "SPDXID": "SPDXRef-Image",
        "name": subject.repository,
        "versionInfo": subject.digest,
        "downloadLocation": "NOASSERTION",
        "primaryPackagePurpose": "CONTAINER",
        "filesAnalyzed": false,
        "supplier": "NOASSERTION",
    })];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-Image",
    })];
    if let Some(os) = &inventory.os {
        packages.push(json!({
            "SPDXID": "SPDXRef-OperatingSystem",
            "name": os.id,
            "versionInfo": os.version_id,
            "downloadLocation": "NOASSERTION",
            "primaryPackagePurpose": "OPERATING-SYSTEM",
            "filesAnalyzed": false,
        }));
        relationships.push(json!({
            "spdxElementId": "SPDXRef-Image",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": "SPDXRef-OperatingSystem",
        }));
    }
    for (n, (package, purl)) in listed(inventory).into_iter().enumerate() {
        let id = format!("SPDXRef-Package-{}", n + 1);
        let license = package.license.as_deref().and_then(spdx_expression);
        let mut entry = json!({
            "SPDXID": id,
            "name": package.name,
            "versionInfo": package.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": license.unwrap_or("NOASSERTION"),
            "primaryPackagePurpose": "LIBRARY",
            "sourceInfo": format!("{} in layer {}", package.path, package.layer),
        });
        if let (Some(raw), None) = (&package.license, license) {
            entry["licenseComments"] = Value::from(format!("As recorded by the package: {raw}"));
        }
        if let Some(purl) = purl {
            entry["externalRefs"] = json!([{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl,
            }]);
        }
        packages.push(entry);
        relationships.push(json!({
            "spdxElementId": "SPDXRef-Image",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{}@{}", subject.repository, subject.digest),
        "documentNamespace": format!(
            "{}/spdx/{}/{}-{}",
            subject.external_url.trim_end_matches('/'),
            subject.repository,
            subject.digest,
            subject.document_id
        ),
        "creationInfo": {
            "created": subject.created,
            "creators": [format!("Tool: Berth-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
    })
}

/// A CycloneDX 1.5 JSON document: the image as `metadata.component` (a container), the OS as an
/// `operating-system` component, and each package a `library` whose `bom-ref` is its purl, with the
/// properties `berth:layer_digest` and `berth:src_name`.
pub fn cyclonedx(inventory: &Inventory, subject: &Subject<'_>) -> Value {
    let mut components = Vec::new();
    if let Some(os) = &inventory.os {
        components.push(json!({
            "type": "operating-system",
            "bom-ref": format!("os:{}@{}", os.id, os.version_id),
            "name": os.id,
            "version": os.version_id,
        }));
    }
    for (n, (package, purl)) in listed(inventory).into_iter().enumerate() {
        let mut properties = vec![
            json!({"name": "berth:layer_digest", "value": package.layer}),
            json!({"name": "berth:path", "value": package.path}),
        ];
        if let Some(source) = &package.source_name {
            properties.push(json!({"name": "berth:src_name", "value": source}));
        }
        let mut entry = json!({
            "type": "library",
            "bom-ref": purl.clone().unwrap_or_else(|| format!("package-{}", n + 1)),
            "name": package.name,
            "version": package.version,
            "properties": properties,
        });
        if let Some(purl) = purl {
            entry["purl"] = Value::from(purl);
        }
        if let Some(license) = &package.license {
            entry["licenses"] = match spdx_expression(license) {
                Some(expression) if expression.split_whitespace().count() > 1 => {
                    json!([{"expression": expression}])
                }
                Some(id) => json!([{"license": {"id": id}}]),
                None => json!([{"license": {"name": license}}]),
            };
        }
        components.push(entry);
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": format!("urn:uuid:{}", subject.document_id),
        "version": 1,
        "metadata": {
            "timestamp": subject.created,
            "tools": {"components": [{
                "type": "application",
                "name": "Berth",
                "version": env!("CARGO_PKG_VERSION"),
            }]},
            "component": {
                "type": "container",
                "bom-ref": format!("{}@{}", subject.repository, subject.digest),
                "name": subject.repository,
                "version": subject.digest,
            },
        },
        "components": components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::model::OsIdentity;

    fn package(kind: PackageKind, name: &str, version: &str) -> Package {
        Package {
            kind,
            name: name.into(),
            version: version.into(),
            source_name: None,
            source_version: None,
            arch: None,
            license: None,
            path: "var/lib/dpkg/status".into(),
            layer: "sha256:11".into(),
        }
    }

    fn debian(packages: Vec<Package>) -> Inventory {
        Inventory {
            os: Some(OsIdentity {
                id: "debian".into(),
                version_id: "12".into(),
                codename: Some("bookworm".into()),
                pretty_name: None,
            }),
            packages,
        }
    }

    const SUBJECT: Subject<'static> = Subject {
        repository: "library/app",
        digest: "sha256:abc",
        created: "2026-12-06T10:00:00Z",
        document_id: "6f1c7f0e-0000-4000-8000-000000000001",
        external_url: "https://registry.example.com/",
    };

    #[test]
    fn purls_follow_each_type_s_rules() {
        let mut ssl = package(PackageKind::Dpkg, "libssl3", "3.0.9-1");
        ssl.arch = Some("amd64".into());
        let inv = debian(vec![]);
        assert_eq!(
            purl(&inv, &ssl).as_deref(),
            Some("pkg:deb/debian/libssl3@3.0.9-1?arch=amd64&distro=debian-12")
        );
        let epoch = package(PackageKind::Dpkg, "zlib1g", "1:1.2.13.dfsg-1");
        assert_eq!(
            purl(&inv, &epoch).as_deref(),
            Some("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?distro=debian-12")
        );
        let scoped = package(PackageKind::Npm, "@babel/core", "7.0.0");
        assert_eq!(
            purl(&inv, &scoped).as_deref(),
            Some("pkg:npm/%40babel/core@7.0.0")
        );
        let py = package(PackageKind::Python, "Typing_Extensions", "4.0");
        assert_eq!(
            purl(&inv, &py).as_deref(),
            Some("pkg:pypi/typing-extensions@4.0")
        );
        let go = package(PackageKind::Go, "github.com/gogo/protobuf", "v1.3.1");
        assert_eq!(
            purl(&inv, &go).as_deref(),
            Some("pkg:golang/github.com/gogo/protobuf@v1.3.1")
        );
    }

    #[test]
    fn licences_become_expressions_only_when_they_read_as_one() {
        assert_eq!(spdx_expression("MIT"), Some("MIT"));
        assert_eq!(
            spdx_expression("MIT OR Apache-2.0"),
            Some("MIT OR Apache-2.0")
        );
        assert_eq!(spdx_expression("GPL-2.0-only AND"), None);
        assert_eq!(spdx_expression("BSD-style, see COPYING"), None);
        assert_eq!(spdx_expression(""), None);
    }

    #[test]
    fn spdx_describes_the_image_and_contains_every_distinct_package() {
        let mut musl = package(PackageKind::Npm, "left-pad", "1.0.0");
        musl.license = Some("WTFPL or something".into());
        let inv = debian(vec![
            package(PackageKind::Dpkg, "libssl3", "3.0.9-1"),
            musl.clone(),
            musl,
        ]);
        let doc = spdx(&inv, &SUBJECT);
        assert_eq!(doc["spdxVersion"], "SPDX-2.3");
        assert_eq!(
            doc["documentNamespace"],
            "https://registry.example.com/spdx/library/app/sha256:abc-6f1c7f0e-0000-4000-8000-000000000001"
        );
        let packages = doc["packages"].as_array().map(Vec::len);
        assert_eq!(packages, Some(4), "image, OS and two distinct packages");
        let contains = doc["relationships"].as_array().map(|r| {
            r.iter()
                .filter(|r| r["relationshipType"] == "CONTAINS")
                .count()
        });
        assert_eq!(contains, Some(3));
        assert_eq!(
            doc["packages"][1]["primaryPackagePurpose"],
            "OPERATING-SYSTEM"
        );
        assert_eq!(doc["packages"][3]["licenseDeclared"], "NOASSERTION");
        assert_eq!(
            doc["packages"][2]["externalRefs"][0]["referenceLocator"],
            "pkg:deb/debian/libssl3@3.0.9-1?distro=debian-12"
        );
    }

    #[test]
    fn cyclonedx_lists_components_by_purl_with_their_layer() {
        let mut ssl = package(PackageKind::Dpkg, "libssl3", "3.0.9-1");
        ssl.source_name = Some("openssl".into());
        ssl.license = Some("Apache-2.0".into());
        let doc = cyclonedx(&debian(vec![ssl]), &SUBJECT);
        assert_eq!(doc["specVersion"], "1.5");
        assert_eq!(doc["metadata"]["component"]["type"], "container");
        let lib = &doc["components"][1];
        assert_eq!(lib["bom-ref"], lib["purl"]);
        assert_eq!(lib["licenses"][0]["license"]["id"], "Apache-2.0");
        let props = lib["properties"].as_array().cloned().unwrap_or_default();
        assert!(props.contains(&json!({"name": "berth:layer_digest", "value": "sha256:11"})));
        assert!(props.contains(&json!({"name": "berth:src_name", "value": "openssl"})));
    }
}
