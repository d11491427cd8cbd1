//! `POST /system/oidc/ping`: whether an issuer URL is a working OpenID Provider, for system administrators
//! (the console's "Test OIDC Server").

use axum::extract::State;
use axum::http::StatusCode;
use berth_api::oidc::OidcPingReq;

use super::Caller;
use super::error::ApiError;
use super::extract::Json;
use crate::app::AppState;
use crate::auth::oidc;

/// 200 when discovery works and the document names this issuer; 400 with the reason otherwise.
pub async fn ping(
    State(_state): State<AppState>,
    caller: Caller,
    body: Json<OidcPingReq>,
) -> Result<StatusCode, ApiError> {
    caller.sysadmin()?;
    let Json(req) = body;
    oidc::ping(req.url.trim(), req.verify_cert)
        .await
        .map_err(|e| {
            tracing::info!(url = %req.url, error = %e, "OIDC test failed");
            ApiError::BadRequest(e.to_string())
        })?;
    Ok(StatusCode::OK)
}
