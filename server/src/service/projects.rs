//! Projects.

use super::ServiceError;
use crate::db::{Db, is_unique_violation};
use crate::oci::name::is_valid_component;

/// Creates a project owned by `owner`; returns its id. Names follow the first component of a repository
/// name: lowercase letters and digits, separated by `.`, `_`, `__` or dashes.
pub async fn create(db: &Db, name: &str, owner: &str, public: bool) -> Result<i64, ServiceError> {
    if name.len() > 255 || !is_valid_component(name) {
        return Err(ServiceError::Invalid(format!(
            "invalid project name {name:?}: use lowercase letters and digits, separated by '.', '_', '__' or '-'"
        )));
    }
    let owner = db
        .find_user(owner)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("user {owner:?} does not exist")))?;
    db.create_project(name, owner.id, public)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                ServiceError::Conflict(format!("project {name:?} already exists"))
            } else {
                e.into()
            }
        })
}
