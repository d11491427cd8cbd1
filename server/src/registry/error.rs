//! The one error type of the OCI `/v2` API, and its mapping to the spec's codes and statuses.
//!
//! <https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#error-codes>
//! Internal errors are logged with their cause and shown to clients only as `UNKNOWN`.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::{ErrorItem, ErrorResponse};

/// Everything a `/v2` request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("blob unknown to registry")]
    BlobUnknown,
    #[error("{0}")]
    BlobUploadInvalid(String),
    #[error("blob upload unknown to registry")]
    BlobUploadUnknown,
    /// A chunk that does not start at the upload's offset (416, with the upload's state in headers).
    #[error("{message}")]
    UploadOutOfOrder {
        message: String,
        location: String,
        offset: u64,
    },
    #[error("{0}")]
    DigestInvalid(String),
    #[error("{message}")]
    ManifestBlobUnknown { message: String, digest: String },
    #[error("{0}")]
    ManifestInvalid(String),
    #[error("{0}")]
    ManifestUnknown(String),
    #[error("manifest is larger than the {0} byte limit")]
    ManifestTooLarge(usize),
    #[error("{0}")]
    NameInvalid(String),
    #[error("{0}")]
    NameUnknown(String),
    #[error("{0}")]
    SizeInvalid(String),
    #[error("{0}")]
    PaginationInvalid(String),
    /// 401, with the challenge to send in `WWW-Authenticate` (RFC 7235 §3.1: a 401 always carries one).
    #[error("{message}")]
    Unauthorized { message: String, challenge: String },
    #[error("{0}")]
    Denied(String),
    /// A push refused by the project's storage quota (Harbor answers 403 DENIED).
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    /// An upload larger than a project may stage at once (413; the spec has no closer code than DENIED).
    #[error("{0}")]
    UploadTooLarge(String),
    /// A project's upload sessions or staged bytes are at their cap for now (429 with `Retry-After`).
    #[error("{0}")]
    UploadsBusy(String),
    /// A push or delete refused by an immutable tag rule: 412 `PRECONDITION`, as Harbor's registry
    /// middleware answers (`src/server/middleware/immutable`).
    #[error("{0}")]
    Immutable(String),
    /// A pull refused by the project's "prevent vulnerable images" policy: 412 `PROJECTPOLICYVIOLATION`, as
    /// Harbor's `vulnerable` middleware answers.
    #[error("{0}")]
    PolicyViolation(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("the requested range is not satisfiable: the blob has {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    #[error("{0}")]
    NotFound(String),
    /// A proxy-cache upstream could not answer and nothing cached can stand in (503 `UNAVAILABLE`, the code
    /// the distribution registry uses).
    #[error("{0}")]
    Unavailable(String),
    /// A proxy-cache upstream is rate-limiting Berth and nothing cached can stand in.
    #[error("{0}")]
    TooManyRequests(String),
    /// A proxy-cache upstream answered with a manifest that is not one (502 `MANIFEST_INVALID`, RFC 9110
    /// §15.6.3: an invalid response from an upstream server).
    #[error("{0}")]
    BadGateway(String),
    /// Too many sign-ins are being checked: 429 `TOOMANYREQUESTS` with `Retry-After`.
    #[error("{0}")]
    SignInBusy(crate::auth::admission::Busy),
    #[error("internal error: {0}")]
    Internal(String),
}

impl RegistryError {
    /// An internal error: logged here with `context`, reported to the client as `UNKNOWN`.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> RegistryError {
        tracing::error!(error = %error, "{context}");
        RegistryError::Internal(context.to_owned())
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        use RegistryError::*;
        match self {
            BlobUnknown => (StatusCode::NOT_FOUND, "BLOB_UNKNOWN"),
            BlobUploadInvalid(_) => (StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID"),
            BlobUploadUnknown => (StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN"),
            UploadOutOfOrder { .. } => (StatusCode::RANGE_NOT_SATISFIABLE, "BLOB_UPLOAD_INVALID"),
            DigestInvalid(_) => (StatusCode::BAD_REQUEST, "DIGEST_INVALID"),
            ManifestBlobUnknown { .. } => (StatusCode::NOT_FOUND, "MANIFEST_BLOB_UNKNOWN"),
            ManifestInvalid(_) => (StatusCode::BAD_REQUEST, "MANIFEST_INVALID"),
            ManifestUnknown(_) => (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN"),
            ManifestTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "MANIFEST_INVALID"),
            NameInvalid(_) => (StatusCode::BAD_REQUEST, "NAME_INVALID"),
            NameUnknown(_) => (StatusCode::NOT_FOUND, "NAME_UNKNOWN"),
            SizeInvalid(_) => (StatusCode::BAD_REQUEST, "SIZE_INVALID"),
            // The spec's list of codes has nothing closer for these three.
            PaginationInvalid(_) => (StatusCode::BAD_REQUEST, "UNSUPPORTED"),
            Unauthorized { .. } => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            Denied(_) | QuotaExceeded(_) => (StatusCode::FORBIDDEN, "DENIED"),
            UploadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "DENIED"),
            UploadsBusy(_) => (StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS"),
            Immutable(_) => (StatusCode::PRECONDITION_FAILED, "PRECONDITION"),
            PolicyViolation(_) => (StatusCode::PRECONDITION_FAILED, "PROJECTPOLICYVIOLATION"),
            Unsupported(_) => (StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED"),
            RangeNotSatisfiable { .. } => (StatusCode::RANGE_NOT_SATISFIABLE, "UNSUPPORTED"),
            NotFound(_) => (StatusCode::NOT_FOUND, "UNSUPPORTED"),
            Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
            TooManyRequests(_) | SignInBusy(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS")
            }
            BadGateway(_) => (StatusCode::BAD_GATEWAY, "MANIFEST_INVALID"),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN"),
        }
    }
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            RegistryError::Internal(_) => "internal server error; see the server log".to_owned(),
            other => other.to_string(),
        };
        let detail = match &self {
            RegistryError::ManifestBlobUnknown { digest, .. } => {
                Some(serde_json::json!({ "digest": digest }))
            }
            _ => None,
        };
        let body = ErrorResponse {
            errors: vec![ErrorItem {
                code: code.to_owned(),
                message,
                detail,
            }],
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            RegistryError::Unauthorized { challenge, .. } => {
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            RegistryError::UploadOutOfOrder {
                location, offset, ..
            } => {
                if let Ok(value) = HeaderValue::from_str(&location) {
                    headers.insert(header::LOCATION, value);
                }
                headers.insert(HeaderName::from_static("range"), upload_range(offset));
            }
            RegistryError::SignInBusy(busy) => {
                headers.insert(
                    header::RETRY_AFTER,
                    crate::api::error::retry_after_value(busy.retry_after),
                );
            }
            RegistryError::UploadsBusy(_) => {
                // RFC 9110 §10.2.3; the spec asks for it on a 429.
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(UPLOADS_RETRY_AFTER_SECS),
                );
            }
            RegistryError::RangeNotSatisfiable { size } => {
                if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    headers.insert(header::CONTENT_RANGE, value);
                }
            }
            _ => {}
        }
        response
    }
}

/// How long a client refused by a project's upload caps is asked to wait, in seconds.
const UPLOADS_RETRY_AFTER_SECS: &str = "60";

/// The `Range` header of an upload holding `offset` bytes: `0-<last byte>` (`0-0` when empty).
pub fn upload_range(offset: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("0-{}", offset.saturating_sub(1)))
        .unwrap_or(HeaderValue::from_static("0-0"))
}

impl From<crate::db::ChargeError> for RegistryError {
    fn from(error: crate::db::ChargeError) -> Self {
        match error {
            crate::db::ChargeError::Quota(q) => {
                tracing::warn!(%q, "push refused: project quota exceeded");
                RegistryError::QuotaExceeded(q.to_string())
            }
            crate::db::ChargeError::BlobDeleting(digest) => {
                tracing::info!(%digest, "blob link refused: garbage collection is deleting it; the client uploads it again");
                RegistryError::BlobUnknown
            }
            crate::db::ChargeError::Db(e) => e.into(),
        }
    }
}

impl From<crate::auth::password::SignInError> for RegistryError {
    fn from(error: crate::auth::password::SignInError) -> Self {
        use crate::auth::password::SignInError;
        match error {
            SignInError::Database(e) => e.into(),
            SignInError::Directory(e) => {
                tracing::error!(error = %e, "sign-in could not be checked: the LDAP server failed");
                RegistryError::Unavailable(
                    "sign-in is unavailable: the directory server cannot be reached".to_owned(),
                )
            }
            SignInError::Busy(busy) => RegistryError::SignInBusy(busy),
        }
    }
}

impl From<sqlx::Error> for RegistryError {
    fn from(error: sqlx::Error) -> Self {
        RegistryError::internal("database error", error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// <https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#error-codes>: the code of a
    /// 4xx JSON error body MUST be one of these.
    const SPEC_CODES: [&str; 14] = [
        "BLOB_UNKNOWN",
        "BLOB_UPLOAD_INVALID",
        "BLOB_UPLOAD_UNKNOWN",
        "DIGEST_INVALID",
        "MANIFEST_BLOB_UNKNOWN",
        "MANIFEST_INVALID",
        "MANIFEST_UNKNOWN",
        "NAME_INVALID",
        "NAME_UNKNOWN",
        "SIZE_INVALID",
        "UNAUTHORIZED",
        "DENIED",
        "UNSUPPORTED",
        "TOOMANYREQUESTS",
    ];

    #[test]
    fn every_client_error_uses_a_code_from_the_spec() {
        let s = String::new;
        let all = [
            RegistryError::BlobUnknown,
            RegistryError::BlobUploadInvalid(s()),
            RegistryError::BlobUploadUnknown,
            RegistryError::UploadOutOfOrder {
                message: s(),
                location: s(),
                offset: 0,
            },
            RegistryError::DigestInvalid(s()),
            RegistryError::ManifestBlobUnknown {
                message: s(),
                digest: s(),
            },
            RegistryError::ManifestInvalid(s()),
            RegistryError::ManifestUnknown(s()),
            RegistryError::ManifestTooLarge(1),
            RegistryError::NameInvalid(s()),
            RegistryError::NameUnknown(s()),
            RegistryError::SizeInvalid(s()),
            RegistryError::PaginationInvalid(s()),
            RegistryError::Unauthorized {
                message: s(),
                challenge: s(),
            },
            RegistryError::Denied(s()),
            RegistryError::QuotaExceeded(s()),
            RegistryError::UploadTooLarge(s()),
            RegistryError::UploadsBusy(s()),
            RegistryError::Unsupported(s()),
            RegistryError::RangeNotSatisfiable { size: 0 },
            RegistryError::NotFound(s()),
            RegistryError::SignInBusy(crate::auth::admission::Busy {
                retry_after: std::time::Duration::from_secs(1),
            }),
        ];
        for error in all {
            let (status, code) = error.status_and_code();
            assert!(status.is_client_error(), "{error:?}");
            assert!(SPEC_CODES.contains(&code), "{error:?} uses {code}");
        }
    }
}
