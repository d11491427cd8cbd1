//! Users.

use super::Db;

/// A user as the registry core needs it. `Debug` leaves out the password hash.
#[derive(Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: Option<String>,
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
    pub sysadmin: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// Filters of the user list; unset fields match everyone.
#[derive(Debug, Clone, Default)]
pub struct UserFilter<'a> {
    /// The exact username.
    pub username: Option<&'a str>,
    /// A substring of the username.
    pub username_contains: Option<&'a str>,
    /// The exact email address.
    pub email: Option<&'a str>,
    /// A substring of the email address.
    pub email_contains: Option<&'a str>,
}

const USER_DETAIL: &str =
    "SELECT id, username, email, realname, sysadmin, created_at, updated_at FROM users";

impl Db {
    pub async fn count_users(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.read)
            .await
    }

    /// Creates a user and returns its id. A taken username is a unique violation.
    pub async fn create_user(&self, user: &NewUser<'_>) -> Result<i64, sqlx::Error> {
        let now = super::now();
        sqlx::query_scalar(
            "INSERT INTO users (username, email, realname, password_hash, sysadmin, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(user.username)
        .bind(user.email)
        .bind(user.realname)
        .bind(user.password_hash)
        .bind(user.sysadmin)
        .bind(now)
        .fetch_one(&self.write)
        .await
    }

    pub async fn find_user(&self, username: &str) -> Result<Option<User>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, username, password_hash, sysadmin FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.read)
        .await
    }
}

impl Db {
    /// The user numbered `id`, without its password hash.
    pub async fn user_detail(&self, id: i64) -> Result<Option<UserDetail>, sqlx::Error> {
        sqlx::query_as(&format!("{USER_DETAIL} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    /// The user named `username`, without its password hash.
    pub async fn user_detail_by_name(
        &self,
        username: &str,
    ) -> Result<Option<UserDetail>, sqlx::Error> {
        sqlx::query_as(&format!("{USER_DETAIL} WHERE username = $1"))
            .bind(username)
            .fetch_optional(&self.read)
            .await
    }

    /// One page of users matching `filter`, by username, and how many match in all.
    pub async fn list_users(
        &self,
        filter: &UserFilter<'_>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<UserDetail>, i64), sqlx::Error> {
        let conditions = "WHERE ($1 IS NULL OR username = $1)
              AND ($2 IS NULL OR instr(username, $2) > 0)
              AND ($3 IS NULL OR email = $3)
              AND ($4 IS NULL OR instr(email, $4) > 0)";
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM users {conditions}"))
            .bind(filter.username)
            .bind(filter.username_contains)
            .bind(filter.email)
            .bind(filter.email_contains)
            .fetch_one(&self.read)
            .await?;
        let rows = sqlx::query_as(&format!(
            "{USER_DETAIL} {conditions} ORDER BY username LIMIT $5 OFFSET $6"
        ))
        .bind(filter.username)
        .bind(filter.username_contains)
        .bind(filter.email)
        .bind(filter.email_contains)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        Ok((rows, total))
    }

    /// Whether some user already has the email address `email`. (The schema does not make emails unique,
    /// so this check is what keeps them so.)
    pub async fn email_taken(&self, email: &str) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)")
            .bind(email)
            .fetch_one(&self.read)
            .await
    }
}
