//! Robot accounts.

use super::Db;
use super::list::{self, ListQuery, ListSql};

/// A robot account as stored. `permissions` is a JSON array of Harbor's `RobotPermission`. `Debug` leaves
/// out the secret hash.
#[derive(Clone, sqlx::FromRow)]
pub struct RobotRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub level: String,
    pub project_id: Option<i64>,
    pub secret_hash: String,
    #[sqlx(try_from = "super::Flag")]
    pub disabled: bool,
    pub duration: i64,
    pub expires_at: i64,
    pub permissions: String,
    pub creator_ref: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl std::fmt::Debug for RobotRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RobotRow")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("level", &self.level)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// A robot to create.
#[derive(Clone)]
pub struct NewRobot<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub level: &'a str,
    pub project_id: Option<i64>,
    pub secret_hash: &'a str,
    pub disabled: bool,
    pub duration: i64,
    pub expires_at: i64,
    pub permissions: &'a str,
    pub creator_ref: i64,
}

const ROBOT_COLUMNS: &str =
    "id, name, description, level, project_id, secret_hash, disabled, duration, expires_at,
    permissions, creator_ref, created_at, updated_at";

impl Db {
    /// Creates a robot; a taken name is a unique violation.
    pub async fn create_robot(&self, robot: &NewRobot<'_>) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO robots (name, description, level, project_id, secret_hash, disabled, duration, expires_at,
                                 permissions, creator_ref, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        )
        .bind(robot.name)
        .bind(robot.description)
        .bind(robot.level)
        .bind(robot.project_id)
        .bind(robot.secret_hash)
        .bind(robot.disabled)
        .bind(robot.duration)
        .bind(robot.expires_at)
        .bind(robot.permissions)
        .bind(robot.creator_ref)
        .bind(super::now())
        .fetch_one(&self.write)
        .await
    }

    pub async fn robot(&self, id: i64) -> Result<Option<RobotRow>, sqlx::Error> {
        sqlx::query_as(&format!("SELECT {ROBOT_COLUMNS} FROM robots WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    pub async fn robot_by_name(&self, name: &str) -> Result<Option<RobotRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {ROBOT_COLUMNS} FROM robots WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.read)
        .await
    }

    /// One page of the robots matching `query` (keys of [`list::ROBOTS`]), by name unless sorted, and how
    /// many match in all.
    pub async fn list_robots(
        &self,
        query: &ListQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<RobotRow>, i64), sqlx::Error> {
        let select = format!("SELECT {ROBOT_COLUMNS} FROM robots");
        let sql = ListSql {
            select: &select,
            count: "SELECT COUNT(*) FROM robots",
            default_order: "name",
            tie_breaker: "id",
            key_first: None,
        };
        list::fetch_page(&self.read, &sql, &[], query, limit, offset).await
    }

    /// Changes a robot's description, disable flag, expiry and permissions.
    pub async fn update_robot(
        &self,
        id: i64,
        description: &str,
        disabled: bool,
        duration: i64,
        expires_at: i64,
        permissions: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE robots SET description = $1, disabled = $2, duration = $3, expires_at = $4, permissions = $5,
                               updated_at = $6
             WHERE id = $7",
        )
        .bind(description)
        .bind(disabled)
        .bind(duration)
        .bind(expires_at)
        .bind(permissions)
        .bind(super::now())
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn set_robot_secret(&self, id: i64, secret_hash: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE robots SET secret_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(secret_hash)
            .bind(super::now())
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn delete_robot(&self, id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM robots WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
