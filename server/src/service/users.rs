//! Users.

use super::ServiceError;
use crate::auth::password;
use crate::db::{Db, NewUser, is_unique_violation};

/// A user to create.
#[derive(Debug, Clone, Copy)]
pub struct UserSpec<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub email: Option<&'a str>,
    pub realname: &'a str,
    pub sysadmin: bool,
}

/// Harbor's password policy: 8 to 256 characters, with at least one lowercase letter, one uppercase letter
/// and one digit.
pub fn check_password(password: &str) -> Result<(), ServiceError> {
    let strong = (8..=256).contains(&password.chars().count())
        && password.chars().any(char::is_lowercase)
        && password.chars().any(char::is_uppercase)
        && password.chars().any(|c| c.is_ascii_digit());
    if strong {
        Ok(())
    } else {
        Err(ServiceError::Invalid(
            "password must have 8 to 256 characters, with at least one lowercase letter, one uppercase letter \
             and one digit"
                .to_owned(),
        ))
    }
}

/// Harbor's username rule: 1 to 255 characters, no spaces, control characters or any of `:,"~#$%/`.
pub fn check_username(username: &str) -> Result<(), ServiceError> {
    let valid = !username.is_empty()
        && username.len() <= 255
        && !username
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || ":,\"~#$%/".contains(c));
    if valid {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "invalid username {username:?}: 1-255 characters, no spaces or any of :,\"~#$%/"
        )))
    }
}

/// Creates a local user after checking the name and the password policy; returns its id.
pub async fn create(db: &Db, user: &UserSpec<'_>) -> Result<i64, ServiceError> {
    create_with_comment(db, user, "").await
}

/// [`create`], with Harbor's profile comment.
pub async fn create_with_comment(
    db: &Db,
    user: &UserSpec<'_>,
    comment: &str,
) -> Result<i64, ServiceError> {
    let username = user.username;
    check_username(username)?;
    check_password(user.password)?;
    // Robots and users sign in by name, robots first: a user may not take a robot's name.
    if db.robot_by_name(username).await?.is_some() {
        return Err(ServiceError::Conflict(format!(
            "user {username:?} already exists"
        )));
    }
    let hash = password::hash(user.password.to_owned())
        .await
        .map_err(|_| ServiceError::Hash)?;
    let new = NewUser {
        username,
        email: user.email,
        realname: user.realname,
        comment,
        password_hash: &hash,
        sysadmin: user.sysadmin,
    };
    db.create_user(&new).await.map_err(|e| {
        if is_unique_violation(&e) {
            ServiceError::Conflict(format!("user {username:?} already exists"))
        } else {
            e.into()
        }
    })
}

/// Gives user `id` the password `password` after checking the password policy. Returns `false` if there is
/// no such user. The old password stops working at once: the sign-in cache only remembers that a password
/// matched a hash, and the hash changes.
pub async fn set_password(db: &Db, id: i64, password: &str) -> Result<bool, ServiceError> {
    check_password(password)?;
    let hash = password::hash(password.to_owned())
        .await
        .map_err(|_| ServiceError::Hash)?;
    Ok(db.set_user_password(id, &hash).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy_is_harbors() {
        assert!(check_password("Harbor12345").is_ok());
        for weak in ["short1A", "alllowercase1", "ALLUPPER1", "NoDigitsHere"] {
            assert!(check_password(weak).is_err(), "{weak}");
        }
        assert!(
            check_password(&format!("Aa1{}", "x".repeat(254))).is_err(),
            "too long"
        );
    }
}
