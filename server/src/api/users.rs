//! Users: `/users`, `/users/current`, `/users/current/permissions`, `/users/{user_id}` and its `password`
//! and `sysadmin`.
//!
//! Listing, creating and deleting users and granting the admin flag is for system administrators; a user
//! may read and change their own profile and password. Responses are Harbor's `UserResp` and never carry the
//! password hash. Input rules and checks follow Harbor's handler (`src/server/v2.0/handler/user.go`):
//! `validateUserProfile`, `requireValidSecret`, `requireDeletable`, `requireModifiable`.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::oidc::{OidcCliSecretReq, OidcUserInfo};
use berth_api::users::{
    PasswordReq, Permission, UserCreationReq, UserProfile, UserResp, UserSearchRespItem,
    UserSysAdminFlag,
};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::pagination::Page;
use super::query::{Pattern, add, list_query};
use super::query_bool;
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::policy::{self, ProjectAccess};
use crate::auth::throttle::PeerIp;
use crate::auth::{Subject, password};
use crate::db::list;
use crate::db::{UserDetail, is_unique_violation};
use crate::events::audit::{Audit, ClientIp, Operation as Op};
use crate::service;
use crate::service::configurations::AuthMode;

/// The built-in administrator, whom Harbor never deletes.
const BUILTIN_ADMIN_ID: i64 = 1;

/// Characters Harbor refuses in a real name.
const REALNAME_ILLEGAL: &str = ",~#$%";
/// Harbor's limit on a user's comment.
const COMMENT_MAX: usize = 30;

/// The query of `GET /users` besides the page: Harbor's `q` and `sort`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    sort: Option<String>,
}

/// `GET /users`: one page of users, by username unless sorted, for system administrators. `q` and `sort`
/// take the keys of [`list::USERS`], e.g. `q=username=~ali` or `q=creation_time=[2024-01-01~]`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    page: Page,
    query: Query<ListQuery>,
) -> Result<Response, ApiError> {
    caller.sysadmin()?;
    let Query(query) = query;
    let filters = list_query(query.q.as_deref(), query.sort.as_deref(), &list::USERS)?;
    let (users, total) = state
        .db
        .list_users(&filters, page.limit(), page.offset())
        .await?;
    let kept: Vec<(&str, String)> = [("q", &query.q), ("sort", &query.sort)]
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
        .collect();
    let headers = page.headers(total, &format!("{BASE}/users"), &kept);
    let body: Vec<UserResp> = users.into_iter().map(user_resp).collect();
    Ok((headers, Json(body)).into_response())
}

/// Query of `GET /users/search`.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    username: Option<String>,
}

/// `GET /users/search?username=`: users whose name contains the text, for any signed-in user (to pick
/// members), as Harbor's `UserSearchRespItem` (id and name only).
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<SearchQuery>,
    page: Page,
) -> Result<Response, ApiError> {
    if !matches!(caller.signed_in()?, Subject::User { .. }) {
        return Err(ApiError::Forbidden(
            "only users may search users".to_owned(),
        ));
    }
    let name = query
        .username
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::BadRequest("the username parameter is required".to_owned()))?;
    let mut filter = list::ListQuery::default();
    add(
        &mut filter,
        &list::USERS,
        "username",
        Pattern::Fuzzy(name.clone()),
    )?;
    let (users, total) = state
        .db
        .list_users(&filter, page.limit(), page.offset())
        .await?;
    let hits: Vec<UserSearchRespItem> = users
        .into_iter()
        .map(|u| UserSearchRespItem {
            user_id: u.id,
            username: u.username,
        })
        .collect();
    let kept = [("username", name.clone())];
    Ok((
        page.headers(total, &format!("{BASE}/users/search"), &kept),
        Json(hits),
    )
        .into_response())
}

/// `POST /users`: creates a local user (never an administrator), in `db_auth` mode only. System
/// administrators may always; anyone, signed out, may sign themself up while `self_registration` is on
/// (Harbor's `requireCreatable`), at most [`crate::service::sign_up::PER_ADDRESS`] times an hour per client address and
/// [`crate::service::sign_up::IN_ALL`] in all (429 beyond). The same checks apply either way. 201 with the new user's
/// `Location`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    peer: PeerIp,
    body: Json<UserCreationReq>,
) -> Result<Response, ApiError> {
    let config = state.system_config.current();
    let signing_up = matches!(caller.0, Subject::Anonymous) && config.self_registration;
    if !signing_up {
        caller.sysadmin()?;
    }
    if config.auth_mode != AuthMode::Db {
        return Err(ApiError::Forbidden(
            "local users can be created only in db_auth mode; in ldap_auth and oidc_auth users are created when they first sign in".to_owned(),
        ));
    }
    if signing_up && !state.sign_ups.admit(peer.0) {
        tracing::warn!(address = ?peer.0, "self-registration refused: too many sign-ups");
        return Err(ApiError::TooManyRequests {
            message: "too many sign-ups from this address; try again later".to_owned(),
            retry_after: crate::service::sign_up::WINDOW,
        });
    }
    let Json(req) = body;
    validate_new_user(&req)?;
    if state.db.email_taken(&req.email).await? {
        return Err(ApiError::Conflict(format!(
            "email {:?} is already in use",
            req.email
        )));
    }
    let user = service::users::UserSpec {
        username: &req.username,
        password: &req.password,
        email: Some(&req.email),
        realname: &req.realname,
        sysadmin: false,
    };
    let id = service::users::create_with_comment(&state.db, &user, &req.comment).await?;
    if signing_up {
        tracing::info!(username = %req.username, address = ?peer.0, "user signed themself up");
    }
    Audit::new(Op::Create, "user", &req.username)
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    let location = HeaderValue::try_from(format!("{BASE}/users/{id}"))
        .map_err(|e| ApiError::internal("location header", e))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// `GET /users/current`: the signed-in user's profile; 401 when anonymous.
pub async fn current(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let Subject::User { id, .. } = caller.signed_in()? else {
        return Err(ApiError::Unauthorized("sign in first".to_owned()));
    };
    let user = state
        .db
        .user_detail(*id)
        .await?
        .ok_or_else(|| ApiError::NotFound("the signed-in user no longer exists".to_owned()))?;
    let meta = oidc_meta(&state, user.id, true).await?;
    Ok(Json(UserResp {
        oidc_user_meta: meta,
        ..user_resp(user)
    })
    .into_response())
}

/// An OIDC user's `oidc_user_meta`, with their CLI secret when `with_secret` (for the user themself).
async fn oidc_meta(
    state: &AppState,
    user_id: i64,
    with_secret: bool,
) -> Result<Option<OidcUserInfo>, ApiError> {
    let Some(row) = state.db.oidc_user(user_id).await? else {
        return Ok(None);
    };
    let secret = if with_secret {
        service::oidc::open_cli_secret(&state.secrets, &row)
    } else {
        None
    };
    Ok(Some(OidcUserInfo {
        id: row.id,
        user_id: row.user_id,
        secret: secret.map(|s| s.expose().to_owned()).unwrap_or_default(),
        subiss: row.subiss,
        creation_time: row.created_at,
        update_time: row.updated_at,
    }))
}

/// `PUT /users/{user_id}/cli_secret`: sets an OIDC user's CLI secret (the user themself or a system
/// administrator); the old one stops working at once. 400 for a secret that breaks Harbor's rule, 412 outside
/// `oidc_auth` or for a user who does not sign in through OIDC.
pub async fn set_cli_secret(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    user_id: Path<String>,
    body: Json<OidcCliSecretReq>,
) -> Result<StatusCode, ApiError> {
    let Path(user_id) = user_id;
    let id = parse_user_id(&user_id)?;
    require_modifiable(&caller, id)?;
    let Json(req) = body;
    if state.system_config.current().auth_mode != AuthMode::Oidc {
        return Err(ApiError::PreconditionFailed(
            "CLI secrets exist only in oidc_auth mode".to_owned(),
        ));
    }
    let user = state
        .db
        .user_detail(id)
        .await?
        .ok_or_else(|| user_not_found(id))?;
    if !service::oidc::set_cli_secret(&state.db, &state.secrets, id, &req.secret).await? {
        return Err(ApiError::PreconditionFailed(format!(
            "user {:?} is not onboarded through OIDC",
            user.username
        )));
    }
    Audit::new(Op::Update, "user", &user.username)
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    tracing::info!(username = %user.username, "CLI secret replaced");
    Ok(StatusCode::OK)
}

/// `GET /users/{user_id}`: a user's profile, for system administrators and the user themself. Anyone else
/// gets 403 whether or not the user exists, so ids cannot be probed.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    user_id: Path<String>,
) -> Result<Response, ApiError> {
    let subject = caller.signed_in()?;
    let Path(user_id) = user_id;
    let id = parse_user_id(&user_id)?;
    let is_self = matches!(subject, Subject::User { id: own, .. } if *own == id);
    if !subject.is_sysadmin() && !is_self {
        return Err(ApiError::Forbidden(
            "only system administrators may read other users".to_owned(),
        ));
    }
    let user = state
        .db
        .user_detail(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("user {id} not found")))?;
    let meta = oidc_meta(&state, user.id, false).await?;
    Ok(Json(UserResp {
        oidc_user_meta: meta,
        ..user_resp(user)
    })
    .into_response())
}

/// The query of `GET /users/current/permissions`.
#[derive(Debug, Deserialize)]
pub struct PermissionsQuery {
    scope: Option<String>,
    #[serde(default, deserialize_with = "query_bool::optional")]
    relative: Option<bool>,
}

/// `GET /users/current/permissions?scope=&relative=`: what the caller may do, as Harbor lists it. Scope
/// `/project/{id}` gives the project-level permissions (from the caller's role there, public access or robot
/// permissions), `/system` the system-level ones (all for a system administrator, none otherwise); any
/// other scope gives none. Resources are absolute (`/project/1/repository`), or relative to the scope
/// (`repository`, and `.` for the project itself) with `relative=true`.
pub async fn permissions(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PermissionsQuery>,
) -> Result<Response, ApiError> {
    let subject = caller.signed_in()?;
    let scope = query.scope.unwrap_or_default();
    let (base, granted) = if scope == "/system" {
        ("/system".to_owned(), policy::system_permissions(subject))
    } else if let Some(project_id) = scope
        .strip_prefix("/project/")
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
        .and_then(|id| id.parse::<i64>().ok())
    {
        let granted = match state.db.find_project_by_id(project_id).await? {
            Some(project) => {
                let access = ProjectAccess::of(&state.db, subject, &project).await?;
                policy::project_permissions(access)
            }
            None => Vec::new(),
        };
        (format!("/project/{project_id}"), granted)
    } else {
        (String::new(), Vec::new())
    };
    let relative = query.relative.unwrap_or(false);
    let body: Vec<Permission> = granted
        .into_iter()
        .map(|(resource, action)| Permission {
            resource: match (relative, resource) {
                (true, "") => ".".to_owned(),
                (true, r) => r.to_owned(),
                (false, "") => base.clone(),
                (false, r) => format!("{base}/{r}"),
            },
            action: action.to_owned(),
        })
        .collect();
    Ok(Json(body).into_response())
}

/// `PUT /users/{user_id}`: changes a user's email, real name and comment (Harbor's `UserProfile`), for
/// system administrators and the user themself. 409 if another user has the email address.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    user_id: Path<String>,
    body: Json<UserProfile>,
) -> Result<Response, ApiError> {
    let Path(user_id) = user_id;
    let id = parse_user_id(&user_id)?;
    require_modifiable(&caller, id)?;
    let Json(profile) = body;
    validate_profile(&profile.email, &profile.realname, &profile.comment)?;
    if state.db.email_taken_by_other(&profile.email, id).await? {
        return Err(email_conflict(&profile.email));
    }
    let updated = state
        .db
        .update_user_profile(id, &profile.email, &profile.realname, &profile.comment)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                email_conflict(&profile.email)
            } else {
                e.into()
            }
        })?;
    if !updated {
        return Err(user_not_found(id));
    }
    Ok(StatusCode::OK.into_response())
}

/// `DELETE /users/{user_id}`: deletes a user, for system administrators. Nobody may delete themself or the
/// built-in admin (id 1). The user's project and group memberships go with it, and their credentials and
/// browser sessions stop working at the next request.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    user_id: Path<String>,
) -> Result<Response, ApiError> {
    let Path(user_id) = user_id;
    let id = parse_user_id(&user_id)?;
    let subject = caller.sysadmin()?;
    if is_self(subject, id) || id == BUILTIN_ADMIN_ID {
        return Err(ApiError::Forbidden(format!(
            "user with id {id} cannot be deleted"
        )));
    }
    let username = state
        .db
        .delete_user(id)
        .await?
        .ok_or_else(|| user_not_found(id))?;
    Audit::new(Op::Delete, "user", username)
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(StatusCode::OK.into_response())
}

/// `PUT /users/{user_id}/password`: a user changes their own password, giving the current one (403 if it is
/// wrong); a system administrator may set anyone else's without it. The new password must meet Harbor's
/// policy and differ from the current one (400 otherwise). The old password stops working at once, and so do
/// the user's console sessions, except the one the user changed it from.
pub async fn update_password(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientIp,
    session: tower_sessions::Session,
    user_id: Path<String>,
    body: Json<PasswordReq>,
) -> Result<Response, ApiError> {
    let Path(user_id) = user_id;
    let id = parse_user_id(&user_id)?;
    require_modifiable(&caller, id)?;
    let Json(req) = body;
    let user = state
        .db
        .user_by_id(id)
        .await?
        .ok_or_else(|| user_not_found(id))?;
    if user.password_hash.is_none() {
        return Err(ApiError::Forbidden(format!(
            "user {:?} signs in through LDAP or OIDC and has no Berth password to change",
            user.username
        )));
    }
    if is_self(&caller.0, id)
        && state
            .passwords
            .check(&state.db, &user.username, &req.old_password)
            .await?
            .is_none()
    {
        return Err(ApiError::Forbidden(
            "the current password is incorrect".to_owned(),
        ));
    }
    service::users::check_password(&req.new_password)?;
    if let Some(phc) = user.password_hash.clone()
        && password::verify(req.new_password.clone(), phc).await
    {
        return Err(ApiError::BadRequest(
            "the new password is identical to the old password".to_owned(),
        ));
    }
    if !service::users::set_password(&state.db, id, &req.new_password).await? {
        return Err(user_not_found(id));
    }
    if is_self(&caller.0, id)
        && let Some(user) = state.db.user_by_id(id).await?
    {
        crate::auth::session::keep_after_password_change(&session, &user)
            .await
            .map_err(|e| ApiError::internal("keeping the session after a password change", e))?;
    }
    Audit::new(Op::Update, "user", &user.username)
        .by_subject(&caller.0, &client)
        .record(&state.db)
        .await;
    Ok(StatusCode::OK.into_response())
}

/// `PUT /users/{user_id}/sysadmin`: grants or revokes the system administrator flag, for system
/// administrators. An administrator cannot revoke their own flag (so the last one cannot lock everyone out).
pub async fn set_sysadmin(
    State(state): State<AppState>,
    caller: Caller,
    user_id: Path<String>,
    body: Json<UserSysAdminFlag>,
) -> Result<Response, ApiError> {
    let Path(user_id) = user_id;
    let id = parse_user_id(&user_id)?;
    let subject = caller.sysadmin()?;
    let Json(flag) = body;
    if is_self(subject, id) && !flag.sysadmin_flag {
        return Err(ApiError::Forbidden(
            "system administrators cannot revoke their own admin flag".to_owned(),
        ));
    }
    if !state.db.set_user_sysadmin(id, flag.sysadmin_flag).await? {
        return Err(user_not_found(id));
    }
    Ok(StatusCode::OK.into_response())
}

fn parse_user_id(user_id: &str) -> Result<i64, ApiError> {
    user_id
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("user id must be an integer, not {user_id:?}")))
}

/// Whether `subject` is the user numbered `id`.
fn is_self(subject: &Subject, id: i64) -> bool {
    matches!(subject, Subject::User { id: own, .. } if *own == id)
}

/// Harbor's `requireModifiable`: a system administrator may change any user, a user only themself; 401
/// when anonymous, 403 otherwise (whether or not the user exists).
fn require_modifiable(caller: &Caller, id: i64) -> Result<(), ApiError> {
    let subject = caller.signed_in()?;
    if subject.is_sysadmin() || is_self(subject, id) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "user with id {id} can't be updated by you"
        )))
    }
}

fn user_not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("user {id} not found"))
}

fn email_conflict(email: &str) -> ApiError {
    ApiError::Conflict(format!("email {email:?} is already in use"))
}

/// Harbor's `UserResp` for a user; `admin_role_in_auth` when the directory made them an admin at sign-in.
fn user_resp(user: UserDetail) -> UserResp {
    UserResp {
        user_id: user.id,
        username: user.username,
        email: user.email.unwrap_or_default(),
        realname: user.realname,
        comment: user.comment,
        sysadmin_flag: user.sysadmin,
        admin_role_in_auth: user.admin_in_auth,
        oidc_user_meta: None,
        creation_time: user.created_at,
        update_time: user.updated_at,
    }
}

/// Harbor's rules for a new local user: an email address, a real name of 1 to 255 characters without any of
/// `,~#$%` and a comment of at most 30 characters. The user service checks the username and the
/// password policy.
fn validate_new_user(req: &UserCreationReq) -> Result<(), ApiError> {
    validate_profile(&req.email, &req.realname, &req.comment)
}

/// Harbor's `validateUserProfile`, for new users and profile changes alike.
fn validate_profile(email: &str, realname: &str, comment: &str) -> Result<(), ApiError> {
    let bad = |m: &str| Err(ApiError::BadRequest(m.to_owned()));
    if email.is_empty() {
        return bad("email can't be empty");
    }
    if email.chars().count() > 255 || !is_email(email) {
        return bad("email with illegal format");
    }
    if !(1..=255).contains(&realname.chars().count()) {
        return bad("realname must have 1 to 255 characters");
    }
    if realname.chars().any(|c| REALNAME_ILLEGAL.contains(c)) {
        return bad("realname contains illegal characters (any of ,~#$%)");
    }
    if comment.chars().count() > COMMENT_MAX {
        return bad("comment must have at most 30 characters");
    }
    Ok(())
}

/// Harbor's email shape: a local part without spaces or any of `<>()[]\,;:@"`, an `@`, and a domain of
/// dot-separated labels of letters, digits and hyphens ending in a label of at least two letters.
fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && !local
            .chars()
            .any(|c| c.is_whitespace() || "<>()[]\\,;:@\"".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_follow_harbor() {
        for good in [
            "a@b.io",
            "first.last+tag@mail.example.com",
            "x_y@sub-domain.org",
        ] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "", "a", "a@", "@b.io", "a@b", "a@b.c", "a b@c.io", "a@b..io", "a@b.i0", ".a@b.io",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn new_users_follow_harbor() {
        let good = UserCreationReq {
            username: "alice".to_owned(),
            password: "Passw0rdX".to_owned(),
            email: "alice@example.com".to_owned(),
            realname: "Alice A.".to_owned(),
            comment: String::new(),
        };
        assert!(validate_new_user(&good).is_ok());
        let variants = [
            UserCreationReq {
                email: String::new(),
                ..good.clone()
            },
            UserCreationReq {
                realname: String::new(),
                ..good.clone()
            },
            UserCreationReq {
                realname: "a#b".to_owned(),
                ..good.clone()
            },
            UserCreationReq {
                comment: "c".repeat(31),
                ..good.clone()
            },
        ];
        for bad in variants {
            assert!(validate_new_user(&bad).is_err(), "{bad:?}");
        }
    }
}
