//! The permission policy: the one place that decides what a subject may do in a project.
//!
//! One function decides: [`ProjectAccess::permits`], over Harbor's role matrix ([`role_permits`],
//! `docs/reference/harbor-rbac.md`), a robot's permission list, and public-project reads. REST handlers ask
//! it directly; every `/v2` request and every token grant asks [`allowed_actions`], which maps the registry
//! actions onto it (pull = repository pull, push = repository push, delete = artifact delete).
//!
//! Outside projects, [`system_permits`] decides: a system administrator holds every system permission; a
//! system-level robot holds the `kind: system` permissions it was given, from the list Harbor allows robots
//! ([`ROBOT_SYSTEM_POLICIES`]); nobody else holds any.
//!
//! A user's role in a project is the strongest of their direct role and the roles of the groups they belong
//! to; the data layer resolves it (`Db::effective_role`), and everything here asks it, so `/v2` and the REST
//! API agree.

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

    /// The role-matrix permission the action needs. Harbor's robots may also hold `repository:delete`,
    /// which the registry treats as `artifact:delete`.
    pub fn permission(self) -> (Resource, Operation) {
        match self {
            Action::Pull => (Resource::Repository, Operation::Pull),
            Action::Push => (Resource::Repository, Operation::Push),
            Action::Delete => (Resource::Artifact, Operation::Delete),
        }
    }

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

/// A project resource of Harbor's role matrix (rows of `docs/reference/harbor-rbac.md`).
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
    /// Immutable tag rules (Harbor's `immutable-tag` resource).
    ImmutableTag,
    /// The project's labels (Harbor's `label` resource).
    Label,
    /// Labels put on artifacts (Harbor's `artifact-label` resource).
    ArtifactLabel,
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
            "immutable-tag" => Some(Resource::ImmutableTag),
            "label" => Some(Resource::Label),
            "artifact-label" => Some(Resource::ArtifactLabel),
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
            Resource::ImmutableTag => 9,
            Resource::Label => 10,
            Resource::ArtifactLabel => 11,
        }
    }
}

/// An operation on a [`Resource`]. `Pull` and `Push` apply to repositories only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Read,
    Update,
    Delete,
    List,
    Pull,
    Push,
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
            "pull" => Some(Operation::Pull),
            "push" => Some(Operation::Push),
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
            Operation::Pull => 5,
            Operation::Push => 6,
        }
    }
}

/// Whether `role` may perform `operation` on `resource`: Harbor's role matrix. Every role may pull;
/// Developer and up may push.
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
        (Repository, Guest | LimitedGuest) => matches!(operation, Read | List | Pull),
        (Artifact, ProjectAdmin | Maintainer) => operation != Update,
        (Artifact, Developer) => matches!(operation, Create | Read | List),
        (Artifact, Guest | LimitedGuest) => matches!(operation, Read | List),
        (Tag, ProjectAdmin | Maintainer) => matches!(operation, Create | Delete | List),
        (Tag, Developer) => matches!(operation, Create | List),
        (Tag, Guest | LimitedGuest) => operation == List,
        (Log, ProjectAdmin) => operation == List,
        (Log, _) => false,
        (ImmutableTag, ProjectAdmin | Maintainer) => {
            matches!(operation, Create | Update | Delete | List)
        }
        (ImmutableTag, _) => false,
        (Label, ProjectAdmin | Maintainer) => {
            matches!(operation, Create | Read | Update | Delete | List)
        }
        (Label, Developer | Guest) => matches!(operation, Read | List),
        (Label, LimitedGuest) => false,
        (ArtifactLabel, ProjectAdmin | Maintainer | Developer) => {
            matches!(operation, Create | Delete)
        }
        (ArtifactLabel, _) => false,
    }
}

/// What a subject holds in one project: the basis of every REST decision about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectAccess {
    pub sysadmin: bool,
    pub public: bool,
    pub role: Option<Role>,
    /// A robot's REST permissions in the project, one bit per `(resource, operation)`: see [`Self::bit`].
    pub robot_grants: u128,
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
                .effective_role(project.id, *id)
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

    /// The bit of `(resource, operation)` in [`Self::robot_grants`] (12 resources × 7 operations fit in 128).
    pub fn bit(resource: Resource, operation: Operation) -> u128 {
        1 << (resource.index() * 7 + operation.index())
    }

    /// Whether the project is visible at all. An invisible project is answered as if it did not exist.
    pub fn can_see(self) -> bool {
        self.sysadmin || self.public || self.role.is_some() || self.robot_grants != 0
    }

    /// Whether the subject may perform `operation` on `resource` in this project. Anyone who can see a
    /// public project may read it and its metadata, and read and list its repositories, artifacts, tags and
    /// labels; its members, quota and robots are for its members only.
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
            Resource::Repository => {
                matches!(
                    operation,
                    Operation::Read | Operation::List | Operation::Pull
                )
            }
            Resource::Artifact | Resource::Tag | Resource::Label => {
                matches!(operation, Operation::Read | Operation::List)
            }
            Resource::ArtifactLabel
            | Resource::Member
            | Resource::Quota
            | Resource::Robot
            | Resource::Log
            | Resource::ImmutableTag => false,
        };
        self.public && public_read
    }

    /// Whether the subject holds a project permission of a resource Berth does not model as a [`Resource`]
    /// (`tag-retention`, for example) by being a system admin or by its role (Harbor's role matrix). A robot's
    /// own grants of such resources are in its permission list: [`super::robots::holds_in_project`].
    pub fn permits_named(self, resource: &str, action: &str) -> bool {
        self.sysadmin
            || self
                .role
                .is_some_and(|role| role_permits_other(role, resource, action))
    }

    /// The registry actions this access allows, each decided by [`Self::permits`].
    pub fn registry_actions(self) -> ActionSet {
        let allowed: Vec<Action> = Action::ALL
            .into_iter()
            .filter(|action| {
                let (resource, operation) = action.permission();
                self.permits(resource, operation)
                    || (*action == Action::Delete
                        && self.permits(Resource::Repository, Operation::Delete))
            })
            .collect();
        ActionSet::of(&allowed)
    }
}

/// What `subject` may do to repositories of `project` (`None`: the project does not exist, which only a
/// system admin may act on).
pub async fn allowed_actions(
    db: &Db,
    subject: &Subject,
    project: Option<&Project>,
) -> Result<ActionSet, sqlx::Error> {
    let Some(project) = project else {
        return Ok(if subject.is_sysadmin() {
            ActionSet::ALL
        } else {
            ActionSet::NONE
        });
    };
    Ok(ProjectAccess::of(db, subject, project)
        .await?
        .registry_actions())
}

/// The projects whose repositories `subject` may see; `None` means all of them.
pub async fn visible_projects(db: &Db, subject: &Subject) -> Result<Option<Vec<i64>>, sqlx::Error> {
    if subject.is_sysadmin() {
        return Ok(None);
    }
    let mut ids = db.public_project_ids().await?;
    match subject {
        Subject::User { id, .. } => ids.extend(
            db.effective_roles(*id)
                .await?
                .into_iter()
                .map(|(project, _)| project),
        ),
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

/// Harbor's project-level policies as `(resource, action)`, in the order Harbor lists them: every pair any
/// role may hold (`src/common/rbac/project/rbac_role.go`), restricted to the rows of
/// `docs/reference/harbor-rbac.md`. The empty resource is the project itself.
const PROJECT_POLICIES: &[(&str, &str)] = &[
    ("", "read"),
    ("", "update"),
    ("", "delete"),
    ("member", "create"),
    ("member", "read"),
    ("member", "update"),
    ("member", "delete"),
    ("member", "list"),
    ("metadata", "create"),
    ("metadata", "read"),
    ("metadata", "update"),
    ("metadata", "delete"),
    ("log", "list"),
    ("label", "create"),
    ("label", "read"),
    ("label", "update"),
    ("label", "delete"),
    ("label", "list"),
    ("quota", "read"),
    ("repository", "create"),
    ("repository", "read"),
    ("repository", "update"),
    ("repository", "delete"),
    ("repository", "list"),
    ("repository", "pull"),
    ("repository", "push"),
    ("tag-retention", "create"),
    ("tag-retention", "read"),
    ("tag-retention", "update"),
    ("tag-retention", "delete"),
    ("tag-retention", "list"),
    ("tag-retention", "operate"),
    ("immutable-tag", "create"),
    ("immutable-tag", "update"),
    ("immutable-tag", "delete"),
    ("immutable-tag", "list"),
    ("robot", "create"),
    ("robot", "read"),
    ("robot", "update"),
    ("robot", "delete"),
    ("robot", "list"),
    ("notification-policy", "create"),
    ("notification-policy", "update"),
    ("notification-policy", "delete"),
    ("notification-policy", "list"),
    ("notification-policy", "read"),
    ("scan", "create"),
    ("scan", "read"),
    ("scan", "stop"),
    ("scanner", "read"),
    ("scanner", "create"),
    ("artifact", "create"),
    ("artifact", "read"),
    ("artifact", "delete"),
    ("artifact", "list"),
    ("artifact-addition", "read"),
    ("tag", "list"),
    ("tag", "create"),
    ("tag", "delete"),
    ("accessory", "list"),
    ("artifact-label", "create"),
    ("artifact-label", "delete"),
    ("export-cve", "create"),
    ("export-cve", "read"),
    ("export-cve", "list"),
];

/// Harbor's system-level permissions a robot may be given (`kind: system`, namespace `/`), as
/// `(resource, action)`: `PoliciesMap["System"]` of Harbor's `src/common/rbac/const.go`. Berth serves
/// `project` (create, list), `registry`, `replication-adapter`, `audit-log`, `catalog` and `quota` (read,
/// list); the others are accepted and take effect when Berth serves their resources.
pub const ROBOT_SYSTEM_POLICIES: &[(&str, &str)] = &[
    ("audit-log", "list"),
    ("preheat-instance", "read"),
    ("preheat-instance", "create"),
    ("preheat-instance", "delete"),
    ("preheat-instance", "list"),
    ("preheat-instance", "update"),
    ("project", "list"),
    ("project", "create"),
    ("replication-policy", "read"),
    ("replication-policy", "create"),
    ("replication-policy", "delete"),
    ("replication-policy", "list"),
    ("replication-policy", "update"),
    ("replication", "read"),
    ("replication", "create"),
    ("replication", "list"),
    ("replication-adapter", "list"),
    ("registry", "read"),
    ("registry", "create"),
    ("registry", "delete"),
    ("registry", "list"),
    ("registry", "update"),
    ("scan-all", "read"),
    ("scan-all", "update"),
    ("scan-all", "stop"),
    ("scan-all", "create"),
    ("system-volumes", "read"),
    ("garbage-collection", "read"),
    ("garbage-collection", "create"),
    ("garbage-collection", "list"),
    ("garbage-collection", "update"),
    ("garbage-collection", "stop"),
    ("purge-audit", "read"),
    ("purge-audit", "create"),
    ("purge-audit", "list"),
    ("purge-audit", "update"),
    ("purge-audit", "stop"),
    ("jobservice-monitor", "list"),
    ("jobservice-monitor", "stop"),
    ("scanner", "read"),
    ("scanner", "create"),
    ("scanner", "delete"),
    ("scanner", "list"),
    ("scanner", "update"),
    ("label", "read"),
    ("label", "create"),
    ("label", "delete"),
    ("label", "update"),
    ("security-hub", "read"),
    ("security-hub", "list"),
    ("catalog", "read"),
    ("quota", "read"),
    ("quota", "list"),
];

/// Harbor's project-level permissions a robot may be given (`kind: project`), as `(resource, action)`:
/// `PoliciesMap["Project"]` of Harbor's `src/common/rbac/const.go`, in its order. `GET /permissions` lists them
/// for the console's robot form; [`super::robots::rest_permission`] maps those Berth models onto the role
/// matrix, the others are kept and checked by the handlers of their resources.
pub const ROBOT_PROJECT_POLICIES: &[(&str, &str)] = &[
    ("log", "list"),
    ("project", "read"),
    ("project", "delete"),
    ("project", "update"),
    ("metadata", "read"),
    ("metadata", "create"),
    ("metadata", "delete"),
    ("metadata", "list"),
    ("metadata", "update"),
    ("repository", "read"),
    ("repository", "update"),
    ("repository", "delete"),
    ("repository", "list"),
    ("repository", "pull"),
    ("repository", "push"),
    ("artifact", "read"),
    ("artifact", "create"),
    ("artifact", "list"),
    ("artifact", "delete"),
    ("scan", "create"),
    ("scan", "read"),
    ("scan", "stop"),
    ("tag", "create"),
    ("tag", "list"),
    ("tag", "delete"),
    ("accessory", "list"),
    ("artifact-addition", "read"),
    ("artifact-label", "create"),
    ("artifact-label", "delete"),
    ("scanner", "create"),
    ("scanner", "read"),
    ("preheat-policy", "read"),
    ("preheat-policy", "create"),
    ("preheat-policy", "delete"),
    ("preheat-policy", "list"),
    ("preheat-policy", "update"),
    ("immutable-tag", "create"),
    ("immutable-tag", "delete"),
    ("immutable-tag", "list"),
    ("immutable-tag", "update"),
    ("notification-policy", "read"),
    ("notification-policy", "create"),
    ("notification-policy", "delete"),
    ("notification-policy", "list"),
    ("notification-policy", "update"),
    ("tag-retention", "read"),
    ("tag-retention", "create"),
    ("tag-retention", "delete"),
    ("tag-retention", "list"),
    ("tag-retention", "update"),
    ("label", "read"),
    ("label", "create"),
    ("label", "delete"),
    ("label", "list"),
    ("label", "update"),
    ("quota", "read"),
];

/// Whether `subject` holds the system-level permission `(resource, action)`: every one for a system
/// administrator; for a robot, what its `kind: system` permissions grant (see [`ROBOT_SYSTEM_POLICIES`]);
/// none for anyone else.
pub fn system_permits(subject: &Subject, resource: &str, action: &str) -> bool {
    match subject {
        Subject::User { sysadmin, .. } => *sysadmin,
        Subject::Robot { permissions, .. } => {
            robots::holds_system(permissions, resource, action)
                && ROBOT_SYSTEM_POLICIES.contains(&(resource, action))
        }
        Subject::Anonymous => false,
    }
}

/// Harbor's system-level policies as `(resource, action)` (`src/common/rbac/system/policies.go`); system
/// administrators hold them all.
const SYSTEM_POLICIES: &[(&str, &str)] = &[
    ("catalog", "read"),
    ("audit-log", "list"),
    ("project", "create"),
    ("project", "read"),
    ("project", "update"),
    ("project", "delete"),
    ("project", "list"),
    ("user", "create"),
    ("user", "read"),
    ("user", "update"),
    ("user", "delete"),
    ("user", "list"),
    ("user-group", "create"),
    ("user-group", "read"),
    ("user-group", "update"),
    ("user-group", "delete"),
    ("user-group", "list"),
    ("registry", "create"),
    ("registry", "read"),
    ("registry", "update"),
    ("registry", "delete"),
    ("registry", "list"),
    ("replication", "create"),
    ("replication", "read"),
    ("replication", "update"),
    ("replication", "list"),
    ("replication", "delete"),
    ("distribution", "create"),
    ("distribution", "read"),
    ("distribution", "update"),
    ("distribution", "delete"),
    ("distribution", "list"),
    ("garbage-collection", "create"),
    ("garbage-collection", "read"),
    ("garbage-collection", "update"),
    ("garbage-collection", "delete"),
    ("garbage-collection", "list"),
    ("scan-all", "create"),
    ("scan-all", "read"),
    ("scan-all", "update"),
    ("scan-all", "delete"),
    ("scan-all", "list"),
    ("system-volumes", "read"),
    ("ldap-user", "create"),
    ("ldap-user", "list"),
    ("configuration", "read"),
    ("configuration", "update"),
];

/// Whether `role` holds a project policy of a resource Berth does not serve yet, by the rows of
/// `docs/reference/harbor-rbac.md`.
fn role_permits_other(role: Role, resource: &str, action: &str) -> bool {
    use Role::*;
    let admin_or_maintainer = matches!(role, ProjectAdmin | Maintainer);
    match resource {
        "tag-retention" => admin_or_maintainer,
        "notification-policy" => {
            role == ProjectAdmin || (role == Maintainer && matches!(action, "read" | "list"))
        }
        "scan" => admin_or_maintainer || action == "read",
        "scanner" => role == ProjectAdmin || action == "read",
        "accessory" => true,
        "preheat-policy" => role == ProjectAdmin,
        "export-cve" => matches!(role, ProjectAdmin | Maintainer | Developer),
        _ => false,
    }
}

/// What anyone may do in a public project beyond Berth's own public reads (Harbor's public-project policies).
fn public_permits_other(resource: &str, action: &str) -> bool {
    matches!(
        (resource, action),
        ("scan", "read") | ("scanner", "read") | ("accessory", "list")
    )
}

/// The project-level permissions of `access` as Harbor's `/users/current/permissions` lists them:
/// `(resource relative to the project, action)`, each decided by [`ProjectAccess::permits`] where Berth
/// models the resource (repository pull and push included).
pub fn project_permissions(access: ProjectAccess) -> Vec<(&'static str, &'static str)> {
    if !access.can_see() {
        return Vec::new();
    }
    PROJECT_POLICIES
        .iter()
        .copied()
        .filter(|&(resource, action)| {
            if access.sysadmin {
                return true;
            }
            match (resource, action) {
                ("artifact-addition", "read") => {
                    access.permits(Resource::Artifact, Operation::Read)
                }
                ("", _) => Operation::from_name(action)
                    .is_some_and(|op| access.permits(Resource::Project, op)),
                _ => match (Resource::from_name(resource), Operation::from_name(action)) {
                    (Some(resource), Some(op)) => access.permits(resource, op),
                    _ => {
                        access
                            .role
                            .is_some_and(|role| role_permits_other(role, resource, action))
                            || (access.public && public_permits_other(resource, action))
                    }
                },
            }
        })
        .collect()
}

/// The system-level permissions of `subject`: all of Harbor's for a system administrator, a robot's own
/// (see [`system_permits`]), none otherwise.
pub fn system_permissions(subject: &Subject) -> Vec<(&'static str, &'static str)> {
    match subject {
        Subject::User { sysadmin: true, .. } => SYSTEM_POLICIES.to_vec(),
        Subject::Robot { .. } => ROBOT_SYSTEM_POLICIES
            .iter()
            .copied()
            .filter(|&(resource, action)| system_permits(subject, resource, action))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_actions_follow_the_role_matrix() {
        let member = |role: Option<Role>, public: bool| ProjectAccess {
            sysadmin: false,
            public,
            role,
            robot_grants: 0,
        };
        let can =
            |access: ProjectAccess| Action::ALL.map(|a| access.registry_actions().contains(a));
        assert_eq!(
            can(member(Some(Role::ProjectAdmin), false)),
            [true, true, true]
        );
        assert_eq!(
            can(member(Some(Role::Maintainer), false)),
            [true, true, true]
        );
        assert_eq!(
            can(member(Some(Role::Developer), false)),
            [true, true, false]
        );
        assert_eq!(can(member(Some(Role::Guest), false)), [true, false, false]);
        assert_eq!(
            can(member(Some(Role::LimitedGuest), false)),
            [true, false, false]
        );
        assert_eq!(can(member(None, false)), [false, false, false]);
        assert_eq!(can(member(None, true)), [true, false, false], "public pull");
        let admin = ProjectAccess {
            sysadmin: true,
            ..member(None, false)
        };
        assert_eq!(can(admin), [true, true, true]);
        let robot = |pairs: &[(Resource, Operation)]| ProjectAccess {
            robot_grants: pairs
                .iter()
                .fold(0, |bits, (r, o)| bits | ProjectAccess::bit(*r, *o)),
            ..member(None, false)
        };
        assert_eq!(
            can(robot(&[(Resource::Repository, Operation::Push)])),
            [false, true, false]
        );
        assert_eq!(
            can(robot(&[(Resource::Repository, Operation::Delete)])),
            [false, false, true]
        );
        assert_eq!(Role::from_id(99), None);
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
    fn labels_follow_harbors_rows() {
        use Operation::*;
        // `labels`: C R U D L for project admins and maintainers, R L for developers and guests.
        for role in [Role::ProjectAdmin, Role::Maintainer] {
            for op in [Create, Read, Update, Delete, List] {
                assert!(role_permits(role, Resource::Label, op), "{role:?} {op:?}");
            }
        }
        for role in [Role::Developer, Role::Guest] {
            assert!(role_permits(role, Resource::Label, Read));
            assert!(role_permits(role, Resource::Label, List));
            assert!(!role_permits(role, Resource::Label, Create));
            assert!(!role_permits(role, Resource::Label, Update));
        }
        assert!(!role_permits(Role::LimitedGuest, Resource::Label, List));
        // `artifact labels`: C D for developers and up.
        for role in [Role::ProjectAdmin, Role::Maintainer, Role::Developer] {
            assert!(role_permits(role, Resource::ArtifactLabel, Create));
            assert!(role_permits(role, Resource::ArtifactLabel, Delete));
        }
        assert!(!role_permits(Role::Guest, Resource::ArtifactLabel, Create));
        // A public project's labels are read by anyone; nobody outside labels its artifacts.
        let public = ProjectAccess {
            sysadmin: false,
            public: true,
            role: None,
            robot_grants: 0,
        };
        assert!(public.permits(Resource::Label, List));
        assert!(!public.permits(Resource::Label, Create));
        assert!(!public.permits(Resource::ArtifactLabel, Create));
        assert_eq!(Resource::from_name("label"), Some(Resource::Label));
        assert_eq!(
            Resource::from_name("artifact-label"),
            Some(Resource::ArtifactLabel)
        );
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
    fn permissions_follow_the_role() {
        let member = |role| ProjectAccess {
            sysadmin: false,
            public: false,
            role: Some(role),
            robot_grants: 0,
        };
        let developer = project_permissions(member(Role::Developer));
        assert!(developer.contains(&("repository", "push")));
        assert!(developer.contains(&("artifact", "create")));
        assert!(!developer.contains(&("repository", "delete")));
        assert!(!developer.contains(&("member", "create")));
        assert!(!developer.contains(&("tag-retention", "create")));
        let admin = project_permissions(member(Role::ProjectAdmin));
        assert!(admin.contains(&("member", "create")));
        assert!(admin.contains(&("", "delete")));
        assert!(admin.contains(&("notification-policy", "create")));
        let limited = project_permissions(member(Role::LimitedGuest));
        assert!(!limited.contains(&("member", "list")));
        assert!(limited.contains(&("repository", "pull")));
        let outsider = ProjectAccess {
            role: None,
            ..member(Role::Guest)
        };
        assert!(project_permissions(outsider).is_empty());
        let sysadmin = ProjectAccess {
            sysadmin: true,
            ..outsider
        };
        assert_eq!(project_permissions(sysadmin).len(), PROJECT_POLICIES.len());
    }

    #[test]
    fn system_permissions_are_the_admins_and_what_robots_were_given() {
        use berth_api::robots::Access;
        let access = |resource: &str, action: &str, effect: Option<&str>| Access {
            resource: resource.to_owned(),
            action: action.to_owned(),
            effect: effect.map(str::to_owned),
        };
        let robot = Subject::Robot {
            id: 1,
            name: "robot$ops".to_owned(),
            permissions: vec![
                RobotPermission {
                    kind: "system".to_owned(),
                    namespace: "/".to_owned(),
                    access: vec![
                        access("project", "create", None),
                        access("registry", "delete", Some("deny")),
                        // Not a robot's to hold, whatever is stored.
                        access("user", "create", None),
                    ],
                },
                RobotPermission {
                    kind: "project".to_owned(),
                    namespace: "*".to_owned(),
                    access: vec![access("project", "list", None)],
                },
            ]
            .into(),
        };
        assert!(system_permits(&robot, "project", "create"));
        assert!(
            !system_permits(&robot, "project", "list"),
            "a project grant"
        );
        assert!(!system_permits(&robot, "registry", "delete"), "denied");
        assert!(!system_permits(&robot, "user", "create"));
        assert_eq!(system_permissions(&robot), [("project", "create")]);
        let admin = Subject::User {
            id: 1,
            username: "admin".to_owned(),
            sysadmin: true,
        };
        assert!(system_permits(&admin, "configuration", "update"));
        let user = Subject::User {
            id: 2,
            username: "dev".to_owned(),
            sysadmin: false,
        };
        assert!(!system_permits(&user, "project", "create"));
        assert!(!system_permits(&Subject::Anonymous, "catalog", "read"));
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
