//! `GET /service/token`: Docker's token authentication endpoint.
//!
//! <https://distribution.github.io/distribution/spec/auth/token/>
//! Basic credentials are optional (anonymous callers may pull public projects). For each requested scope
//! the token grants the intersection of what was asked and what [`policy::allowed_actions`] allows.
//!
//! Scopes are de-duplicated (a repository named twice gets one grant with the actions of both) and a request
//! may ask for at most [`MAX_SCOPES`] distinct ones, so a token's size is bounded whoever asks for it.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::{ErrorResponse, TokenResponse};
use chrono::{DateTime, SecondsFormat, Utc};

use super::client_address::ClientAddress;
use super::password::SignInError;
use super::token::Grant;
use super::{Action, ActionSet, Credentials, Subject, policy};
use crate::app::AppState;
use crate::events::audit::{self, ClientIp, clip};
use crate::oci::RepositoryName;

/// The most distinct scopes one token request may name.
pub const MAX_SCOPES: usize = 20;

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

/// The distinct scopes of a request's `scope` parameters (each may hold several, separated by spaces), in
/// the order first named; `None` when there are more than [`MAX_SCOPES`].
fn requested_scopes(params: &[(String, String)]) -> Option<Vec<&str>> {
    let mut scopes: Vec<&str> = Vec::new();
    let named = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' '))
        .filter(|s| !s.is_empty());
    for scope in named {
        if scopes.contains(&scope) {
            continue;
        }
        if scopes.len() == MAX_SCOPES {
            return None;
        }
        scopes.push(scope);
    }
    Some(scopes)
}

/// Adds `grant` to `access`, merged into an earlier grant of the same resource if there is one.
fn merge(access: &mut Vec<Grant>, grant: Grant) {
    match access
        .iter_mut()
        .find(|g| g.kind == grant.kind && g.name == grant.name)
    {
        Some(earlier) => {
            for action in grant.actions {
                if !earlier.actions.contains(&action) {
                    earlier.actions.push(action);
                }
            }
            // Keep the registry's order (pull, push, delete) whatever the order asked.
            earlier
                .actions
                .sort_by_key(|a| Action::parse(a).map_or(usize::MAX, |a| a as usize));
        }
        None => access.push(grant),
    }
}

pub async fn issue(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let Some(scopes) = requested_scopes(&params) else {
        return error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("a token request may name at most {MAX_SCOPES} distinct scopes"),
        );
    };
    let subject = match Credentials::from_headers(&headers) {
        Ok(Credentials::Basic { username, password }) => {
            match state
                .passwords
                .check_from(
                    &state.db,
                    &username,
                    password.expose(),
                    ClientAddress::current().0,
                )
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
                Err(SignInError::Busy(busy)) => {
                    let mut response = error(
                        StatusCode::TOO_MANY_REQUESTS,
                        "TOO_MANY_REQUESTS",
                        &busy.to_string(),
                    );
                    response.headers_mut().insert(
                        header::RETRY_AFTER,
                        crate::api::error::retry_after_value(busy.retry_after),
                    );
                    return response;
                }
                Err(SignInError::Directory(e)) => {
                    tracing::error!(error = %e, username = %clip(&username), "token service: the LDAP server failed while checking credentials");
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
        Ok(Credentials::Bearer(_)) => {
            return error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "use Basic credentials or none",
            );
        }
        Err(e) => return error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", &e.to_string()),
    };
    let mut access = Vec::new();
    for scope in scopes {
        match grant(&state, &subject, scope).await {
            Ok(Some(g)) => merge(&mut access, g),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, scope = %clip(scope), "token service: database error while granting scope");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn params(scopes: &[&str]) -> Vec<(String, String)> {
        scopes
            .iter()
            .map(|s| ("scope".to_owned(), (*s).to_owned()))
            .collect()
    }

    #[test]
    fn scopes_are_deduplicated_and_capped() {
        let repeated = params(&["repository:a/b:pull"; 270]);
        assert_eq!(
            requested_scopes(&repeated),
            Some(vec!["repository:a/b:pull"])
        );
        let joined = params(&[
            "repository:a/b:pull repository:a/c:pull",
            "repository:a/b:pull",
        ]);
        assert_eq!(
            requested_scopes(&joined),
            Some(vec!["repository:a/b:pull", "repository:a/c:pull"])
        );
        let names: Vec<String> = (0..=MAX_SCOPES)
            .map(|n| format!("repository:a/r{n}:pull"))
            .collect();
        let many: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(
            requested_scopes(&params(&many[..MAX_SCOPES])).map(|s| s.len()),
            Some(MAX_SCOPES)
        );
        assert_eq!(requested_scopes(&params(&many)), None);
    }

    #[test]
    fn grants_of_one_repository_are_merged() {
        let grant = |actions: &[&str]| Grant {
            kind: "repository".to_owned(),
            name: "a/b".to_owned(),
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
        };
        let mut access = Vec::new();
        merge(&mut access, grant(&["push"]));
        merge(&mut access, grant(&["pull", "push"]));
        assert_eq!(access, vec![grant(&["pull", "push"])]);
    }
}
