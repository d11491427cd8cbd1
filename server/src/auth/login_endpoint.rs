//! `POST /c/login` and `POST /c/log_out`: the console's cookie sign-in, at Harbor's paths.
//!
//! Sign-in takes Harbor's form (`application/x-www-form-urlencoded`, fields `principal` and `password`), checks
//! it through [`super::password::PasswordChecker`] (so the sign-in throttle applies), starts a session and
//! hands out the CSRF token in the `X-Harbor-CSRF-Token` response header. Only users sign in here; robot
//! accounts are for automation and use Basic credentials. In `oidc_auth` only the local `admin` signs in here;
//! everyone else goes through the provider ([`super::oidc_endpoint`]).
//!
//! Both refuse a request another site's page made the browser send ([`refuse_cross_site`]): a forged sign-in
//! would sign the victim in to the attacker's account, a forged sign-out would end their session. Sign-out is
//! POST only (Harbor's portal uses GET, which any image tag on any page could trigger).

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::Subject;
use super::credentials::{MAX_USERNAME_BYTES, username_fits};
use super::password::LOCAL_ADMIN;
use super::session::{self, CSRF_HEADER};
use super::throttle::PeerIp;
use crate::api::ApiError;
use crate::app::AppState;
use crate::events::audit::{self, ClientIp, clip};
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

/// Refuses a request that a page of another site made the browser send: by `Sec-Fetch-Site` (anything but
/// `same-origin`, or `none` for one the user typed), else by `Origin` (it must name this site: the host the
/// request was sent to, or the external URL). A request with neither header is not a browser's cross-site
/// request (browsers send `Origin` on every cross-site POST) and passes.
pub fn refuse_cross_site(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let refused = || {
        ApiError::Forbidden(
            "cross-site request refused: sign in and out from Berth's own pages".to_owned(),
        )
    };
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            tracing::warn!(sec_fetch_site = ?site, "cross-site sign-in request refused");
            return Err(refused());
        }
        return Ok(());
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("null");
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let same_host = authority.is_some_and(|a| host.is_some_and(|h| a.eq_ignore_ascii_case(h)));
    let external = state
        .config
        .external_url()
        .and_then(|url| url::Url::parse(url).ok())
        .map(|url| url.origin().ascii_serialization());
    if same_host || external.is_some_and(|e| e.eq_ignore_ascii_case(origin)) {
        return Ok(());
    }
    tracing::warn!(origin = %clip(origin), "cross-site sign-in request refused");
    Err(refused())
}

/// `POST /c/login`: 200 with a session cookie and the CSRF token, or 401.
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    PeerIp(peer): PeerIp,
    client: ClientIp,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, ApiError> {
    refuse_cross_site(&state, &headers)?;
    let Form(form) = form.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if !username_fits(&form.principal) {
        return Err(ApiError::BadRequest(format!(
            "the username is longer than {MAX_USERNAME_BYTES} bytes"
        )));
    }
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
    let user = match subject {
        Some(Subject::User { id, .. }) => state.db.user_by_id(id).await?,
        Some(_) | None => None,
    };
    let Some(user) = user else {
        audit::sign_in(&form.principal, false, &client)
            .record(&state.db)
            .await;
        return Err(ApiError::Unauthorized(INVALID.to_owned()));
    };
    let csrf = session::sign_in(&session, &user)
        .await
        .map_err(|e| ApiError::internal("starting a session", e))?;
    audit::sign_in(&form.principal, true, &client)
        .record(&state.db)
        .await;
    tracing::info!(username = %user.username, "signed in to the console");
    let mut response = StatusCode::OK.into_response();
    let header = HeaderValue::from_str(&csrf)
        .map_err(|e| ApiError::internal("encoding the CSRF token", e))?;
    response.headers_mut().insert(CSRF_HEADER, header);
    Ok(response)
}

/// `POST /c/log_out`: ends the session, if any; 200 (403 for a cross-site request).
pub async fn log_out(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    refuse_cross_site(&state, &headers)?;
    session::sign_out(&session)
        .await
        .map_err(|e| ApiError::internal("ending a session", e))?;
    Ok(StatusCode::OK)
}
