//! Artifacts as Harbor describes them: what a stored manifest is (its type, config, children), what its
//! image config says (platform, build history), and copying between repositories.
//!
//! Manifests were validated when pushed; reading them here again is lenient — a field that cannot be read
//! is left out rather than failing the request.

use std::collections::BTreeMap;

use berth_api::artifacts::Layer;
use serde::Deserialize;
use serde_json::Value;

use super::ServiceError;
use crate::db::{CopyError, Db, DeleteArtifact};
use crate::events::audit::{self, Audit, Operation};
use crate::oci::Digest;
use crate::oci::manifest::{DOCKER_MANIFEST_LIST, OCI_INDEX};
use crate::storage::BlobStore;

/// Image configs larger than this are not read (real ones are a few kilobytes).
pub const MAX_CONFIG_BYTES: usize = 4 * 1024 * 1024;

const IMAGE_CONFIGS: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];
const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
const CNAB_CONFIG: &str = "application/vnd.cnab.config.v1+json";
/// Harbor's WASM artifacts (`src/controller/artifact/processor/wasm`).
const WASM_CONFIG: &str = "application/vnd.wasm.config.v1+json";

/// A descriptor as manifests carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    #[serde(default)]
    pub digest: String,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub urls: Option<Vec<String>>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub platform: Option<Platform>,
}

/// An index entry's platform.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, rename = "os.version")]
    pub os_version: Option<String>,
    #[serde(default, rename = "os.features")]
    pub os_features: Option<Vec<String>>,
    #[serde(default)]
    pub variant: Option<String>,
}

/// What the REST API needs from a manifest's bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ManifestSummary {
    #[serde(default)]
    pub config: Option<Descriptor>,
    /// An index's entries.
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
    /// A manifest's layers.
    #[serde(default)]
    pub layers: Option<Vec<Descriptor>>,
}

impl ManifestSummary {
    /// Reads a stored manifest; unreadable parts are left empty.
    pub fn of(content: &[u8]) -> ManifestSummary {
        serde_json::from_slice(content).unwrap_or_default()
    }
}

/// Whether `media_type` is an image index (OCI) or manifest list (Docker).
pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// Harbor's artifact `type`, from the manifest's `artifactType` or else its config's media type (as the
/// artifact type is stored): `IMAGE` for images and image indexes, `CHART` for Helm charts, `CNAB` for CNAB
/// bundles, else `UNKNOWN` (signatures, SBOMs and other OCI artifacts).
pub fn kind(manifest_media_type: &str, artifact_type: Option<&str>) -> &'static str {
    if is_index(manifest_media_type) {
        return "IMAGE";
    }
    match artifact_type {
        Some(t) if IMAGE_CONFIGS.contains(&t) => "IMAGE",
        Some(HELM_CONFIG) => "CHART",
        Some(CNAB_CONFIG) => "CNAB",
        Some(WASM_CONFIG) => "WASM",
        _ => "UNKNOWN",
    }
}

/// Harbor's artifact `media_type`: the config's media type for a manifest, the manifest's own for an index.
pub fn harbor_media_type(manifest_media_type: &str, summary: &ManifestSummary) -> String {
    match &summary.config {
        Some(config) if !is_index(manifest_media_type) && !config.media_type.is_empty() => {
            config.media_type.clone()
        }
        _ => manifest_media_type.to_owned(),
    }
}

/// Whether the manifest's config is an image config (and so has a platform and a build history).
pub fn has_image_config(summary: &ManifestSummary) -> bool {
    summary
        .config
        .as_ref()
        .is_some_and(|c| IMAGE_CONFIGS.contains(&c.media_type.as_str()))
}

/// Harbor's accessory type for an artifact attached to a subject.
pub fn accessory_kind(artifact_type: Option<&str>) -> &'static str {
    match artifact_type {
        Some("application/vnd.cncf.notary.signature") => "signature.notation",
        Some(t) if t.starts_with("application/vnd.dev.cosign") => "signature.cosign",
        Some("application/vnd.goharbor.harbor.sbom.v1") => "harbor.sbom",
        _ => "subject.accessory",
    }
}

/// The image config of a manifest, parsed; `None` when the manifest has no image config or it cannot be
/// read (which is logged).
pub async fn image_config(blobs: &BlobStore, summary: &ManifestSummary) -> Option<Value> {
    if !has_image_config(summary) {
        return None;
    }
    let digest = summary.config.as_ref()?.digest.as_str();
    match read_json(blobs, digest).await {
        Ok(config) => Some(config),
        Err(e) => {
            tracing::warn!(digest, error = %e, "cannot read an image config");
            None
        }
    }
}

async fn read_json(blobs: &BlobStore, digest: &str) -> Result<Value, String> {
    let parsed: Digest = digest.parse().map_err(|e| format!("bad digest: {e}"))?;
    let body = blobs.read(&parsed, None).await.map_err(|e| e.to_string())?;
    let bytes = axum::body::to_bytes(body, MAX_CONFIG_BYTES)
        .await
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))
}

/// Harbor's `extra_attrs` of an image: its architecture, OS, variant, author, creation time and runtime
/// config, from the image config.
pub fn extra_attrs(config: &Value) -> BTreeMap<String, Value> {
    [
        "architecture",
        "os",
        "variant",
        "author",
        "created",
        "config",
    ]
    .into_iter()
    .filter_map(|key| {
        config
            .get(key)
            .filter(|v| !v.is_null())
            .map(|v| (key.to_owned(), v.clone()))
    })
    .collect()
}

/// The `build_history` addition: the image config's `history`, as Harbor serves it.
pub async fn build_history(blobs: &BlobStore, content: &[u8]) -> Result<Value, ServiceError> {
    let summary = ManifestSummary::of(content);
    if !has_image_config(&summary) {
        return Err(ServiceError::Invalid(
            "build_history is only available for images (not for indexes or other artifacts)"
                .to_owned(),
        ));
    }
    let digest = summary
        .config
        .as_ref()
        .map(|c| c.digest.as_str())
        .unwrap_or_default();
    let config = read_json(blobs, digest).await.map_err(|e| {
        tracing::warn!(digest, error = %e, "cannot read an image config");
        ServiceError::NotFound(format!("the image config {digest} cannot be read"))
    })?;
    Ok(config
        .get("history")
        .cloned()
        .unwrap_or_else(|| Value::Array(Vec::new())))
}

/// The `layers` addition (Berth's): a manifest's layers as its `layers` lists them. An index has none of its
/// own (its children do), so it answers 400, as `build_history` does for what is not an image.
pub fn layers(manifest_media_type: &str, content: &[u8]) -> Result<Vec<Layer>, ServiceError> {
    if is_index(manifest_media_type) {
        return Err(ServiceError::Invalid(
            "layers are only available for manifests (an index's platforms have their own)"
                .to_owned(),
        ));
    }
    Ok(ManifestSummary::of(content)
        .layers
        .unwrap_or_default()
        .into_iter()
        .map(|d| Layer {
            media_type: d.media_type,
            digest: d.digest,
            size: d.size,
            annotations: d.annotations,
        })
        .collect())
}

/// What an artifact copy names as its source: `project/repo:tag` or `project/repo@digest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySource {
    pub repository: crate::oci::RepositoryName,
    pub reference: crate::oci::Reference,
}

impl std::str::FromStr for CopySource {
    type Err = ServiceError;

    fn from_str(from: &str) -> Result<Self, Self::Err> {
        let invalid = |why: String| {
            ServiceError::Invalid(format!(
                "from must be project/repository:tag or project/repository@digest, not {from:?}: {why}"
            ))
        };
        let (name, reference) = match from.split_once('@') {
            Some((name, digest)) => (name, digest),
            None => from
                .rsplit_once(':')
                .ok_or_else(|| invalid("no tag or digest".to_owned()))?,
        };
        let repository = name
            .parse()
            .map_err(|e: crate::oci::name::NameError| invalid(e.to_string()))?;
        let reference = reference
            .parse()
            .map_err(|e: crate::oci::name::ReferenceError| invalid(e.to_string()))?;
        if from.contains('@') && !matches!(reference, crate::oci::Reference::Digest(_)) {
            return Err(invalid("a digest follows '@'".to_owned()));
        }
        Ok(CopySource {
            repository,
            reference,
        })
    }
}

/// The outcome of [`crate::db::Db::copy_artifact`] into `target_repository` as the REST API answers it; a copy over the
/// target project's quota is refused. A refusal by an immutable tag rule is the caller's to record and answer.
pub fn copied(outcome: Result<(), CopyError>, target_repository: &str) -> Result<(), ServiceError> {
    outcome.map_err(|e| match e {
        CopyError::SourceGone(digest) => {
            ServiceError::NotFound(format!("artifact {digest} not found in the source repository"))
        }
        CopyError::AlreadyThere(digest) => ServiceError::Conflict(format!(
            "artifact {digest} is already in {target_repository}"
        )),
        CopyError::Quota(q) => {
            tracing::warn!(%q, repository = target_repository, "artifact copy refused: project quota exceeded");
            ServiceError::Forbidden(q.to_string())
        }
        CopyError::Immutable(locked) => ServiceError::Precondition(locked.push_message()),
        CopyError::Db(e) => ServiceError::Db(e),
    })
}

/// Deletes artifact `digest` of `repository` (project `project_id`) as the REST API's delete does — with its
/// tags, its accessories and those of its children nothing else uses, releasing the quota (see
/// [`Db::delete_artifact`]) — and records the deletion in the audit log as `by` says (a user, or garbage
/// collection's operator). Garbage collection deletes untagged artifacts through here too.
pub async fn delete(
    db: &Db,
    project_id: i64,
    repository: &str,
    digest: &str,
    by: impl FnOnce(Audit) -> Audit,
) -> Result<DeleteArtifact, sqlx::Error> {
    let outcome = db.delete_artifact(repository, digest).await?;
    if outcome == DeleteArtifact::Deleted {
        by(Audit::new(
            Operation::Delete,
            "artifact",
            audit::resource(repository, digest),
        )
        .project_id(Some(project_id)))
        .record(db)
        .await;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_follow_harbor() {
        assert_eq!(kind(OCI_INDEX, None), "IMAGE");
        assert_eq!(
            kind(
                "application/vnd.oci.image.manifest.v1+json",
                Some(IMAGE_CONFIGS[0])
            ),
            "IMAGE"
        );
        assert_eq!(
            kind(
                "application/vnd.oci.image.manifest.v1+json",
                Some(HELM_CONFIG)
            ),
            "CHART"
        );
        assert_eq!(
            kind(
                "application/vnd.oci.image.manifest.v1+json",
                Some(WASM_CONFIG)
            ),
            "WASM"
        );
        assert_eq!(
            kind(
                "application/vnd.oci.image.manifest.v1+json",
                Some("application/vnd.oci.empty.v1+json")
            ),
            "UNKNOWN"
        );
        assert_eq!(
            accessory_kind(Some("application/vnd.cncf.notary.signature")),
            "signature.notation"
        );
        assert_eq!(accessory_kind(None), "subject.accessory");
    }

    #[test]
    fn copy_sources_parse() {
        let source: Result<CopySource, _> = "p/a/b:v1".parse();
        assert!(
            matches!(&source, Ok(s) if s.repository.as_str() == "p/a/b" && s.reference.to_string() == "v1")
        );
        let digest = Digest::sha256_of(b"x");
        let source: Result<CopySource, _> = format!("p/r@{digest}").parse();
        assert!(matches!(&source, Ok(s) if s.reference.to_string() == digest.to_string()));
        for bad in ["p/r", "p/r@v1", "P/r:v1", "r:v1", "p/r:", "p/r:bad tag"] {
            assert!(bad.parse::<CopySource>().is_err(), "{bad}");
        }
    }

    #[test]
    fn extra_attrs_come_from_the_config() {
        let config = serde_json::json!({
            "architecture": "arm64", "os": "linux", "variant": "v8",
            "config": {"Env": ["A=1"]}, "rootfs": {}, "author": null
        });
        let attrs = extra_attrs(&config);
        assert_eq!(
            attrs.keys().map(String::as_str).collect::<Vec<_>>(),
            ["architecture", "config", "os", "variant"]
        );
        let index = ManifestSummary::of(
            br#"{"manifests":[{"digest":"sha256:1","platform":{"architecture":"amd64","os":"linux","os.version":"10"}}]}"#,
        );
        let platform = index.manifests.and_then(|m| m.into_iter().next()?.platform);
        assert_eq!(platform.and_then(|p| p.os_version), Some("10".to_owned()));
    }
}
