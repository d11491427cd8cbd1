//! Manifest and index JSON (`oci/manifest.rs`), pushed by clients or fetched from a proxy upstream.

use berth::oci::Digest;
use berth::oci::manifest::{
    DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, ManifestKind, OCI_INDEX, OCI_MANIFEST, parse,
};
use proptest::prelude::*;
use serde_json::json;

use super::{budget, config, input, measure};

const MANIFESTS: &[&str] = &[
    r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a","size":3},{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar","digest":"sha256:dbc1b4c900ffe48d575b5da5c638040125f65db0fe3e24494b76ea986457d986","size":3,"urls":["https://x"]}],"annotations":{"a":"b"}}"#,
    r#"{"schemaVersion":2,"artifactType":"application/x.sig","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d","size":9}}"#,
    r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d","size":7,"platform":{"architecture":"amd64","os":"linux"}}]}"#,
    r#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e","size":7}]}"#,
    r#"{"schemaVersion":1,"name":"a/b","tag":"x","fsLayers":[]}"#,
];
const CONTENT_TYPES: &[&str] = &[
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    "application/json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "",
];

fn content_type() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        4 => proptest::sample::select(CONTENT_TYPES).prop_map(str::to_owned),
        1 => "[ -~]{0,40}",
    ])
}

fn digest() -> impl Strategy<Value = Digest> {
    "sha256:[0-9a-f]{64}".prop_filter_map("digest", |d| d.parse().ok())
}

fn descriptor(media_type: &str, digest: &Digest, size: u64) -> serde_json::Value {
    json!({"mediaType": media_type, "digest": digest.to_string(), "size": size})
}

/// Deeply nested JSON is refused by serde_json's recursion limit, not by a stack overflow.
#[test]
fn deep_nesting_is_refused() {
    for body in [
        format!(
            "{{\"schemaVersion\":2,\"manifests\":{}",
            "[".repeat(100_000)
        ),
        format!("{{\"schemaVersion\":{}", "{\"a\":".repeat(100_000)),
        format!(
            "{{\"schemaVersion\":2,\"config\":{{\"annotations\":{}",
            "[".repeat(100_000)
        ),
    ] {
        assert!(parse(body.as_bytes(), Some(OCI_MANIFEST)).is_err());
        assert!(parse(body.as_bytes(), None).is_err());
    }
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn manifests(body in prop_oneof![
        8 => input(MANIFESTS).prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..200),
    ], content_type in content_type()) {
        let (parsed, peak) = measure(|| parse(&body, content_type.as_deref()));
        prop_assert!(peak <= budget(body.len(), 32), "{peak} bytes for {} input bytes", body.len());
        if let Ok(parsed) = parsed {
            // The parsed media type is the one to store: parsing again under it gives the same result.
            prop_assert_eq!(parse(&body, Some(&parsed.media_type)).ok(), Some(parsed.clone()));
            match parsed.kind {
                ManifestKind::Image => prop_assert!(parsed.children.is_empty() && !parsed.blobs.is_empty()),
                ManifestKind::Index => prop_assert!(parsed.blobs.is_empty()),
            }
        }
    }

    #[test]
    fn image_manifests_list_their_blobs(
        config in digest(),
        layers in proptest::collection::vec((digest(), any::<bool>()), 0..6),
        subject in proptest::option::of(digest()),
        docker in any::<bool>(),
    ) {
        let media_type = if docker { DOCKER_MANIFEST } else { OCI_MANIFEST };
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": descriptor("application/vnd.oci.image.config.v1+json", &config, 2),
            "layers": layers.iter().map(|(d, foreign)| {
                let mut layer = descriptor("application/vnd.oci.image.layer.v1.tar", d, 3);
                if *foreign {
                    layer["urls"] = json!(["https://example.com/layer"]);
                }
                layer
            }).collect::<Vec<_>>(),
        });
        if let Some(subject) = &subject {
            manifest["subject"] = descriptor(OCI_MANIFEST, subject, 9);
        }
        let body = serde_json::to_vec(&manifest).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let parsed = parse(&body, Some(media_type)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut expected = vec![config];
        expected.extend(layers.iter().filter(|(_, foreign)| !foreign).map(|(d, _)| d.clone()));
        prop_assert_eq!(parsed.kind, ManifestKind::Image);
        prop_assert_eq!(parsed.blobs, expected);
        prop_assert_eq!(parsed.subject, subject);
        prop_assert_eq!(parsed.media_type, media_type);
    }

    #[test]
    fn indexes_list_their_children(children in proptest::collection::vec(digest(), 0..6), docker in any::<bool>()) {
        let (media_type, child_type) = if docker {
            (DOCKER_MANIFEST_LIST, DOCKER_MANIFEST)
        } else {
            (OCI_INDEX, OCI_MANIFEST)
        };
        let index = json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "manifests": children.iter().map(|d| descriptor(child_type, d, 7)).collect::<Vec<_>>(),
        });
        let body = serde_json::to_vec(&index).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let parsed = parse(&body, None).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.kind, ManifestKind::Index);
        prop_assert_eq!(parsed.children, children);
    }
}
