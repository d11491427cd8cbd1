//! Users.
//!
//! A deleted user keeps its row, as in Harbor, marked `deleted`, renamed `name#id` and without a password;
//! every lookup here skips deleted users, so they can neither sign in nor be found.

use super::Db;
use super::list::{self, ListQuery, ListSql, Scope};

/// A user as the registry core needs it. `Debug` leaves out the password hash.
#[derive(Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: Option<String>,
    /// A system admin: by the `sysadmin` flag, or by the directory at the last sign-in (`admin_in_auth`).
    #[sqlx(try_from = "super::Flag")]
    pub sysadmin: bool,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("sysadmin", &self.sysadmin)
            .finish_non_exhaustive()
    }
}

/// A user to create. `password_hash` is an argon2id PHC string (no `Debug`, so it cannot be logged).
#[derive(Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub realname: &'a str,
    /// Harbor's free-text comment (at most 30 characters).
    pub comment: &'a str,
    pub password_hash: &'a str,
    pub sysadmin: bool,
}

/// A user as the REST API shows it: everything but the password hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserDetail {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub realname: String,
    pub comment: String,
    #[sqlx(try_from = "super::Flag")]
    pub sysadmin: bool,
    /// System admin by the directory's say at the last sign-in (Harbor's `admin_role_in_auth`).
    #[sqlx(try_from = "super::Flag")]
    pub admin_in_auth: bool,
    pub created_at: String,
    pub updated_at: String,
}

const USER_DETAIL: &str = "SELECT id, username, email, realname, comment, sysadmin, admin_in_auth, created_at, updated_at FROM users";

impl Db {
    pub async fn count_users(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.read)
            .await
    }

    /// Creates a user and returns its id. A taken username is a unique violation.
    pub async fn create_user(&self, user: &NewUser<'_>) -> Result<i64, sqlx::Error> {
        let now = super::now();
        let id = sqlx::query_scalar(
            "INSERT INTO users (username, email, realname, comment, password_hash, sysadmin, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(user.username)
        .bind(user.email)
        .bind(user.realname)
        .bind(user.comment)
        .bind(user.password_hash)
        .bind(user.sysadmin)
        .bind(now)
        .fetch_one(&self.write)
        .await?;
        self.forget_standings();
        Ok(id)
    }

    pub async fn find_user(&self, username: &str) -> Result<Option<User>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, username, password_hash, (sysadmin OR admin_in_auth) AS sysadmin FROM users WHERE username = $1 AND deleted = FALSE",
        )
        .bind(username)
        .fetch_optional(&self.read)
        .await
    }
}

impl Db {
    /// The user a directory (LDAP, OIDC) vouches for, created on first sign-in: the user named `username`,
    /// else a new one without a local password. A new user keeps `email` only while no other user has it.
    /// Returns the user's id.
    pub async fn onboard_external_user(
        &self,
        username: &str,
        email: Option<&str>,
        realname: &str,
    ) -> Result<i64, sqlx::Error> {
        if let Some(id) =
            sqlx::query_scalar("SELECT id FROM users WHERE username = $1 AND deleted = FALSE")
                .bind(username)
                .fetch_optional(&self.write)
                .await?
        {
            return Ok(id);
        }
        let mut conn = self.write.acquire().await?;
        let id = insert_external_user(&mut conn, username, email, realname, &super::now()).await?;
        self.forget_standings();
        Ok(id)
    }
}

/// Inserts a user without a local password, as LDAP and OIDC sign-ins create them, and returns its id. The
/// email is kept only while no other user has it (emails are unique, and a directory may repeat one).
pub(super) async fn insert_external_user(
    conn: &mut sqlx::AnyConnection,
    username: &str,
    email: Option<&str>,
    realname: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO users (username, email, realname, comment, password_hash, sysadmin, created_at, updated_at)
         VALUES ($1, CASE WHEN EXISTS (SELECT 1 FROM users WHERE email = $2) THEN NULL ELSE $2 END, $3, '', NULL, FALSE, $4, $4)
         RETURNING id",
    )
    .bind(username)
    .bind(email.filter(|e| !e.is_empty()))
    .bind(realname)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
}

impl Db {
    /// The user numbered `id`, without its password hash.
    pub async fn user_detail(&self, id: i64) -> Result<Option<UserDetail>, sqlx::Error> {
        sqlx::query_as(&format!("{USER_DETAIL} WHERE id = $1 AND deleted = FALSE"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    /// The user named `username`, without its password hash.
    pub async fn user_detail_by_name(
        &self,
        username: &str,
    ) -> Result<Option<UserDetail>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{USER_DETAIL} WHERE username = $1 AND deleted = FALSE"
        ))
        .bind(username)
        .fetch_optional(&self.read)
        .await
    }

    /// One page of the (not deleted) users matching `query` (keys of [`list::USERS`]), by username unless
    /// sorted, and how many match in all.
    pub async fn list_users(
        &self,
        query: &ListQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<UserDetail>, i64), sqlx::Error> {
        let sql = ListSql {
            select: USER_DETAIL,
            count: "SELECT COUNT(*) FROM users",
            default_order: "username",
            tie_breaker: "id",
            key_first: None,
        };
        let scope = [Scope::Sql("deleted = FALSE")];
        list::fetch_page(&self.read, &sql, &scope, query, limit, offset).await
    }

    /// Whether some user already has the email address `email`. (The schema does not make emails unique,
    /// so this check is what keeps them so.)
    pub async fn email_taken(&self, email: &str) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar::<_, super::Flag>("SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)")
            .bind(email)
            .fetch_one(&self.read)
            .await
            .map(bool::from)
    }
}

impl Db {
    /// The user numbered `id` with its password hash, unless deleted.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, username, password_hash, (sysadmin OR admin_in_auth) AS sysadmin FROM users WHERE id = $1 AND deleted = FALSE",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await
    }

    /// Whether a user other than `id` has the email address `email`.
    pub async fn email_taken_by_other(&self, email: &str, id: i64) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar::<_, super::Flag>(
            "SELECT EXISTS (SELECT 1 FROM users WHERE email = $1 AND id <> $2)",
        )
        .bind(email)
        .bind(id)
        .fetch_one(&self.read)
        .await
        .map(bool::from)
    }

    /// Sets the profile of user `id` (Harbor's `UserProfile`). Returns `false` if there is no such user; an
    /// email taken by another user is a unique violation.
    pub async fn update_user_profile(
        &self,
        id: i64,
        email: &str,
        realname: &str,
        comment: &str,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE users SET email = $1, realname = $2, comment = $3, updated_at = $4
             WHERE id = $5 AND deleted = FALSE",
        )
        .bind(email)
        .bind(realname)
        .bind(comment)
        .bind(super::now())
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Replaces the password hash of user `id`. Returns `false` if there is no such user.
    pub async fn set_user_password(
        &self,
        id: i64,
        password_hash: &str,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND deleted = FALSE",
        )
        .bind(password_hash)
        .bind(super::now())
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Makes user `id` a system administrator or not. Returns `false` if there is no such user.
    pub async fn set_user_sysadmin(&self, id: i64, sysadmin: bool) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE users SET sysadmin = $1, updated_at = $2 WHERE id = $3 AND deleted = FALSE",
        )
        .bind(sysadmin)
        .bind(super::now())
        .bind(id)
        .execute(&self.write)
        .await?;
        self.forget_standings();
        Ok(result.rows_affected() > 0)
    }

    /// Deletes user `id` as Harbor does: the row is marked deleted, renamed `name#id` (its email too) and
    /// loses its password and admin flag, and the user's project and group memberships are removed, in one
    /// transaction. Returns the deleted user's name, or `None` if there is no such user.
    pub async fn delete_user(&self, id: i64) -> Result<Option<String>, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let username: Option<String> =
            sqlx::query_scalar("SELECT username FROM users WHERE id = $1 AND deleted = FALSE")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(username) = username else {
            return Ok(None);
        };
        sqlx::query(
            "UPDATE users SET deleted = TRUE, username = username || '#' || id,
                 email = CASE WHEN email IS NULL OR email = '' THEN email ELSE email || '#' || id END,
                 password_hash = NULL, sysadmin = FALSE, admin_in_auth = FALSE, updated_at = $1
             WHERE id = $2",
        )
        .bind(super::now())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM project_members WHERE entity_type = 'u' AND entity_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM user_group_members WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // The OIDC link and CLI secret go: the secret stops working, and the identity may onboard again.
        sqlx::query("DELETE FROM oidc_users WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.forget_standings();
        Ok(Some(username))
    }
}
