//! Copying one artifact from a source repository to a destination repository: its manifest tree (an
//! index's children first), the blobs the destination lacks (a `HEAD` first; a cross-repository mount when
//! the destination is Berth or Harbor and already holds the blob in a repository this run wrote), the
//! manifest, and then its referrers (signatures, SBOMs), which go with their subject.
//!
//! Every byte is checked by the destination: a blob's upload names its digest and a manifest is put by its
//! digest before any tag, so a source that lies is refused there. Uploads go in one request or, with
//! `copy_by_chunk`, in [`CHUNK`] pieces, at most `speed` KiB/s either way.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use bytes::Bytes;
use futures_util::StreamExt;

use super::registry::{ByteStream, Payload, Reply, Side, location_path};
use crate::oci::Digest;
use crate::oci::manifest::{self, MAX_MANIFEST_BYTES};
use crate::proxy::upstream::MANIFEST_ACCEPT;

/// The size of one chunk of a chunked upload (Harbor's default).
pub const CHUNK: u64 = 10 * 1024 * 1024;
/// How deep an index of indexes (and referrers of referrers) may nest.
const MAX_DEPTH: usize = 4;
/// The most referrers copied with one subject.
const MAX_REFERRERS: usize = 100;
/// The media type of the OCI image index.
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// What one copy did, for the task's log.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub manifests: u64,
    pub blobs_sent: u64,
    pub blobs_present: u64,
    pub blobs_mounted: u64,
    pub bytes: u64,
}

/// A copy between two sides, with what the run learned: where the destination holds which blob.
pub struct Copier<'a> {
    pub source: &'a Side,
    pub destination: &'a Side,
    /// KiB/s, 0 for no limit.
    pub speed: u64,
    pub chunked: bool,
    pub images_only: bool,
    pub counts: Counts,
    /// Blobs this run put at the destination, by digest: the repository that holds it.
    written: HashMap<String, String>,
    /// Lines for the task's log.
    pub log: Vec<String>,
}

/// A manifest read from the source.
struct Fetched {
    digest: Digest,
    media_type: String,
    content: Bytes,
}

impl<'a> Copier<'a> {
    pub fn new(
        source: &'a Side,
        destination: &'a Side,
        speed: u64,
        chunked: bool,
        images_only: bool,
    ) -> Self {
        Copier {
            source,
            destination,
            speed,
            chunked,
            images_only,
            counts: Counts::default(),
            written: HashMap::new(),
            log: Vec::new(),
        }
    }

    /// Copies `reference` (a tag or digest) of `from` to `to`, tagged `tag` there when given. Returns the
    /// digest copied, or `None` when the policy's settings skip it (a tag held by another digest without
    /// override; not an image with the `image` resource filter).
    pub async fn artifact(
        &mut self,
        from: &str,
        to: &str,
        reference: &str,
        tag: Option<&str>,
        overwrite: bool,
    ) -> Result<Option<Digest>, String> {
        let fetched = self.fetch_manifest(from, reference).await?;
        let parsed = manifest::parse(&fetched.content, Some(&fetched.media_type))
            .map_err(|e| format!("{from}:{reference} is not a manifest Berth copies: {e}"))?;
        if self.images_only
            && !super::policy::is_image(&parsed.media_type, parsed.artifact_type.as_deref())
        {
            self.log.push(format!(
                "{from}:{reference} is not an image; skipped (resource filter)"
            ));
            return Ok(None);
        }
        if let Some(tag) = tag
            && !overwrite
            && let Some(existing) = self.head_manifest(to, tag).await?
            && existing != fetched.digest.to_string()
        {
            self.log.push(format!(
                "{to}:{tag} exists at the destination as {existing}; not overridden (the policy's override is off)"
            ));
            return Ok(None);
        }
        let digest = fetched.digest.clone();
        self.tree(from, to, fetched, 0).await?;
        if let Some(tag) = tag {
            // The same bytes again, now under the tag: the destination checks they hash to the digest put above.
            let again = self.fetch_manifest(from, &digest.to_string()).await?;
            self.put_manifest(to, tag, &again).await?;
        }
        self.referrers(from, to, &digest, 0).await?;
        Ok(Some(digest))
    }

    /// Copies a manifest by digest with everything it references.
    fn tree<'b>(
        &'b mut self,
        from: &'b str,
        to: &'b str,
        fetched: Fetched,
        depth: usize,
    ) -> futures_util::future::BoxFuture<'b, Result<(), String>> {
        Box::pin(async move {
            if depth > MAX_DEPTH {
                return Err(format!(
                    "{from}: indexes nest deeper than {MAX_DEPTH} levels"
                ));
            }
            let digest_text = fetched.digest.to_string();
            if self.head_manifest(to, &digest_text).await?.is_some() {
                return Ok(());
            }
            let parsed = manifest::parse(&fetched.content, Some(&fetched.media_type))
                .map_err(|e| format!("{from}@{digest_text}: {e}"))?;
            for child in &parsed.children {
                let child_manifest = self.fetch_manifest(from, &child.to_string()).await?;
                self.tree(from, to, child_manifest, depth + 1).await?;
            }
            for blob in &parsed.blobs {
                self.blob(from, to, blob).await?;
            }
            self.put_manifest(to, &digest_text, &fetched).await
        })
    }

    /// Copies the referrers of `subject` (and theirs), after it.
    fn referrers<'b>(
        &'b mut self,
        from: &'b str,
        to: &'b str,
        subject: &'b Digest,
        depth: usize,
    ) -> futures_util::future::BoxFuture<'b, Result<(), String>> {
        Box::pin(async move {
            if depth > MAX_DEPTH {
                return Ok(());
            }
            for referrer in self.list_referrers(from, subject).await? {
                let fetched = self.fetch_manifest(from, &referrer.to_string()).await?;
                self.tree(from, to, fetched, depth + 1).await?;
                self.log
                    .push(format!("{from}@{referrer}: referrer of {subject} copied"));
                self.referrers(from, to, &referrer, depth + 1).await?;
            }
            Ok(())
        })
    }

    /// The referrers of `subject` at the source: Berth's own, or the registry's referrers API.
    async fn list_referrers(&self, from: &str, subject: &Digest) -> Result<Vec<Digest>, String> {
        if let Side::Local(local) = self.source {
            let rows = local
                .state
                .db
                .referrers(from, &subject.to_string(), None)
                .await
                .map_err(|e| format!("listing referrers: {e}"))?;
            return Ok(rows
                .into_iter()
                .take(MAX_REFERRERS)
                .filter_map(|r| r.digest.parse().ok())
                .collect());
        }
        let path = format!("/v2/{from}/referrers/{subject}");
        let reply = self.source.bare(Method::GET, from, &path, false).await?;
        if reply.status != StatusCode::OK {
            // No referrers API there: referrers stored under the tag schema are ordinary tags, copied as such.
            return Ok(Vec::new());
        }
        let body = reply.bytes(MAX_MANIFEST_BYTES).await?;
        let index: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("referrers of {subject}: {e}"))?;
        Ok(index["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .take(MAX_REFERRERS)
            .filter_map(|m| m["digest"].as_str()?.parse().ok())
            .collect())
    }

    async fn fetch_manifest(&self, from: &str, reference: &str) -> Result<Fetched, String> {
        if let Side::Local(local) = self.source {
            let found = if reference.contains(':') {
                local.state.db.manifest_by_digest(from, reference).await
            } else {
                local.state.db.manifest_by_tag(from, reference).await
            }
            .map_err(|e| format!("reading {from}:{reference}: {e}"))?
            .ok_or_else(|| format!("{from}:{reference} no longer exists"))?;
            let digest = found.digest.parse().map_err(|e| format!("{e}"))?;
            return Ok(Fetched {
                digest,
                media_type: found.media_type,
                content: found.content,
            });
        }
        let path = format!("/v2/{from}/manifests/{reference}");
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(MANIFEST_ACCEPT));
        let reply = self
            .source
            .call(Method::GET, from, &path, headers, Payload::Empty, false)
            .await?;
        if reply.status != StatusCode::OK {
            return Err(format!(
                "GET manifest {from}:{reference} answered {}",
                reply.status
            ));
        }
        let media_type = reply
            .header("content-type")
            .map(|v| v.split(';').next().unwrap_or("").trim().to_owned())
            .unwrap_or_default();
        let content = reply.bytes(MAX_MANIFEST_BYTES).await?;
        let digest = match reference.parse::<Digest>() {
            Ok(expected) => {
                let computed = Digest::of(expected.algorithm(), &content);
                if computed != expected {
                    return Err(format!("the source sent {computed} for {from}@{expected}"));
                }
                computed
            }
            Err(_) => Digest::sha256_of(&content),
        };
        Ok(Fetched {
            digest,
            media_type,
            content,
        })
    }

    /// The digest the destination holds under `reference`, if any.
    async fn head_manifest(&self, to: &str, reference: &str) -> Result<Option<String>, String> {
        let path = format!("/v2/{to}/manifests/{reference}");
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(MANIFEST_ACCEPT));
        let reply = self
            .destination
            .call(Method::HEAD, to, &path, headers, Payload::Empty, true)
            .await?;
        match reply.status {
            StatusCode::OK => Ok(Some(
                reply
                    .header("docker-content-digest")
                    .unwrap_or_default()
                    .to_owned(),
            )),
            StatusCode::NOT_FOUND => Ok(None),
            status => Err(format!(
                "HEAD manifest {to}:{reference} at the destination answered {status}"
            )),
        }
    }

    async fn put_manifest(
        &mut self,
        to: &str,
        reference: &str,
        fetched: &Fetched,
    ) -> Result<(), String> {
        let path = format!("/v2/{to}/manifests/{reference}");
        let mut headers = HeaderMap::new();
        let media_type = HeaderValue::from_str(&fetched.media_type).map_err(|e| e.to_string())?;
        headers.insert(header::CONTENT_TYPE, media_type);
        let reply = self
            .destination
            .call(
                Method::PUT,
                to,
                &path,
                headers,
                Payload::Bytes(fetched.content.clone()),
                true,
            )
            .await?;
        if reply.status != StatusCode::CREATED {
            let status = reply.status;
            let detail = error_text(reply).await;
            return Err(format!(
                "PUT manifest {to}:{reference} answered {status}: {detail}"
            ));
        }
        let subject_unsupported = reply.header("oci-subject").is_none();
        self.counts.manifests += 1;
        if subject_unsupported
            && reference.contains(':')
            && let Ok(parsed) = manifest::parse(&fetched.content, Some(&fetched.media_type))
            && let Some(subject) = parsed.subject
        {
            self.tag_schema_referrer(to, &subject, fetched, parsed.artifact_type.as_deref())
                .await?;
        }
        Ok(())
    }

    /// Adds a referrer to the OCI referrers tag schema (`sha256-<hex>`, an index of the referrers) of a
    /// destination without the referrers API, so clients there still find it.
    async fn tag_schema_referrer(
        &mut self,
        to: &str,
        subject: &Digest,
        referrer: &Fetched,
        artifact_type: Option<&str>,
    ) -> Result<(), String> {
        let tag = format!("{}-{}", subject.algorithm().as_str(), subject.hex());
        let path = format!("/v2/{to}/manifests/{tag}");
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(OCI_INDEX));
        let reply = self
            .destination
            .call(Method::GET, to, &path, headers, Payload::Empty, true)
            .await?;
        let mut index = if reply.status == StatusCode::OK {
            let body = reply.bytes(MAX_MANIFEST_BYTES).await?;
            serde_json::from_slice(&body).unwrap_or_else(|_| empty_index())
        } else {
            empty_index()
        };
        let digest = referrer.digest.to_string();
        let manifests = index["manifests"]
            .as_array_mut()
            .ok_or("bad referrers index")?;
        if manifests.iter().any(|m| m["digest"] == digest.as_str()) {
            return Ok(());
        }
        let mut descriptor = serde_json::json!({
            "mediaType": referrer.media_type,
            "digest": digest,
            "size": referrer.content.len(),
        });
        if let Some(artifact_type) = artifact_type {
            descriptor["artifactType"] = artifact_type.into();
        }
        manifests.push(descriptor);
        let content = Bytes::from(serde_json::to_vec(&index).map_err(|e| e.to_string())?);
        let fetched = Fetched {
            digest: Digest::sha256_of(&content),
            media_type: OCI_INDEX.to_owned(),
            content,
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(OCI_INDEX));
        let reply = self
            .destination
            .call(
                Method::PUT,
                to,
                &path,
                headers,
                Payload::Bytes(fetched.content.clone()),
                true,
            )
            .await?;
        if reply.status != StatusCode::CREATED {
            return Err(format!(
                "PUT referrers tag {to}:{tag} answered {}",
                reply.status
            ));
        }
        self.log.push(format!(
            "{to}:{tag}: referrers index updated (the destination has no referrers API)"
        ));
        Ok(())
    }

    /// Makes sure the destination repository holds blob `digest`.
    async fn blob(&mut self, from: &str, to: &str, digest: &Digest) -> Result<(), String> {
        let path = format!("/v2/{to}/blobs/{digest}");
        let reply = self.destination.bare(Method::HEAD, to, &path, true).await?;
        if reply.status == StatusCode::OK {
            self.counts.blobs_present += 1;
            return Ok(());
        }
        let digest_text = digest.to_string();
        if self.destination.mounts()
            && let Some(holder) = self
                .written
                .get(&digest_text)
                .filter(|h| h.as_str() != to)
                .cloned()
        {
            let path = format!("/v2/{to}/blobs/uploads/?mount={digest_text}&from={holder}");
            let reply = self.destination.bare(Method::POST, to, &path, true).await?;
            if reply.status == StatusCode::CREATED {
                self.counts.blobs_mounted += 1;
                return Ok(());
            }
        }
        let (size, body) = self.source.blob(from, digest).await?;
        let body = throttle(body, self.speed);
        self.upload(to, digest, size, body).await?;
        self.counts.blobs_sent += 1;
        self.counts.bytes += size;
        self.written.insert(digest_text, to.to_owned());
        Ok(())
    }

    async fn upload(
        &mut self,
        to: &str,
        digest: &Digest,
        size: u64,
        mut body: ByteStream,
    ) -> Result<(), String> {
        let start = format!("/v2/{to}/blobs/uploads/");
        let reply = self
            .destination
            .bare(Method::POST, to, &start, true)
            .await?;
        if reply.status != StatusCode::ACCEPTED {
            let status = reply.status;
            let detail = error_text(reply).await;
            return Err(format!(
                "starting an upload to {to} answered {status}: {detail}"
            ));
        }
        let mut location = next_location(&reply, self.destination)?;
        if self.chunked && size > CHUNK {
            let mut offset = 0u64;
            let mut pending = Bytes::new();
            while offset < size {
                let want = CHUNK.min(size - offset);
                let mut chunk = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
                chunk.extend_from_slice(&pending);
                while (chunk.len() as u64) < want {
                    match body.next().await {
                        Some(piece) => chunk.extend_from_slice(&piece?),
                        None => return Err(format!("blob {digest} ended before {size} bytes")),
                    }
                }
                let cut = usize::try_from(want).unwrap_or(chunk.len());
                pending = Bytes::copy_from_slice(&chunk[cut..]);
                chunk.truncate(cut);
                let mut headers = HeaderMap::new();
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
                let range = format!("{offset}-{}", offset + want - 1);
                headers.insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&range).map_err(|e| e.to_string())?,
                );
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(want));
                let reply = self
                    .destination
                    .call(
                        Method::PATCH,
                        to,
                        &location,
                        headers,
                        Payload::Bytes(Bytes::from(chunk)),
                        true,
                    )
                    .await?;
                if reply.status != StatusCode::ACCEPTED {
                    return Err(format!(
                        "uploading a chunk of {digest} to {to} answered {}",
                        reply.status
                    ));
                }
                location = next_location(&reply, self.destination)?;
                offset += want;
            }
            let path = with_digest(&location, digest);
            let reply = self.destination.bare(Method::PUT, to, &path, true).await?;
            return finished(reply, to, digest).await;
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
        let path = with_digest(&location, digest);
        let reply = self
            .destination
            .call(
                Method::PUT,
                to,
                &path,
                headers,
                Payload::Stream(body, size),
                true,
            )
            .await?;
        finished(reply, to, digest).await
    }
}

fn empty_index() -> serde_json::Value {
    serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})
}

async fn finished(reply: Reply, to: &str, digest: &Digest) -> Result<(), String> {
    if reply.status == StatusCode::CREATED {
        return Ok(());
    }
    let status = reply.status;
    let detail = error_text(reply).await;
    Err(format!(
        "finishing the upload of {digest} to {to} answered {status}: {detail}"
    ))
}

fn next_location(reply: &Reply, side: &Side) -> Result<String, String> {
    let location = reply
        .header("location")
        .ok_or("the upload answer has no Location")?;
    location_path(location, side.base().as_deref())
}

fn with_digest(location: &str, digest: &Digest) -> String {
    let separator = if location.contains('?') { '&' } else { '?' };
    format!("{location}{separator}digest={digest}")
}

/// The first bytes of an error answer, for the log (a registry's error JSON).
async fn error_text(reply: Reply) -> String {
    match reply.bytes(4096).await {
        Ok(body) => crate::events::audit::clip(&String::from_utf8_lossy(&body)).to_string(),
        Err(e) => e,
    }
}

/// `body`, at most `speed` KiB/s (0: as fast as it comes).
fn throttle(body: ByteStream, speed: u64) -> ByteStream {
    if speed == 0 {
        return body;
    }
    let rate = speed * 1024;
    let started = Instant::now();
    let mut sent = 0u64;
    Box::pin(body.then(move |chunk| {
        if let Ok(bytes) = &chunk {
            sent += bytes.len() as u64;
        }
        let due = Duration::from_secs_f64(sent as f64 / rate as f64);
        async move {
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
            chunk
        }
    }))
}
