//! Users.

use super::ServiceError;
use crate::auth::password;
use crate::db::{Db, NewUser, is_unique_violation};

/// Passwords must have at least this many characters.
pub const MIN_PASSWORD_LEN: usize = 8;

/// Creates a local user; returns its id.
pub async fn create(
    db: &Db,
    username: &str,
    password: &str,
    email: Option<&str>,
    sysadmin: bool,
) -> Result<i64, ServiceError> {
    let valid_name = !username.is_empty()
        && username.len() <= 255
        && !username
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || ":,\"~#$%/".contains(c));
    if !valid_name {
        return Err(ServiceError::Invalid(format!(
            "invalid username {username:?}: 1-255 characters, no spaces or any of :,\"~#$%/"
        )));
    }
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ServiceError::Invalid(format!(
            "password must have at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    let hash = password::hash(password.to_owned())
        .await
        .map_err(|_| ServiceError::Hash)?;
    let user = NewUser {
        username,
        email,
        realname: "",
        password_hash: &hash,
        sysadmin,
    };
    db.create_user(&user).await.map_err(|e| {
        if is_unique_violation(&e) {
            ServiceError::Conflict(format!("user {username:?} already exists"))
        } else {
            e.into()
        }
    })
}
