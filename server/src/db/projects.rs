//! Projects and their members.

use super::Db;

/// A project: the tenant. Its name is the first component of its repositories' names.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub public: bool,
    pub owner_id: i64,
}

/// Harbor's role id for a project administrator.
pub const ROLE_PROJECT_ADMIN: i64 = 1;

impl Db {
    /// Creates a project owned by `owner_id`, who becomes its project admin. A taken name is a unique violation.
    pub async fn create_project(
        &self,
        name: &str,
        owner_id: i64,
        public: bool,
    ) -> Result<i64, sqlx::Error> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO projects (name, owner_id, public, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(name)
        .bind(owner_id)
        .bind(public)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO project_members (project_id, entity_type, entity_id, role) VALUES ($1, 'u', $2, $3)")
            .bind(id)
            .bind(owner_id)
            .bind(ROLE_PROJECT_ADMIN)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.projects.invalidate(&name.to_owned());
        Ok(id)
    }

    /// The project named `name`. Cached: see [`super::cache`].
    pub async fn find_project(&self, name: &str) -> Result<Option<Project>, sqlx::Error> {
        let key = name.to_owned();
        if let Some(project) = self.projects.get(&key) {
            return Ok(Some(project));
        }
        let generation = self.projects.generation();
        let project: Option<Project> =
            sqlx::query_as("SELECT id, name, public, owner_id FROM projects WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.read)
                .await?;
        if let Some(project) = &project {
            self.projects.insert(key, project.clone(), generation);
        }
        Ok(project)
    }

    /// The role `user_id` holds in `project_id` as a direct member, if any.
    pub async fn member_role(
        &self,
        project_id: i64,
        user_id: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT role FROM project_members WHERE project_id = $1 AND entity_type = 'u' AND entity_id = $2",
        )
        .bind(project_id)
        .bind(user_id)
        .fetch_optional(&self.read)
        .await
    }

    /// Ids of the public projects.
    pub async fn public_project_ids(&self) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM projects WHERE public = 1")
            .fetch_all(&self.read)
            .await
    }

    /// Ids of the projects `user_id` is a direct member of.
    pub async fn member_project_ids(&self, user_id: i64) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT project_id FROM project_members WHERE entity_type = 'u' AND entity_id = $1",
        )
        .bind(user_id)
        .fetch_all(&self.read)
        .await
    }
}
