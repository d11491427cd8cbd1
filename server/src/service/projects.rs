//! Projects.

use super::ServiceError;
use crate::db::{Db, NewProject, is_unique_violation};
use crate::oci::name::is_valid_component;

/// Creates a project owned by `owner` with default settings; returns its id.
pub async fn create(db: &Db, name: &str, owner: &str, public: bool) -> Result<i64, ServiceError> {
    create_with(db, name, owner, public, -1, &[]).await
}

/// Creates a project owned by `owner`; returns its id. Names follow the first component of a repository
/// name: lowercase letters and digits, separated by `.`, `_`, `__` or dashes. `storage_limit` is in bytes,
/// -1 for unlimited; `settings` are Harbor metadata other than `public`.
pub async fn create_with(
    db: &Db,
    name: &str,
    owner: &str,
    public: bool,
    storage_limit: i64,
    settings: &[(&str, &str)],
) -> Result<i64, ServiceError> {
    create_project(db, name, owner, public, storage_limit, settings, None).await
}

/// Harbor's retention policy for a new proxy-cache project: keep what was pulled in the last 7 days, checked
/// daily (`policy.WithNDaysSinceLastPull` in Harbor). `scope.ref` and `id` are filled in when it is stored.
pub const PROXY_RETENTION_POLICY: &str = r#"{"id":0,"algorithm":"or","rules":[{"id":1,"priority":1,"disabled":false,"action":"retain","template":"nDaysSinceLastPull","params":{"nDaysSinceLastPull":7},"tag_selectors":[{"kind":"doublestar","decoration":"matches","pattern":"**"}],"scope_selectors":{"repository":[{"kind":"doublestar","decoration":"repoMatches","pattern":"**"}]}}],"trigger":{"kind":"Schedule","settings":{"cron":"0 0 0 * * *"}},"scope":{"level":"project","ref":0}}"#;

/// Creates a proxy-cache project of registry endpoint `registry_id`, as [`create_with`] does, with Harbor's
/// default retention policy for proxy projects ([`PROXY_RETENTION_POLICY`]) named by its `retention_id`
/// metadata, all in one transaction. An unknown endpoint is invalid input.
pub async fn create_proxy_cache(
    db: &Db,
    name: &str,
    owner: &str,
    public: bool,
    storage_limit: i64,
    settings: &[(&str, &str)],
    registry_id: i64,
) -> Result<i64, ServiceError> {
    create_project(
        db,
        name,
        owner,
        public,
        storage_limit,
        settings,
        Some(registry_id),
    )
    .await
}

async fn create_project(
    db: &Db,
    name: &str,
    owner: &str,
    public: bool,
    storage_limit: i64,
    settings: &[(&str, &str)],
    registry_id: Option<i64>,
) -> Result<i64, ServiceError> {
    let unknown_registry = |id: i64| ServiceError::Invalid(format!("registry {id} not found"));
    if let Some(id) = registry_id
        && db.registry(id).await?.is_none()
    {
        return Err(unknown_registry(id));
    }
    if storage_limit < -1 || storage_limit == 0 {
        return Err(ServiceError::Invalid(format!(
            "storage_limit must be -1 (unlimited) or a positive number of bytes, not {storage_limit}"
        )));
    }
    if name.len() > 255 || !is_valid_component(name) {
        return Err(ServiceError::Invalid(format!(
            "invalid project name {name:?}: use lowercase letters and digits, separated by '.', '_', '__' or '-'"
        )));
    }
    let owner = db
        .find_user(owner)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("user {owner:?} does not exist")))?;
    let project = NewProject {
        name,
        owner_id: owner.id,
        public,
        storage_limit,
        settings,
        registry_id,
        retention_policy: registry_id.map(|_| PROXY_RETENTION_POLICY),
    };
    db.create_project(&project).await.map_err(|e| {
        if is_unique_violation(&e) {
            ServiceError::Conflict(format!("project {name:?} already exists"))
        } else if let (Some(id), true) = (registry_id, is_foreign_key_violation(&e)) {
            // The endpoint was deleted since it was looked up.
            unknown_registry(id)
        } else {
            e.into()
        }
    })
}

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_foreign_key_violation())
}
