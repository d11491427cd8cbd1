//! Users.

use super::Db;

/// A user as the registry core needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: Option<String>,
    pub sysadmin: bool,
}

/// A user to create. `password_hash` is an argon2id PHC string.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub realname: &'a str,
    pub password_hash: &'a str,
    pub sysadmin: bool,
}

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
