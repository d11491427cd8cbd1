//! User groups (Harbor's `user_group`) and who belongs to them.
//!
//! A group is a project member like a user (`project_members.entity_type = 'g'`); its members hold its role.
//! Group membership is written by sign-in (LDAP, OIDC) through [`Db::set_user_groups`], never by the REST API.

use super::Db;

/// Harbor's type number of LDAP groups.
const LDAP: i64 = 1;

/// A user group as the REST API shows it. `group_type`: 1 LDAP, 2 HTTP, 3 OIDC.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserGroupRow {
    pub id: i64,
    pub group_name: String,
    pub group_type: i64,
    /// The DN of an LDAP group; empty for other types.
    pub ldap_group_dn: String,
}

/// A group to create, or the new values of one.
#[derive(Debug, Clone, Copy)]
pub struct NewUserGroup<'a> {
    pub group_name: &'a str,
    pub group_type: i64,
    pub ldap_group_dn: &'a str,
}

/// Filters of the group list; unset fields match every group.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserGroupFilter<'a> {
    /// A substring of the group name.
    pub name_contains: Option<&'a str>,
    /// The exact LDAP group DN.
    pub ldap_group_dn: Option<&'a str>,
    /// The exact group name.
    pub name: Option<&'a str>,
    /// The group type.
    pub group_type: Option<i64>,
}

const GROUP: &str = "SELECT id, group_name, group_type, ldap_group_dn FROM user_groups";
const CONDITIONS: &str = "WHERE ($1 IS NULL OR instr(group_name, $1) > 0)
      AND ($2 IS NULL OR ldap_group_dn = $2)
      AND ($3 IS NULL OR group_name = $3)
      AND ($4 IS NULL OR group_type = $4)";

impl Db {
    /// One page of groups matching `filter`, by name, and how many match in all.
    pub async fn list_user_groups(
        &self,
        filter: &UserGroupFilter<'_>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<UserGroupRow>, i64), sqlx::Error> {
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM user_groups {CONDITIONS}"))
                .bind(filter.name_contains)
                .bind(filter.ldap_group_dn)
                .bind(filter.name)
                .bind(filter.group_type)
                .fetch_one(&self.read)
                .await?;
        let rows = sqlx::query_as(&format!(
            "{GROUP} {CONDITIONS} ORDER BY group_name, id LIMIT $5 OFFSET $6"
        ))
        .bind(filter.name_contains)
        .bind(filter.ldap_group_dn)
        .bind(filter.name)
        .bind(filter.group_type)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.read)
        .await?;
        Ok((rows, total))
    }

    /// Group `id`, if it exists.
    pub async fn user_group(&self, id: i64) -> Result<Option<UserGroupRow>, sqlx::Error> {
        sqlx::query_as(&format!("{GROUP} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    /// Creates a group and returns its id. A name taken within the type, or a DN taken by another LDAP group,
    /// is a unique violation.
    pub async fn create_user_group(&self, group: &NewUserGroup<'_>) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO user_groups (group_name, group_type, ldap_group_dn, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(group.group_name)
        .bind(group.group_type)
        .bind(group.ldap_group_dn)
        .bind(super::now())
        .fetch_one(&self.write)
        .await
    }

    /// Renames group `id` to `group_name`. Returns `false` if there is no such group; a taken name is a
    /// unique violation.
    pub async fn rename_user_group(&self, id: i64, group_name: &str) -> Result<bool, sqlx::Error> {
        let result =
            sqlx::query("UPDATE user_groups SET group_name = $1, updated_at = $2 WHERE id = $3")
                .bind(group_name)
                .bind(super::now())
                .bind(id)
                .execute(&self.write)
                .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Deletes group `id`, its project memberships and its members' membership of it, in one transaction.
    /// Returns `false` if there is no such group.
    pub async fn delete_user_group(&self, id: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM project_members WHERE entity_type = 'g' AND entity_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM user_group_members WHERE group_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query("DELETE FROM user_groups WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        tx.commit().await?;
        self.forget_standings();
        Ok(deleted)
    }

    /// Makes `group_ids` exactly the groups user `user_id` belongs to (as sign-in learns them from LDAP or
    /// OIDC). Ids of groups that do not exist are a foreign-key violation, and nothing changes.
    pub async fn set_user_groups(
        &self,
        user_id: i64,
        group_ids: &[i64],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM user_group_members WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for group_id in group_ids {
            sqlx::query(
                "INSERT INTO user_group_members (user_id, group_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.forget_standings();
        Ok(())
    }

    /// Records what a sign-in through LDAP or OIDC learnt about user `user_id`, in one transaction: `groups`
    /// (all of type `group_type`) become exactly the groups the user belongs to, each created on first sight,
    /// and `admin` becomes the user's `admin_in_auth`. LDAP groups are found by DN, case-insensitively; a new
    /// group whose name another group of the type already has is named by its DN instead. OIDC groups are found
    /// by name. Returns the ids of the user's groups.
    pub async fn sync_external_groups(
        &self,
        user_id: i64,
        group_type: i64,
        groups: &[NewUserGroup<'_>],
        admin: bool,
    ) -> Result<Vec<i64>, sqlx::Error> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        let mut ids = Vec::with_capacity(groups.len());
        for group in groups {
            let id = ensure_group(&mut tx, group_type, group, &now).await?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        sqlx::query("DELETE FROM user_group_members WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for id in &ids {
            sqlx::query("INSERT INTO user_group_members (user_id, group_id) VALUES ($1, $2)")
                .bind(user_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE users SET admin_in_auth = $1 WHERE id = $2")
            .bind(admin)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.forget_standings();
        Ok(ids)
    }

    /// The group of type `group_type` that `group` describes (an LDAP group by DN), created if missing, as
    /// sign-in creates them. Returns its id.
    pub async fn ensure_external_group(
        &self,
        group_type: i64,
        group: &NewUserGroup<'_>,
    ) -> Result<i64, sqlx::Error> {
        let mut tx = self.write.begin().await?;
        let id = ensure_group(&mut tx, group_type, group, &super::now()).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The ids of the groups user `user_id` belongs to, in order.
    pub async fn user_group_ids(&self, user_id: i64) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT group_id FROM user_group_members WHERE user_id = $1 ORDER BY group_id",
        )
        .bind(user_id)
        .fetch_all(&self.read)
        .await
    }
}

/// Finds or creates a group for [`Db::sync_external_groups`] and [`Db::ensure_external_group`]: LDAP groups by
/// DN, case-insensitively, others by name; a new LDAP group whose name is taken is named by its DN.
async fn ensure_group(
    tx: &mut sqlx::AnyConnection,
    group_type: i64,
    group: &NewUserGroup<'_>,
    now: &str,
) -> Result<i64, sqlx::Error> {
    let existing: Option<i64> = if group_type == LDAP {
        sqlx::query_scalar(
            "SELECT id FROM user_groups WHERE group_type = 1 AND lower(ldap_group_dn) = lower($1)",
        )
        .bind(group.ldap_group_dn)
        .fetch_optional(&mut *tx)
        .await?
    } else {
        sqlx::query_scalar("SELECT id FROM user_groups WHERE group_type = $1 AND group_name = $2")
            .bind(group_type)
            .bind(group.group_name)
            .fetch_optional(&mut *tx)
            .await?
    };
    if let Some(id) = existing {
        return Ok(id);
    }
    let name_taken: bool = sqlx::query_scalar::<_, super::Flag>(
        "SELECT EXISTS (SELECT 1 FROM user_groups WHERE group_type = $1 AND group_name = $2)",
    )
    .bind(group_type)
    .bind(group.group_name)
    .fetch_one(&mut *tx)
    .await?
    .0;
    let name = if name_taken && group_type == LDAP {
        group.ldap_group_dn
    } else {
        group.group_name
    };
    sqlx::query_scalar(
        "INSERT INTO user_groups (group_name, group_type, ldap_group_dn, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(name)
    .bind(group_type)
    .bind(if group_type == LDAP {
        group.ldap_group_dn
    } else {
        ""
    })
    .bind(now)
    .fetch_one(&mut *tx)
    .await
}
