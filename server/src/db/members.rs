//! Project members: who holds which Harbor role in a project. Every query takes the project id, so a member
//! id ("mid") of another project is never found.
//!
//! Members are not cached: permission checks read them fresh on every request.

use super::Db;

/// A project member as the REST API shows it. Only user members (`entity_type` `u`) exist so far.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Member {
    pub id: i64,
    pub project_id: i64,
    pub entity_type: String,
    pub entity_id: i64,
    /// The username of a user member.
    pub entity_name: String,
    /// Harbor's role id, 1 to 5.
    pub role: i64,
}

const MEMBER: &str = "SELECT m.id, m.project_id, m.entity_type, m.entity_id,
        COALESCE(u.username, '') AS entity_name, m.role
    FROM project_members m
    LEFT JOIN users u ON m.entity_type = 'u' AND u.id = m.entity_id";

impl Db {
    /// One page of `project_id`'s members whose name contains `name` (all if `None`), ordered by name,
    /// and how many match in all.
    pub async fn list_members(
        &self,
        project_id: i64,
        name: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Member>, i64), sqlx::Error> {
        let conditions = "WHERE m.project_id = $1
              AND ($2 IS NULL OR instr(COALESCE(u.username, ''), $2) > 0)";
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM project_members m
             LEFT JOIN users u ON m.entity_type = 'u' AND u.id = m.entity_id {conditions}"
        ))
        .bind(project_id)
        .bind(name)
        .fetch_one(&self.read)
        .await?;
        let rows = sqlx::query_as(&format!(
            "{MEMBER} {conditions} ORDER BY entity_name, m.id LIMIT $3 OFFSET $4"
        ))
        .bind(project_id)
        .bind(name)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        Ok((rows, total))
    }

    /// Member `id` of `project_id`, if it belongs to that project.
    pub async fn member(&self, project_id: i64, id: i64) -> Result<Option<Member>, sqlx::Error> {
        sqlx::query_as(&format!("{MEMBER} WHERE m.project_id = $1 AND m.id = $2"))
            .bind(project_id)
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    /// Makes user `user_id` a member of `project_id` with `role`; returns the member id. A user who is
    /// already a member is a unique violation.
    pub async fn add_user_member(
        &self,
        project_id: i64,
        user_id: i64,
        role: i64,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO project_members (project_id, entity_type, entity_id, role, created_at, updated_at)
             VALUES ($1, 'u', $2, $3, $4, $4) RETURNING id",
        )
        .bind(project_id)
        .bind(user_id)
        .bind(role)
        .bind(super::now())
        .fetch_one(&self.write)
        .await
    }

    /// Gives member `id` of `project_id` the role `role`. Returns `false` if there is no such member.
    pub async fn set_member_role(
        &self,
        project_id: i64,
        id: i64,
        role: i64,
    ) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "UPDATE project_members SET role = $1, updated_at = $2 WHERE project_id = $3 AND id = $4",
        )
        .bind(role)
        .bind(super::now())
        .bind(project_id)
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Removes member `id` from `project_id`. Returns `false` if there is no such member.
    pub async fn remove_member(&self, project_id: i64, id: i64) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("DELETE FROM project_members WHERE project_id = $1 AND id = $2")
            .bind(project_id)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(result.rows_affected() > 0)
    }
}
