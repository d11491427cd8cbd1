//! Robot accounts: names, expiry, secrets, and the rule that a robot never holds more than its creator.
//!
//! A new robot's name is `robot_name_prefix` + (`project+` for a project robot) + its name, and its default
//! lifetime `robot_token_duration` days (both from the system configuration). A project robot holds
//! permissions in its one project; a system robot (system administrators make them) may hold Harbor's
//! system-level permissions (`kind: system`, namespace `/`, see [`ROBOT_SYSTEM_POLICIES`]) and project
//! permissions in any number of named projects or in all (`*`).

use berth_api::robots::{RobotCreate, RobotPermission};

use super::ServiceError;
use super::configurations::SystemConfig;
use super::users::check_password;
use crate::auth::policy::{Operation, ProjectAccess, ROBOT_SYSTEM_POLICIES, Resource};
use crate::auth::{Subject, password, robots};
use crate::db::{Db, NewRobot, Project, RobotRow, is_unique_violation};
use crate::oci::name::is_valid_component;

/// At most this many permission entries (namespaces) per robot, and accesses per entry.
const MAX_PERMISSIONS: usize = 100;
const MAX_ACCESSES: usize = 200;

/// A created robot and its secret, to be shown once.
#[derive(Debug)]
pub struct Created {
    pub row: RobotRow,
    pub secret: crate::secret::Secret,
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `(duration in days, expires_at in unix seconds)` for a requested duration: 0 means `default_days`
/// (Harbor's `robot_token_duration`), -1 never.
fn lifetime(duration: i64, from: i64, default_days: u64) -> Result<(i64, i64), ServiceError> {
    let default_days = i64::try_from(default_days).unwrap_or(i64::MAX);
    match duration {
        -1 => Ok((-1, -1)),
        0 => Ok((
            default_days,
            from.saturating_add(default_days.saturating_mul(86_400)),
        )),
        d if d > 0 => Ok((d, from.saturating_add(d.saturating_mul(86_400)))),
        d => Err(ServiceError::Invalid(format!(
            "duration must be -1 (never expires) or a number of days, not {d}"
        ))),
    }
}

/// The project a project-level robot belongs to, checked against the creator's rights: it must exist and be
/// visible to `creator`, who must be allowed to manage its robots and hold everything granted.
async fn check_grants(
    db: &Db,
    creator: &Subject,
    level: &str,
    permissions: &[RobotPermission],
) -> Result<Option<Project>, ServiceError> {
    if permissions.is_empty() {
        return Err(ServiceError::Invalid(
            "a robot needs at least one permission".to_owned(),
        ));
    }
    if permissions.len() > MAX_PERMISSIONS
        || permissions.iter().any(|p| p.access.len() > MAX_ACCESSES)
    {
        return Err(ServiceError::Invalid(format!(
            "a robot has at most {MAX_PERMISSIONS} permissions of at most {MAX_ACCESSES} accesses each"
        )));
    }
    if let Some(empty) = permissions.iter().find(|p| p.access.is_empty()) {
        return Err(ServiceError::Invalid(format!(
            "the permission for {} grants nothing: list at least one access",
            empty.namespace
        )));
    }
    if let Some(other) = permissions
        .iter()
        .find(|p| p.kind != "project" && p.kind != robots::SYSTEM_KIND)
    {
        // Harbor's wording (`src/server/v2.0/handler/robot.go`).
        return Err(ServiceError::Invalid(format!(
            "bad request permission level: {}",
            other.kind
        )));
    }
    match level {
        "project" => {
            if permissions.iter().any(|p| p.kind != "project") {
                return Err(ServiceError::Invalid(
                    "a project robot's permission is of kind \"project\"; system permissions are for system robots"
                        .to_owned(),
                ));
            }
            let [permission] = permissions else {
                return Err(ServiceError::Invalid(
                    "a project robot has permissions in exactly one project".to_owned(),
                ));
            };
            if permission.namespace == "*" {
                return Err(ServiceError::Invalid(
                    "a project robot must name its project".to_owned(),
                ));
            }
            let not_found =
                || ServiceError::NotFound(format!("project {} not found", permission.namespace));
            let project = db
                .find_project(&permission.namespace)
                .await?
                .ok_or_else(not_found)?;
            let access = ProjectAccess::of(db, creator, &project).await?;
            if !access.can_see() {
                return Err(not_found());
            }
            if !access.permits(Resource::Robot, Operation::Create) {
                return Err(ServiceError::Forbidden(
                    "only project admins may manage this project's robots".to_owned(),
                ));
            }
            if let Some(excess) = permission
                .access
                .iter()
                .find(|a| !robots::may_grant(access, a))
            {
                return Err(ServiceError::Forbidden(format!(
                    "you cannot grant {}:{} in {}: you do not hold it",
                    excess.resource, excess.action, project.name
                )));
            }
            Ok(Some(project))
        }
        "system" => {
            if !creator.is_sysadmin() {
                return Err(ServiceError::Forbidden(
                    "only system administrators may create system robots".to_owned(),
                ));
            }
            for system in permissions.iter().filter(|p| p.kind == robots::SYSTEM_KIND) {
                if system.namespace != robots::SYSTEM_NAMESPACE {
                    return Err(ServiceError::Invalid(format!(
                        "a system permission's namespace is \"/\", not {:?}",
                        system.namespace
                    )));
                }
                if let Some(access) = system.access.iter().find(|a| {
                    !ROBOT_SYSTEM_POLICIES.contains(&(a.resource.as_str(), a.action.as_str()))
                }) {
                    // Harbor's wording: a pair Harbor does not let robots hold at system level.
                    return Err(ServiceError::Invalid(format!(
                        "bad request permission: {}:{}",
                        access.resource, access.action
                    )));
                }
            }
            for namespace in robots::namespaces(permissions) {
                if namespace != "*" && db.find_project(namespace).await?.is_none() {
                    return Err(ServiceError::NotFound(format!(
                        "project {namespace} not found"
                    )));
                }
            }
            Ok(None)
        }
        other => Err(ServiceError::Invalid(format!(
            "level must be \"project\" or \"system\", not {other:?}"
        ))),
    }
}

/// Creates a robot for `creator`, named with `config`'s `robot_name_prefix` and living `robot_token_duration`
/// days unless the request says otherwise; returns it with its secret.
pub async fn create(
    db: &Db,
    config: &SystemConfig,
    creator: &Subject,
    request: &RobotCreate,
) -> Result<Created, ServiceError> {
    let Subject::User { id: creator_id, .. } = creator else {
        return Err(ServiceError::Forbidden(
            "only users may create robot accounts".to_owned(),
        ));
    };
    if !is_valid_component(&request.name) || request.name.len() > 128 {
        return Err(ServiceError::Invalid(format!(
            "invalid robot name {:?}: lowercase letters and digits, separated by '.', '_' or '-'",
            request.name
        )));
    }
    let project = check_grants(db, creator, &request.level, &request.permissions).await?;
    let prefix = &config.robot_name_prefix;
    let name = match &project {
        Some(project) => format!("{prefix}{}+{}", project.name, request.name),
        None => format!("{prefix}{}", request.name),
    };
    // Robots and users sign in by name, robots first: a robot may not take a user's name.
    if db.find_user(&name).await?.is_some() {
        return Err(ServiceError::Conflict(format!(
            "{name} is a user's name; choose another robot name"
        )));
    }
    let secret = match &request.secret {
        Some(secret) => {
            check_password(secret)?;
            secret.clone()
        }
        None => super::setup::generate_password(),
    };
    let hash = password::hash(secret.clone())
        .await
        .map_err(|_| ServiceError::Hash)?;
    let (duration, expires_at) =
        lifetime(request.duration, now_secs(), config.robot_token_duration)?;
    let permissions = serde_json::to_string(&request.permissions)
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let new = NewRobot {
        name: &name,
        description: &request.description,
        level: &request.level,
        project_id: project.as_ref().map(|p| p.id),
        secret_hash: &hash,
        disabled: request.disable,
        duration,
        expires_at,
        permissions: &permissions,
        creator_ref: *creator_id,
    };
    let id = db.create_robot(&new).await.map_err(|e| {
        if is_unique_violation(&e) {
            ServiceError::Conflict(format!("robot {name} already exists"))
        } else {
            e.into()
        }
    })?;
    let row = db
        .robot(id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("robot {id} vanished")))?;
    Ok(Created {
        row,
        secret: crate::secret::Secret::new(secret),
    })
}

/// What `caller` may do with `robot`: `None` if it may not see it.
pub async fn access_to(
    db: &Db,
    caller: &Subject,
    robot: &RobotRow,
) -> Result<Option<ProjectAccess>, ServiceError> {
    let sysadmin = ProjectAccess {
        sysadmin: true,
        public: false,
        role: None,
        robot_grants: 0,
    };
    if caller.is_sysadmin() {
        return Ok(Some(sysadmin));
    }
    let Some(project_id) = robot.project_id else {
        return Ok(None);
    };
    let Some(project) = db.find_project_by_id(project_id).await? else {
        return Ok(None);
    };
    let access = ProjectAccess::of(db, caller, &project).await?;
    Ok(access
        .permits(Resource::Robot, Operation::Read)
        .then_some(access))
}

/// Changes a robot's description, disable flag, duration and permissions (checked like a creation; a duration
/// of 0 is `config`'s `robot_token_duration`).
pub async fn update(
    db: &Db,
    config: &SystemConfig,
    caller: &Subject,
    robot: &RobotRow,
    request: &RobotCreate,
) -> Result<(), ServiceError> {
    if request.level != robot.level {
        return Err(ServiceError::Invalid(
            "a robot's level cannot change".to_owned(),
        ));
    }
    let project = check_grants(db, caller, &robot.level, &request.permissions).await?;
    if project.map(|p| p.id) != robot.project_id {
        return Err(ServiceError::Invalid(
            "a project robot cannot move to another project".to_owned(),
        ));
    }
    let (duration, expires_at) = if request.duration == robot.duration {
        (robot.duration, robot.expires_at)
    } else {
        lifetime(request.duration, now_secs(), config.robot_token_duration)?
    };
    let permissions = serde_json::to_string(&request.permissions)
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    db.update_robot(
        robot.id,
        &request.description,
        request.disable,
        duration,
        expires_at,
        &permissions,
    )
    .await?;
    Ok(())
}

/// Replaces a robot's secret with `secret` (checked against the password policy) or a generated one;
/// returns the new secret.
pub async fn refresh_secret(
    db: &Db,
    robot: &RobotRow,
    secret: Option<&str>,
) -> Result<crate::secret::Secret, ServiceError> {
    let secret = match secret {
        Some(secret) => {
            check_password(secret)?;
            secret.to_owned()
        }
        None => super::setup::generate_password(),
    };
    let hash = password::hash(secret.clone())
        .await
        .map_err(|_| ServiceError::Hash)?;
    db.set_robot_secret(robot.id, &hash).await?;
    Ok(crate::secret::Secret::new(secret))
}
