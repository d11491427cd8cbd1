//! What of an artifact the scanner reads: an image's filesystem layers in order, or an index's children.
//! Other artifacts (Helm charts, signatures, SBOMs, anything whose config is not an image config) are not
//! scannable, as in Harbor.

use oci_spec::image::{ImageIndex, ImageManifest};

use crate::oci::Digest;
use crate::oci::manifest::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};

/// Image config media types: an image manifest with one of these is a container image.
pub const IMAGE_CONFIGS: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

/// The most layers one image may have for a scan (Docker's own limit is 127; OCI sets none).
pub const MAX_LAYERS: usize = 1024;
/// The most children of an index a scan follows.
pub const MAX_CHILDREN: usize = 256;

/// One layer to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
}

/// What a scan of a manifest reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scannable {
    /// A container image: its layers, lowest first (foreign layers, which the registry does not hold, left out).
    Image(Vec<Layer>),
    /// An index: its child manifests, each scanned on its own; the index's summary is its worst child's.
    Index(Vec<Digest>),
    /// Not a container image; the reason, for the caller's message.
    No(String),
}

/// Reads a stored manifest of `media_type`.
pub fn scannable(manifest: &[u8], media_type: &str) -> Scannable {
    match media_type {
        OCI_MANIFEST | DOCKER_MANIFEST => image(manifest),
        OCI_INDEX | DOCKER_MANIFEST_LIST => index(manifest),
        other => Scannable::No(format!("artifacts of media type {other} are not scanned")),
    }
}

fn image(manifest: &[u8]) -> Scannable {
    let Ok(manifest) = serde_json::from_slice::<ImageManifest>(manifest) else {
        return Scannable::No("the manifest does not parse as an image manifest".to_owned());
    };
    let config = manifest.config().media_type().to_string();
    if !IMAGE_CONFIGS.contains(&config.as_str()) {
        return Scannable::No(format!(
            "only container images are scanned; this artifact's config is {config}"
        ));
    }
    if manifest.layers().len() > MAX_LAYERS {
        return Scannable::No(format!(
            "the image has {} layers; at most {MAX_LAYERS} are scanned",
            manifest.layers().len()
        ));
    }
    let mut layers = Vec::with_capacity(manifest.layers().len());
    for layer in manifest.layers() {
        if layer.urls().as_ref().is_some_and(|urls| !urls.is_empty()) {
            continue;
        }
        let Ok(digest) = layer.digest().to_string().parse::<Digest>() else {
            return Scannable::No("a layer's digest does not parse".to_owned());
        };
        layers.push(Layer {
            digest,
            media_type: layer.media_type().to_string(),
            size: layer.size(),
        });
    }
    Scannable::Image(layers)
}

fn index(manifest: &[u8]) -> Scannable {
    let Ok(index) = serde_json::from_slice::<ImageIndex>(manifest) else {
        return Scannable::No("the manifest does not parse as an index".to_owned());
    };
    let mut children = Vec::new();
    for child in index.manifests() {
        if !matches!(
            child.media_type().to_string().as_str(),
            OCI_MANIFEST | DOCKER_MANIFEST
        ) {
            continue;
        }
        // Attestation manifests that buildx puts in an index are not images of a platform.
        let is_attestation = child.annotations().as_ref().is_some_and(|a| {
            a.get("vnd.docker.reference.type")
                .is_some_and(|t| t == "attestation-manifest")
        });
        if is_attestation {
            continue;
        }
        if let Ok(digest) = child.digest().to_string().parse::<Digest>() {
            children.push(digest);
        }
    }
    if children.len() > MAX_CHILDREN {
        return Scannable::No(format!(
            "the index has {} image manifests; at most {MAX_CHILDREN} are scanned",
            children.len()
        ));
    }
    Scannable::Index(children)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(n: u8) -> Digest {
        Digest::sha256_of(&[n])
    }

    fn manifest(config: &str, layers: &str) -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"{config}","digest":"{}","size":2}},"layers":[{layers}]}}"#,
            digest(0)
        )
    }

    #[test]
    fn an_image_lists_its_own_layers_in_order() {
        let layers = format!(
            r#"{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":3}},
               {{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar","digest":"{}","size":4,"urls":["https://x"]}},
               {{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"{}","size":5}}"#,
            digest(1),
            digest(2),
            digest(3)
        );
        let body = manifest(IMAGE_CONFIGS[0], &layers);
        let found = match scannable(body.as_bytes(), OCI_MANIFEST) {
            Scannable::Image(found) => found,
            other => Vec::from([Layer {
                digest: digest(9),
                media_type: format!("{other:?}"),
                size: 0,
            }]),
        };
        let digests: Vec<_> = found.iter().map(|l| l.digest.clone()).collect();
        assert_eq!(
            digests,
            vec![digest(1), digest(3)],
            "the foreign layer is left out"
        );
        assert_eq!(
            found[1].media_type,
            "application/vnd.oci.image.layer.v1.tar+zstd"
        );
    }

    #[test]
    fn charts_and_signatures_are_not_scanned() {
        let chart = manifest("application/vnd.cncf.helm.config.v1+json", "");
        assert!(matches!(
            scannable(chart.as_bytes(), OCI_MANIFEST),
            Scannable::No(_)
        ));
        assert!(matches!(
            scannable(b"{}", "application/json"),
            Scannable::No(_)
        ));
        assert!(matches!(
            scannable(b"not json", OCI_MANIFEST),
            Scannable::No(_)
        ));
    }

    #[test]
    fn an_index_lists_its_image_children_without_attestations() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[
                {{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":1,"platform":{{"architecture":"amd64","os":"linux"}}}},
                {{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":1,"annotations":{{"vnd.docker.reference.type":"attestation-manifest"}}}},
                {{"mediaType":"{OCI_INDEX}","digest":"{}","size":1}}]}}"#,
            digest(1),
            digest(2),
            digest(3)
        );
        assert_eq!(
            scannable(body.as_bytes(), OCI_INDEX),
            Scannable::Index(vec![digest(1)])
        );
    }
}
