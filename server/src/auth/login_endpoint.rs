//! `POST /c/login` and `GET|POST /c/log_out`: the console's cookie sign-in, shaped as Harbor's portal uses it.
//!
//! Sign-in takes Harbor's form (`application/x-www-form-urlencoded`, fields `principal` and `password`), checks
//! it through [`super::password::PasswordChecker`] (so the sign-in throttle applies), starts a session and
//! hands out the CSRF token in the `X-Harbor-CSRF-Token` response header. Only users sign in here; robot
//! accounts are for automation and use Basic credentials. In `oidc_auth` only the local `admin` signs in here;
//! everyone else goes through the provider ([`super::oidc_endpoint`]).

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::Subject;
use super::password::LOCAL_ADMIN;
use super::session::{self, CSRF_HEADER};
use super::throttle::PeerIp;
use crate::api::ApiError;
use crate::app::AppState;
use crate::events::audit::{self, ClientIp};
use crate::secret::Secret;
use crate::service::configurations::AuthMode;

/// The one message for every failed sign-in, so it does not tell which part was wrong.
const INVALID: &str = "invalid username or password";

/// Harbor's sign-in form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    principal: String,
    password: Secret,
}

/// `POST /c/login`: 200 with a session cookie and the CSRF token, or 401.
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    PeerIp(peer): PeerIp,
    client: ClientIp,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if state.system_config.current().auth_mode == AuthMode::Oidc && form.principal != LOCAL_ADMIN {
        // OIDC users have no password here; their CLI secret is for `docker login`, not the console.
        audit::sign_in(&form.principal, false, &client)
            .record(&state.db)
            .await;
        return Err(ApiError::Unauthorized(
            "only the local admin signs in with a password; sign in with the identity provider"
                .to_owned(),
        ));
    }
    let subject = state
        .passwords
        .check_from(&state.db, &form.principal, form.password.expose(), peer)
        .await?;
    let user_id = match subject {
        Some(Subject::User { id, .. }) => id,
        Some(_) | None => {
            audit::sign_in(&form.principal, false, &client)
                .record(&state.db)
                .await;
            return Err(ApiError::Unauthorized(INVALID.to_owned()));
        }
    };
    let csrf = session::sign_in(&session, user_id)
        .await
        .map_err(|e| ApiError::internal("starting a session", e))?;
    audit::sign_in(&form.principal, true, &client)
        .record(&state.db)
        .await;
    tracing::info!(username = %form.principal, "signed in to the console");
    let mut response = StatusCode::OK.into_response();
    let header = HeaderValue::from_str(&csrf)
        .map_err(|e| ApiError::internal("encoding the CSRF token", e))?;
    response.headers_mut().insert(CSRF_HEADER, header);
    Ok(response)
}

/// `GET /c/log_out` (Harbor's method) or `POST /c/log_out`: ends the session, if any; always 200.
pub async fn log_out(session: Session) -> Result<StatusCode, ApiError> {
    session::sign_out(&session)
        .await
        .map_err(|e| ApiError::internal("ending a session", e))?;
    Ok(StatusCode::OK)
}
