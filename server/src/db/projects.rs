//! Projects and their members.

use std::sync::Arc;

use super::Db;
use super::list::{self, ListQuery, ListSql, Scope};

/// A project's metadata settings as `(name, value)` pairs, shared from the cache.
pub type Settings = Arc<Vec<(String, String)>>;

/// The value of setting `name` among a project's `settings`.
pub fn setting<'a>(settings: &'a [(String, String)], name: &str) -> Option<&'a str> {
    settings
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Whether setting `name` is on (Harbor's metadata booleans are the strings `true` and `false`).
pub fn setting_on(settings: &[(String, String)], name: &str) -> bool {
    setting(settings, name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// A project: the tenant. Its name is the first component of its repositories' names.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Project {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "super::Flag")]
    pub public: bool,
    pub owner_id: i64,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The registry endpoint of a proxy-cache project; `None` for a hosted project.
    pub registry_id: Option<i64>,
}

impl Project {
    /// When the project was created, in unix seconds (0 if the stored time does not parse).
    pub fn created_secs(&self) -> i64 {
        chrono::DateTime::parse_from_rfc3339(&self.created_at).map_or(0, |t| t.timestamp())
    }
}

/// A project to create.
#[derive(Debug, Clone)]
pub struct NewProject<'a> {
    pub name: &'a str,
    pub owner_id: i64,
    pub public: bool,
    /// Bytes; -1 for unlimited.
    pub storage_limit: i64,
    /// Harbor metadata other than `public`, as `(name, value)`.
    pub settings: &'a [(&'a str, &'a str)],
    /// The registry endpoint of a proxy-cache project.
    pub registry_id: Option<i64>,
    /// A retention policy to store with the project (with its schedule); its `scope.ref` and `id` are filled
    /// in, and the project's `retention_id` metadata names it.
    pub retention_policy: Option<&'a super::retention::NewRetentionPolicy<'a>>,
    /// The project's CVE allowlist, if it starts with one.
    pub cve_allowlist: Option<&'a super::NewCveAllowlist>,
}

/// A project with what the REST API shows about it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProjectDetail {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "super::Flag")]
    pub public: bool,
    pub owner_id: i64,
    pub owner_name: String,
    pub storage_limit: i64,
    pub storage_used: i64,
    pub created_at: String,
    pub updated_at: String,
    pub repo_count: i64,
    /// The registry endpoint of a proxy-cache project.
    pub registry_id: Option<i64>,
}

const PROJECT_DETAIL: &str =
    "SELECT p.id, p.name, p.public, p.owner_id, u.username AS owner_name, p.storage_limit, p.storage_used,
        p.created_at, p.updated_at, p.registry_id,
        (SELECT COUNT(*) FROM repositories r WHERE r.project_id = p.id) AS repo_count
    FROM projects p JOIN users u ON u.id = p.owner_id";

/// Harbor's role id for a project administrator.
pub const ROLE_PROJECT_ADMIN: i64 = 1;

impl Db {
    /// Creates a project owned by `owner_id`, who becomes its project admin, with its metadata settings (and
    /// its retention policy, if given), in one transaction. A taken name is a unique violation; an unknown
    /// registry endpoint a foreign-key violation.
    pub async fn create_project(&self, project: &NewProject<'_>) -> Result<i64, sqlx::Error> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO projects (name, owner_id, public, storage_limit, created_at, updated_at, registry_id)
             VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id",
        )
        .bind(project.name)
        .bind(project.owner_id)
        .bind(project.public)
        .bind(project.storage_limit)
        .bind(&now)
        .bind(project.registry_id)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(policy) = project.retention_policy {
            super::retention::create_policy_in(&mut tx, id, policy, &now)
                .await
                .map_err(|e| match e {
                    super::retention::CreatePolicyError::Db(e) => e,
                    // A new project has no policy yet.
                    other => sqlx::Error::Protocol(other.to_string()),
                })?;
        }
        sqlx::query(
            "INSERT INTO project_members (project_id, entity_type, entity_id, role, created_at, updated_at)
             VALUES ($1, 'u', $2, $3, $4, $4)",
        )
        .bind(id)
        .bind(project.owner_id)
        .bind(ROLE_PROJECT_ADMIN)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        if let Some(allowlist) = project.cve_allowlist {
            Db::replace_cve_allowlist(&mut tx, id, allowlist, &now).await?;
        }
        for (name, value) in project
            .settings
            .iter()
            .filter(|(name, _)| project.retention_policy.is_none() || *name != "retention_id")
        {
            sqlx::query(
                "INSERT INTO project_metadata (project_id, name, value) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(name)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.projects.invalidate(&project.name.to_owned());
        self.forget_standings();
        Ok(id)
    }

    /// The project named `name`. Cached: see [`super::cache`].
    pub async fn find_project(&self, name: &str) -> Result<Option<Project>, sqlx::Error> {
        let key = name.to_owned();
        if let Some(project) = self.projects.get(&key) {
            return Ok(Some(project));
        }
        let generation = self.projects.generation();
        let project: Option<Project> = sqlx::query_as(
            "SELECT id, name, public, owner_id, created_at, registry_id FROM projects WHERE name = $1",
        )
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
        sqlx::query_scalar("SELECT id FROM projects WHERE public = TRUE")
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

impl Db {
    pub async fn find_project_by_id(&self, id: i64) -> Result<Option<Project>, sqlx::Error> {
        sqlx::query_as("SELECT id, name, public, owner_id, created_at, registry_id FROM projects WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    pub async fn project_detail(&self, id: i64) -> Result<Option<ProjectDetail>, sqlx::Error> {
        sqlx::query_as(&format!("{PROJECT_DETAIL} WHERE p.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    /// One page of the projects matching `query` (keys of [`list::PROJECTS`] or [`list::QUOTAS`]), by name
    /// unless sorted, and how many match in all. `visible` limits the list to those ids (`None`: all).
    pub async fn list_projects(
        &self,
        query: &ListQuery,
        visible: Option<&[i64]>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ProjectDetail>, i64), sqlx::Error> {
        let sql = ListSql {
            select: PROJECT_DETAIL,
            count: "SELECT COUNT(*) FROM projects p JOIN users u ON u.id = p.owner_id",
            default_order: "p.name",
            tie_breaker: "p.id",
            key_first: None,
        };
        let scope: Vec<Scope<'_>> = visible
            .map(|ids| Scope::OneOf("p.id", ids))
            .into_iter()
            .collect();
        list::fetch_page(&self.read, &sql, &scope, query, limit, offset).await
    }

    /// The metadata settings (other than `public`) of the projects `ids`, as `(project id, name, value)`.
    pub async fn project_settings(
        &self,
        ids: &[i64],
    ) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT project_id, name, value FROM project_metadata
             WHERE project_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1)) ORDER BY project_id, name",
        )
        .bind(serde_json::Value::from(ids.to_vec()).to_string())
        .fetch_all(&self.read)
        .await
    }

    /// Project `project_id`'s metadata settings (other than `public`) as `(name, value)`, cached for the
    /// pull and push paths.
    pub async fn project_settings_cached(&self, project_id: i64) -> Result<Settings, sqlx::Error> {
        if let Some(settings) = self.project_settings.get(&project_id) {
            return Ok(settings);
        }
        let generation = self.project_settings.generation();
        let settings: Settings = Arc::new(
            self.project_settings(&[project_id])
                .await?
                .into_iter()
                .map(|(_, name, value)| (name, value))
                .collect(),
        );
        self.project_settings
            .insert(project_id, settings.clone(), generation);
        Ok(settings)
    }

    /// Changes a project's public flag (if given) and metadata settings, in one transaction.
    pub async fn update_project(
        &self,
        project: &Project,
        public: Option<bool>,
        settings: &[(&str, &str)],
    ) -> Result<(), sqlx::Error> {
        self.update_project_with(project, public, settings, None)
            .await
    }

    /// [`Db::update_project`], also replacing the project's CVE allowlist (if given), all in one transaction.
    pub async fn update_project_with(
        &self,
        project: &Project,
        public: Option<bool>,
        settings: &[(&str, &str)],
        allowlist: Option<&super::NewCveAllowlist>,
    ) -> Result<(), sqlx::Error> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "UPDATE projects SET public = COALESCE($1, public), updated_at = $2 WHERE id = $3",
        )
        .bind(public)
        .bind(&now)
        .bind(project.id)
        .execute(&mut *tx)
        .await?;
        if let Some(allowlist) = allowlist {
            Db::replace_cve_allowlist(&mut tx, project.id, allowlist, &now).await?;
        }
        for (name, value) in settings {
            sqlx::query(
                "INSERT INTO project_metadata (project_id, name, value) VALUES ($1, $2, $3)
                 ON CONFLICT (project_id, name) DO UPDATE SET value = excluded.value",
            )
            .bind(project.id)
            .bind(name)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.projects.invalidate(&project.name);
        self.project_settings.invalidate(&project.id);
        Ok(())
    }

    /// Deletes an empty project. Returns `false` (and deletes nothing) if it still has repositories.
    pub async fn delete_empty_project(&self, project: &Project) -> Result<bool, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let repositories: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM repositories WHERE project_id = $1")
                .bind(project.id)
                .fetch_one(&mut *tx)
                .await?;
        if repositories > 0 {
            return Ok(false);
        }
        // Its retention policy goes with it (a foreign key); the policy's schedule has none.
        sqlx::query(
            "DELETE FROM job_schedules WHERE vendor_type = $1
             AND vendor_id IN (SELECT id FROM retention_policies WHERE project_id = $2)",
        )
        .bind(super::retention::VENDOR_TYPE)
        .bind(project.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM projects WHERE id = $1")
            .bind(project.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.projects.invalidate(&project.name);
        self.project_settings.invalidate(&project.id);
        Ok(true)
    }

    /// The caller's roles, by project id: the strongest of their direct and group roles in each project
    /// (see [`Db::effective_roles`]).
    pub async fn member_roles(&self, user_id: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        self.effective_roles(user_id).await
    }
}

/// How much a project holds and how often it is pulled, for its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ProjectUsage {
    pub repo_count: i64,
    /// Artifacts listed on their own, summed over the repositories.
    pub artifact_count: i64,
    /// Pulls of the repositories, all time.
    pub pull_count: i64,
}

/// Projects and repositories counted over a set of projects, for `GET /statistics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ProjectCounts {
    pub public_projects: i64,
    pub public_repositories: i64,
    pub private_projects: i64,
    pub private_repositories: i64,
}

impl Db {
    /// The number of members of `project_id` holding each role, as `(role id, count)`: users and groups.
    pub async fn member_counts_by_role(
        &self,
        project_id: i64,
    ) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT role, COUNT(*) FROM project_members WHERE project_id = $1 GROUP BY role ORDER BY role",
        )
        .bind(project_id)
        .fetch_all(&self.read)
        .await
    }

    /// Repositories, artifacts and pulls of `project_id`.
    pub async fn project_usage(&self, project_id: i64) -> Result<ProjectUsage, sqlx::Error> {
        sqlx::query_as(
            "SELECT COUNT(*) AS repo_count, CAST(COALESCE(SUM(r.pull_count), 0) AS BIGINT) AS pull_count,
                CAST(COALESCE(SUM(r.artifact_count), 0) AS BIGINT) AS artifact_count
             FROM repositories r WHERE r.project_id = $1",
        )
        .bind(project_id)
        .fetch_one(&self.read)
        .await
    }

    /// Adds metadata setting `name` to a project. Returns `false` (and changes nothing) if it is already set.
    pub async fn add_project_setting(
        &self,
        project: &Project,
        name: &str,
        value: &str,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let added = sqlx::query(
            "INSERT INTO project_metadata (project_id, name, value) VALUES ($1, $2, $3)
             ON CONFLICT (project_id, name) DO NOTHING",
        )
        .bind(project.id)
        .bind(name)
        .bind(value)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if !added {
            return Ok(false);
        }
        sqlx::query("UPDATE projects SET updated_at = $1 WHERE id = $2")
            .bind(super::now())
            .bind(project.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.projects.invalidate(&project.name);
        self.project_settings.invalidate(&project.id);
        Ok(true)
    }

    /// Removes metadata setting `name` (other than `public`) from a project; nothing happens if it is not set.
    pub async fn delete_project_setting(
        &self,
        project: &Project,
        name: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let deleted =
            sqlx::query("DELETE FROM project_metadata WHERE project_id = $1 AND name = $2")
                .bind(project.id)
                .bind(name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if deleted > 0 {
            sqlx::query("UPDATE projects SET updated_at = $1 WHERE id = $2")
                .bind(super::now())
                .bind(project.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.projects.invalidate(&project.name);
        self.project_settings.invalidate(&project.id);
        Ok(())
    }

    /// Public and private projects and their repositories, counted over `visible` (`None`: all projects).
    pub async fn project_counts(
        &self,
        visible: Option<&[i64]>,
    ) -> Result<ProjectCounts, sqlx::Error> {
        let visible = visible.map(|ids| serde_json::Value::from(ids.to_vec()).to_string());
        sqlx::query_as(
            "SELECT
                CAST(COALESCE(SUM(CASE WHEN p.public = TRUE THEN 1 ELSE 0 END), 0) AS BIGINT) AS public_projects,
                CAST(COALESCE(SUM(CASE WHEN p.public = TRUE THEN p.repos ELSE 0 END), 0) AS BIGINT)
                    AS public_repositories,
                CAST(COALESCE(SUM(CASE WHEN p.public = FALSE THEN 1 ELSE 0 END), 0) AS BIGINT) AS private_projects,
                CAST(COALESCE(SUM(CASE WHEN p.public = FALSE THEN p.repos ELSE 0 END), 0) AS BIGINT)
                    AS private_repositories
             FROM (SELECT p.id, p.public,
                     (SELECT COUNT(*) FROM repositories r WHERE r.project_id = p.id) AS repos
                   FROM projects p
                   WHERE $1 IS NULL OR p.id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))) p",
        )
        .bind(visible)
        .fetch_one(&self.read)
        .await
    }

    /// Bytes stored: every distinct blob and manifest once, whatever shares it. Kept by triggers as blobs and
    /// manifests come and go (migration 0013).
    pub async fn total_storage(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT bytes FROM storage_totals WHERE id = 1")
            .fetch_one(&self.read)
            .await
    }

    /// The projects among `visible` (`None`: all) whose names contain `term`, by name, at most `limit`.
    pub async fn search_projects(
        &self,
        term: &str,
        visible: Option<&[i64]>,
        limit: i64,
    ) -> Result<Vec<ProjectDetail>, sqlx::Error> {
        let visible = visible.map(|ids| serde_json::Value::from(ids.to_vec()).to_string());
        sqlx::query_as(&format!(
            "{PROJECT_DETAIL} WHERE instr(p.name, $1) > 0
                AND ($2 IS NULL OR p.id IN (SELECT CAST(value AS BIGINT) FROM json_each($2)))
             ORDER BY p.name
             LIMIT $3"
        ))
        .bind(term)
        .bind(visible)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }
}

impl Db {
    /// The retention policy of `project_id` (Harbor's `RetentionPolicy` JSON) and its id, if it has one.
    pub async fn retention_policy(
        &self,
        project_id: i64,
    ) -> Result<Option<(i64, String)>, sqlx::Error> {
        sqlx::query_as("SELECT id, policy FROM retention_policies WHERE project_id = $1")
            .bind(project_id)
            .fetch_optional(&self.read)
            .await
    }
}
