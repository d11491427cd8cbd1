//! OIDC users: what a provider sign-in does in Berth (find the user by identity, or onboard them), and their
//! CLI secrets.
//!
//! - A user is their provider identity, `sub` and `iss` (Harbor's `subiss`), not their name: a renamed account
//!   at the provider stays the same Berth user.
//! - At each sign-in their groups (from the groups claim) become OIDC user groups (type 3), created on demand,
//!   and the admin group sets `admin_in_auth`.
//! - A new user is created at once when `oidc_auto_onboard` is on and the provider gave a username that is
//!   free; otherwise they choose a username first.
//! - The CLI secret is what `docker login` takes instead of a password. It is generated at onboarding, kept
//!   sealed, shown only to its user, and lives until replaced: it does not expire with the ID token (unlike
//!   Harbor's), but it stops working once the user is removed.

use berth_api::usergroups::OIDC_GROUP;
use rand::Rng as _;

use super::ServiceError;
use super::users::check_username;
use crate::auth::oidc::OidcIdentity;
use crate::crypto::SecretBox;
use crate::db::{Db, NewOidcUser, NewUserGroup, OidcUserRow, is_unique_violation};
use crate::secret::Secret;

/// Characters of generated CLI secrets.
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
/// Length of generated CLI secrets.
const SECRET_LEN: usize = 32;

/// What a provider sign-in leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// The user (found by identity, or just onboarded).
    User(i64),
    /// A new user who must choose a username; `suggestion` is the provider's, if any.
    ChooseUsername { suggestion: String },
}

/// Harbor's `subiss`: the ID token's `sub` followed by its `iss`.
pub fn subiss(identity: &OidcIdentity) -> String {
    format!("{}{}", identity.subject, identity.issuer)
}

/// Finds the Berth user for `identity` and records their groups, or onboards them when `auto_onboard` allows.
pub async fn sign_in(
    db: &Db,
    secrets: &SecretBox,
    identity: &OidcIdentity,
    auto_onboard: bool,
) -> Result<SignIn, ServiceError> {
    if let Some(user) = db.user_by_subiss(&subiss(identity)).await? {
        record_groups(db, user.id, identity).await?;
        return Ok(SignIn::User(user.id));
    }
    let suggestion = identity.username.clone().unwrap_or_default();
    if auto_onboard && !suggestion.is_empty() {
        match onboard(db, secrets, identity, &suggestion).await {
            Ok(id) => return Ok(SignIn::User(id)),
            // Taken, or not a valid Berth username: the user picks another.
            Err(ServiceError::Conflict(_) | ServiceError::Invalid(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(SignIn::ChooseUsername { suggestion })
}

/// Creates the Berth user `username` for `identity`, with a fresh CLI secret and their groups; returns the
/// user's id. 409 if the name is taken.
pub async fn onboard(
    db: &Db,
    secrets: &SecretBox,
    identity: &OidcIdentity,
    username: &str,
) -> Result<i64, ServiceError> {
    check_username(username)?;
    let sealed = secrets
        .seal(&generate_cli_secret())
        .map_err(|e| ServiceError::Invalid(format!("sealing the CLI secret: {e}")))?;
    let subiss = subiss(identity);
    let new = NewOidcUser {
        username,
        email: identity.email.as_deref(),
        realname: identity.display_name.as_deref().unwrap_or(username),
        subiss: &subiss,
        secret_sealed: &sealed,
    };
    let id = db.create_oidc_user(&new).await.map_err(|e| {
        if is_unique_violation(&e) {
            ServiceError::Conflict(format!("the username {username:?} is taken"))
        } else {
            e.into()
        }
    })?;
    record_groups(db, id, identity).await?;
    tracing::info!(username, issuer = %identity.issuer, groups = identity.groups.len(), "OIDC user onboarded");
    Ok(id)
}

async fn record_groups(db: &Db, user_id: i64, identity: &OidcIdentity) -> Result<(), sqlx::Error> {
    let groups: Vec<NewUserGroup<'_>> = identity
        .groups
        .iter()
        .map(|name| NewUserGroup {
            group_name: name,
            group_type: OIDC_GROUP,
            ldap_group_dn: "",
        })
        .collect();
    db.sync_external_groups(user_id, OIDC_GROUP, &groups, identity.is_admin)
        .await?;
    Ok(())
}

/// A random CLI secret that meets [`check_cli_secret`].
pub fn generate_cli_secret() -> String {
    let mut rng = rand::rngs::OsRng;
    loop {
        let secret: String = (0..SECRET_LEN)
            .map(|_| char::from(SECRET_ALPHABET[rng.gen_range(0..SECRET_ALPHABET.len())]))
            .collect();
        if check_cli_secret(&secret).is_ok() {
            return secret;
        }
    }
}

/// Harbor's rule for CLI secrets (`validateCliSecret`): 8 to 128 characters, with at least one lowercase
/// letter, one uppercase letter and one digit.
pub fn check_cli_secret(secret: &str) -> Result<(), ServiceError> {
    let strong = (8..=128).contains(&secret.chars().count())
        && secret.chars().any(|c| c.is_ascii_lowercase())
        && secret.chars().any(|c| c.is_ascii_uppercase())
        && secret.chars().any(|c| c.is_ascii_digit());
    if strong {
        Ok(())
    } else {
        Err(ServiceError::Invalid(
            "the CLI secret must have 8 to 128 characters, with at least one lowercase letter, one uppercase \
             letter and one digit"
                .to_owned(),
        ))
    }
}

/// Replaces user `user_id`'s CLI secret with `secret`; the old one stops working at once. Returns `false` if
/// the user does not sign in through OIDC.
pub async fn set_cli_secret(
    db: &Db,
    secrets: &SecretBox,
    user_id: i64,
    secret: &str,
) -> Result<bool, ServiceError> {
    check_cli_secret(secret)?;
    let sealed = secrets
        .seal(secret)
        .map_err(|e| ServiceError::Invalid(format!("sealing the CLI secret: {e}")))?;
    Ok(db.set_oidc_secret(user_id, &sealed).await?)
}

/// An OIDC user's CLI secret, opened; `None` (logged) when it does not open, so the user must set a new one.
pub fn open_cli_secret(secrets: &SecretBox, row: &OidcUserRow) -> Option<Secret> {
    match secrets.open(&row.secret_sealed) {
        Ok(secret) => Some(secret),
        Err(e) => {
            tracing::error!(user_id = row.user_id, error = %e, "an OIDC user's CLI secret does not open (secret_key changed?); they must set a new one");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_long_random_and_valid() {
        let a = generate_cli_secret();
        let b = generate_cli_secret();
        assert_ne!(a, b);
        assert_eq!(a.len(), SECRET_LEN);
        assert!(check_cli_secret(&a).is_ok());
    }

    #[test]
    fn cli_secret_rule_is_harbors() {
        assert!(check_cli_secret("Harbor12345").is_ok());
        for weak in ["Short1", "alllowercase1", "ALLUPPER1", "NoDigitsHere"] {
            assert!(check_cli_secret(weak).is_err(), "{weak}");
        }
        assert!(check_cli_secret(&format!("Aa1{}", "x".repeat(126))).is_err());
        assert!(check_cli_secret(&format!("Aa1{}", "x".repeat(125))).is_ok());
    }
}
