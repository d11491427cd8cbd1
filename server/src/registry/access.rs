//! Authentication and authorization of `/v2` requests.
//!
//! Every handler calls [`authorize`] with the repository and the action it needs; the decision itself
//! is made by [`ProjectAccess`] (the policy). A bearer token allows what the token service granted
//! intersected with what its subject may do now: the subject (user, robot, or anonymous) and its standing in
//! the project are read again on every request, so a project gone private, a lost membership, a disabled
//! robot or a removed user takes effect at once, not when the token expires.
//!
//! A signed-in caller who may not see a project is answered exactly as if it did not exist (`NAME_UNKNOWN`),
//! on every route, so `/v2` does not tell outsiders which private projects exist.

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::HOST;

use super::error::RegistryError;
use crate::app::AppState;
use crate::auth::password::robot_account;
use crate::auth::policy::ProjectAccess;
use crate::auth::token::Claims;
use crate::auth::{Action, Credentials, Subject, robots};
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
    /// The subject behind the caller. For a token, the user or robot named in it as it is now (looked up
    /// again, so a user removed or a robot disabled since the token was issued counts as anonymous).
    pub async fn subject(&self, state: &AppState) -> Result<Subject, RegistryError> {
        match self {
            Caller::Anonymous => Ok(Subject::Anonymous),
            Caller::User(subject) => Ok(subject.clone()),
            Caller::Token(claims) if claims.sub.is_empty() => Ok(Subject::Anonymous),
            // Users and robots never share a name: a user first (the common case), then a robot by its full
            // stored name, whatever the prefix of new robots is now.
            Caller::Token(claims) => match state.db.find_user(&claims.sub).await? {
                Some(user) => Ok(Subject::from(user)),
                None if robots::is_robot(&state.db, &claims.sub).await? => {
                    Ok(robot_account(&state.db, &claims.sub)
                        .await?
                        .map_or(Subject::Anonymous, |(subject, _)| subject))
                }
                None => Ok(Subject::Anonymous),
            },
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

    /// Whether this is an external scanner adapter pulling `name` for a scan Berth asked for.
    pub fn is_scanner_pull(&self, name: &RepositoryName) -> bool {
        matches!(self, Caller::Token(claims) if claims.allows_scanner_pull(name.as_str()))
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

/// What the caller may do in a project now.
struct Standing {
    /// Whether the project is visible to the caller at all.
    visible: bool,
    /// Whether the caller may perform the action asked.
    allowed: bool,
}

/// The standing in `project` of the subject a token names, as it is now; `None` when the subject no longer
/// exists or may no longer act (a removed user, a disabled, expired or removed robot).
async fn token_subject_access(
    state: &AppState,
    claims: &Claims,
    project: &Project,
) -> Result<Option<ProjectAccess>, RegistryError> {
    let anonymous = ProjectAccess {
        sysadmin: false,
        public: project.public,
        role: None,
        robot_grants: 0,
    };
    if claims.sub.is_empty() {
        return Ok(Some(anonymous));
    }
    // Users and robots never share a name: a user first (one query on the pull path), then a robot by its
    // full stored name, whatever the prefix of new robots is now.
    if let Some(user) = state.db.user_standing(&claims.sub, project.id).await? {
        return Ok(Some(ProjectAccess {
            sysadmin: user.sysadmin,
            role: user.role.and_then(crate::auth::policy::Role::from_id),
            ..anonymous
        }));
    }
    if !robots::is_robot(&state.db, &claims.sub).await? {
        return Ok(None);
    }
    Ok(match robot_account(&state.db, &claims.sub).await? {
        Some((robot, _)) => Some(ProjectAccess::of(&state.db, &robot, project).await?),
        None => None,
    })
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
    let standing = match (caller, project.as_ref()) {
        // Nobody sees a project that does not exist; only a system admin may act on it (and is told it
        // does not exist).
        (_, None) => Standing {
            visible: false,
            allowed: false,
        },
        (Caller::Token(claims), Some(project)) => {
            let Some(now) = token_subject_access(state, claims, project).await? else {
                tracing::info!(subject = %crate::events::audit::clip(&claims.sub), "bearer token refused: its subject no longer exists or may no longer act");
                return Err(RegistryError::Unauthorized {
                    message:
                        "the token's user or robot no longer exists or is disabled; log in again"
                            .to_owned(),
                    challenge: challenge(state, headers, Some(&scope_for(name, action)), false),
                });
            };
            // A token only covers projects that existed when it was issued: a project deleted and created
            // again under the same name is a different project.
            let granted =
                claims.allows(name.as_str(), action) && project.created_secs() <= claims.iat as i64;
            Standing {
                visible: now.can_see(),
                allowed: granted && now.registry_actions().contains(action),
            }
        }
        (Caller::Anonymous, Some(project)) => {
            let access = ProjectAccess::of(&state.db, &Subject::Anonymous, project).await?;
            Standing {
                visible: access.can_see(),
                allowed: access.registry_actions().contains(action),
            }
        }
        (Caller::User(subject), Some(project)) => {
            let access = ProjectAccess::of(&state.db, subject, project).await?;
            Standing {
                visible: access.can_see(),
                allowed: access.registry_actions().contains(action),
            }
        }
    };
    let signed_in = !caller.is_anonymous();
    match project {
        Some(project)
            if standing.allowed && action == Action::Push && project.registry_id.is_some() =>
        {
            Err(RegistryError::Denied(format!(
                "project {} is a proxy cache of a registry endpoint; it cannot be pushed to",
                project.name
            )))
        }
        Some(project) if standing.allowed => Ok(project),
        // A signed-in caller learns nothing about projects it cannot see: the same answer as for none.
        _ if signed_in && !standing.visible => Err(RegistryError::NameUnknown(format!(
            "project {:?} does not exist; create it before pushing to {name}",
            name.project()
        ))),
        _ if !signed_in || matches!(caller, Caller::Token(_)) => {
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
