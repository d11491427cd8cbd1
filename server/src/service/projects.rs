//! Projects.

use super::ServiceError;
use crate::db::{Db, NewCveAllowlist, NewProject, is_unique_violation};
use crate::oci::name::is_valid_component;

/// Creates a project owned by `owner` with default settings; returns its id.
pub async fn create(db: &Db, name: &str, owner: &str, public: bool) -> Result<i64, ServiceError> {
    create_with(db, name, owner, public, -1, &[], None).await
}

/// Creates a project owned by `owner`; returns its id. Names follow the first component of a repository
/// name: lowercase letters and digits, separated by `.`, `_`, `__` or dashes. `storage_limit` is in bytes,
/// -1 for unlimited; `settings` are Harbor metadata other than `public`; `cve_allowlist` (checked by
/// [`check_cve_allowlist`]) is stored with it.
pub async fn create_with(
    db: &Db,
    name: &str,
    owner: &str,
    public: bool,
    storage_limit: i64,
    settings: &[(&str, &str)],
    cve_allowlist: Option<&NewCveAllowlist>,
) -> Result<i64, ServiceError> {
    create_project(
        db,
        name,
        owner,
        public,
        storage_limit,
        settings,
        None,
        cve_allowlist,
    )
    .await
}

/// Creates a proxy-cache project of registry endpoint `registry_id`, as [`create_with`] does, with Harbor's
/// default retention policy for proxy projects ([`crate::retention::policy::proxy_default`]: keep what was
/// pulled in the last 7 days, daily) named by its `retention_id` metadata and scheduled, all in one
/// transaction. An unknown endpoint is invalid input.
#[expect(
    clippy::too_many_arguments,
    reason = "create_with's arguments and the endpoint"
)]
pub async fn create_proxy_cache(
    db: &Db,
    name: &str,
    owner: &str,
    public: bool,
    storage_limit: i64,
    settings: &[(&str, &str)],
    registry_id: i64,
    cve_allowlist: Option<&NewCveAllowlist>,
) -> Result<i64, ServiceError> {
    create_project(
        db,
        name,
        owner,
        public,
        storage_limit,
        settings,
        Some(registry_id),
        cve_allowlist,
    )
    .await
}

#[expect(
    clippy::too_many_arguments,
    reason = "one private constructor behind the public ones"
)]
async fn create_project(
    db: &Db,
    name: &str,
    owner: &str,
    public: bool,
    storage_limit: i64,
    settings: &[(&str, &str)],
    registry_id: Option<i64>,
    cve_allowlist: Option<&NewCveAllowlist>,
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
    let mut next_run = String::new();
    let proxy_policy = match registry_id {
        Some(_) => Some(crate::retention::to_store(
            &crate::retention::policy::proxy_default(0),
            Some(PROXY_RETENTION_CRON),
            &mut next_run,
            crate::jobs::SCHEDULE_OPERATOR,
        )?),
        None => None,
    };
    let project = NewProject {
        name,
        owner_id: owner.id,
        public,
        storage_limit,
        settings,
        registry_id,
        retention_policy: proxy_policy.as_ref(),
        cve_allowlist,
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

/// The schedule of the proxy default policy ([`crate::retention::policy::proxy_default`]'s cron): daily at
/// midnight UTC, as Harbor's.
const PROXY_RETENTION_CRON: &str = "0 0 0 * * *";

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_foreign_key_violation())
}

/// At most this many CVE ids in an allowlist, each at most [`MAX_CVE_ID`] characters.
pub const MAX_ALLOWLIST_ITEMS: usize = 5_000;
pub const MAX_CVE_ID: usize = 128;

/// Checks a project's CVE allowlist as Harbor does (`src/pkg/allowlist/validator.go`: no empty id, no id
/// twice), within Berth's bounds; returns it as stored (ids trimmed). `project_id` is the allowlist's own
/// (0: the project it is sent for, which is `for_project`; Harbor's wording otherwise).
pub fn check_cve_allowlist(
    project_id: i64,
    for_project: Option<i64>,
    expires_at: Option<i64>,
    ids: &[&str],
) -> Result<NewCveAllowlist, ServiceError> {
    if let Some(expected) = for_project
        && project_id != 0
        && project_id != expected
    {
        return Err(ServiceError::Invalid(format!(
            "project_id in cve_allowlist must be {expected} but it's {project_id}"
        )));
    }
    if ids.len() > MAX_ALLOWLIST_ITEMS {
        return Err(ServiceError::Invalid(format!(
            "a CVE allowlist holds at most {MAX_ALLOWLIST_ITEMS} CVE IDs, not {}",
            ids.len()
        )));
    }
    if let Some(expires) = expires_at.filter(|e| *e < 0) {
        return Err(ServiceError::Invalid(format!(
            "expires_at in cve_allowlist is unix seconds, not {expires}"
        )));
    }
    let mut items: Vec<String> = Vec::with_capacity(ids.len());
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    for id in ids {
        let trimmed = id.trim();
        if trimmed.is_empty() {
            return Err(ServiceError::Invalid(
                "empty or whitespace-only CVE ID in allowlist".to_owned(),
            ));
        }
        if trimmed.chars().count() > MAX_CVE_ID || trimmed.chars().any(char::is_control) {
            return Err(ServiceError::Invalid(format!(
                "invalid CVE ID in allowlist: at most {MAX_CVE_ID} printable characters"
            )));
        }
        if !seen.insert(trimmed) {
            return Err(ServiceError::Invalid(format!(
                "duplicate CVE ID in allowlist: {trimmed}"
            )));
        }
        items.push(trimmed.to_owned());
    }
    items.sort();
    Ok(NewCveAllowlist { expires_at, items })
}
