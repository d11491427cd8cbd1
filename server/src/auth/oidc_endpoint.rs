//! The browser side of OIDC sign-in, at Harbor's paths: `GET /c/oidc/login` sends the browser to the provider,
//! `GET /c/oidc/callback` takes it back, and `POST /c/oidc/onboard` lets a new user choose a username.
//!
//! Between login and callback the [`PendingLogin`] (state, nonce, PKCE verifier) waits in the server-side
//! session; it is taken out once, so a callback cannot be replayed. A failed callback sends the browser back
//! to the sign-in page with `oidc_error=<reason>` and logs the detail; an OIDC user's console session is
//! then an ordinary one ([`super::session::sign_in`]).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use berth_api::oidc::OidcOnboardReq;
use serde::Deserialize;
use tower_sessions::Session;

use super::oidc::{OidcClient, OidcErrorKind, OidcIdentity, PendingLogin};
use super::session::{self, CSRF_HEADER};
use crate::api::ApiError;
use crate::api::extract::Json;
use crate::app::AppState;
use crate::events::audit::{self, ClientIp, clip};
use crate::registry::access::base_url;
use crate::service::ServiceError;
use crate::service::configurations::AuthMode;
use crate::service::oidc::{self, SignIn};

/// Where the console lands after signing in.
const HOME: &str = "/harbor/projects";
const SIGN_IN_PAGE: &str = "/account/sign-in";
const ONBOARD_PAGE: &str = "/oidc-onboard";
const PENDING: &str = "oidc_pending";
const ONBOARDING: &str = "oidc_onboarding";
const THEN: &str = "oidc_then";

#[derive(Debug, Deserialize)]
pub struct Login {
    redirect_url: Option<String>,
}

/// `GET /c/oidc/login[?redirect_url=/path]`: redirects to the provider's authorization endpoint. After the
/// sign-in the console opens `redirect_url` when it is a path on this site ([`landing`]), else the projects
/// page.
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Query(login): Query<Login>,
) -> Response {
    let client = match client(&state, &headers).await {
        Ok(client) => client,
        Err(reason) => return back_to_sign_in(reason),
    };
    let (url, pending) = client.authorize();
    let then = login
        .redirect_url
        .and_then(|target| landing(&state, &headers, &target));
    let stored = match session.insert(PENDING, &pending).await {
        Ok(()) => session.insert(THEN, then).await,
        Err(e) => Err(e),
    };
    if let Err(e) = stored {
        tracing::error!(error = %e, "OIDC sign-in: cannot store the pending sign-in in the session");
        return back_to_sign_in("internal error");
    }
    Redirect::to(url.as_str()).into_response()
}

#[derive(Debug, Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /c/oidc/callback`: finishes the sign-in; signs the user in and sends them to the console, or to the
/// onboarding page when they must choose a username.
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    client_ip: ClientIp,
    Query(callback): Query<Callback>,
) -> Response {
    let pending: Option<PendingLogin> = match session.remove(PENDING).await {
        Ok(pending) => pending,
        Err(e) => {
            tracing::error!(error = %e, "OIDC callback: cannot read the session");
            return back_to_sign_in("internal error");
        }
    };
    let Some(pending) = pending else {
        tracing::info!("OIDC callback refused: no sign-in in progress in this browser session");
        return back_to_sign_in("no sign-in in progress; start again");
    };
    if let Some(error) = callback.error {
        tracing::info!(
            error = %clip(&error),
            description = ?callback.error_description.as_deref().map(clip),
            "OIDC provider refused the sign-in"
        );
        return back_to_sign_in("the provider refused the sign-in");
    }
    let (Some(code), Some(returned_state)) = (callback.code, callback.state) else {
        return back_to_sign_in("the provider's answer has no code or state");
    };
    let client = match client(&state, &headers).await {
        Ok(client) => client,
        Err(reason) => return back_to_sign_in(reason),
    };
    let identity = match client.finish(&pending, &returned_state, &code).await {
        Ok(identity) => identity,
        Err(e) => {
            let reason = match e.kind() {
                OidcErrorKind::Refused => "the sign-in was refused; start again",
                OidcErrorKind::Unavailable => "the identity provider cannot be reached",
                OidcErrorKind::Provider | OidcErrorKind::Settings => {
                    "the identity provider's answer was not acceptable; see the server log"
                }
            };
            tracing::warn!(error = %e, "OIDC sign-in failed");
            return back_to_sign_in(reason);
        }
    };
    let config = state.system_config.current();
    let then: Option<String> = session.remove(THEN).await.ok().flatten();
    match oidc::sign_in(
        &state.db,
        &state.secrets,
        &identity,
        config.oidc.auto_onboard,
    )
    .await
    {
        Ok(SignIn::User(user_id)) => {
            let then = then.and_then(|target| landing(&state, &headers, &target));
            start_session(
                &state,
                &session,
                user_id,
                &client_ip,
                then.as_deref().unwrap_or(HOME),
            )
            .await
        }
        Ok(SignIn::ChooseUsername { suggestion }) => {
            let waiting = OidcIdentity {
                refresh_token: None,
                ..identity
            };
            if let Err(e) = session.insert(ONBOARDING, &waiting).await {
                tracing::error!(error = %e, "OIDC sign-in: cannot keep the identity in the session");
                return back_to_sign_in("internal error");
            }
            let query = serde_urlencoded::to_string([("username", suggestion)]).unwrap_or_default();
            Redirect::to(&format!("{ONBOARD_PAGE}?{query}")).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "OIDC sign-in: recording the user failed");
            back_to_sign_in("internal error")
        }
    }
}

/// `POST /c/oidc/onboard` (`{"username": ...}`): creates the user the provider signed in, under the chosen
/// name, and signs them in: 200 with the CSRF token; 400 without a pending onboarding or for an invalid name;
/// 409 for a taken one (the user may try another).
pub async fn onboard(
    State(state): State<AppState>,
    session: Session,
    client_ip: ClientIp,
    body: Json<OidcOnboardReq>,
) -> Result<Response, ApiError> {
    let Json(req) = body;
    let identity: Option<OidcIdentity> = session
        .get(ONBOARDING)
        .await
        .map_err(|e| ApiError::internal("reading the session", e))?;
    let Some(identity) = identity else {
        return Err(ApiError::BadRequest(
            "no OIDC sign-in is waiting for a username; sign in with the provider first".to_owned(),
        ));
    };
    let username = req.username.trim();
    let user_id = oidc::onboard(&state.db, &state.secrets, &identity, username)
        .await
        .map_err(|e| match e {
            ServiceError::Conflict(m) => ApiError::Conflict(m),
            other => other.into(),
        })?;
    let user = state
        .db
        .user_by_id(user_id)
        .await?
        .ok_or_else(|| ApiError::internal("onboarding an OIDC user", "the new user is gone"))?;
    let csrf = session::sign_in(&session, &user)
        .await
        .map_err(|e| ApiError::internal("starting a session", e))?;
    audit::sign_in(username, true, &client_ip)
        .record(&state.db)
        .await;
    let mut response = StatusCode::OK.into_response();
    let header = HeaderValue::from_str(&csrf)
        .map_err(|e| ApiError::internal("encoding the CSRF token", e))?;
    response.headers_mut().insert(CSRF_HEADER, header);
    Ok(response)
}

/// The provider's client, for `oidc_auth` only; the reason otherwise.
async fn client(state: &AppState, headers: &HeaderMap) -> Result<OidcClient, &'static str> {
    let config = state.system_config.current();
    if config.auth_mode != AuthMode::Oidc {
        tracing::info!("OIDC sign-in refused: the auth mode is not oidc_auth");
        return Err("sign-in with an identity provider is not enabled");
    }
    let redirect = format!("{}/c/oidc/callback", base_url(state, headers));
    state
        .passwords
        .directory()
        .oidc(&config.oidc, &redirect)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "OIDC sign-in unavailable");
            match e.kind() {
                OidcErrorKind::Unavailable => "the identity provider cannot be reached",
                _ => "sign-in with the identity provider is misconfigured; see the server log",
            }
        })
}

/// Signs user `user_id` in to the console in `session` (a fresh session id and CSRF token), audited, and sends
/// the browser to `landing`.
async fn start_session(
    state: &AppState,
    session: &Session,
    user_id: i64,
    client_ip: &ClientIp,
    landing: &str,
) -> Response {
    let user = match state.db.user_by_id(user_id).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            tracing::error!(user_id, "OIDC sign-in: the signed-in user is gone");
            return back_to_sign_in("internal error");
        }
        Err(e) => {
            tracing::error!(error = %e, "OIDC sign-in: reading the user failed");
            return back_to_sign_in("internal error");
        }
    };
    if let Err(e) = session::sign_in(session, &user).await {
        tracing::error!(error = %e, "OIDC sign-in: starting a session failed");
        return back_to_sign_in("internal error");
    }
    audit::sign_in(&user.username, true, client_ip)
        .record(&state.db)
        .await;
    tracing::info!(username = %user.username, "signed in to the console through OIDC");
    Redirect::to(landing).into_response()
}

/// Where a sign-in asked to land on may be followed: `target` resolved against Berth's external URL (or this
/// request's own base URL) must be a path on that same origin ([`berth_api::oidc::is_local_path`]). Returns
/// the path to redirect to, or `None` for anything else (another origin, or a path a browser could read as one).
fn landing(state: &AppState, headers: &HeaderMap, target: &str) -> Option<String> {
    if !berth_api::oidc::is_local_path(target) {
        tracing::info!(target = %clip(target), "OIDC sign-in: redirect target refused (not a plain path on this site)");
        return None;
    }
    let base = url::Url::parse(&base_url(state, headers)).ok()?;
    let resolved = base.join(target).ok()?;
    if resolved.origin() != base.origin() {
        tracing::info!(target = %clip(target), "OIDC sign-in: redirect target refused (another origin)");
        return None;
    }
    Some(resolved[url::Position::BeforePath..].to_owned())
}

/// Back to the console's sign-in page, which shows `reason`.
fn back_to_sign_in(reason: &str) -> Response {
    let query = serde_urlencoded::to_string([("oidc_error", reason)]).unwrap_or_default();
    Redirect::to(&format!("{SIGN_IN_PAGE}?{query}")).into_response()
}
