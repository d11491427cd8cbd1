//! Project members: who holds which Harbor role in a project. Every query takes the project id, so a member
//! id ("mid") of another project is never found.
//!
//! Members are users (`entity_type` `u`) or user groups (`g`). A user's role in a project is the strongest of
//! their direct role and the roles of every group they belong to ([`Db::effective_role`]): Harbor unions
//! the roles' permissions, and its roles nest, so the strongest one carries the union. That rule lives in
//! [`memberships`] alone, and every permission check (`/v2` and REST) goes through it.
//!
//! Members are not cached: permission checks read them fresh on every request.

use super::Db;
use super::list::{self, ListQuery, ListSql, Scope};

/// A project member as the REST API shows it: a user (`entity_type` `u`) or a user group (`g`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Member {
    pub id: i64,
    pub project_id: i64,
    pub entity_type: String,
    pub entity_id: i64,
    /// The username of a user member, the group name of a group member.
    pub entity_name: String,
    /// Harbor's role id, 1 to 5.
    pub role: i64,
}

const MEMBER_FROM: &str = "FROM project_members m
    LEFT JOIN users u ON m.entity_type = 'u' AND u.id = m.entity_id
    LEFT JOIN user_groups g ON m.entity_type = 'g' AND g.id = m.entity_id";
pub(super) const MEMBER_NAME: &str = "COALESCE(u.username, g.group_name, '')";

/// A common table expression `memberships`: the project memberships of the user whose id is the SQL
/// expression `user` (`$1`, or a subquery), direct and through each of their groups, with each role's `rank`
/// (0 is the strongest: ProjectAdmin, Maintainer, Developer, Guest, LimitedGuest).
pub(super) fn memberships(user: &str) -> String {
    format!(
        "memberships AS (
    SELECT m.project_id, m.role,
           CASE m.role WHEN 1 THEN 0 WHEN 4 THEN 1 WHEN 2 THEN 2 WHEN 3 THEN 3 ELSE 4 END AS rank
    FROM project_members m
    WHERE (m.entity_type = 'u' AND m.entity_id = {user})
       OR (m.entity_type = 'g'
           AND m.entity_id IN (SELECT group_id FROM user_group_members WHERE user_id = {user})))"
    )
}

impl Db {
    /// One page of `project_id`'s members matching `query` (keys of [`list::MEMBERS`]), ordered by name,
    /// and how many match in all.
    pub async fn list_members(
        &self,
        project_id: i64,
        query: &ListQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Member>, i64), sqlx::Error> {
        let select = member_select();
        let count = format!("SELECT COUNT(*) {MEMBER_FROM}");
        let sql = ListSql {
            select: &select,
            count: &count,
            default_order: "entity_name",
            tie_breaker: "m.id",
            key_first: None,
        };
        let scope = [Scope::Is("m.project_id", project_id)];
        list::fetch_page(&self.read, &sql, &scope, query, limit, offset).await
    }

    /// Member `id` of `project_id`, if it belongs to that project.
    pub async fn member(&self, project_id: i64, id: i64) -> Result<Option<Member>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{} WHERE m.project_id = $1 AND m.id = $2",
            member_select()
        ))
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
        self.add_member(project_id, "u", user_id, role).await
    }

    /// Makes user group `group_id` a member of `project_id` with `role`; returns the member id. A group that
    /// is already a member is a unique violation.
    pub async fn add_group_member(
        &self,
        project_id: i64,
        group_id: i64,
        role: i64,
    ) -> Result<i64, sqlx::Error> {
        self.add_member(project_id, "g", group_id, role).await
    }

    async fn add_member(
        &self,
        project_id: i64,
        entity_type: &str,
        entity_id: i64,
        role: i64,
    ) -> Result<i64, sqlx::Error> {
        let id = sqlx::query_scalar(
            "INSERT INTO project_members (project_id, entity_type, entity_id, role, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(project_id)
        .bind(entity_type)
        .bind(entity_id)
        .bind(role)
        .bind(super::now())
        .fetch_one(&self.write)
        .await?;
        self.forget_standings();
        Ok(id)
    }

    /// The role user `user_id` holds in `project_id`: the strongest of their direct role and their groups'
    /// roles, if they have any.
    pub async fn effective_role(
        &self,
        project_id: i64,
        user_id: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(&format!(
            "WITH {} SELECT role FROM memberships WHERE project_id = $2 ORDER BY rank LIMIT 1",
            memberships("$1")
        ))
        .bind(user_id)
        .bind(project_id)
        .fetch_optional(&self.read)
        .await
    }

    /// Every project user `user_id` holds a role in, directly or through a group, with the strongest role
    /// there, by project id.
    pub async fn effective_roles(&self, user_id: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        sqlx::query_as(&format!(
            "WITH {} SELECT project_id, role FROM (
                 SELECT project_id, role,
                        ROW_NUMBER() OVER (PARTITION BY project_id ORDER BY rank) AS n
                 FROM memberships) AS ranked
             WHERE n = 1 ORDER BY project_id",
            memberships("$1")
        ))
        .bind(user_id)
        .fetch_all(&self.read)
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
        self.forget_standings();
        Ok(result.rows_affected() > 0)
    }

    /// Removes member `id` from `project_id`. Returns `false` if there is no such member.
    pub async fn remove_member(&self, project_id: i64, id: i64) -> Result<bool, sqlx::Error> {
        let result = sqlx::query("DELETE FROM project_members WHERE project_id = $1 AND id = $2")
            .bind(project_id)
            .bind(id)
            .execute(&self.write)
            .await?;
        self.forget_standings();
        Ok(result.rows_affected() > 0)
    }
}

/// `SELECT` of a [`Member`], with the name of the user or group it stands for.
fn member_select() -> String {
    format!(
        "SELECT m.id, m.project_id, m.entity_type, m.entity_id, {MEMBER_NAME} AS entity_name, m.role
         {MEMBER_FROM}"
    )
}
