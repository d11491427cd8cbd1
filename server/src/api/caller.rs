//! Who is calling the REST API: Basic credentials or nobody. (Browser sessions arrive with the console.)

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::ApiError;
use crate::app::AppState;
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
            Ok(Credentials::Anonymous) => Ok(Caller(Subject::Anonymous)),
            Ok(Credentials::Basic { username, password }) => {
                match state
                    .passwords
                    .check(&state.db, &username, password.expose())
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
