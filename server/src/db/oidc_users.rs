//! OIDC users (Harbor's `oidc_user`): which provider identity a user is, and their CLI secret, sealed by the
//! caller before it gets here.

use super::{Db, User};

/// A user's OIDC record, sealed values included.
#[derive(Clone, sqlx::FromRow)]
pub struct OidcUserRow {
    pub id: i64,
    pub user_id: i64,
    /// The ID token's `sub` and `iss`, concatenated (Harbor's `subiss`).
    pub subiss: String,
    pub secret_sealed: Vec<u8>,
    pub created_at: String,
    pub updated_at: String,
}

impl std::fmt::Debug for OidcUserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcUserRow")
            .field("user_id", &self.user_id)
            .field("subiss", &self.subiss)
            .finish_non_exhaustive()
    }
}

/// An OIDC user to create.
pub struct NewOidcUser<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub realname: &'a str,
    pub subiss: &'a str,
    pub secret_sealed: &'a [u8],
}

#[derive(sqlx::FromRow)]
struct UserWithSecret {
    #[sqlx(flatten)]
    user: User,
    secret_sealed: Vec<u8>,
}

const OIDC_USER: &str =
    "SELECT id, user_id, subiss, secret_sealed, created_at, updated_at FROM oidc_users";

impl Db {
    /// The (not deleted) user with this provider identity.
    pub async fn user_by_subiss(&self, subiss: &str) -> Result<Option<User>, sqlx::Error> {
        sqlx::query_as(
            "SELECT u.id, u.username, u.password_hash, (u.sysadmin OR u.admin_in_auth) AS sysadmin
             FROM oidc_users o JOIN users u ON u.id = o.user_id
             WHERE o.subiss = $1 AND u.deleted = FALSE",
        )
        .bind(subiss)
        .fetch_optional(&self.write)
        .await
    }

    /// Creates a user without a local password and its OIDC record, in one transaction; returns the user's
    /// id. A taken username (or identity) is a unique violation, and nothing is written.
    pub async fn create_oidc_user(&self, user: &NewOidcUser<'_>) -> Result<i64, sqlx::Error> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        let id = super::users::insert_external_user(
            &mut tx,
            user.username,
            user.email,
            user.realname,
            &now,
        )
        .await?;
        sqlx::query(
            "INSERT INTO oidc_users (user_id, subiss, secret_sealed, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(id)
        .bind(user.subiss)
        .bind(user.secret_sealed)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.forget_standings();
        Ok(id)
    }

    /// The OIDC record of user `user_id`, if they sign in through OIDC.
    pub async fn oidc_user(&self, user_id: i64) -> Result<Option<OidcUserRow>, sqlx::Error> {
        sqlx::query_as(&format!("{OIDC_USER} WHERE user_id = $1"))
            .bind(user_id)
            .fetch_optional(&self.read)
            .await
    }

    /// The (not deleted) user named `username` and their sealed CLI secret, if they sign in through OIDC.
    pub async fn oidc_user_by_name(
        &self,
        username: &str,
    ) -> Result<Option<(User, Vec<u8>)>, sqlx::Error> {
        let row: Option<UserWithSecret> = sqlx::query_as(
            "SELECT u.id, u.username, u.password_hash, (u.sysadmin OR u.admin_in_auth) AS sysadmin,
                    o.secret_sealed
             FROM users u JOIN oidc_users o ON o.user_id = u.id
             WHERE u.username = $1 AND u.deleted = FALSE",
        )
        .bind(username)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|r| (r.user, r.secret_sealed)))
    }

    /// Replaces user `user_id`'s sealed CLI secret. Returns `false` if they have no OIDC record.
    pub async fn set_oidc_secret(&self, user_id: i64, sealed: &[u8]) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE oidc_users SET secret_sealed = $1, updated_at = $2 WHERE user_id = $3",
        )
        .bind(sealed)
        .bind(super::now())
        .bind(user_id)
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() > 0)
    }
}
