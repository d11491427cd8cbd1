//! Manifests: `GET`/`HEAD`/`PUT`/`DELETE /v2/<name>/manifests/<reference>`.
//!
//! <https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pushing-manifests>
//! Manifests are stored byte for byte and served with their own media type. A push is refused with
//! `MANIFEST_BLOB_UNKNOWN` when a referenced blob or child manifest is not in the repository.
//! Every `GET` (not `HEAD`) counts as a pull of the artifact, its repository and the tag it was asked by.
//! A push that would move a tag an immutable tag rule locks to another digest is refused with Harbor's
//! answer, 412 `PRECONDITION` (pushing the same digest again, or a new tag, is fine).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::access::authorize_as;
use super::{DOCKER_CONTENT_DIGEST, RegistryError, empty};
use crate::app::AppState;
use crate::auth::Action;
use crate::db::{GuardedError, Manifest, NewArtifact, PutManifestError};
use crate::events::audit::{self, Audit, ClientIp, Operation};
use crate::oci::manifest::{self, MAX_MANIFEST_BYTES, ManifestError};
use crate::oci::{Algorithm, Digest, Reference, RepositoryName};
use crate::proxy;
use crate::scan;
use crate::service::immutable;
use crate::stats::Pull;
use crate::webhooks::EventType;

pub async fn get(
    state: &AppState,
    headers: &HeaderMap,
    client: &ClientIp,
    name: &RepositoryName,
    reference: &str,
    head: bool,
) -> Result<Response, RegistryError> {
    let (project, caller) = authorize_as(state, headers, name, Action::Pull).await?;
    let unknown =
        || RegistryError::ManifestUnknown(format!("manifest {reference:?} unknown in {name}"));
    let parsed = reference.parse::<Reference>().map_err(|_| unknown())?;
    let manifest = match (&parsed, project.registry_id) {
        (_, Some(registry_id)) => {
            let target = proxy::pull::target(state, &project, registry_id, name).await?;
            Some(proxy::pull::manifest(state, &project, &target, name, &parsed).await?)
        }
        (Reference::Tag(tag), None) => {
            state
                .db
                .manifest_by_tag(name.as_str(), tag.as_str())
                .await?
        }
        (Reference::Digest(digest), None) => {
            state
                .db
                .manifest_by_digest(name.as_str(), &digest.to_string())
                .await?
        }
    }
    .ok_or_else(unknown)?;
    if !manifest::is_manifest_media_type(&manifest.media_type) {
        // Pushes and proxy fetches only store manifests; this is the last guard of the Content-Type sent.
        tracing::error!(repository = %name, digest = %manifest.digest, media_type = %manifest.media_type,
            "refusing to serve a stored manifest whose media type is not a manifest's");
        return Err(RegistryError::Internal(
            "the stored manifest has an unexpected media type".to_owned(),
        ));
    }
    if !accepts(headers, &manifest.media_type) {
        return Err(RegistryError::ManifestUnknown(format!(
            "manifest {reference:?} is a {} but the Accept header does not allow it",
            manifest.media_type
        )));
    }
    if !head {
        // The scanner's own pull is what the policy waits for (Harbor's `scanner-pull`).
        if !caller.is_scanner_pull(name) {
            let settings = state
                .db
                .project_settings_cached(project.id)
                .await
                .map_err(|e| RegistryError::internal("reading the project's settings", e))?;
            refuse_if_unsigned(state, headers, &project, &settings, name, &manifest).await?;
            refuse_if_vulnerable(state, &project, &settings, name, &manifest).await?;
        }
        state.metrics.pulls.inc(&project.name);
        // Counted off the request path: this only queues the pull.
        state.pulls.record(Pull {
            repository: name.as_str().to_owned(),
            digest: manifest.digest.clone(),
            tag: match parsed {
                Reference::Tag(tag) => Some(tag.into_string()),
                Reference::Digest(_) => None,
            },
            at: chrono::Utc::now(),
            username: caller.username().to_owned(),
            client_ip: client.0.clone(),
        });
    }
    Ok(manifest_response(manifest, head))
}

/// Harbor's cosign content trust (`enable_content_trust_cosign`): a GET of an artifact with no cosign
/// signature ([`crate::db::Db::cosign_signed`]) is refused with 412 `PROJECTPOLICYVIOLATION`, as Harbor
/// refuses it. As in Harbor, a `HEAD` is not checked, nor the scanner's pull, nor cosign's own requests (its
/// `User-Agent` names it: `cosign verify` reads the image it verifies); a cosign signature or attestation
/// itself (its artifact type is cosign's) needs no signature.
async fn refuse_if_unsigned(
    state: &AppState,
    headers: &HeaderMap,
    project: &crate::db::Project,
    settings: &[(String, String)],
    name: &RepositoryName,
    manifest: &Manifest,
) -> Result<(), RegistryError> {
    if !crate::db::setting_on(settings, "enable_content_trust_cosign") {
        return Ok(());
    }
    let by_cosign = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|agent| agent.to_str().ok())
        .is_some_and(|agent| agent.to_ascii_lowercase().contains("cosign"));
    let is_cosign_artifact = manifest::parse(&manifest.content, Some(&manifest.media_type))
        .ok()
        .and_then(|parsed| parsed.artifact_type)
        .is_some_and(|t| t.starts_with("application/vnd.dev.cosign"));
    if by_cosign || is_cosign_artifact {
        return Ok(());
    }
    let repository = state
        .db
        .repository_ref(name.as_str())
        .await
        .map_err(|e| RegistryError::internal("reading the repository", e))?;
    let signed = match repository {
        Some(repository) => state
            .db
            .cosign_signed(repository.id, &manifest.digest)
            .await
            .map_err(|e| RegistryError::internal("looking for a cosign signature", e))?,
        None => false,
    };
    if signed {
        return Ok(());
    }
    tracing::info!(project = %project.name, repository = %name, digest = %manifest.digest,
        "pull refused: the project requires cosign signatures");
    Err(RegistryError::PolicyViolation(
        "The image is not signed in Cosign.".to_owned(),
    ))
}

/// Harbor's "prevent vulnerable images from running": a GET of an image whose latest report has findings
/// at or above the project's threshold, that its CVE allowlist does not exempt, is refused with 412
/// `PROJECTPOLICYVIOLATION`; so is an image never scanned. Indexes and artifacts that are not container
/// images are not checked (as in Harbor); a `HEAD` is not a pull and is not checked. In a proxy-cache
/// project, the first pull of an image is scanned before it is answered (Harbor serves it unscanned).
async fn refuse_if_vulnerable(
    state: &AppState,
    project: &crate::db::Project,
    settings: &[(String, String)],
    name: &RepositoryName,
    manifest: &Manifest,
) -> Result<(), RegistryError> {
    let Some(threshold) = scan::service::ScanSettings::of(settings).prevent else {
        return Ok(());
    };
    let scan::layers::Scannable::Image(layers) =
        scan::layers::scannable(&manifest.content, &manifest.media_type)
    else {
        return Ok(());
    };
    if let Some(registry_id) = project.registry_id {
        let scanned = scan::service::scan_proxied_before_serving(
            state,
            project,
            registry_id,
            name,
            &manifest.digest,
            layers,
        )
        .await
        .map_err(|e| match e {
            crate::service::ServiceError::Db(e) => {
                RegistryError::internal("scanning a proxied image", e)
            }
            other => RegistryError::PolicyViolation(other.to_string()),
        })?;
        if !scanned {
            return Err(RegistryError::PolicyViolation(
                "the image is being fetched and scanned before it is served for the first time, as this \
                 project prevents vulnerable images; try again in a minute"
                    .to_owned(),
            ));
        }
    }
    let refusal = scan::service::pull_refusal(state, project.id, &manifest.digest, threshold)
        .await
        .map_err(|e| RegistryError::internal("deciding the vulnerability policy", e))?;
    match refusal {
        Some(message) => {
            tracing::info!(project = %project.name, digest = %manifest.digest, "pull refused by the project's vulnerability policy");
            Err(RegistryError::PolicyViolation(message))
        }
        None => Ok(()),
    }
}

/// Harbor's "automatically scan images on push" and "automatically generate SBOM on push": queues a scan
/// and an SBOM generation of a pushed container image or index when the project asks for them. A failure to
/// queue is logged, never a failed push. (An SBOM accessory is not a container image, so storing one queues
/// nothing.)
async fn scan_on_push(
    state: &AppState,
    project: &crate::db::Project,
    name: &RepositoryName,
    digest: &str,
    tag: Option<&str>,
    content: &[u8],
    media_type: &str,
) {
    let settings = match scan::service::scan_settings(state, project.id).await {
        Ok(settings) => settings,
        Err(e) => {
            tracing::warn!(project = %project.name, error = %e, "could not read the project's scan settings; no scan on push");
            return;
        }
    };
    if !(settings.auto_scan || settings.auto_sbom)
        || matches!(
            scan::layers::scannable(content, media_type),
            scan::layers::Scannable::No(_)
        )
    {
        return;
    }
    if settings.auto_scan {
        let queued = scan::service::queue_scan(
            state,
            project.id,
            name.as_str(),
            digest,
            tag.map(str::to_owned),
            "auto scan",
        )
        .await;
        if let Err(e) = queued {
            tracing::warn!(repository = %name, %digest, error = %e, "scan on push could not be queued");
        }
    }
    if settings.auto_sbom {
        let queued =
            scan::sbom_job::queue_sbom(state, project.id, name.as_str(), digest, "auto sbom").await;
        if let Err(e) = queued {
            tracing::warn!(repository = %name, %digest, error = %e, "SBOM generation on push could not be queued");
        }
    }
}

fn manifest_response(manifest: Manifest, head: bool) -> Response {
    let length = manifest.content.len();
    let etag = format!("\"{}\"", manifest.digest);
    let mut response = Response::new(if head {
        Body::empty()
    } else {
        Body::from(manifest.content)
    });
    // Every pull comes here: the header values take the strings they are made of rather than copies, and
    // the map has room for these and the headers the layers add (`registry::routes`), so it never grows.
    let headers = response.headers_mut();
    *headers = HeaderMap::with_capacity(8);
    let values = [
        (header::CONTENT_TYPE, manifest.media_type),
        (DOCKER_CONTENT_DIGEST, manifest.digest),
        (header::ETAG, etag),
    ];
    for (name, value) in values {
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(name, value);
        }
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    response
}

/// Content negotiation: with no `Accept` header, or one with a wildcard, anything goes; otherwise the
/// manifest's media type must be listed.
fn accepts(headers: &HeaderMap, media_type: &str) -> bool {
    let mut listed = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.split(';').next().unwrap_or("").trim())
        .filter(|v| !v.is_empty())
        .peekable();
    if listed.peek().is_none() {
        return true;
    }
    listed.any(|v| v == media_type || v == "*/*" || v == "application/*")
}

pub async fn put(
    state: &AppState,
    headers: &HeaderMap,
    client: &ClientIp,
    name: &RepositoryName,
    reference: &str,
    body: Body,
) -> Result<Response, RegistryError> {
    let (project, caller) = authorize_as(state, headers, name, Action::Push).await?;
    let reference: Reference = reference.parse().map_err(|e| match e {
        crate::oci::name::ReferenceError::BadDigest(e) => {
            RegistryError::DigestInvalid(e.to_string())
        }
        e => RegistryError::ManifestInvalid(e.to_string()),
    })?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_MANIFEST_BYTES) {
        return Err(RegistryError::ManifestTooLarge(MAX_MANIFEST_BYTES));
    }
    let content = axum::body::to_bytes(body, MAX_MANIFEST_BYTES)
        .await
        .map_err(|_| RegistryError::ManifestTooLarge(MAX_MANIFEST_BYTES))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim());
    let parsed = manifest::parse(&content, content_type)
        .map_err(|e: ManifestError| RegistryError::ManifestInvalid(e.to_string()))?;
    let algorithm = match &reference {
        Reference::Digest(d) => d.algorithm(),
        Reference::Tag(_) => Algorithm::Sha256,
    };
    let digest = Digest::of(algorithm, &content);
    if let Reference::Digest(expected) = &reference
        && expected != &digest
    {
        return Err(RegistryError::DigestInvalid(format!(
            "manifest digest is {digest}, not {expected}"
        )));
    }
    let digest_text = digest.to_string();
    let blobs: Vec<String> = parsed.blobs.iter().map(ToString::to_string).collect();
    let children: Vec<String> = parsed.children.iter().map(ToString::to_string).collect();
    let subject = parsed.subject.as_ref().map(ToString::to_string);
    let annotations = parsed
        .annotations
        .as_ref()
        .map(|a| serde_json::to_string(a).unwrap_or_default());
    let tag = match &reference {
        Reference::Tag(tag) => Some(tag.as_str()),
        Reference::Digest(_) => None,
    };
    let artifact = NewArtifact {
        project_id: project.id,
        repository: name.as_str(),
        digest: &digest_text,
        media_type: &parsed.media_type,
        artifact_type: parsed.artifact_type.as_deref(),
        subject: subject.as_deref(),
        annotations,
        content: &content,
        blobs: &blobs,
        children: &children,
        tag,
        proxied: false,
    };
    let stored = state.db.put_manifest(&artifact).await;
    if let Err(PutManifestError::Immutable(locked)) = &stored {
        immutable::record_refusal(&state.db, locked, "push", caller.username(), client).await;
        return Err(RegistryError::Immutable(locked.push_message()));
    }
    stored.map_err(|e| match e {
        PutManifestError::MissingBlob(digest) => RegistryError::ManifestBlobUnknown {
            message: format!(
                "blob {digest} referenced by the manifest is not in {name}; push it first"
            ),
            digest,
        },
        PutManifestError::MissingManifest(digest) => RegistryError::ManifestBlobUnknown {
            message: format!(
                "manifest {digest} referenced by the index is not in {name}; push it first"
            ),
            digest,
        },
        PutManifestError::Quota(q) => {
            tracing::warn!(%q, repository = %name, "manifest push refused: project quota exceeded");
            state.webhooks.quota_exceeded(
                &project,
                name.as_str(),
                Some(&digest_text),
                caller.username(),
                q.to_string(),
            );
            RegistryError::QuotaExceeded(q.to_string())
        }
        PutManifestError::Immutable(locked) => RegistryError::Immutable(locked.push_message()),
        PutManifestError::Db(e) => RegistryError::internal("storing manifest", e),
    })?;
    tracing::info!(repository = %name, digest = %digest_text, tag, "manifest pushed");
    scan_on_push(
        state,
        &project,
        name,
        &digest_text,
        tag,
        &content,
        &parsed.media_type,
    )
    .await;
    Audit::new(
        Operation::Create,
        "artifact",
        audit::resource(name.as_str(), tag.unwrap_or(&digest_text)),
    )
    .project(&project.name)
    .by(caller.username(), client)
    .record(&state.db)
    .await;
    state.webhooks.notify_soon(state.webhooks.artifact_event(
        EventType::PushArtifact,
        &project,
        name.as_str(),
        &digest_text,
        tag,
        caller.username(),
    ));
    state
        .webhooks
        .quota_warning_soon(&project, name.as_str(), &digest_text, caller.username());
    crate::replication::on_push(state, name.as_str(), &digest_text, tag);
    let mut response_headers = vec![
        ("location", format!("/v2/{name}/manifests/{digest_text}")),
        ("docker-content-digest", digest_text),
    ];
    if let Some(subject) = subject {
        response_headers.push(("oci-subject", subject));
    }
    state.metrics.pushes.inc(&project.name);
    Ok(empty(StatusCode::CREATED, &response_headers))
}

/// `DELETE` by digest removes the manifest and its tags; by tag removes only the tag. Either is refused
/// (412 `PRECONDITION`) when an immutable tag rule locks a tag it would remove.
pub async fn delete(
    state: &AppState,
    headers: &HeaderMap,
    client: &ClientIp,
    name: &RepositoryName,
    reference: &str,
) -> Result<Response, RegistryError> {
    let (project, caller) = authorize_as(state, headers, name, Action::Delete).await?;
    let unknown =
        || RegistryError::ManifestUnknown(format!("manifest {reference:?} unknown in {name}"));
    let parsed = reference.parse::<Reference>().map_err(|_| unknown())?;
    let resource_type = match parsed {
        Reference::Tag(_) => "tag",
        Reference::Digest(_) => "artifact",
    };
    let deleted_digest = match &parsed {
        Reference::Digest(digest) => Some(digest.to_string()),
        Reference::Tag(_) => None,
    };
    let deleted = match parsed {
        Reference::Tag(tag) => state.db.delete_tag(name.as_str(), tag.as_str()).await,
        Reference::Digest(digest) => {
            state
                .db
                .delete_manifest(name.as_str(), &digest.to_string())
                .await
        }
    };
    let deleted = match deleted {
        Ok(deleted) => deleted,
        Err(GuardedError::Locked(locked)) => {
            immutable::record_refusal(&state.db, &locked, "delete", caller.username(), client)
                .await;
            return Err(RegistryError::Immutable(locked.delete_message()));
        }
        Err(GuardedError::Db(e)) => return Err(e.into()),
    };
    if !deleted {
        return Err(unknown());
    }
    tracing::info!(repository = %name, reference, "manifest or tag deleted");
    Audit::new(
        Operation::Delete,
        resource_type,
        audit::resource(name.as_str(), reference),
    )
    .project(&project.name)
    .by(caller.username(), client)
    .record(&state.db)
    .await;
    if let Some(digest) = deleted_digest {
        crate::replication::on_delete(state, name.as_str(), &digest);
        state.webhooks.notify_soon(state.webhooks.artifact_event(
            EventType::DeleteArtifact,
            &project,
            name.as_str(),
            &digest,
            None,
            caller.username(),
        ));
    }
    Ok(empty(StatusCode::ACCEPTED, &[]))
}
