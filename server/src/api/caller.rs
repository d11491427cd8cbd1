//! Who is calling the REST API: Basic credentials (automation), a console session cookie, or nobody.
//!
//! Basic credentials win when both are sent. A cookie-authenticated request with an unsafe method must carry
//! the session's `X-Harbor-CSRF-Token` (see [`crate::auth::session`]); the session's user is read again on
//! every request.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tower_sessions::Session;

use super::error::ApiError;
use crate::app::AppState;
use crate::auth::policy;
use crate::auth::session::{self, SessionState};
use crate::auth::throttle::PeerIp;
use crate::auth::{Credentials, Subject};

/// The authenticated subject of a REST request; anonymous when no credentials were sent.
#[derive(Debug, Clone)]
pub struct Caller(pub Subject);

impl Caller {
    /// The caller, or 401 if anonymous.
    pub fn signed_in(&self) -> Result<&Subject, ApiError> {
        match &self.0 {
            Subject::Anonymous => Err(ApiError::Unauthorized("sign in first".to_owned())),
            subject => Ok(subject),
        }
    }

    /// The caller if it holds the system-level permission `(resource, action)` (a system administrator, or a
    /// system robot given it: [`policy::system_permits`]); 401 if anonymous, 403 otherwise.
    pub fn system(&self, resource: &str, action: &str) -> Result<&Subject, ApiError> {
        let subject = self.signed_in()?;
        if policy::system_permits(subject, resource, action) {
            Ok(subject)
        } else {
            Err(ApiError::Forbidden(format!(
                "only system administrators, and robots given {resource}:{action}, may do this"
            )))
        }
    }

    /// Whether the caller holds the project permission `resource:{action}` (a resource outside the role
    /// matrix's models, such as `tag-retention`) in `project`: by its role there
    /// ([`policy::ProjectAccess::permits_named`]), or, for a robot, by its own grants.
    pub fn holds_in_project(
        &self,
        access: policy::ProjectAccess,
        project: &str,
        resource: &str,
        action: &str,
    ) -> bool {
        access.permits_named(resource, action)
            || match &self.0 {
                Subject::Robot { permissions, .. } => {
                    crate::auth::robots::holds_in_project(permissions, project, resource, action)
                }
                _ => false,
            }
    }

    /// The caller if a system administrator; 401 if anonymous, 403 otherwise.
    pub fn sysadmin(&self) -> Result<&Subject, ApiError> {
        let subject = self.signed_in()?;
        if subject.is_sysadmin() {
            Ok(subject)
        } else {
            Err(ApiError::Forbidden(
                "only system administrators may do this".to_owned(),
            ))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Credentials::from_headers(&parts.headers) {
            Ok(Credentials::Anonymous) => session_caller(parts, state).await,
            Ok(Credentials::Basic { username, password }) => {
                let PeerIp(peer) = PeerIp::of(&parts.extensions);
                match state
                    .passwords
                    .check_from(&state.db, &username, password.expose(), peer)
                    .await?
                {
                    Some(subject) => Ok(Caller(subject)),
                    None => Err(ApiError::Unauthorized(
                        "invalid username or password".to_owned(),
                    )),
                }
            }
            Ok(Credentials::Bearer(_)) => Err(ApiError::Unauthorized(
                "bearer tokens are for /v2; use Basic credentials on the REST API".to_owned(),
            )),
            Err(e) => Err(ApiError::Unauthorized(e.to_string())),
        }
    }
}

/// The caller named by the request's session cookie; anonymous without one.
async fn session_caller(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let Some(session) = parts.extensions.get::<Session>().cloned() else {
        return Ok(Caller(Subject::Anonymous));
    };
    let current = session::current(
        &session,
        &parts.method,
        &parts.headers,
        state.config.session_lifetime(),
    )
    .await
    .map_err(|e| ApiError::internal("reading the session", e))?;
    let (user_id, credential) = match current {
        SessionState::None => return Ok(Caller(Subject::Anonymous)),
        SessionState::CsrfMismatch => {
            return Err(ApiError::Forbidden(format!(
                "a signed-in {} needs the {} header with the token given at sign-in",
                parts.method,
                session::CSRF_HEADER
            )));
        }
        SessionState::User {
            user_id,
            credential,
            ..
        } => (user_id, credential),
    };
    // The same account read as Basic credentials get: an admin by flag or by the directory's admin group.
    match state.db.user_by_id(user_id).await? {
        Some(user) if session::credential_matches(&credential, &user) => Ok(Caller(user.into())),
        Some(user) => {
            tracing::info!(username = %user.username, "session ended: the user's password changed since it began");
            session::sign_out(&session)
                .await
                .map_err(|e| ApiError::internal("ending a session", e))?;
            Err(ApiError::Unauthorized(
                "the password was changed since this session began; sign in again".to_owned(),
            ))
        }
        None => {
            session::sign_out(&session)
                .await
                .map_err(|e| ApiError::internal("ending a session", e))?;
            Err(ApiError::Unauthorized(
                "the signed-in user no longer exists; sign in again".to_owned(),
            ))
        }
    }
}
