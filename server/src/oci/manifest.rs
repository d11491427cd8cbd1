//! Manifest parsing: which kind a pushed manifest is, and what it references.
//!
//! Accepted: OCI image manifests and indexes (image-spec v1.1), Docker schema2 manifests and manifest lists.
//! Docker schema1 is refused. Parsing uses the `oci-spec` crate's types; Docker's formats share their shape.

use std::collections::HashMap;

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

use super::digest::Digest;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_SCHEMA1: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// The OCI artifact manifest of image-spec 1.1's release candidates, which some registries still serve.
pub const OCI_ARTIFACT_MANIFEST: &str = "application/vnd.oci.artifact.manifest.v1+json";

/// Every media type a `/v2` manifest response may carry as its `Content-Type`: the four kinds Berth stores,
/// and the Docker schema1 and OCI artifact manifests a proxy-cache project passes through without caching.
/// Nothing else is ever sent, whatever an upstream or a pushing client claimed.
pub fn is_manifest_media_type(media_type: &str) -> bool {
    matches!(
        media_type,
        OCI_MANIFEST | OCI_INDEX | DOCKER_MANIFEST | DOCKER_MANIFEST_LIST | OCI_ARTIFACT_MANIFEST
    ) || DOCKER_SCHEMA1.contains(&media_type)
}

/// Whether a manifest describes one image or a set of manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    Image,
    Index,
}

/// What Berth keeps of a pushed manifest, besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedManifest {
    pub media_type: String,
    pub kind: ManifestKind,
    /// Config and layer blobs that must be present (non-distributable layers with `urls` excluded).
    pub blobs: Vec<Digest>,
    /// Manifests an index references.
    pub children: Vec<Digest>,
    pub subject: Option<Digest>,
    /// The artifact type the referrers API reports: `artifactType`, else an image's `config.mediaType`.
    pub artifact_type: Option<String>,
    pub annotations: Option<HashMap<String, String>>,
}

/// Why a manifest was refused; every variant maps to `MANIFEST_INVALID` (or `UNSUPPORTED` for schema1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error(
        "Docker schema1 manifests are not supported; push the image with a current client (Docker schema2 or OCI)"
    )]
    Schema1,
    #[error("manifest is not valid JSON: {0}")]
    NotJson(String),
    #[error("manifest mediaType {body:?} does not match Content-Type {header:?}")]
    MediaTypeMismatch { body: String, header: String },
    #[error("unsupported manifest media type {0:?}")]
    UnsupportedMediaType(String),
    #[error("invalid manifest: {0}")]
    Invalid(String),
}

/// The largest manifest Berth stores, pushed or fetched from a proxy upstream. The spec asks registries to accept at
/// least 4 MB.
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// Parses a manifest body. `content_type` is the request's Content-Type without parameters, if any.
pub fn parse(body: &[u8], content_type: Option<&str>) -> Result<ParsedManifest, ManifestError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        schema_version: Option<serde_json::Value>,
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    let probe: Probe =
        serde_json::from_slice(body).map_err(|e| ManifestError::NotJson(e.to_string()))?;
    let header = content_type
        .filter(|ct| !matches!(*ct, "" | "application/json" | "application/octet-stream"));
    if probe.schema_version == Some(serde_json::Value::from(1))
        || [probe.media_type.as_deref(), header]
            .iter()
            .flatten()
            .any(|mt| DOCKER_SCHEMA1.contains(mt))
    {
        return Err(ManifestError::Schema1);
    }
    let media_type = match (probe.media_type, header) {
        (Some(body), Some(header)) if body != header => {
            return Err(ManifestError::MediaTypeMismatch {
                body,
                header: header.to_owned(),
            });
        }
        (Some(body), _) => body,
        (None, Some(header)) => header.to_owned(),
        (None, None) if probe.manifests.is_some() => OCI_INDEX.to_owned(),
        (None, None) => OCI_MANIFEST.to_owned(),
    };
    match media_type.as_str() {
        OCI_MANIFEST | DOCKER_MANIFEST => parse_image(body, media_type),
        OCI_INDEX | DOCKER_MANIFEST_LIST => parse_index(body, media_type),
        _ => Err(ManifestError::UnsupportedMediaType(media_type)),
    }
}

fn parse_image(body: &[u8], media_type: String) -> Result<ParsedManifest, ManifestError> {
    let manifest: ImageManifest =
        serde_json::from_slice(body).map_err(|e| ManifestError::Invalid(e.to_string()))?;
    let mut blobs = vec![descriptor_digest(manifest.config())?];
    for layer in manifest.layers() {
        let foreign = layer.urls().as_ref().is_some_and(|urls| !urls.is_empty());
        if !foreign {
            blobs.push(descriptor_digest(layer)?);
        }
    }
    let artifact_type = manifest
        .artifact_type()
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| Some(manifest.config().media_type().to_string()));
    Ok(ParsedManifest {
        media_type,
        kind: ManifestKind::Image,
        blobs,
        children: Vec::new(),
        subject: manifest
            .subject()
            .as_ref()
            .map(descriptor_digest)
            .transpose()?,
        artifact_type,
        annotations: manifest.annotations().clone(),
    })
}

fn parse_index(body: &[u8], media_type: String) -> Result<ParsedManifest, ManifestError> {
    let index: ImageIndex =
        serde_json::from_slice(body).map_err(|e| ManifestError::Invalid(e.to_string()))?;
    let children = index
        .manifests()
        .iter()
        .map(descriptor_digest)
        .collect::<Result<_, _>>()?;
    Ok(ParsedManifest {
        media_type,
        kind: ManifestKind::Index,
        blobs: Vec::new(),
        children,
        subject: index
            .subject()
            .as_ref()
            .map(descriptor_digest)
            .transpose()?,
        artifact_type: index.artifact_type().as_ref().map(ToString::to_string),
        annotations: index.annotations().clone(),
    })
}

fn descriptor_digest(descriptor: &Descriptor) -> Result<Digest, ManifestError> {
    let text = descriptor.digest().to_string();
    text.parse()
        .map_err(|e| ManifestError::Invalid(format!("descriptor digest {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(n: u8) -> String {
        Digest::sha256_of(&[n]).to_string()
    }

    fn image(media_type: Option<&str>, extra: &str) -> String {
        let mt = media_type
            .map(|m| format!(r#""mediaType":"{m}","#))
            .unwrap_or_default();
        format!(
            r#"{{"schemaVersion":2,{mt}"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":2}},
               "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":3}},
                         {{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar","digest":"{}","size":3,"urls":["https://x"]}}]{extra}}}"#,
            digest(1),
            digest(2),
            digest(3)
        )
    }

    #[test]
    fn image_manifest_lists_config_and_distributable_layers() {
        let parsed = parse(image(Some(OCI_MANIFEST), "").as_bytes(), Some(OCI_MANIFEST));
        let parsed = parsed.map_err(|e| e.to_string());
        let Ok(parsed) = parsed else {
            unreachable!("{parsed:?}")
        };
        assert_eq!(parsed.kind, ManifestKind::Image);
        let blobs: Vec<String> = parsed.blobs.iter().map(ToString::to_string).collect();
        assert_eq!(blobs, vec![digest(1), digest(2)]);
        assert_eq!(
            parsed.artifact_type.as_deref(),
            Some("application/vnd.oci.image.config.v1+json")
        );
    }

    #[test]
    fn subject_and_artifact_type_are_read() {
        let extra = format!(
            r#","artifactType":"application/x.sig","subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":9}}"#,
            digest(9)
        );
        let parsed = parse(image(None, &extra).as_bytes(), None).map_err(|e| e.to_string());
        assert_eq!(
            parsed
                .as_ref()
                .map(|p| p.subject.as_ref().map(ToString::to_string)),
            Ok(Some(digest(9)))
        );
        assert_eq!(
            parsed.map(|p| p.artifact_type),
            Ok(Some("application/x.sig".to_owned()))
        );
    }

    #[test]
    fn index_lists_children() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST_LIST}","manifests":[
                {{"mediaType":"{DOCKER_MANIFEST}","digest":"{}","size":7,"platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#,
            digest(4)
        );
        let parsed = parse(body.as_bytes(), Some(DOCKER_MANIFEST_LIST)).map_err(|e| e.to_string());
        assert_eq!(
            parsed.map(|p| (p.kind, p.children.len())),
            Ok((ManifestKind::Index, 1))
        );
    }

    #[test]
    fn refuses_schema1_mismatch_and_garbage() {
        let schema1 = r#"{"schemaVersion":1,"name":"a/b","tag":"x","fsLayers":[]}"#;
        assert_eq!(parse(schema1.as_bytes(), None), Err(ManifestError::Schema1));
        assert!(matches!(
            parse(
                image(Some(OCI_MANIFEST), "").as_bytes(),
                Some(DOCKER_MANIFEST)
            ),
            Err(ManifestError::MediaTypeMismatch { .. })
        ));
        assert!(matches!(
            parse(b"not json", None),
            Err(ManifestError::NotJson(_))
        ));
        assert!(matches!(
            parse(br#"{"schemaVersion":2,"config":{}}"#, Some(OCI_MANIFEST)),
            Err(ManifestError::Invalid(_))
        ));
        assert!(matches!(
            parse(br#"{"schemaVersion":2}"#, Some("application/x-custom")),
            Err(ManifestError::UnsupportedMediaType(_))
        ));
    }
}
