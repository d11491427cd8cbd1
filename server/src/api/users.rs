//! Users: `/users`, `/users/current`, `/users/{user_id}`.
//!
//! Listing and creating users is for system administrators; a user may read their own profile. Responses
//! are Harbor's `UserResp` and never carry the password hash. Input rules follow Harbor's
//! `validateUserProfile` and `requireValidSecret` (`src/server/v2.0/handler/user.go`).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_api::users::{UserCreationReq, UserResp, UserSearchRespItem};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::{Json, Path, Query};
use super::pagination::Page;
use super::query::{Match, parse_q};
use super::{BASE, Caller};
use crate::app::AppState;
use crate::auth::Subject;
use crate::db::{UserDetail, UserFilter};
use crate::service;

/// Characters Harbor refuses in a real name.
const REALNAME_ILLEGAL: &str = ",~#$%";
/// Harbor's limit on a user's comment (which Berth accepts but does not store).
const COMMENT_MAX: usize = 30;

/// The query of `GET /users` besides the page: Harbor's `q`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
}

/// `GET /users`: one page of users, for system administrators. `q` may filter by `username` or `email`,
/// exactly (`q=username=alice`) or by substring (`q=username=~ali`); other keys are ignored, as Harbor does.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    page: Page,
    query: Query<ListQuery>,
) -> Result<Response, ApiError> {
    caller.sysadmin()?;
    let Query(query) = query;
    let terms = parse_q(query.q.as_deref(), &["username", "email"])?;
    let mut filter = UserFilter::default();
    for (key, value) in &terms {
        match (key.as_str(), value) {
            ("username", Match::Exact(v)) => filter.username = Some(v),
            ("username", Match::Fuzzy(v)) => filter.username_contains = Some(v),
            ("email", Match::Exact(v)) => filter.email = Some(v),
            (_, Match::Exact(v)) => filter.email = Some(v),
            (_, Match::Fuzzy(v)) => filter.email_contains = Some(v),
        }
    }
    let (users, total) = state
        .db
        .list_users(&filter, page.limit(), page.offset())
        .await?;
    let kept: Vec<(&str, String)> = query.q.iter().map(|q| ("q", q.clone())).collect();
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
    let filter = UserFilter {
        username_contains: Some(&name),
        ..UserFilter::default()
    };
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

/// `POST /users`: creates a local user, for system administrators. 201 with the new user's `Location`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Json<UserCreationReq>,
) -> Result<Response, ApiError> {
    caller.sysadmin()?;
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
    let id = service::users::create(&state.db, &user).await?;
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
    Ok(Json(user_resp(user)).into_response())
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
    let id: i64 = user_id.parse().map_err(|_| {
        ApiError::BadRequest(format!("user id must be an integer, not {user_id:?}"))
    })?;
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
    Ok(Json(user_resp(user)).into_response())
}

/// Harbor's `UserResp` for a user. Berth keeps no comments and no external admin roles.
fn user_resp(user: UserDetail) -> UserResp {
    UserResp {
        user_id: user.id,
        username: user.username,
        email: user.email.unwrap_or_default(),
        realname: user.realname,
        comment: String::new(),
        sysadmin_flag: user.sysadmin,
        admin_role_in_auth: false,
        creation_time: user.created_at,
        update_time: user.updated_at,
    }
}

/// Harbor's rules for a new local user: an email address, a real name of 1 to 255 characters without any of
/// `,~#$%` and a comment of at most 30 characters. The user service checks the username and the
/// password policy.
fn validate_new_user(req: &UserCreationReq) -> Result<(), ApiError> {
    let bad = |m: &str| Err(ApiError::BadRequest(m.to_owned()));
    if req.email.is_empty() {
        return bad("email can't be empty");
    }
    if req.email.chars().count() > 255 || !is_email(&req.email) {
        return bad("email with illegal format");
    }
    if !(1..=255).contains(&req.realname.chars().count()) {
        return bad("realname must have 1 to 255 characters");
    }
    if req.realname.chars().any(|c| REALNAME_ILLEGAL.contains(c)) {
        return bad("realname contains illegal characters (any of ,~#$%)");
    }
    if req.comment.chars().count() > COMMENT_MAX {
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
