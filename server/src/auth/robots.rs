//! Robot permissions: what a robot may do in a project, and what its creator may grant it.
//!
//! A robot's permissions are Harbor's `RobotPermission` list: `{kind: "project", namespace: <project> | "*",
//! access: [{resource, action}]}`. Each `(resource, action)` pair of the role matrix becomes a grant bit that
//! [`ProjectAccess::permits`] reads; registry access comes from `repository:pull`, `repository:push` and
//! `artifact:delete` through the same function. A system-level robot may also hold `{kind: "system",
//! namespace: "/"}` permissions, which [`super::policy::system_permits`] reads.
//!
//! A robot is known by its full stored name (`robot$team+ci`), not by its prefix: the prefix of new robots
//! (`robot_name_prefix`) may change, and robots made before keep their names and keep signing in.

use berth_api::robots::{Access, RobotPermission};

use super::policy::{Operation, ProjectAccess, Resource, Role};
use crate::db::Db;

/// The name prefix of new robots until `robot_name_prefix` says otherwise (Harbor's default).
pub const DEFAULT_PREFIX: &str = "robot$";

/// The `kind` of system-level permissions, and their one namespace.
pub const SYSTEM_KIND: &str = "system";
pub const SYSTEM_NAMESPACE: &str = "/";

/// Whether `name` is a robot's: robots are looked up by their full stored name, whatever the prefix now.
pub async fn is_robot(db: &Db, name: &str) -> Result<bool, sqlx::Error> {
    Ok(db.robot_by_name(name).await?.is_some())
}

/// Whether the robot's `kind: system` permissions grant `(resource, action)` (`effect: deny` grants nothing).
pub fn holds_system(permissions: &[RobotPermission], resource: &str, action: &str) -> bool {
    permissions
        .iter()
        .filter(|p| p.kind == SYSTEM_KIND)
        .flat_map(|p| p.access.iter())
        .filter(|a| a.effect.as_deref() != Some("deny"))
        .any(|a| a.resource == resource && a.action == action)
}

/// The robot's accesses that apply to project `project` (`effect: deny` entries grant nothing).
fn accesses_in<'a>(
    permissions: &'a [RobotPermission],
    project: &'a str,
) -> impl Iterator<Item = &'a Access> {
    permissions
        .iter()
        .filter(move |p| p.kind == "project" && (p.namespace == project || p.namespace == "*"))
        .flat_map(|p| p.access.iter())
        .filter(|a| a.effect.as_deref() != Some("deny"))
}

/// The REST permission an access grants, if it is one Berth knows.
pub fn rest_permission(access: &Access) -> Option<(Resource, Operation)> {
    let resource = Resource::from_name(&access.resource)?;
    let operation = Operation::from_name(&access.action)?;
    Some((resource, operation))
}

/// Whether the robot's permissions grant `(resource, action)` in `project`, for resources Berth does not
/// model as a [`Resource`] (such as `tag-retention`).
pub fn holds_in_project(
    permissions: &[RobotPermission],
    project: &str,
    resource: &str,
    action: &str,
) -> bool {
    accesses_in(permissions, project).any(|a| a.resource == resource && a.action == action)
}

/// The permissions the robot holds in `project`, as [`ProjectAccess::robot_grants`] bits: REST and registry
/// alike (`repository:pull` and `repository:push` are role-matrix permissions too).
pub fn rest_grants(permissions: &[RobotPermission], project: &str) -> u128 {
    accesses_in(permissions, project)
        .filter_map(rest_permission)
        .fold(0, |bits, (resource, operation)| {
            bits | ProjectAccess::bit(resource, operation)
        })
}

/// Whether a creator standing in a project as `access` may grant `wanted` there: never more than they hold.
/// Pairs Berth does not model are for project admins and system admins only.
pub fn may_grant(access: ProjectAccess, wanted: &Access) -> bool {
    if access.sysadmin {
        return true;
    }
    match rest_permission(wanted) {
        Some((resource, operation)) => access.role.is_some() && access.permits(resource, operation),
        None => access.role == Some(Role::ProjectAdmin),
    }
}

/// Project names named in the permissions (`*` included as is).
pub fn namespaces(permissions: &[RobotPermission]) -> Vec<&str> {
    let mut names: Vec<&str> = permissions
        .iter()
        .filter(|p| p.kind == "project")
        .map(|p| p.namespace.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(resource: &str, action: &str) -> Access {
        Access {
            resource: resource.to_owned(),
            action: action.to_owned(),
            effect: None,
        }
    }

    fn permissions(namespace: &str, pairs: &[(&str, &str)]) -> Vec<RobotPermission> {
        vec![RobotPermission {
            kind: "project".to_owned(),
            namespace: namespace.to_owned(),
            access: pairs.iter().map(|(r, a)| access(r, a)).collect(),
        }]
    }

    #[test]
    fn registry_actions_come_from_repository_and_artifact_permissions() {
        use crate::auth::policy::Action;
        let in_project = |perms: &[RobotPermission], project: &str| {
            ProjectAccess {
                sysadmin: false,
                public: false,
                role: None,
                robot_grants: rest_grants(perms, project),
            }
            .registry_actions()
        };
        let perms = permissions("team", &[("repository", "pull"), ("repository", "push")]);
        let actions = in_project(&perms, "team");
        assert!(actions.contains(Action::Pull) && actions.contains(Action::Push));
        assert!(!actions.contains(Action::Delete));
        assert!(in_project(&perms, "other").is_empty());
        let everywhere = permissions("*", &[("artifact", "delete")]);
        assert!(in_project(&everywhere, "any").contains(Action::Delete));
    }

    #[test]
    fn creators_cannot_grant_more_than_they_hold() {
        let developer = ProjectAccess {
            sysadmin: false,
            public: false,
            role: Some(Role::Developer),
            robot_grants: 0,
        };
        assert!(may_grant(developer, &access("repository", "push")));
        assert!(!may_grant(developer, &access("artifact", "delete")));
        assert!(!may_grant(developer, &access("member", "create")));
        assert!(!may_grant(developer, &access("immutable-tag", "create")));
        let admin = ProjectAccess {
            role: Some(Role::ProjectAdmin),
            ..developer
        };
        assert!(may_grant(admin, &access("artifact", "delete")));
        assert!(may_grant(admin, &access("artifact-label", "create")));
    }
}
