//! Blob uploads: `POST`, `PATCH`, `PUT`, `GET` and `DELETE` on `/v2/<name>/blobs/uploads/…`.
//!
//! <https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pushing-blobs>
//! Monolithic (`POST ?digest=`), `POST` then `PUT`, chunked `PATCH` with `Content-Range` (416 when a chunk
//! does not start at the current offset), and cross-repository mounts (`?mount=&from=`). A blob becomes
//! visible only after its digest is verified, in the transaction that links it to the repository.
//!
//! Limits (`[uploads]` and the project's quota): a project has at most `max_sessions_per_project` sessions
//! open (429) and `max_staged_bytes_per_project` bytes staged (413 for one upload larger than that, 429
//! while other uploads hold the room), and no session grows past the project's remaining quota (403). The
//! quota is decided before a blob's bytes are moved into the store. An upload refused by a limit, the
//! quota or its digest is ended: its staged file and session row are removed, and nothing reaches the store.
//!
//! Where the bytes wait: on the filesystem, in a file on the disk of the node that took the `POST`
//! ([`crate::storage::UploadStaging`]); on S3, in an S3 multipart upload that any node can continue
//! ([`super::s3_uploads`]).

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::access::{
    Caller, authenticate, authorize, authorize_caller, authorize_with_scopes, scope_for,
};
use super::error::upload_range;
use super::{Params, RegistryError, empty, parse_digest, s3_uploads};
use crate::app::AppState;
use crate::auth::Action;
use crate::db::{ChargeError, FromUpload, PendingLink, Project, UploadSession};
use crate::oci::{Digest, RepositoryName};
use crate::storage::{AppendError, AppendLimits, FinishError, QuotaRoom};

fn upload_location(name: &RepositoryName, id: &str) -> String {
    format!("/v2/{name}/blobs/uploads/{id}")
}

/// `202 Accepted` describing an open upload.
fn upload_state(status: StatusCode, name: &RepositoryName, id: &str, offset: u64) -> Response {
    let mut response = empty(
        status,
        &[
            ("location", upload_location(name, id)),
            ("docker-upload-uuid", id.to_owned()),
        ],
    );
    response.headers_mut().insert("range", upload_range(offset));
    response
}

/// `201 Created` for a blob now present in the repository.
fn blob_created(name: &RepositoryName, digest: &Digest) -> Response {
    empty(
        StatusCode::CREATED,
        &[
            ("location", format!("/v2/{name}/blobs/{digest}")),
            ("docker-content-digest", digest.to_string()),
        ],
    )
}

/// `POST /v2/<name>/blobs/uploads/`: mount, monolithic upload, or open a session.
pub async fn start(
    state: &AppState,
    headers: &HeaderMap,
    name: &RepositoryName,
    params: &Params,
    body: Body,
) -> Result<Response, RegistryError> {
    let caller = authenticate(state, headers).await?;
    let mount_source: Vec<String> = match (params.get("mount"), params.get("from")) {
        (Some(_), Some(from)) => from
            .parse::<RepositoryName>()
            .map(|from| vec![scope_for(&from, Action::Pull)])
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let project =
        authorize_with_scopes(state, headers, &caller, name, Action::Push, &mount_source).await?;
    if let Some(mount) = params.get("mount") {
        let digest = parse_digest(mount)?;
        let from = params.get("from").map(String::as_str);
        if let Some(size) = mountable(state, headers, &caller, &project, from, &digest).await? {
            match state
                .db
                .link_blob(project.id, name.as_str(), &digest.to_string(), size, None)
                .await
            {
                Ok(()) => {
                    tracing::debug!(repository = %name, %digest, from, "blob mounted");
                    return Ok(blob_created(name, &digest));
                }
                // Garbage collection is deleting it: the client uploads it instead, through the session
                // opened below (the spec's answer to a mount that cannot be made).
                Err(ChargeError::BlobDeleting(_)) => {
                    tracing::info!(repository = %name, %digest, "mount refused: garbage collection is deleting the blob; opening an upload instead");
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    let monolithic = params.get("digest").map(|d| parse_digest(d)).transpose()?;
    let id = uuid::Uuid::new_v4().to_string();
    let cap = state.config.uploads.max_sessions_per_project;
    let native = s3_uploads::start(state, &id);
    if !state
        .db
        .create_upload(&id, project.id, name.as_str(), cap, native.as_ref())
        .await?
    {
        tracing::warn!(project = %project.name, repository = %name, cap,
            "upload refused: the project has as many open upload sessions as allowed (uploads.max_sessions_per_project)");
        return Err(RegistryError::UploadsBusy(format!(
            "project {} already has {cap} open uploads, the most allowed; finish or cancel some, or retry when idle ones expire",
            project.name
        )));
    }
    if native.is_none()
        && let Err(e) = state.uploads.create(&id, project.id).await
    {
        discard(state, &id).await;
        return Err(RegistryError::internal("creating upload staging file", e));
    }
    let Some(digest) = monolithic else {
        return Ok(upload_state(StatusCode::ACCEPTED, name, &id, 0));
    };
    let open = Open {
        id: &id,
        native: native.is_some(),
    };
    let result = async {
        let whole = Chunk {
            start: None,
            last: true,
        };
        append(state, &project, name, open, whole, headers, body).await?;
        commit(state, &project, name, open, &digest).await
    }
    .await;
    if result.is_err() {
        discard(state, &id).await;
    }
    result
}

/// The size of blob `digest` if it can be mounted into `project`: it is in `from` and the caller may pull
/// from there, or — without `from` — it is already in another repository of the same project.
async fn mountable(
    state: &AppState,
    headers: &HeaderMap,
    caller: &Caller,
    project: &Project,
    from: Option<&str>,
    digest: &Digest,
) -> Result<Option<i64>, RegistryError> {
    let digest = digest.to_string();
    match from {
        None => Ok(state
            .db
            .project_blob(project.id, &digest)
            .await?
            .map(|b| b.size)),
        Some(from) => {
            let Ok(from) = from.parse::<RepositoryName>() else {
                return Ok(None);
            };
            if authorize_caller(state, headers, caller, &from, Action::Pull)
                .await
                .is_err()
            {
                return Ok(None);
            }
            Ok(state
                .db
                .repository_blob(from.as_str(), &digest)
                .await?
                .map(|b| b.size))
        }
    }
}

/// An open upload session, and where its bytes wait.
#[derive(Debug, Clone, Copy)]
struct Open<'a> {
    id: &'a str,
    /// In an S3 multipart upload ([`super::s3_uploads`]), rather than a file staged on this node.
    native: bool,
}

impl<'a> Open<'a> {
    fn of(session: &'a UploadSession) -> Open<'a> {
        Open {
            id: &session.id,
            native: session.native,
        }
    }
}

/// Where a request's bytes go in an upload.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    /// Where the chunk must begin (`Content-Range`), if the client said.
    start: Option<u64>,
    /// The request ends the upload (`PUT`, or a monolithic `POST`): no chunk follows.
    last: bool,
}

/// Finds upload `id` of repository `name` after checking the caller may push there.
async fn session(
    state: &AppState,
    headers: &HeaderMap,
    name: &RepositoryName,
    id: &str,
) -> Result<(Project, UploadSession), RegistryError> {
    let project = authorize(state, headers, name, Action::Push).await?;
    let session = state
        .db
        .find_upload(id)
        .await?
        .filter(|s| s.repository == name.as_str() && s.project_id == project.id)
        .ok_or(RegistryError::BlobUploadUnknown)?;
    Ok((project, session))
}

/// `GET …/uploads/<id>`: the upload's progress.
pub async fn status(
    state: &AppState,
    headers: &HeaderMap,
    name: &RepositoryName,
    id: &str,
) -> Result<Response, RegistryError> {
    let (_, session) = session(state, headers, name, id).await?;
    // An S3-native session's row, just read, has its saved offset.
    let offset = if session.native {
        u64::try_from(session.received).unwrap_or(0)
    } else {
        state
            .uploads
            .offset(id)
            .await
            .map_err(append_error(name, id))?
    };
    Ok(upload_state(StatusCode::NO_CONTENT, name, id, offset))
}

/// `PATCH …/uploads/<id>`: appends a chunk (or a stream, without `Content-Range`).
pub async fn patch(
    state: &AppState,
    headers: &HeaderMap,
    name: &RepositoryName,
    id: &str,
    body: Body,
) -> Result<Response, RegistryError> {
    let (project, session) = session(state, headers, name, id).await?;
    let start = content_range_start(headers)?;
    let open = Open::of(&session);
    let chunk = Chunk { start, last: false };
    let offset = append(state, &project, name, open, chunk, headers, body).await?;
    if !open.native {
        // (An S3-native session's save already marked it active.)
        state.db.touch_upload(id).await?;
    }
    Ok(upload_state(StatusCode::ACCEPTED, name, id, offset))
}

/// `PUT …/uploads/<id>?digest=`: appends the last chunk, if any, verifies and commits the blob.
pub async fn finish(
    state: &AppState,
    headers: &HeaderMap,
    name: &RepositoryName,
    id: &str,
    params: &Params,
    body: Body,
) -> Result<Response, RegistryError> {
    let (project, session) = session(state, headers, name, id).await?;
    let open = Open::of(&session);
    let digest = params
        .get("digest")
        .ok_or_else(|| {
            RegistryError::DigestInvalid("the digest query parameter is required".to_owned())
        })
        .and_then(|d| parse_digest(d))?;
    let start = content_range_start(headers)?;
    let chunk = Chunk { start, last: true };
    append(state, &project, name, open, chunk, headers, body).await?;
    commit(state, &project, name, open, &digest).await
}

/// `DELETE …/uploads/<id>`: cancels the upload.
pub async fn cancel(
    state: &AppState,
    headers: &HeaderMap,
    name: &RepositoryName,
    id: &str,
) -> Result<Response, RegistryError> {
    session(state, headers, name, id).await?;
    discard(state, id).await;
    Ok(empty(StatusCode::NO_CONTENT, &[]))
}

/// Ends upload `id`: its row, its staged file or its parts in the bucket.
async fn discard(state: &AppState, id: &str) {
    if let Err(e) = s3_uploads::end(state, id, None).await {
        tracing::warn!(upload = id, error = %e, "could not delete upload session; the purge job will retry");
    }
    if let Err(e) = state.uploads.discard(id).await {
        tracing::warn!(upload = id, error = %e, "could not remove staged upload file");
    }
}

/// Appends a request body to upload `id`, within the project's limits. Past a limit the upload is ended.
async fn append(
    state: &AppState,
    project: &Project,
    name: &RepositoryName,
    open: Open<'_>,
    chunk: Chunk,
    headers: &HeaderMap,
    body: Body,
) -> Result<u64, RegistryError> {
    let (id, Chunk { start, last }) = (open.id, chunk);
    let limits = append_limits(state, project, headers).await?;
    let declared = limits.declared;
    // Every byte received counts as blob upload traffic, a refused chunk's too.
    let metrics = &state.metrics;
    let mut stream = futures_util::StreamExt::inspect(body.into_data_stream(), |chunk| {
        if let Ok(chunk) = chunk {
            metrics.blob_uploaded(chunk.len() as u64);
        }
    });
    let result = if open.native {
        s3_uploads::append(state, project, id, start, limits, &mut stream, last).await
    } else {
        state
            .uploads
            .append(id, project.id, start, limits, &mut stream)
            .await
    };
    match result {
        Ok(offset) => Ok(offset),
        Err(e) if e.is_limit() => {
            tracing::warn!(project = %project.name, repository = %name, upload = id, reason = %e,
                "upload refused and ended: it would pass a limit");
            if matches!(e, AppendError::OverQuota { .. }) {
                state
                    .webhooks
                    .quota_exceeded(project, name.as_str(), None, "", e.to_string());
            }
            discard(state, id).await;
            drain_refused(&mut stream, declared).await;
            Err(append_error(name, id)(e))
        }
        Err(AppendError::Busy) => {
            // Refused before a byte was read: the client reads the 429 rather than a broken pipe.
            tracing::info!(repository = %name, upload = id, "chunk refused: another request holds the upload");
            drain_refused(&mut stream, declared).await;
            Err(append_error(name, id)(AppendError::Busy))
        }
        Err(e) => Err(append_error(name, id)(e)),
    }
}

/// Bytes of a refused body still read, and thrown away, after an upload is refused: a client still sending
/// (docker, skopeo) then reads the refusal and its reason instead of a broken connection. A body that
/// declared its length is read to its end, up to [`DRAIN_DECLARED_BYTES`]; one that did not, up to
/// [`DRAIN_UNDECLARED_BYTES`]. Past that (or after [`DRAIN_REFUSED_FOR`]) the connection is cut; nothing
/// read here is stored, so draining costs time and bandwidth, never memory or disk.
const DRAIN_UNDECLARED_BYTES: u64 = 32 * 1024 * 1024;
const DRAIN_DECLARED_BYTES: u64 = 1024 * 1024 * 1024;
const DRAIN_REFUSED_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads what is left of a refused request body of `declared` length, within the limits above.
async fn drain_refused<S, E>(body: &mut S, declared: Option<u64>)
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
{
    use futures_util::StreamExt as _;
    let limit = declared.map_or(DRAIN_UNDECLARED_BYTES, |d| {
        d.clamp(DRAIN_UNDECLARED_BYTES, DRAIN_DECLARED_BYTES)
    });
    let drain = async {
        let mut read = 0u64;
        while read <= limit {
            match body.next().await {
                Some(Ok(chunk)) => read += chunk.len() as u64,
                Some(Err(_)) | None => break,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_REFUSED_FOR, drain).await;
}

/// What an append to a session of `project` may add: up to the project's remaining quota, within its
/// staging cap. An empty body adds nothing, so the quota is not read for it.
async fn append_limits(
    state: &AppState,
    project: &Project,
    headers: &HeaderMap,
) -> Result<AppendLimits, RegistryError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let quota = if declared == Some(0) {
        None
    } else {
        state.db.quota(project.id).await?.and_then(|q| {
            Some(QuotaRoom {
                limit: u64::try_from(q.limit).ok()?,
                used: u64::try_from(q.used).unwrap_or(0),
            })
        })
    };
    Ok(AppendLimits {
        quota,
        project_cap: state.config.uploads.max_staged_bytes_per_project,
        declared,
    })
}

pub(super) fn append_error(
    name: &RepositoryName,
    id: &str,
) -> impl FnOnce(AppendError) -> RegistryError {
    let location = upload_location(name, id);
    move |e| match e {
        AppendError::OutOfOrder { current, .. } => RegistryError::UploadOutOfOrder {
            message: e.to_string(),
            location,
            offset: current,
        },
        AppendError::Missing => RegistryError::BlobUploadUnknown,
        AppendError::Body(message) => {
            RegistryError::BlobUploadInvalid(format!("upload interrupted: {message}"))
        }
        AppendError::OverQuota { .. } => RegistryError::QuotaExceeded(e.to_string()),
        AppendError::TooLarge { .. } => RegistryError::UploadTooLarge(e.to_string()),
        AppendError::StagingFull { .. } | AppendError::Busy => {
            RegistryError::UploadsBusy(e.to_string())
        }
        AppendError::Io(e) => RegistryError::internal("writing upload staging file", e),
    }
}

/// Verifies upload `id` against `digest`, moves it into the blob store and links it to the repository.
/// A refused upload (digest, quota) is ended, leaving nothing behind.
async fn commit(
    state: &AppState,
    project: &Project,
    name: &RepositoryName,
    open: Open<'_>,
    digest: &Digest,
) -> Result<Response, RegistryError> {
    let id = open.id;
    let result = if open.native {
        s3_uploads::commit(state, project, name, id, digest).await
    } else {
        store_upload(state, project, name, id, digest).await
    };
    if result.is_err() {
        discard(state, id).await;
    }
    result.map(|()| blob_created(name, digest))
}

async fn store_upload(
    state: &AppState,
    project: &Project,
    name: &RepositoryName,
    id: &str,
    digest: &Digest,
) -> Result<(), RegistryError> {
    let size = state
        .uploads
        .verify(id, digest)
        .await
        .map_err(|e| match e {
            FinishError::Mismatch { computed } => RegistryError::DigestInvalid(format!(
                "digest mismatch: the uploaded content is {computed}, not {digest}"
            )),
            FinishError::Missing => RegistryError::BlobUploadUnknown,
            FinishError::Io(e) => RegistryError::internal("verifying upload", e),
        })?;
    let size = i64::try_from(size).map_err(|e| RegistryError::internal("blob size", e))?;
    // The bytes are sent to the store first (on S3, a multipart upload left uncompleted, so nothing is visible
    // yet), so that the transaction below holds the writer only for the short last step.
    let prepared = state
        .blobs
        .prepare_import(&state.uploads.path(id), digest)
        .await
        .map_err(|e| RegistryError::internal("sending a verified upload to the blob store", e))?;
    // The quota is decided here, before a byte becomes visible in the store; the rows stay invisible until the
    // commit.
    let link = match link_upload(state, project, name, digest, size, id, None).await {
        Ok(link) => link,
        Err(e) => {
            state.blobs.abandon_import(prepared).await;
            return Err(e);
        }
    };
    if link.newly_recorded() {
        // Dropping `link` on failure rolls the rows back.
        state.blobs.finish_import(prepared).await.map_err(|e| {
            RegistryError::internal("moving verified upload into the blob store", e)
        })?;
    } else {
        state.blobs.abandon_import(prepared).await;
    }
    link.commit().await.map_err(|e| {
        RegistryError::internal(
            "committing an uploaded blob; its file may be left in the store unrecorded",
            e,
        )
    })?;
    // The staged copy was moved into the store, or is redundant; either way the session is done.
    if let Err(e) = state.uploads.discard(id).await {
        tracing::warn!(upload = id, error = %e, "could not remove a redundant staged upload file");
    }
    tracing::debug!(repository = %name, %digest, size, "blob committed");
    Ok(())
}

/// Records verified upload `id` as blob `digest` of `size` bytes linked to repository `name`, ending the
/// session, in a transaction left open for the caller to move the bytes in and commit. The project's quota is
/// decided here (over it, nothing is written); a blob being deleted by garbage collection is waited for (its
/// file goes first, then its row, and only then is this one recorded). `object_key`: where an S3-native
/// upload's bytes stay.
pub(super) async fn link_upload(
    state: &AppState,
    project: &Project,
    name: &RepositoryName,
    digest: &Digest,
    size: i64,
    id: &str,
    object_key: Option<&str>,
) -> Result<PendingLink, RegistryError> {
    let digest_text = digest.to_string();
    let link = crate::gc::after_deletion(|| {
        state.db.begin_link(
            project.id,
            name.as_str(),
            &digest_text,
            size,
            Some(FromUpload { id, object_key }),
        )
    })
    .await;
    link.map_err(|e| match e {
        ChargeError::Quota(q) => {
            tracing::warn!(project = %project.name, repository = %name, upload = id, %digest, %q,
                "upload refused: project quota exceeded; its bytes are removed");
            // Who pushed is not known this deep; the event names the blob and the repository.
            state.webhooks.quota_exceeded(
                project,
                name.as_str(),
                Some(&digest_text),
                "",
                q.to_string(),
            );
            RegistryError::QuotaExceeded(q.to_string())
        }
        ChargeError::BlobDeleting(_) => RegistryError::Unavailable(format!(
            "blob {digest} is being deleted by garbage collection; retry the upload"
        )),
        ChargeError::Db(e) => e.into(),
    })
}

/// The start offset of a `Content-Range: <start>-<end>` header, checked against `Content-Length`.
pub fn content_range_start(headers: &HeaderMap) -> Result<Option<u64>, RegistryError> {
    let Some(value) = headers.get(header::CONTENT_RANGE) else {
        return Ok(None);
    };
    let invalid =
        || RegistryError::BlobUploadInvalid("Content-Range must be <start>-<end>".to_owned());
    let text = value.to_str().map_err(|_| invalid())?.trim();
    let text = text
        .strip_prefix("bytes=")
        .or_else(|| text.strip_prefix("bytes "))
        .unwrap_or(text);
    let (start, end) = text.split_once('-').ok_or_else(invalid)?;
    let start: u64 = start.trim().parse().map_err(|_| invalid())?;
    let end: u64 = end
        .trim()
        .split('/')
        .next()
        .unwrap_or("")
        .parse()
        .map_err(|_| invalid())?;
    if end < start {
        return Err(invalid());
    }
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // `0-18446744073709551615` spans one byte more than a u64 counts: no Content-Length matches it.
    if let Some(length) = length
        && (end - start).checked_add(1) != Some(length)
    {
        return Err(RegistryError::BlobUploadInvalid(format!(
            "Content-Length {length} does not match Content-Range {start}-{end}"
        )));
    }
    Ok(Some(start))
}
