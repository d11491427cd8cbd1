//! `GET /service/token`: Docker's token authentication endpoint.
//!
//! <https://distribution.github.io/distribution/spec/auth/token/>
//! Basic credentials are optional (anonymous callers may pull public projects). For each requested scope
//! the token grants the intersection of what was asked and what [`policy::allowed_actions`] allows.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::{ErrorResponse, TokenResponse};
use chrono::{DateTime, SecondsFormat, Utc};

use super::password::SignInError;
use super::token::Grant;
use super::{Action, ActionSet, Credentials, Subject, policy};
use crate::app::AppState;
use crate::events::audit::{self, ClientIp};
use crate::oci::RepositoryName;

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut response = (status, axum::Json(ErrorResponse::single(code, message))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"berth\""),
        );
    }
    response
}

pub async fn issue(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let subject = match Credentials::from_headers(&headers) {
        Ok(Credentials::Basic { username, password }) => {
            match state
                .passwords
                .check(&state.db, &username, password.expose())
                .await
            {
                Ok(Some(subject)) => {
                    audit::sign_in(&username, true, &client)
                        .record(&state.db)
                        .await;
                    subject
                }
                Ok(None) => {
                    audit::sign_in(&username, false, &client)
                        .record(&state.db)
                        .await;
                    return error(
                        StatusCode::UNAUTHORIZED,
                        "UNAUTHORIZED",
                        "invalid username or password",
                    );
                }
                Err(SignInError::Directory(e)) => {
                    tracing::error!(error = %e, username, "token service: the LDAP server failed while checking credentials");
                    return error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "UNAVAILABLE",
                        "sign-in is unavailable: the directory server cannot be reached",
                    );
                }
                Err(SignInError::Database(e)) => {
                    tracing::error!(error = %e, "token service: database error while checking credentials");
                    return error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "UNKNOWN",
                        "internal server error",
                    );
                }
            }
        }
        Ok(Credentials::Anonymous) => Subject::Anonymous,
        Ok(Credentials::Bearer(_)) | Err(_) => {
            return error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "use Basic credentials or none",
            );
        }
    };
    let scopes = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' '))
        .filter(|s| !s.is_empty());
    let mut access = Vec::new();
    for scope in scopes {
        match grant(&state, &subject, scope).await {
            Ok(Some(g)) => access.push(g),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, scope, "token service: database error while granting scope");
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "UNKNOWN",
                    "internal server error",
                );
            }
        }
    }
    // The lifetime is read per token from the live configuration, so a changed `token_expiration` applies to
    // the next token.
    let lifetime = state.system_config.current().token_lifetime();
    let issued = match state.tokens.issue_for(subject.name(), access, lifetime) {
        Ok(issued) => issued,
        Err(e) => {
            tracing::error!(error = %e, "token service: signing failed");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN",
                "internal server error",
            );
        }
    };
    let issued_at: DateTime<Utc> = issued.issued_at.into();
    let body = TokenResponse {
        token: issued.token.clone(),
        access_token: issued.token,
        expires_in: issued.expires_in.as_secs(),
        issued_at: issued_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    };
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// One requested scope, `type:name:actions`. The name may hold colons (a registry host with a port), the
/// type and the actions cannot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRequest<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    /// The comma-separated list as sent, unknown actions included.
    pub actions: &'a str,
}

impl<'a> ScopeRequest<'a> {
    /// Parses one scope; `None` when it has fewer than three parts.
    pub fn parse(scope: &'a str) -> Option<ScopeRequest<'a>> {
        let (kind, rest) = scope.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        Some(ScopeRequest {
            kind,
            name,
            actions,
        })
    }
}

impl std::fmt::Display for ScopeRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.kind, self.name, self.actions)
    }
}

/// What to grant for one scope `type:name:actions`; `None` when nothing is granted.
async fn grant(
    state: &AppState,
    subject: &Subject,
    scope: &str,
) -> Result<Option<Grant>, sqlx::Error> {
    let Some(ScopeRequest {
        kind,
        name,
        actions,
    }) = ScopeRequest::parse(scope)
    else {
        return Ok(None);
    };
    match kind {
        "registry" if name == "catalog" && matches!(subject, Subject::User { .. }) => {
            Ok(Some(Grant {
                kind: kind.to_owned(),
                name: name.to_owned(),
                actions: vec!["*".to_owned()],
            }))
        }
        "repository" => {
            let Ok(repository) = name.parse::<RepositoryName>() else {
                return Ok(None);
            };
            let requested = if actions.split(',').any(|a| a == "*") {
                ActionSet::ALL
            } else {
                ActionSet::of(
                    &actions
                        .split(',')
                        .filter_map(Action::parse)
                        .collect::<Vec<_>>(),
                )
            };
            let project = state.db.find_project(repository.project()).await?;
            let allowed = policy::allowed_actions(&state.db, subject, project.as_ref()).await?;
            let granted = requested.intersection(allowed);
            if granted.is_empty() {
                return Ok(None);
            }
            Ok(Some(Grant {
                kind: kind.to_owned(),
                name: name.to_owned(),
                actions: granted.actions().map(|a| a.as_str().to_owned()).collect(),
            }))
        }
        _ => Ok(None),
    }
}
