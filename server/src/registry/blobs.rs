//! Blobs: `GET`/`HEAD`/`DELETE /v2/<name>/blobs/<digest>`.
//!
//! <https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pulling-blobs>
//! A blob is served from a repository only if it was uploaded or mounted there. `Range` requests
//! (a single range, RFC 9110 §14) are answered with `206`. With an S3 store and `storage.s3.redirect` on, a
//! `GET` that passed every check is answered with a `307` to a short-lived presigned URL of the object
//! instead, as the CNCF distribution registry's `redirect` option does (the client then sends its `Range`
//! to the store); `HEAD` is always answered here.

use std::ops::Range;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::access::{authorize, authorize_as};
use super::{RegistryError, empty};
use crate::app::AppState;
use crate::auth::Action;
use crate::events::audit::{self, Audit, ClientIp, Operation};
use crate::oci::{Digest, RepositoryName};
use crate::proxy::{self, pull::BlobSource};

pub async fn get(
    state: &AppState,
    headers: &HeaderMap,
    name: &RepositoryName,
    digest: &Digest,
    head: bool,
) -> Result<Response, RegistryError> {
    let project = authorize(state, headers, name, Action::Pull).await?;
    let linked = state
        .db
        .repository_blob(name.as_str(), &digest.to_string())
        .await?;
    let blob = match (linked, project.registry_id) {
        (Some(blob), registry_id) => {
            if registry_id.is_some() {
                state
                    .metrics
                    .proxy_request("blob", crate::metrics::ProxyResult::Hit);
            }
            blob
        }
        (None, None) => return Err(RegistryError::BlobUnknown),
        (None, Some(registry_id)) => {
            let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
            match proxy::pull::blob(state, &project, registry_id, name, digest, head, range).await?
            {
                BlobSource::Linked(blob) => blob,
                BlobSource::Response(response) => {
                    if !head {
                        state.metrics.blob_downloaded(content_length(&response));
                    }
                    return Ok(response);
                }
            }
        }
    };
    let location = state.blobs.located(digest, blob.object_key.as_deref());
    if !head
        && let Some(url) = state
            .blobs
            .download_url(&location)
            .await
            .map_err(|e| RegistryError::internal("presigning a blob download URL", e))?
    {
        tracing::debug!(repository = %name, %digest, "blob download redirected to the object store");
        return Ok(empty(
            StatusCode::TEMPORARY_REDIRECT,
            &[
                ("location", url.to_string()),
                ("docker-content-digest", digest.to_string()),
                ("cache-control", "no-store".to_owned()),
            ],
        ));
    }
    let size = u64::try_from(blob.size).unwrap_or(0);
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(value) if !head => parse_range(value, size)?,
        _ => None,
    };
    let digest_text = digest.to_string();
    let mut response_headers = vec![
        ("content-type", "application/octet-stream".to_owned()),
        ("docker-content-digest", digest_text.clone()),
        ("accept-ranges", "bytes".to_owned()),
        ("etag", format!("\"{digest_text}\"")),
        ("cache-control", "max-age=31536000".to_owned()),
    ];
    if head {
        response_headers.push(("content-length", size.to_string()));
        return Ok(empty(StatusCode::OK, &response_headers));
    }
    let (status, length) = match &range {
        Some(r) => {
            response_headers.push((
                "content-range",
                format!("bytes {}-{}/{size}", r.start, r.end - 1),
            ));
            (StatusCode::PARTIAL_CONTENT, r.end - r.start)
        }
        None => (StatusCode::OK, size),
    };
    response_headers.push(("content-length", length.to_string()));
    let body = state.blobs.read_key(&location, range).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            tracing::error!(%digest, "blob is in the database but missing from the blob store");
            RegistryError::BlobUnknown
        } else {
            RegistryError::internal("reading blob from the store", e)
        }
    })?;
    if !head {
        state.metrics.blob_downloaded(length);
    }
    let mut response = empty(status, &response_headers);
    *response.body_mut() = body;
    Ok(response)
}

/// The `Content-Length` of `response`, 0 when it has none (a streamed body).
fn content_length(response: &Response) -> u64 {
    response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// `DELETE`: removes the blob from this repository. The bytes stay until garbage collection.
pub async fn delete(
    state: &AppState,
    headers: &HeaderMap,
    client: &ClientIp,
    name: &RepositoryName,
    digest: &Digest,
) -> Result<Response, RegistryError> {
    let (project, caller) = authorize_as(state, headers, name, Action::Delete).await?;
    if !state
        .db
        .unlink_blob(name.as_str(), &digest.to_string())
        .await?
    {
        return Err(RegistryError::BlobUnknown);
    }
    tracing::info!(repository = %name, %digest, "blob deleted from repository");
    Audit::new(
        Operation::Delete,
        "blob",
        audit::resource(name.as_str(), &digest.to_string()),
    )
    .project(&project.name)
    .by(caller.username(), client)
    .record(&state.db)
    .await;
    Ok(empty(
        StatusCode::ACCEPTED,
        &[("docker-content-digest", digest.to_string())],
    ))
}

/// Parses a single-range `Range` header against a blob of `size` bytes. `Ok(None)` means "send it all"
/// (a header in a unit other than bytes is ignored, as RFC 9110 allows).
pub fn parse_range(value: &str, size: u64) -> Result<Option<Range<u64>>, RegistryError> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    let unsatisfiable = RegistryError::RangeNotSatisfiable { size };
    let (start, end) = spec
        .trim()
        .split_once('-')
        .ok_or(RegistryError::RangeNotSatisfiable { size })?;
    let range = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix
                .parse()
                .map_err(|_| RegistryError::RangeNotSatisfiable { size })?;
            if n == 0 || size == 0 {
                return Err(unsatisfiable);
            }
            size.saturating_sub(n)..size
        }
        (start, end) => {
            let start: u64 = start
                .parse()
                .map_err(|_| RegistryError::RangeNotSatisfiable { size })?;
            let end = match end {
                "" => size.saturating_sub(1),
                end => end
                    .parse::<u64>()
                    .map_err(|_| RegistryError::RangeNotSatisfiable { size })?
                    .min(size.saturating_sub(1)),
            };
            if start >= size || end < start {
                return Err(unsatisfiable);
            }
            start..end + 1
        }
    };
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let ok = |v: &str| parse_range(v, 100).ok().flatten();
        assert_eq!(ok("bytes=0-9"), Some(0..10));
        assert_eq!(ok("bytes=90-"), Some(90..100));
        assert_eq!(ok("bytes=90-500"), Some(90..100));
        assert_eq!(ok("bytes=-10"), Some(90..100));
        assert_eq!(ok("bytes=-500"), Some(0..100));
        assert!(matches!(parse_range("items=0-1", 100), Ok(None)));
        for bad in [
            "bytes=100-",
            "bytes=500-0",
            "bytes=5-2",
            "bytes=x-1",
            "bytes=0-1,3-4",
            "bytes=-0",
        ] {
            assert!(
                matches!(
                    parse_range(bad, 100),
                    Err(RegistryError::RangeNotSatisfiable { size: 100 })
                ),
                "{bad}"
            );
        }
        assert!(parse_range("bytes=0-0", 0).is_err());
    }
}
