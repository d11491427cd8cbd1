//! Pull-through: how the `/v2` handlers serve a proxy-cache project.
//!
//! Harbor's five scenarios, for a manifest asked for by tag:
//! 1. not cached, upstream has it: fetch, cache, serve;
//! 2. cached, and the upstream's `HEAD` names the same digest: serve the cached copy (a `HEAD` does not count
//!    toward Docker Hub's pull limit);
//! 3. cached, upstream names another digest: fetch and serve the new one (the tag moves);
//! 4. cached, upstream unreachable, timing out, erroring or rate-limiting: serve the cached copy;
//! 5. cached, upstream answers 404: refuse, as the image was removed upstream.
//!
//! Anything asked for by digest that is cached is served with no upstream contact. Blobs come through a
//! [`BlobFlight`](super::BlobFlight), fetched once however many clients ask.

use std::sync::Arc;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use futures_util::FutureExt as _;
use futures_util::StreamExt as _;
use reqwest::Method;

use super::upstream::{MANIFEST_ACCEPT, Upstream};
use super::{Endpoint, Fetched, FlightJob, ProxyError, Stage};
use crate::app::AppState;
use crate::db::{LinkedBlob, Manifest, NewArtifact, Project, PutManifestError};
use crate::metrics::ProxyResult;
use crate::oci::manifest::{self, MAX_MANIFEST_BYTES};
use crate::oci::{Algorithm, Digest, Reference, RepositoryName};
use crate::registry::RegistryError;

/// The most tags read from an upstream's tag list.
const MAX_UPSTREAM_TAGS: usize = 10_000;

/// Where a proxy repository's content comes from.
#[derive(Debug, Clone)]
pub struct Target {
    pub upstream: Arc<Upstream>,
    /// The repository on the upstream, e.g. `library/nginx`.
    pub repository: String,
}

impl From<ProxyError> for RegistryError {
    fn from(error: ProxyError) -> Self {
        match error {
            ProxyError::NotFound(m) => RegistryError::ManifestUnknown(m),
            ProxyError::Unavailable(m) | ProxyError::Corrupt(m) => RegistryError::Unavailable(m),
            ProxyError::RateLimited(m) => RegistryError::TooManyRequests(m),
            ProxyError::Invalid(m) => RegistryError::BadGateway(m),
            ProxyError::Internal(m) => RegistryError::Internal(m),
        }
    }
}

/// The upstream of repository `name` in proxy project `project`, after checking the project's include and
/// exclude patterns.
pub async fn target(
    state: &AppState,
    project: &Project,
    registry_id: i64,
    name: &RepositoryName,
) -> Result<Target, RegistryError> {
    let endpoint = load_endpoint(state, registry_id).await?;
    let path = name
        .as_str()
        .strip_prefix(project.name.as_str())
        .and_then(|rest| rest.strip_prefix('/'))
        .ok_or_else(|| {
            RegistryError::NameInvalid(format!(
                "{name}: a proxy-cache repository is <project>/<upstream repository>"
            ))
        })?;
    let repository = endpoint.upstream_repository(path);
    check_patterns(state, project, &repository).await?;
    let upstream = state.proxy.upstream(endpoint).map_err(|e| {
        tracing::warn!(project = %project.name, error = %e, "proxy: endpoint unusable");
        RegistryError::Unavailable(e.to_string())
    })?;
    Ok(Target {
        upstream,
        repository,
    })
}

async fn load_endpoint(state: &AppState, registry_id: i64) -> Result<Endpoint, RegistryError> {
    crate::service::registries::endpoint(&state.db, &state.secrets, registry_id)
        .await
        .map_err(|e| RegistryError::internal("loading the proxy project's registry endpoint", e))?
        .ok_or_else(|| {
            tracing::error!(registry_id, "proxy project's registry endpoint is missing");
            RegistryError::Unavailable(
                "the project's registry endpoint no longer exists".to_owned(),
            )
        })
}

/// Refuses repositories the project's `proxy_include` / `proxy_exclude` patterns leave out.
async fn check_patterns(
    state: &AppState,
    project: &Project,
    repository: &str,
) -> Result<(), RegistryError> {
    let settings = state.db.project_settings(&[project.id]).await?;
    let setting = |key: &str| {
        settings
            .iter()
            .find(|(_, name, _)| name == key)
            .map(|(_, _, value)| value.as_str())
            .filter(|v| !v.trim().is_empty())
    };
    let (include, exclude) = (setting("proxy_include"), setting("proxy_exclude"));
    if include.is_none() && exclude.is_none() {
        return Ok(());
    }
    let filter = state
        .proxy
        .repository_filter(include, exclude)
        .map_err(|e| RegistryError::internal("reading the proxy project's patterns", e))?;
    if filter.allows(repository) {
        return Ok(());
    }
    Err(RegistryError::Denied(format!(
        "repository {repository} is not cached by proxy project {}: its patterns are include {:?}, exclude {:?}",
        project.name,
        include.unwrap_or("**"),
        exclude.unwrap_or("")
    )))
}

/// The manifest `reference` of proxy repository `name`, from the cache or the upstream as the scenarios say.
pub async fn manifest(
    state: &AppState,
    project: &Project,
    target: &Target,
    name: &RepositoryName,
    reference: &Reference,
) -> Result<Manifest, RegistryError> {
    let tag = match reference {
        Reference::Digest(digest) => {
            let digest_text = digest.to_string();
            if let Some(cached) = state
                .db
                .manifest_by_digest(name.as_str(), &digest_text)
                .await?
            {
                state.metrics.proxy_request(MANIFEST, ProxyResult::Hit);
                return Ok(cached);
            }
            let fetched = fetch_manifest(state, target, digest_text, Some(digest.clone()))
                .await
                .inspect_err(|e| upstream_failed(state, MANIFEST, e))?;
            state.metrics.proxy_request(MANIFEST, ProxyResult::Miss);
            return Ok(store(state, project, name, fetched, None).await);
        }
        Reference::Tag(tag) => tag.as_str(),
    };
    let cached = state.db.manifest_by_tag(name.as_str(), tag).await?;
    match check_tag(target, tag).await {
        Ok(Some(current)) => {
            let current_text = current.to_string();
            if let Some(cached) = cached.filter(|m| m.digest == current_text) {
                state.metrics.proxy_request(MANIFEST, ProxyResult::Hit);
                return Ok(cached);
            }
            // The tag moved, or is new here: fetch by digest, unless that digest is cached already.
            let fetched = match state
                .db
                .manifest_by_digest(name.as_str(), &current_text)
                .await?
            {
                Some(known) => Fetched {
                    digest: current,
                    media_type: known.media_type,
                    content: known.content,
                },
                None => fetch_manifest(state, target, current_text, Some(current))
                    .await
                    .inspect_err(|e| upstream_failed(state, MANIFEST, e))?,
            };
            state.metrics.proxy_request(MANIFEST, ProxyResult::Miss);
            Ok(store(state, project, name, fetched, Some(tag)).await)
        }
        // The upstream's HEAD gave no digest: fetch by tag.
        Ok(None) => {
            let fetched = fetch_manifest(state, target, tag.to_owned(), None)
                .await
                .inspect_err(|e| upstream_failed(state, MANIFEST, e))?;
            state.metrics.proxy_request(MANIFEST, ProxyResult::Miss);
            Ok(store(state, project, name, fetched, Some(tag)).await)
        }
        Err(e) if e.upstream_down() && cached.is_some() => {
            upstream_failed(state, MANIFEST, &e);
            state.metrics.proxy_request(MANIFEST, ProxyResult::Stale);
            tracing::warn!(repository = %name, tag, reason = %e, "proxy: upstream unavailable; serving the cached manifest");
            cached.ok_or_else(|| RegistryError::Internal("cached manifest vanished".to_owned()))
        }
        Err(e) => {
            upstream_failed(state, MANIFEST, &e);
            if matches!(e, ProxyError::NotFound(_)) && cached.is_some() {
                tracing::info!(repository = %name, tag, "proxy: tag removed upstream; refusing the cached copy");
            }
            Err(e.into())
        }
    }
}

const MANIFEST: &str = "manifest";
const BLOB: &str = "blob";

/// Counts `error` of a request of `kind` to the upstream, unless it is the upstream's "not found" (an
/// answer, not a failure).
fn upstream_failed(state: &AppState, kind: &'static str, error: &ProxyError) {
    if !matches!(error, ProxyError::NotFound(_)) {
        state.metrics.proxy_upstream_error(kind);
    }
}

/// `HEAD`s the tag upstream: the digest it names now, `None` if the upstream did not say.
async fn check_tag(target: &Target, tag: &str) -> Result<Option<Digest>, ProxyError> {
    let path = format!("/v2/{}/manifests/{tag}", target.repository);
    let response = target
        .upstream
        .request(
            Method::HEAD,
            &target.repository,
            &path,
            Some(MANIFEST_ACCEPT),
        )
        .await?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(ProxyError::from_status(
            status,
            &format!("{}:{tag}", target.repository),
        ));
    }
    Ok(response
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok()))
}

/// Fetches manifest `reference` once, however many clients ask at the same time, and checks it against
/// `expected` (and against the digest the upstream states).
async fn fetch_manifest(
    state: &AppState,
    target: &Target,
    reference: String,
    expected: Option<Digest>,
) -> Result<Fetched, ProxyError> {
    let key = (
        target.upstream.endpoint().id,
        target.repository.clone(),
        reference.clone(),
    );
    let upstream = target.upstream.clone();
    let repository = target.repository.clone();
    let timeout = state.proxy.config().request_timeout();
    let fetch = async move {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let what = format!("manifest {repository}:{reference}");
        let response = upstream
            .request(Method::GET, &repository, &path, Some(MANIFEST_ACCEPT))
            .await?;
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            return Err(ProxyError::from_status(status, &what));
        }
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_owned())
            .unwrap_or_default();
        let stated: Option<Digest> = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let content = tokio::time::timeout(timeout, read_limited(response, MAX_MANIFEST_BYTES))
            .await
            .map_err(|_| {
                ProxyError::Unavailable(format!("{what}: the body did not arrive in time"))
            })??;
        let check = expected.or(stated);
        let digest = match check {
            Some(check) => {
                let computed = Digest::of(check.algorithm(), &content);
                if computed != check {
                    return Err(ProxyError::Corrupt(format!(
                        "{what}: the upstream sent content with digest {computed}, not {check}"
                    )));
                }
                computed
            }
            None => Digest::of(Algorithm::Sha256, &content),
        };
        let media_type = servable_media_type(&content, &media_type).map_err(|reason| {
            tracing::warn!(%what, %reason, "proxy: refused an upstream manifest");
            ProxyError::Invalid(format!(
                "the upstream registry's answer for {what} is not a manifest Berth serves: {reason}"
            ))
        })?;
        Ok(Fetched {
            digest,
            media_type,
            content,
        })
    };
    state.proxy.manifest_flight(key, fetch.boxed()).await
}

/// The media type to serve an upstream manifest with, or why it is none. `content_type` is the upstream's
/// `Content-Type` without parameters; it counts only when it names a manifest media type, and the content must
/// parse as that manifest (or, for the kinds Berth passes through uncached, be a JSON object saying nothing
/// else). Whatever the upstream claims, nothing but a manifest media type is ever served.
fn servable_media_type(content: &[u8], content_type: &str) -> Result<String, String> {
    let hint = Some(content_type).filter(|ct| manifest::is_manifest_media_type(ct));
    let error = match manifest::parse(content, hint) {
        Ok(parsed) => return Ok(parsed.media_type),
        Err(e) => e,
    };
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        media_type: Option<String>,
    }
    if let Some(hint) = hint
        && let Ok(probe) = serde_json::from_slice::<Probe>(content)
        && probe.media_type.as_deref().is_none_or(|m| m == hint)
        && matches!(
            error,
            manifest::ManifestError::Schema1 | manifest::ManifestError::UnsupportedMediaType(_)
        )
    {
        return Ok(hint.to_owned());
    }
    Err(format!("Content-Type {content_type:?}: {error}"))
}

async fn read_limited(response: reqwest::Response, limit: usize) -> Result<Bytes, ProxyError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(ProxyError::Corrupt(format!(
            "the upstream manifest is larger than {limit} bytes"
        )));
    }
    let mut body = response.bytes_stream();
    let mut content = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|e| ProxyError::Unavailable(format!("reading the upstream manifest: {e}")))?;
        if content.len() + chunk.len() > limit {
            return Err(ProxyError::Corrupt(format!(
                "the upstream manifest is larger than {limit} bytes"
            )));
        }
        content.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(content))
}

/// Caches a fetched manifest (and `tag`) in the project; returns it to serve. A manifest that cannot be
/// cached (over the quota, or of a kind Berth does not store) is still served.
async fn store(
    state: &AppState,
    project: &Project,
    name: &RepositoryName,
    fetched: Fetched,
    tag: Option<&str>,
) -> Manifest {
    let digest_text = fetched.digest.to_string();
    let manifest = Manifest {
        digest: digest_text.clone(),
        media_type: fetched.media_type.clone(),
        content: fetched.content.clone(),
    };
    let content_type = Some(fetched.media_type.as_str()).filter(|m| !m.is_empty());
    let parsed = match manifest::parse(&fetched.content, content_type) {
        Ok(parsed) => parsed,
        Err(e) => {
            tracing::warn!(repository = %name, digest = %digest_text, error = %e, "proxy: serving a manifest Berth cannot cache");
            return manifest;
        }
    };
    let blobs: Vec<String> = parsed.blobs.iter().map(ToString::to_string).collect();
    let children: Vec<String> = parsed.children.iter().map(ToString::to_string).collect();
    let subject = parsed.subject.as_ref().map(ToString::to_string);
    let annotations = parsed
        .annotations
        .as_ref()
        .map(|a| serde_json::to_string(a).unwrap_or_default());
    let artifact = NewArtifact {
        project_id: project.id,
        repository: name.as_str(),
        digest: &digest_text,
        media_type: &parsed.media_type,
        artifact_type: parsed.artifact_type.as_deref(),
        subject: subject.as_deref(),
        annotations,
        content: &fetched.content,
        blobs: &blobs,
        children: &children,
        tag,
        proxied: true,
    };
    match state.db.put_manifest(&artifact).await {
        Ok(()) => {
            tracing::info!(repository = %name, digest = %digest_text, tag, "proxy: manifest cached");
        }
        Err(PutManifestError::Quota(q)) => {
            tracing::warn!(repository = %name, digest = %digest_text, %q, "proxy: quota full; serving the manifest without caching it");
        }
        Err(e) => {
            tracing::error!(repository = %name, digest = %digest_text, error = %e, "proxy: could not cache a manifest; serving it anyway");
        }
    }
    Manifest {
        media_type: parsed.media_type,
        ..manifest
    }
}

/// What serving a blob of a proxy repository that is not linked there came to.
pub enum BlobSource {
    /// It is in the blob store and linked now: serve it like a hosted blob.
    Linked(LinkedBlob),
    /// The response is ready (a `HEAD` answered from upstream, or a download being streamed).
    Response(Response),
}

/// Serves blob `digest` of proxy repository `name`, which is not linked there (yet). `range` is the
/// client's `Range` header.
pub async fn blob(
    state: &AppState,
    project: &Project,
    registry_id: i64,
    name: &RepositoryName,
    digest: &Digest,
    head: bool,
    range: Option<&str>,
) -> Result<BlobSource, RegistryError> {
    let digest_text = digest.to_string();
    // The repository must be one the project's patterns let through, cached or not.
    let target = target(state, project, registry_id, name).await?;
    // Linked to another repository of this project: it came from this project's upstream, verified.
    if let Some(blob) = state.db.project_blob(project.id, &digest_text).await? {
        link(state, project, name, &digest_text, blob.size).await;
        state.metrics.proxy_request(BLOB, ProxyResult::Hit);
        return Ok(BlobSource::Linked(blob));
    }
    // Anything else, even a blob the store holds for another project, is fetched from the upstream and
    // verified: an upstream saying it has a digest (a HEAD, a manifest listing it) proves nothing.
    if head {
        return head_upstream(&target, digest)
            .await
            .map(BlobSource::Response);
    }
    state.metrics.proxy_request(BLOB, ProxyResult::Miss);
    let upstream = target.upstream.clone();
    let flight = state
        .proxy
        .blob_flight(|staging| FlightJob {
            upstream,
            repository: target.repository.clone(),
            digest: digest.clone(),
            staging,
            blobs: state.blobs.clone(),
            db: state.db.clone(),
            read_timeout: state.proxy.config().read_timeout(),
        })
        .map_err(blob_error)?;
    // Link the blob to this repository once it is verified, whoever started the download.
    {
        let (state, project, name, flight) =
            (state.clone(), project.clone(), name.clone(), flight.clone());
        tokio::spawn(async move {
            match flight.finished().await {
                Stage::Verified { size } => {
                    let size = i64::try_from(size).unwrap_or(i64::MAX);
                    link(&state, &project, &name, &flight.digest.to_string(), size).await;
                }
                Stage::Failed(e) => upstream_failed(&state, BLOB, &e),
                _ => {}
            }
        });
    }
    if range.is_some() {
        // A range of a blob not cached yet: wait for it, then answer like a hosted project.
        return match flight.finished().await {
            Stage::Verified { size } => {
                let size = i64::try_from(size).unwrap_or(i64::MAX);
                link(state, project, name, &digest_text, size).await;
                // The row says where the bytes are (the verified download may have found them stored).
                let blob = state
                    .db
                    .stored_blob(&digest_text)
                    .await?
                    .unwrap_or(LinkedBlob {
                        size,
                        object_key: None,
                    });
                Ok(BlobSource::Linked(blob))
            }
            Stage::Failed(e) => Err(blob_error(e)),
            Stage::Connecting | Stage::Receiving { .. } => Err(RegistryError::Internal(
                "proxy fetch ended early".to_owned(),
            )),
        };
    }
    let size = match flight.started().await {
        Stage::Failed(e) => return Err(blob_error(e)),
        Stage::Receiving { size, .. } => size,
        Stage::Verified { size } => Some(size),
        Stage::Connecting => None,
    };
    let mut response = Response::new(flight.body());
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = axum::http::HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("content-type", "application/octet-stream".to_owned());
    set("docker-content-digest", digest_text.clone());
    set("etag", format!("\"{digest_text}\""));
    if let Some(size) = size {
        set("content-length", size.to_string());
    }
    Ok(BlobSource::Response(response))
}

/// Answers a `HEAD` for a blob not cached from the upstream's own `HEAD`, without downloading it.
async fn head_upstream(target: &Target, digest: &Digest) -> Result<Response, RegistryError> {
    let path = format!("/v2/{}/blobs/{digest}", target.repository);
    let response = target
        .upstream
        .request(Method::HEAD, &target.repository, &path, None)
        .await
        .map_err(ProxyError::from)
        .map_err(blob_error)?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(blob_error(ProxyError::from_status(
            response.status(),
            &format!("blob {digest}"),
        )));
    }
    let mut answer = Response::new(Body::empty());
    *answer.status_mut() = StatusCode::OK;
    let headers = answer.headers_mut();
    headers.insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/octet-stream"),
    );
    for (name, value) in [
        ("docker-content-digest", Some(digest.to_string())),
        ("etag", Some(format!("\"{digest}\""))),
        ("accept-ranges", Some("bytes".to_owned())),
        // The header itself: reqwest's `content_length()` is the body's, which a HEAD answer does not have.
        (
            "content-length",
            response
                .headers()
                .get(reqwest::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ),
    ] {
        if let Some(value) = value.and_then(|v| axum::http::HeaderValue::from_str(&v).ok()) {
            headers.insert(name, value);
        }
    }
    Ok(answer)
}

fn blob_error(error: ProxyError) -> RegistryError {
    match error {
        ProxyError::NotFound(_) => RegistryError::BlobUnknown,
        other => other.into(),
    }
}

/// Links a cached blob to the repository, charging the project. Over the quota the pull is still served;
/// the blob just is not kept for this project.
async fn link(state: &AppState, project: &Project, name: &RepositoryName, digest: &str, size: i64) {
    match state
        .db
        .link_blob(project.id, name.as_str(), digest, size, None)
        .await
    {
        Ok(()) => {}
        Err(crate::db::ChargeError::Quota(q)) => {
            tracing::warn!(repository = %name, digest, %q, "proxy: quota full; serving the blob without caching it for the project");
        }
        Err(crate::db::ChargeError::BlobDeleting(_)) => {
            tracing::info!(repository = %name, digest, "proxy: a cached blob is being garbage collected; it is fetched again next time");
        }
        Err(crate::db::ChargeError::Db(e)) => {
            tracing::error!(repository = %name, digest, error = %e, "proxy: could not link a cached blob");
        }
    }
}

/// The tags of proxy repository `name`: the cached ones merged with the upstream's when it answers.
pub async fn tags(
    state: &AppState,
    project: &Project,
    registry_id: i64,
    name: &RepositoryName,
) -> Result<Vec<String>, RegistryError> {
    let cached = state.db.list_tags(name.as_str(), None, i64::MAX).await?;
    let target = target(state, project, registry_id, name).await?;
    let upstream = upstream_tags(state, &target).await;
    let mut tags = match (cached, upstream) {
        (cached, Ok(upstream)) => {
            let mut tags = cached.unwrap_or_default();
            tags.extend(upstream);
            tags
        }
        (Some(cached), Err(e)) => {
            if e.upstream_down() {
                tracing::warn!(repository = %name, reason = %e, "proxy: upstream unavailable; listing cached tags only");
            }
            cached
        }
        (None, Err(ProxyError::NotFound(_))) => {
            return Err(RegistryError::NameUnknown(format!(
                "repository {name} is not known here or upstream"
            )));
        }
        (None, Err(e)) => return Err(e.into()),
    };
    tags.sort();
    tags.dedup();
    Ok(tags)
}

async fn upstream_tags(state: &AppState, target: &Target) -> Result<Vec<String>, ProxyError> {
    #[derive(serde::Deserialize)]
    struct TagList {
        tags: Option<Vec<String>>,
    }
    let path = format!("/v2/{}/tags/list?n={MAX_UPSTREAM_TAGS}", target.repository);
    let response = target
        .upstream
        .request(Method::GET, &target.repository, &path, None)
        .await?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(ProxyError::from_status(
            status,
            &format!("the tags of {}", target.repository),
        ));
    }
    let body = tokio::time::timeout(
        state.proxy.config().request_timeout(),
        read_limited(response, 4 * 1024 * 1024),
    )
    .await
    .map_err(|_| {
        ProxyError::Unavailable("the upstream tag list did not arrive in time".to_owned())
    })??;
    let list: TagList = serde_json::from_slice(&body)
        .map_err(|e| ProxyError::Unavailable(format!("unreadable upstream tag list: {e}")))?;
    Ok(list.tags.unwrap_or_default())
}
