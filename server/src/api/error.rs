//! The one error type of the REST API, in Harbor's shape: `{"errors":[{"code":"NOT_FOUND","message":"…"}]}`.
//!
//! Internal errors are logged with their cause and shown to clients only as a generic message.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::ErrorResponse;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    /// The request is well formed but names something the operation does not apply to (an artifact that is
    /// not a container image, for a scan): 422, as Harbor's swagger says.
    #[error("{0}")]
    Unprocessable(String),
    /// The request body is larger than the REST API accepts.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A service Berth depends on (the LDAP server, the OIDC provider) failed; the message says which.
    #[error("{0}")]
    Unavailable(String),
    /// Too many requests of this kind for now (sign-ins being checked, sign-ups from one address): 429 with
    /// `Retry-After` (RFC 6585 §4).
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after: Duration,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// An internal error: logged here with `context`, reported to the client without detail.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %error, "{context}");
        ApiError::Internal(context.to_owned())
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "CONFLICT"),
            ApiError::PreconditionFailed(_) => (StatusCode::PRECONDITION_FAILED, "PRECONDITION"),
            ApiError::Unprocessable(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "UNPROCESSABLE_ENTITY")
            }
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS")
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = match &self {
            ApiError::Internal(_) => "internal server error; see the server log".to_owned(),
            other => other.to_string(),
        };
        let mut response =
            (status, axum::Json(ErrorResponse::single(code, message))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            // RFC 7235 §3.1: a 401 carries a challenge.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"berth\""),
            );
        }
        if let ApiError::TooManyRequests { retry_after, .. } = self {
            // RFC 6585 §4: a 429 may say how long to wait.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_value(retry_after));
        }
        response
    }
}

/// A `Retry-After` value in whole seconds (at least one).
pub fn retry_after_value(wait: Duration) -> HeaderValue {
    HeaderValue::from(wait.as_secs().max(1))
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::internal("database error", error)
    }
}

impl From<crate::auth::password::SignInError> for ApiError {
    fn from(error: crate::auth::password::SignInError) -> Self {
        use crate::auth::password::SignInError;
        match error {
            SignInError::Database(e) => e.into(),
            SignInError::Directory(e) => {
                tracing::error!(error = %e, "sign-in could not be checked: the LDAP server failed");
                ApiError::Unavailable(
                    "sign-in is unavailable: the directory server cannot be reached; try again later"
                        .to_owned(),
                )
            }
            SignInError::Busy(busy) => ApiError::TooManyRequests {
                message: busy.to_string(),
                retry_after: busy.retry_after,
            },
        }
    }
}

impl From<crate::service::ServiceError> for ApiError {
    fn from(error: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError;
        match error {
            ServiceError::Invalid(m) => ApiError::BadRequest(m),
            ServiceError::Conflict(m) => ApiError::Conflict(m),
            ServiceError::NotFound(m) => ApiError::NotFound(m),
            ServiceError::Forbidden(m) => ApiError::Forbidden(m),
            ServiceError::Precondition(m) => ApiError::PreconditionFailed(m),
            ServiceError::Db(e) => e.into(),
            ServiceError::Hash => ApiError::internal("password hashing", "argon2 failed"),
        }
    }
}
