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
    };
    db.create_project(&project).await.map_err(|e| {
        if is_unique_violation(&e) {
            ServiceError::Conflict(format!("project {name:?} already exists"))
        } else {
            e.into()
        }
    })
}
