//! Berth's scanner as a Harbor scanner adapter: `GET /api/v1/metadata`, `POST /api/v1/scan` and
//! `GET /api/v1/scan/{id}/report`, on the same listener as everything else (not part of Harbor's REST API v2.0).
//!
//! Off (404) unless `[scan] adapter_api_key` is set; then every request needs that key, as
//! `Authorization: Bearer <key>`, `X-ScannerAdapter-API-Key: <key>` or `Authorization: Basic base64(<key>)` (the
//! three ways a Harbor registration sends its credential). Errors are Harbor's
//! `application/vnd.scanner.adapter.error+json; version=1.0` bodies, which Harbor's client parses. A running scan
//! answers `302` with `Refresh-After` and no `Location` (so HTTP clients do not follow it), at most 127 seconds
//! because Harbor reads the value into an `int8`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use berth_api::scanners::{
    MIME_DOCKER_MANIFEST, MIME_GENERIC_REPORT, MIME_NATIVE_REPORT, MIME_OCI_MANIFEST,
    MIME_SBOM_REPORT,
};
use berth_api::vulnerabilities::ReportArtifact;
use chrono::Utc;
use subtle::ConstantTimeEq as _;

use super::job::{self, AdapterScanJob};
use super::{Artifact, ERROR_MIME, ErrorBody, ErrorResponse, METADATA_MIME, SCAN_RESPONSE_MIME};
use super::{SbomReport, ScanRequest, ScanResponse};
use crate::app::AppState;
use crate::jobs::EnqueueError;
use crate::scan::report::{Allowlist, vulnerability_report};
use crate::scan::run::scanner_identity;
use crate::scan::sbom::{self, CYCLONEDX_MEDIA_TYPE, SPDX_MEDIA_TYPE};
use crate::service::scanners::{DatabaseState, built_in_metadata, database_in_force};

/// The largest scan request body read.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// The longest `registry.authorization` accepted (a registry bearer token is a few kilobytes).
pub const MAX_AUTHORIZATION: usize = 16 * 1024;
/// The seconds a caller is told to wait before asking for a running scan's report again.
pub const REFRESH_AFTER: u64 = 5;

/// The adapter API's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/metadata", get(metadata))
        .route("/api/v1/scan", post(accept_scan))
        .route("/api/v1/scan/{id}/report", get(report))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
}

/// An error answer: the status and Harbor's error body.
#[derive(Debug)]
pub struct AdapterError(StatusCode, String);

impl AdapterError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        AdapterError(status, message.into())
    }

    fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "scanner adapter API: {context}");
        AdapterError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error: see the server log".to_owned(),
        )
    }
}

impl From<sqlx::Error> for AdapterError {
    fn from(e: sqlx::Error) -> Self {
        AdapterError::internal("database", e)
    }
}

impl IntoResponse for AdapterError {
    fn into_response(self) -> Response {
        let body = ErrorResponse {
            error: ErrorBody { message: self.1 },
        };
        with_type(
            self.0,
            ERROR_MIME,
            serde_json::to_vec(&body).unwrap_or_default(),
        )
    }
}

fn with_type(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// A caller that presented the configured key.
pub struct Authenticated;

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = AdapterError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(key) = state
            .config
            .scan
            .adapter_api_key
            .as_ref()
            .filter(|k| !k.expose().is_empty())
        else {
            return Err(AdapterError::new(
                StatusCode::NOT_FOUND,
                "the scanner adapter API is not enabled on this server",
            ));
        };
        if offered(&parts.headers)
            .iter()
            .any(|c| bool::from(c.as_bytes().ct_eq(key.expose().as_bytes())))
        {
            Ok(Authenticated)
        } else {
            Err(AdapterError::new(
                StatusCode::UNAUTHORIZED,
                "a valid API key is required (Authorization: Bearer, or X-ScannerAdapter-API-Key)",
            ))
        }
    }
}

/// The credentials a request offers.
fn offered(headers: &HeaderMap) -> Vec<String> {
    let mut out = Vec::new();
    for value in headers.get_all("x-scanneradapter-api-key") {
        if let Ok(v) = value.to_str() {
            out.push(v.trim().to_owned());
        }
    }
    for value in headers.get_all(header::AUTHORIZATION) {
        let Ok(v) = value.to_str() else { continue };
        let Some((scheme, rest)) = v.trim().split_once(' ') else {
            continue;
        };
        if scheme.eq_ignore_ascii_case("bearer") {
            out.push(rest.trim().to_owned());
        } else if scheme.eq_ignore_ascii_case("basic")
            && let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(rest.trim())
            && let Ok(text) = String::from_utf8(bytes)
        {
            out.push(text);
        }
    }
    out
}

async fn metadata(State(state): State<AppState>, _: Authenticated) -> Response {
    let database = database_in_force(&state).await;
    let metadata =
        built_in_metadata(
            database
                .as_ref()
                .map(|(generation, built_at)| DatabaseState {
                    built_at,
                    generation: *generation,
                }),
        );
    with_type(
        StatusCode::OK,
        METADATA_MIME,
        serde_json::to_vec(&metadata).unwrap_or_default(),
    )
}

/// Checks a request's fields; a precise message for a 422.
fn check_request(request: &ScanRequest) -> Result<(), String> {
    super::fetch::check_registry_url(&request.registry.url)?;
    let authorization = &request.registry.authorization;
    if authorization.len() > MAX_AUTHORIZATION || authorization.chars().any(char::is_control) {
        return Err(format!(
            "registry.authorization must be at most {MAX_AUTHORIZATION} printable characters"
        ));
    }
    let artifact = &request.artifact;
    let repository_ok = !artifact.repository.is_empty()
        && artifact.repository.len() <= 255
        && artifact.repository.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        });
    if !repository_ok {
        return Err("artifact.repository is not a repository name".to_owned());
    }
    if artifact.digest.parse::<crate::oci::Digest>().is_err() {
        return Err("artifact.digest is not a digest".to_owned());
    }
    if artifact.tag.len() > 128 || artifact.tag.chars().any(char::is_control) {
        return Err("artifact.tag is at most 128 printable characters".to_owned());
    }
    if !artifact.mime_type.is_empty()
        && ![MIME_DOCKER_MANIFEST, MIME_OCI_MANIFEST].contains(&artifact.mime_type.as_str())
    {
        return Err(format!(
            "artifact.mime_type {:?} is not scanned: only {MIME_DOCKER_MANIFEST} and {MIME_OCI_MANIFEST}",
            artifact.mime_type.chars().take(128).collect::<String>()
        ));
    }
    Ok(())
}

async fn accept_scan(
    State(state): State<AppState>,
    _: Authenticated,
    body: Bytes,
) -> Result<Response, AdapterError> {
    let request: ScanRequest = serde_json::from_slice(&body).map_err(|e| {
        AdapterError::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not a scan request: {e}"),
        )
    })?;
    check_request(&request).map_err(|m| AdapterError::new(StatusCode::UNPROCESSABLE_ENTITY, m))?;
    let id = uuid::Uuid::new_v4().to_string();
    let artifact = serde_json::to_string(&request.artifact)
        .map_err(|e| AdapterError::internal("encoding the artifact", e))?;
    let expires = crate::db::timestamp(Utc::now() + job::RETENTION);
    state
        .db
        .create_adapter_scan(&id, &artifact, &expires)
        .await?;
    let sealed = job::seal_authorization(&state, &request.registry.authorization)
        .map_err(|e| AdapterError::internal("sealing", e))?;
    let parameters = serde_json::to_value(AdapterScanJob {
        id: id.clone(),
        registry_url: request.registry.url.clone(),
        sealed_authorization: sealed,
        repository: request.artifact.repository.clone(),
        digest: request.artifact.digest.clone(),
    })
    .map_err(|e| AdapterError::internal("encoding the job", e))?;
    match state
        .jobs
        .enqueue(
            &state.db,
            job::NAME,
            &parameters,
            crate::jobs::EVENT,
            "scanner-adapter",
        )
        .await
    {
        Ok(job_id) => state.db.set_adapter_scan_job(&id, job_id).await?,
        Err(EnqueueError::QueueFull(..)) => {
            state
                .db
                .finish_adapter_scan(&id, Err("refused: too many scans waiting"))
                .await?;
            return Err(AdapterError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "{} scans are already waiting; try again later",
                    job::MAX_PENDING
                ),
            ));
        }
        Err(e) => return Err(AdapterError::internal("queueing an adapter scan", e)),
    }
    Ok(with_type(
        StatusCode::ACCEPTED,
        SCAN_RESPONSE_MIME,
        serde_json::to_vec(&ScanResponse { id }).unwrap_or_default(),
    ))
}

/// The report type an `Accept` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wanted {
    Vulnerability(&'static str),
    Sbom,
}

fn wanted(headers: &HeaderMap) -> Result<Wanted, AdapterError> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let normal = |s: &str| s.replace(' ', "").to_ascii_lowercase();
    let accept = normal(accept);
    if accept.is_empty() || accept == "*/*" {
        return Ok(Wanted::Vulnerability(MIME_GENERIC_REPORT));
    }
    for mime in [MIME_GENERIC_REPORT, MIME_NATIVE_REPORT] {
        if accept.split(',').any(|a| a == normal(mime)) {
            return Ok(Wanted::Vulnerability(mime));
        }
    }
    if accept.split(',').any(|a| a == normal(MIME_SBOM_REPORT)) {
        return Ok(Wanted::Sbom);
    }
    Err(AdapterError::new(
        StatusCode::BAD_REQUEST,
        format!(
            "unsupported report type: Accept one of {MIME_GENERIC_REPORT}, {MIME_NATIVE_REPORT}, {MIME_SBOM_REPORT}"
        ),
    ))
}

fn sbom_media_type(query: Option<&str>) -> Result<&'static str, AdapterError> {
    let asked = query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "sbom_media_type")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    match asked.as_deref() {
        Some(SPDX_MEDIA_TYPE) => Ok(SPDX_MEDIA_TYPE),
        Some(CYCLONEDX_MEDIA_TYPE) => Ok(CYCLONEDX_MEDIA_TYPE),
        Some(_) => Err(AdapterError::new(
            StatusCode::BAD_REQUEST,
            format!("sbom_media_type must be {SPDX_MEDIA_TYPE} or {CYCLONEDX_MEDIA_TYPE}"),
        )),
        None => Err(AdapterError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "an SBOM report needs ?sbom_media_type= ({SPDX_MEDIA_TYPE} or {CYCLONEDX_MEDIA_TYPE})"
            ),
        )),
    }
}

async fn report(
    State(state): State<AppState>,
    _: Authenticated,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AdapterError> {
    let wanted = wanted(&headers)?;
    let sbom_type = match wanted {
        Wanted::Sbom => Some(sbom_media_type(query.as_deref())?),
        Wanted::Vulnerability(_) => None,
    };
    let unknown = || AdapterError::new(StatusCode::NOT_FOUND, "no such scan request");
    if id.len() > 64 {
        return Err(unknown());
    }
    let now = Utc::now();
    let row = state
        .db
        .adapter_scan(&id, &crate::db::timestamp(now))
        .await?
        .ok_or_else(unknown)?;
    match row.status.as_str() {
        "Pending" | "Running" => {
            return Ok((
                StatusCode::FOUND,
                [(
                    "refresh-after",
                    HeaderValue::from(REFRESH_AFTER.min(super::MAX_REFRESH_AFTER)),
                )],
            )
                .into_response());
        }
        "Success" => {}
        _ => {
            return Err(AdapterError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                row.error
                    .unwrap_or_else(|| "the scan did not finish".to_owned()),
            ));
        }
    }
    let result = state
        .db
        .adapter_scan_result(&id)
        .await?
        .as_deref()
        .and_then(job::decode_result)
        .ok_or_else(|| AdapterError::internal("reading a scan result", "it does not decode"))?;
    let artifact: Artifact = serde_json::from_str(&row.artifact).unwrap_or_default();
    let artifact = ReportArtifact {
        repository: artifact.repository,
        digest: artifact.digest,
        tag: (!artifact.tag.is_empty()).then_some(artifact.tag),
        mime_type: artifact.mime_type,
    };
    let generated_at = crate::db::timestamp(now);
    match (wanted, sbom_type) {
        (Wanted::Sbom, Some(media_type)) => {
            let external_url = state
                .config
                .external_url()
                .unwrap_or("https://berth.invalid");
            let subject = sbom::Subject {
                repository: &artifact.repository,
                digest: &artifact.digest,
                created: &generated_at,
                document_id: &id,
                external_url,
            };
            let document = if media_type == SPDX_MEDIA_TYPE {
                sbom::spdx(&result.inventory, &subject)
            } else {
                sbom::cyclonedx(&result.inventory, &subject)
            };
            let report = SbomReport {
                generated_at,
                artifact,
                scanner: scanner_identity(),
                media_type: media_type.to_owned(),
                sbom: document,
            };
            json(StatusCode::OK, MIME_SBOM_REPORT, &report)
        }
        (Wanted::Vulnerability(mime), _) => {
            let report = vulnerability_report(
                artifact,
                scanner_identity(),
                &result.findings,
                &Allowlist::default(),
                generated_at,
                now.timestamp(),
            );
            json(StatusCode::OK, mime, &report)
        }
        (Wanted::Sbom, None) => Err(AdapterError::internal("report type", "no SBOM media type")),
    }
}

fn json(
    status: StatusCode,
    content_type: &'static str,
    body: &impl serde::Serialize,
) -> Result<Response, AdapterError> {
    let bytes = serde_json::to_vec(body).map_err(|e| AdapterError::internal("encoding", e))?;
    Ok(with_type(status, content_type, bytes))
}
