//! Authentication and authorization of `/v2` requests.
//!
//! Every handler calls [`authorize`] with the repository and the action it needs; the decision itself
//! is made by [`crate::auth::policy::allowed_actions`] (or, for bearer tokens, by what the token
//! service granted, which came from the same policy).

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::HOST;

use super::error::RegistryError;
use crate::app::AppState;
use crate::auth::token::Claims;
use crate::auth::{Action, Credentials, Subject, policy};
use crate::db::Project;
use crate::oci::RepositoryName;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub enum Caller {
    Anonymous,
    User(Subject),
    Token(Arc<Claims>),
}

impl Caller {
    /// The subject behind the caller. For a token, the user named in it (looked up again, so a user
    /// removed since the token was issued loses access).
    pub async fn subject(&self, state: &AppState) -> Result<Subject, RegistryError> {
        match self {
            Caller::Anonymous => Ok(Subject::Anonymous),
            Caller::User(subject) => Ok(subject.clone()),
            Caller::Token(claims) if claims.sub.is_empty() => Ok(Subject::Anonymous),
            Caller::Token(claims) => Ok(state
                .db
                .find_user(&claims.sub)
                .await?
                .map_or(Subject::Anonymous, Subject::from)),
        }
    }

    /// The name the caller acts under, for the audit log: a user's or robot's name, a token's subject,
    /// "" for anonymous.
    pub fn username(&self) -> &str {
        match self {
            Caller::Anonymous => "",
            Caller::User(subject) => subject.name(),
            Caller::Token(claims) => &claims.sub,
        }
    }

    fn is_anonymous(&self) -> bool {
        match self {
            Caller::Anonymous => true,
            Caller::User(_) => false,
            Caller::Token(claims) => claims.sub.is_empty(),
        }
    }
}

/// The base URL clients reach Berth at: the configured external URL, else the request's own host.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = state.config.external_url() {
        return url.to_owned();
    }
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['"', ' ', '/']))
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// The `WWW-Authenticate` challenge sending clients to the token service (Docker token authentication).
pub fn challenge(
    state: &AppState,
    headers: &HeaderMap,
    scope: Option<&str>,
    insufficient: bool,
) -> String {
    let mut value = format!(
        "Bearer realm=\"{}/service/token\",service=\"{}\"",
        base_url(state, headers),
        state.tokens.service()
    );
    if let Some(scope) = scope {
        value.push_str(&format!(",scope=\"{scope}\""));
    }
    if insufficient {
        value.push_str(",error=\"insufficient_scope\"");
    }
    value
}

/// The scope a client must ask for to perform `action` on `name`.
pub fn scope_for(name: &RepositoryName, action: Action) -> String {
    let actions = match action {
        Action::Pull => "pull",
        Action::Push => "pull,push",
        Action::Delete => "delete",
    };
    format!("repository:{name}:{actions}")
}

/// Identifies the caller from the `Authorization` header. Wrong credentials are a 401.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, RegistryError> {
    let unauthorized = |message: &str| RegistryError::Unauthorized {
        message: message.to_owned(),
        challenge: challenge(state, headers, None, false),
    };
    match Credentials::from_headers(headers) {
        Err(e) => Err(unauthorized(&e.to_string())),
        Ok(Credentials::Anonymous) => Ok(Caller::Anonymous),
        Ok(Credentials::Bearer(token)) => state
            .tokens
            .verify(token.expose())
            .map(Caller::Token)
            .ok_or_else(|| unauthorized("the bearer token is invalid or expired; log in again")),
        Ok(Credentials::Basic { username, password }) => {
            match state
                .passwords
                .check(&state.db, &username, password.expose())
                .await?
            {
                Some(subject) => Ok(Caller::User(subject)),
                None => Err(unauthorized("invalid username or password")),
            }
        }
    }
}

/// Authenticates the request and checks that it may perform `action` on repository `name`.
/// Returns the repository's project.
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    name: &RepositoryName,
    action: Action,
) -> Result<Project, RegistryError> {
    let caller = authenticate(state, headers).await?;
    authorize_caller(state, headers, &caller, name, action).await
}

/// [`authorize`], also returning the caller (for the audit log).
pub async fn authorize_as(
    state: &AppState,
    headers: &HeaderMap,
    name: &RepositoryName,
    action: Action,
) -> Result<(Project, Caller), RegistryError> {
    let caller = authenticate(state, headers).await?;
    let project = authorize_caller(state, headers, &caller, name, action).await?;
    Ok((project, caller))
}

/// [`authorize`] for an already authenticated caller.
pub async fn authorize_caller(
    state: &AppState,
    headers: &HeaderMap,
    caller: &Caller,
    name: &RepositoryName,
    action: Action,
) -> Result<Project, RegistryError> {
    authorize_with_scopes(state, headers, caller, name, action, &[]).await
}

/// [`authorize_caller`], also naming `extra_scopes` in a 401 challenge for requests that will need them
/// (a cross-repository mount needs `pull` on its source), so the client's next token covers them all.
pub async fn authorize_with_scopes(
    state: &AppState,
    headers: &HeaderMap,
    caller: &Caller,
    name: &RepositoryName,
    action: Action,
    extra_scopes: &[String],
) -> Result<Project, RegistryError> {
    let project = state.db.find_project(name.project()).await?;
    let allowed = match caller {
        // A token only covers projects that existed when it was issued: a project deleted and created again
        // under the same name is a different project.
        Caller::Token(claims) => {
            claims.allows(name.as_str(), action)
                && project
                    .as_ref()
                    .is_none_or(|p| p.created_secs() <= claims.iat as i64)
        }
        Caller::Anonymous => {
            policy::allowed_actions(&state.db, &Subject::Anonymous, project.as_ref())
                .await?
                .contains(action)
        }
        Caller::User(subject) => policy::allowed_actions(&state.db, subject, project.as_ref())
            .await?
            .contains(action),
    };
    match project {
        None if !caller.is_anonymous() => Err(RegistryError::NameUnknown(format!(
            "project {:?} does not exist; create it before pushing to {name}",
            name.project()
        ))),
        Some(project) if allowed && action == Action::Push && project.registry_id.is_some() => {
            Err(RegistryError::Denied(format!(
                "project {} is a proxy cache of a registry endpoint; it cannot be pushed to",
                project.name
            )))
        }
        Some(project) if allowed => Ok(project),
        _ if caller.is_anonymous() || matches!(caller, Caller::Token(_)) => {
            let mut scopes = vec![scope_for(name, action)];
            scopes.extend_from_slice(extra_scopes);
            Err(RegistryError::Unauthorized {
                message: format!("authentication required to {} {name}", action.as_str()),
                challenge: challenge(
                    state,
                    headers,
                    Some(&scopes.join(" ")),
                    matches!(caller, Caller::Token(_)),
                ),
            })
        }
        _ => Err(RegistryError::Denied(format!(
            "requested access to {name} is denied: {} not permitted",
            action.as_str()
        ))),
    }
}
