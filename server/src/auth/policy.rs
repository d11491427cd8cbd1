//! The permission policy: the one place that decides what a subject may do in a project.
//!
//! Every `/v2` request and every token grant asks [`allowed_actions`]. Roles follow Harbor's model
//! (`shared/reference/harbor-rbac.md`): system admins may do everything; ProjectAdmin and Maintainer may
//! pull, push and delete; Developer may pull and push; Guest and LimitedGuest may pull; anyone may pull
//! from a public project.

use std::sync::Arc;

use berth_api::robots::RobotPermission;

use super::robots;
use crate::db::{Db, Project};

/// A registry action, as named in token scopes (`repository:NAME:pull,push,delete`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Pull,
    Push,
    Delete,
}

impl Action {
    pub const ALL: [Action; 3] = [Action::Pull, Action::Push, Action::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pull => "pull",
            Action::Push => "push",
            Action::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    fn bit(self) -> u8 {
        match self {
            Action::Pull => 1,
            Action::Push => 2,
            Action::Delete => 4,
        }
    }
}

/// A set of actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ActionSet(u8);

impl ActionSet {
    pub const NONE: ActionSet = ActionSet(0);
    pub const ALL: ActionSet = ActionSet(7);

    pub fn of(actions: &[Action]) -> ActionSet {
        ActionSet(actions.iter().fold(0, |bits, a| bits | a.bit()))
    }

    pub fn contains(self, action: Action) -> bool {
        self.0 & action.bit() != 0
    }

    pub fn union(self, other: ActionSet) -> ActionSet {
        ActionSet(self.0 | other.0)
    }

    pub fn intersection(self, other: ActionSet) -> ActionSet {
        ActionSet(self.0 & other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The actions in a stable order (pull, push, delete).
    pub fn actions(self) -> impl Iterator<Item = Action> {
        Action::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Anonymous,
    User {
        id: i64,
        username: String,
        sysadmin: bool,
    },
    /// A robot account, with its permission list.
    Robot {
        id: i64,
        name: String,
        permissions: Arc<[RobotPermission]>,
    },
}

impl From<crate::db::User> for Subject {
    fn from(user: crate::db::User) -> Self {
        Subject::User {
            id: user.id,
            username: user.username,
            sysadmin: user.sysadmin,
        }
    }
}

impl Subject {
    pub fn name(&self) -> &str {
        match self {
            Subject::Anonymous => "",
            Subject::User { username, .. } => username,
            Subject::Robot { name, .. } => name,
        }
    }

    pub fn is_sysadmin(&self) -> bool {
        matches!(self, Subject::User { sysadmin: true, .. })
    }
}

/// The actions a Harbor project role allows on repositories.
pub fn role_actions(role: i64) -> ActionSet {
    match role {
        1 | 4 => ActionSet::ALL,
        2 => ActionSet::of(&[Action::Pull, Action::Push]),
        3 | 5 => ActionSet::of(&[Action::Pull]),
        _ => ActionSet::NONE,
    }
}

/// A Harbor project role, with its API id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    ProjectAdmin = 1,
    Developer = 2,
    Guest = 3,
    Maintainer = 4,
    LimitedGuest = 5,
}

impl Role {
    pub fn from_id(id: i64) -> Option<Role> {
        match id {
            1 => Some(Role::ProjectAdmin),
            2 => Some(Role::Developer),
            3 => Some(Role::Guest),
            4 => Some(Role::Maintainer),
            5 => Some(Role::LimitedGuest),
            _ => None,
        }
    }

    pub fn id(self) -> i64 {
        self as i64
    }

    /// Harbor's role name, as the members API shows it.
    pub fn name(self) -> &'static str {
        match self {
            Role::ProjectAdmin => "projectAdmin",
            Role::Developer => "developer",
            Role::Guest => "guest",
            Role::Maintainer => "maintainer",
            Role::LimitedGuest => "limitedGuest",
        }
    }
}

/// A project resource of Harbor's role matrix (rows of `shared/reference/harbor-rbac.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Project,
    Member,
    Metadata,
    Quota,
    Robot,
    Repository,
    Artifact,
    Tag,
    /// The project's audit log (Harbor's `log` resource).
    Log,
}

impl Resource {
    /// The resource named as in Harbor's robot permissions.
    pub fn from_name(name: &str) -> Option<Resource> {
        match name {
            "project" => Some(Resource::Project),
            "member" => Some(Resource::Member),
            "metadata" => Some(Resource::Metadata),
            "quota" => Some(Resource::Quota),
            "robot" => Some(Resource::Robot),
            "repository" => Some(Resource::Repository),
            "artifact" => Some(Resource::Artifact),
            "tag" => Some(Resource::Tag),
            "log" => Some(Resource::Log),
            _ => None,
        }
    }

    /// A distinct index per resource, for [`ProjectAccess::bit`].
    fn index(self) -> u32 {
        match self {
            Resource::Project => 0,
            Resource::Member => 1,
            Resource::Metadata => 2,
            Resource::Quota => 3,
            Resource::Robot => 4,
            Resource::Repository => 5,
            Resource::Artifact => 6,
            Resource::Tag => 7,
            Resource::Log => 8,
        }
    }
}

/// An operation on a [`Resource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Read,
    Update,
    Delete,
    List,
}

impl Operation {
    /// The operation named as in Harbor's robot permissions.
    pub fn from_name(name: &str) -> Option<Operation> {
        match name {
            "create" => Some(Operation::Create),
            "read" => Some(Operation::Read),
            "update" => Some(Operation::Update),
            "delete" => Some(Operation::Delete),
            "list" => Some(Operation::List),
            _ => None,
        }
    }

    fn index(self) -> u32 {
        match self {
            Operation::Create => 0,
            Operation::Read => 1,
            Operation::Update => 2,
            Operation::Delete => 3,
            Operation::List => 4,
        }
    }
}

/// Whether `role` may perform `operation` on `resource`: Harbor's role matrix.
pub fn role_permits(role: Role, resource: Resource, operation: Operation) -> bool {
    use Operation::*;
    use Resource::*;
    use Role::*;
    match (resource, role) {
        (Project, ProjectAdmin) => matches!(operation, Read | Update | Delete),
        (Project, _) => operation == Read,
        (Member, ProjectAdmin) => true,
        (Member, LimitedGuest) => false,
        (Member, _) => matches!(operation, Read | List),
        (Metadata, ProjectAdmin) => matches!(operation, Create | Read | Update | Delete),
        (Metadata, _) => operation == Read,
        (Quota, _) => operation == Read,
        (Robot, ProjectAdmin) => true,
        (Robot, LimitedGuest) => false,
        (Robot, _) => matches!(operation, Read | List),
        (Repository, ProjectAdmin | Maintainer) => true,
        (Repository, Developer) => operation != Delete,
        (Repository, Guest | LimitedGuest) => matches!(operation, Read | List),
        (Artifact, ProjectAdmin | Maintainer) => operation != Update,
        (Artifact, Developer) => matches!(operation, Create | Read | List),
        (Artifact, Guest | LimitedGuest) => matches!(operation, Read | List),
        (Tag, ProjectAdmin | Maintainer) => matches!(operation, Create | Delete | List),
        (Tag, Developer) => matches!(operation, Create | List),
        (Tag, Guest | LimitedGuest) => operation == List,
        (Log, ProjectAdmin) => operation == List,
        (Log, _) => false,
    }
}

/// What a subject holds in one project: the basis of every REST decision about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectAccess {
    pub sysadmin: bool,
    pub public: bool,
    pub role: Option<Role>,
    /// A robot's REST permissions in the project, one bit per `(resource, operation)`: see [`Self::bit`].
    pub robot_grants: u64,
}

impl ProjectAccess {
    /// Looks up `subject`'s standing in `project`.
    pub async fn of(
        db: &Db,
        subject: &Subject,
        project: &Project,
    ) -> Result<ProjectAccess, sqlx::Error> {
        let role = match subject {
            Subject::User { id, .. } => db
                .member_role(project.id, *id)
                .await?
                .and_then(Role::from_id),
            Subject::Anonymous | Subject::Robot { .. } => None,
        };
        let robot_grants = match subject {
            Subject::Robot { permissions, .. } => robots::rest_grants(permissions, &project.name),
            _ => 0,
        };
        Ok(ProjectAccess {
            sysadmin: subject.is_sysadmin(),
            public: project.public,
            role,
            robot_grants,
        })
    }

    /// The bit of `(resource, operation)` in [`Self::robot_grants`].
    pub fn bit(resource: Resource, operation: Operation) -> u64 {
        1 << (resource.index() * 5 + operation.index())
    }

    /// Whether the project is visible at all. An invisible project is answered as if it did not exist.
    pub fn can_see(self) -> bool {
        self.sysadmin || self.public || self.role.is_some() || self.robot_grants != 0
    }

    /// Whether the subject may perform `operation` on `resource` in this project. Anyone who can see a
    /// public project may read it and its metadata, and read and list its repositories, artifacts and tags;
    /// its members, quota and robots are for its members only.
    pub fn permits(self, resource: Resource, operation: Operation) -> bool {
        if self.sysadmin {
            return true;
        }
        if let Some(role) = self.role
            && role_permits(role, resource, operation)
        {
            return true;
        }
        if self.robot_grants & Self::bit(resource, operation) != 0 {
            return true;
        }
        let public_read = match resource {
            Resource::Project | Resource::Metadata => operation == Operation::Read,
            Resource::Repository | Resource::Artifact | Resource::Tag => {
                matches!(operation, Operation::Read | Operation::List)
            }
            Resource::Member | Resource::Quota | Resource::Robot | Resource::Log => false,
        };
        self.public && public_read
    }
}

/// What `subject` may do to repositories of `project` (`None`: the project does not exist).
pub async fn allowed_actions(
    db: &Db,
    subject: &Subject,
    project: Option<&Project>,
) -> Result<ActionSet, sqlx::Error> {
    if subject.is_sysadmin() {
        return Ok(ActionSet::ALL);
    }
    let Some(project) = project else {
        return Ok(ActionSet::NONE);
    };
    let public = if project.public {
        ActionSet::of(&[Action::Pull])
    } else {
        ActionSet::NONE
    };
    let granted = match subject {
        Subject::User { id, .. } => db
            .member_role(project.id, *id)
            .await?
            .map_or(ActionSet::NONE, role_actions),
        Subject::Robot { permissions, .. } => robots::registry_actions(permissions, &project.name),
        Subject::Anonymous => ActionSet::NONE,
    };
    Ok(public.union(granted))
}

/// The projects whose repositories `subject` may see; `None` means all of them.
pub async fn visible_projects(db: &Db, subject: &Subject) -> Result<Option<Vec<i64>>, sqlx::Error> {
    if subject.is_sysadmin() {
        return Ok(None);
    }
    let mut ids = db.public_project_ids().await?;
    match subject {
        Subject::User { id, .. } => ids.extend(db.member_project_ids(*id).await?),
        Subject::Robot { permissions, .. } => {
            for namespace in robots::namespaces(permissions) {
                if namespace == "*" {
                    return Ok(None);
                }
                if let Some(project) = db.find_project(namespace).await? {
                    ids.push(project.id);
                }
            }
        }
        Subject::Anonymous => {}
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(Some(ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_match_harbor() {
        let all = [Action::Pull, Action::Push, Action::Delete];
        let can = |role| all.map(|a| role_actions(role).contains(a));
        assert_eq!(can(1), [true, true, true], "ProjectAdmin");
        assert_eq!(can(4), [true, true, true], "Maintainer");
        assert_eq!(can(2), [true, true, false], "Developer");
        assert_eq!(can(3), [true, false, false], "Guest");
        assert_eq!(can(5), [true, false, false], "LimitedGuest");
        assert_eq!(can(99), [false, false, false]);
    }

    #[test]
    fn rest_matrix_follows_harbor() {
        use Operation::*;
        assert!(role_permits(Role::ProjectAdmin, Resource::Member, Create));
        assert!(!role_permits(Role::Maintainer, Resource::Member, Create));
        assert!(role_permits(Role::Developer, Resource::Member, List));
        assert!(!role_permits(Role::LimitedGuest, Resource::Member, List));
        assert!(role_permits(Role::ProjectAdmin, Resource::Project, Delete));
        assert!(!role_permits(Role::Maintainer, Resource::Project, Update));
        let outsider = ProjectAccess {
            sysadmin: false,
            public: false,
            role: None,
            robot_grants: 0,
        };
        assert!(!outsider.can_see());
        let public = ProjectAccess {
            public: true,
            ..outsider
        };
        assert!(public.permits(Resource::Project, Read));
        assert!(!public.permits(Resource::Member, List));
        assert_eq!(Role::from_id(4).map(Role::name), Some("maintainer"));
    }

    #[test]
    fn repository_artifact_and_tag_matrix_follows_harbor() {
        use Operation::*;
        const OPS: [Operation; 5] = [Create, Read, Update, Delete, List];
        let can = |role, resource| OPS.map(|op| role_permits(role, resource, op));
        // Columns: C R U D L.
        for role in [Role::ProjectAdmin, Role::Maintainer] {
            assert_eq!(can(role, Resource::Repository), [true; 5], "{role:?}");
            assert_eq!(
                can(role, Resource::Artifact),
                [true, true, false, true, true],
                "{role:?}"
            );
            assert_eq!(
                can(role, Resource::Tag),
                [true, false, false, true, true],
                "{role:?}"
            );
        }
        assert_eq!(
            can(Role::Developer, Resource::Repository),
            [true, true, true, false, true]
        );
        assert_eq!(
            can(Role::Developer, Resource::Artifact),
            [true, true, false, false, true]
        );
        assert_eq!(
            can(Role::Developer, Resource::Tag),
            [true, false, false, false, true]
        );
        for role in [Role::Guest, Role::LimitedGuest] {
            assert_eq!(
                can(role, Resource::Repository),
                [false, true, false, false, true],
                "{role:?}"
            );
            assert_eq!(
                can(role, Resource::Artifact),
                [false, true, false, false, true],
                "{role:?}"
            );
            assert_eq!(
                can(role, Resource::Tag),
                [false, false, false, false, true],
                "{role:?}"
            );
        }
        let outsider = ProjectAccess {
            sysadmin: false,
            public: false,
            role: None,
            robot_grants: 0,
        };
        for resource in [Resource::Repository, Resource::Artifact, Resource::Tag] {
            assert!(!outsider.permits(resource, List), "{resource:?}");
        }
        let public = ProjectAccess {
            public: true,
            ..outsider
        };
        for resource in [Resource::Repository, Resource::Artifact, Resource::Tag] {
            assert!(public.permits(resource, Read), "{resource:?}");
            assert!(public.permits(resource, List), "{resource:?}");
            assert!(!public.permits(resource, Create), "{resource:?}");
            assert!(!public.permits(resource, Delete), "{resource:?}");
        }
        assert!(!public.permits(Resource::Quota, Read));
        assert_eq!(Resource::from_name("artifact"), Some(Resource::Artifact));
    }

    #[test]
    fn action_sets() {
        let s = ActionSet::of(&[Action::Push, Action::Pull]);
        assert_eq!(
            s.actions().map(Action::as_str).collect::<Vec<_>>(),
            ["pull", "push"]
        );
        assert!(s.intersection(ActionSet::of(&[Action::Delete])).is_empty());
        assert_eq!(Action::parse("delete"), Some(Action::Delete));
        assert_eq!(Action::parse("*"), None);
    }
}
