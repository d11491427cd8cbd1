//! Extractors for the REST API whose rejections are Harbor-shaped 400s instead of axum's plain text.
//! [`Json`] is also the response type, like axum's.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The largest JSON body the REST API reads: axum's default body limit (2 MiB). Harbor's largest bodies (a full
/// configuration, a robot with many permissions) are a few kilobytes.
pub const MAX_JSON_BODY_BYTES: usize = 2 * 1024 * 1024;

/// A JSON body, at most [`MAX_JSON_BODY_BYTES`] (413 beyond).
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(request, state)
            .await
            .map(|axum::Json(value)| Json(value))
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(format!(
                        "the request body is larger than {MAX_JSON_BODY_BYTES} bytes"
                    ))
                } else {
                    ApiError::BadRequest(e.body_text())
                }
            })
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// Query parameters. A value that does not parse is a 400 naming its parameter, e.g.
/// `invalid query parameter public: "maybe" is not a boolean; …`. Boolean parameters are declared with
/// [`super::query_bool::optional`].
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|e| {
                let parameter = e.path().to_string();
                let why = e.into_inner();
                if parameter == "." {
                    ApiError::BadRequest(format!("invalid query string: {why}"))
                } else {
                    ApiError::BadRequest(format!("invalid query parameter {parameter}: {why}"))
                }
            })
    }
}

/// Path parameters.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}
