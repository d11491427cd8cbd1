//! Storing an SBOM as Harbor does (goharbor/pluggable-scanner-spec `data/spec/SBOM.md`): an OCI image manifest
//! with `artifactType: application/vnd.goharbor.harbor.sbom.v1`, the empty config, one uncompressed layer
//! holding the document, and `subject` = the image. It goes through the registry's own storage paths: each blob
//! is linked and charged to the project's quota as an upload is ([`crate::db::Db::begin_link`], waiting for a
//! garbage collection deleting the same blob), and the manifest is stored as a manifest PUT stores it
//! ([`crate::db::Db::put_manifest`]); so quota, garbage collection, the referrers API and accessories all see it.

use chrono::Utc;
use serde_json::json;

use crate::app::AppState;
use crate::db::{ChargeError, NewArtifact, PutManifestError};
use crate::oci::manifest::{self, OCI_MANIFEST};
use crate::oci::{Algorithm, Digest};

/// Harbor's artifact type of an SBOM accessory.
pub const SBOM_ARTIFACT_TYPE: &str = "application/vnd.goharbor.harbor.sbom.v1";
/// The OCI empty config's media type and content.
const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
const EMPTY_CONTENT: &[u8] = b"{}";

/// The largest SBOM document stored (an image's inventory is bounded; this bounds its document).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// The subject of an accessory: the image it describes.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub project_id: i64,
    /// `project/repository`.
    pub repository: &'a str,
    pub digest: &'a str,
    pub media_type: &'a str,
    pub size: usize,
}

/// Why an accessory was not stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the SBOM document is {0} bytes, more than the {MAX_DOCUMENT_BYTES} bytes stored")]
    TooLarge(usize),
    #[error("the project's quota does not hold the SBOM: {0}")]
    Quota(String),
    #[error("blob {0} is being deleted by garbage collection; generate the SBOM again")]
    Deleting(String),
    #[error("the subject {0} is gone")]
    SubjectGone(String),
    #[error("storing the SBOM: {0}")]
    Internal(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

impl From<ChargeError> for StoreError {
    fn from(error: ChargeError) -> Self {
        match error {
            ChargeError::Quota(q) => StoreError::Quota(q.to_string()),
            ChargeError::BlobDeleting(d) => StoreError::Deleting(d),
            ChargeError::Db(e) => StoreError::Db(e),
        }
    }
}

/// Stores `bytes` as a blob of `subject`'s repository, as a finished upload is stored: staged in the upload
/// directory, linked (quota charged) in a transaction that commits only once the file is in the store.
async fn store_blob(
    state: &AppState,
    subject: &Subject<'_>,
    bytes: &[u8],
) -> Result<Digest, StoreError> {
    let digest = Digest::of(Algorithm::Sha256, bytes);
    let digest_text = digest.to_string();
    let size = i64::try_from(bytes.len()).map_err(|e| StoreError::Internal(e.to_string()))?;
    let link = crate::gc::after_deletion(|| {
        state.db.begin_link(
            subject.project_id,
            subject.repository,
            &digest_text,
            size,
            None,
        )
    })
    .await?;
    if link.newly_recorded() {
        // A UUID-named file in the upload directory: one left by a crash has no session and is swept.
        let staged = state.uploads.path(&uuid::Uuid::new_v4().to_string());
        let moved = async {
            tokio::fs::write(&staged, bytes).await?;
            state.blobs.import(&staged, &digest).await
        }
        .await;
        if let Err(e) = moved {
            if let Err(e) = tokio::fs::remove_file(&staged).await
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(file = %staged.display(), error = %e, "could not remove a staged SBOM blob");
            }
            // Dropping `link` rolls the rows back.
            return Err(StoreError::Internal(format!(
                "moving blob {digest_text} into the blob store: {e}"
            )));
        }
    }
    link.commit().await?;
    Ok(digest)
}

/// The accessory manifest of a document of `media_type` stored as `layer` (`size` bytes) about `subject`.
pub fn accessory_manifest(
    subject: &Subject<'_>,
    config: &Digest,
    layer: &Digest,
    size: usize,
    media_type: &str,
    created: &str,
) -> Vec<u8> {
    let title = if media_type == super::super::sbom::CYCLONEDX_MEDIA_TYPE {
        "sbom.cdx.json"
    } else {
        "sbom.spdx.json"
    };
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": SBOM_ARTIFACT_TYPE,
        "config": {
            "mediaType": EMPTY_MEDIA_TYPE,
            "digest": config.to_string(),
            "size": EMPTY_CONTENT.len(),
        },
        "layers": [{
            "mediaType": media_type,
            "digest": layer.to_string(),
            "size": size,
            "annotations": {"org.opencontainers.image.title": title},
        }],
        "subject": {
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.size,
        },
        "annotations": {
            "created-by": "Berth",
            "org.opencontainers.image.created": created,
            "org.opencontainers.artifact.description": format!("{media_type} SBOM"),
        },
    });
    serde_json::to_vec(&manifest).unwrap_or_default()
}

/// Stores `document` (of `media_type`) as an SBOM accessory of `subject`; returns the accessory's digest.
pub async fn store_accessory(
    state: &AppState,
    subject: &Subject<'_>,
    document: &[u8],
    media_type: &str,
) -> Result<String, StoreError> {
    if document.len() > MAX_DOCUMENT_BYTES {
        return Err(StoreError::TooLarge(document.len()));
    }
    let config = store_blob(state, subject, EMPTY_CONTENT).await?;
    let layer = store_blob(state, subject, document).await?;
    let created = crate::db::timestamp(Utc::now());
    let content = accessory_manifest(
        subject,
        &config,
        &layer,
        document.len(),
        media_type,
        &created,
    );
    let parsed = manifest::parse(&content, Some(OCI_MANIFEST))
        .map_err(|e| StoreError::Internal(format!("the accessory manifest does not parse: {e}")))?;
    let digest = Digest::of(Algorithm::Sha256, &content).to_string();
    let blobs: Vec<String> = parsed.blobs.iter().map(ToString::to_string).collect();
    let annotations = parsed
        .annotations
        .as_ref()
        .and_then(|a| serde_json::to_string(a).ok());
    let artifact = NewArtifact {
        project_id: subject.project_id,
        repository: subject.repository,
        digest: &digest,
        media_type: &parsed.media_type,
        artifact_type: parsed.artifact_type.as_deref(),
        subject: Some(subject.digest),
        annotations,
        content: &content,
        blobs: &blobs,
        children: &[],
        tag: None,
        proxied: false,
    };
    // The subject may have been deleted while the document was written: the accessory would be an orphan.
    if state
        .db
        .manifest_by_digest(subject.repository, subject.digest)
        .await?
        .is_none()
    {
        return Err(StoreError::SubjectGone(format!(
            "{}@{}",
            subject.repository, subject.digest
        )));
    }
    state
        .db
        .put_manifest(&artifact)
        .await
        .map_err(|e| match e {
            PutManifestError::Quota(q) => StoreError::Quota(q.to_string()),
            PutManifestError::MissingBlob(d) => StoreError::Deleting(d),
            PutManifestError::MissingManifest(d) => StoreError::SubjectGone(d),
            PutManifestError::Immutable(locked) => StoreError::Internal(locked.to_string()),
            PutManifestError::Db(e) => StoreError::Db(e),
        })?;
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accessory_is_harbor_s_sbom_manifest() -> Result<(), Box<dyn std::error::Error>> {
        let subject = Subject {
            project_id: 1,
            repository: "p/r",
            digest: "sha256:0000000000000000000000000000000000000000000000000000000000000001",
            media_type: OCI_MANIFEST,
            size: 500,
        };
        let config = Digest::of(Algorithm::Sha256, EMPTY_CONTENT);
        assert_eq!(
            config.to_string(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let layer = Digest::of(Algorithm::Sha256, b"{\"spdxVersion\":\"SPDX-2.3\"}");
        let content = accessory_manifest(
            &subject,
            &config,
            &layer,
            26,
            crate::scan::sbom::SPDX_MEDIA_TYPE,
            "2026-12-06T10:00:00Z",
        );
        let parsed = manifest::parse(&content, Some(OCI_MANIFEST))?;
        assert_eq!(parsed.artifact_type.as_deref(), Some(SBOM_ARTIFACT_TYPE));
        assert_eq!(
            parsed.subject.map(|d| d.to_string()).as_deref(),
            Some(subject.digest)
        );
        assert_eq!(parsed.blobs, vec![config, layer]);
        let json: serde_json::Value = serde_json::from_slice(&content)?;
        assert_eq!(json["layers"][0]["mediaType"], "application/spdx+json");
        assert_eq!(json["layers"][0]["size"], 26);
        Ok(())
    }
}
