//! What the subject of a bearer token may do now. The token service granted scopes when it issued the token;
//! every `/v2` request that presents it reads the subject again, so a removed user, a lost membership or a
//! project gone private takes effect at once. This is on the warm pull path, so it is one query, and its
//! answer is cached (`Db::standings`, the rule of `cache.rs`): every `Db` method that writes users, project
//! members or group memberships calls [`Db::forget_standings`] once its write has committed, so this node
//! sees a change on the next request; another node sharing the database sees it within the cache's TTL.

use super::Db;
use super::members::memberships;

/// A user as they stand in one project now.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserStanding {
    pub id: i64,
    pub username: String,
    /// By the `sysadmin` flag, or by the directory at the last sign-in.
    #[sqlx(try_from = "super::Flag")]
    pub sysadmin: bool,
    /// The strongest role the user holds in the project, directly or through a group.
    pub role: Option<i64>,
}

impl Db {
    /// The user named `username` (unless deleted) and their role in project `project_id`.
    pub async fn user_standing(
        &self,
        username: &str,
        project_id: i64,
    ) -> Result<Option<UserStanding>, sqlx::Error> {
        let key = (username.to_owned(), project_id);
        if let Some(standing) = self.standings.get(&key) {
            return Ok(standing);
        }
        let generation = self.standings.generation();
        let standing: Option<UserStanding> = sqlx::query_as(&format!(
            "WITH member AS (
                 SELECT id, username, (sysadmin OR admin_in_auth) AS sysadmin
                 FROM users WHERE username = $1 AND deleted = FALSE),
             {}
             SELECT member.id, member.username, member.sysadmin,
                    (SELECT role FROM memberships WHERE project_id = $2 ORDER BY rank LIMIT 1) AS role
             FROM member",
            memberships("(SELECT id FROM member)")
        ))
        .bind(username)
        .bind(project_id)
        .fetch_optional(&self.read)
        .await?;
        self.standings.insert(key, standing.clone(), generation);
        Ok(standing)
    }

    /// Forgets every cached standing. Call after a write to users, project members or group memberships has
    /// committed.
    pub(super) fn forget_standings(&self) {
        self.standings.invalidate_where(|_| true);
    }
}
