//! The permission policy: the one place that decides what a subject may do in a project.
//!
//! Every `/v2` request and every token grant asks [`allowed_actions`]. Roles follow Harbor's model
//! (`shared/reference/harbor-rbac.md`): system admins may do everything; ProjectAdmin and Maintainer may
//! pull, push and delete; Developer may pull and push; Guest and LimitedGuest may pull; anyone may pull
//! from a public project.

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
    }
}

/// What a subject holds in one project: the basis of every REST decision about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectAccess {
    pub sysadmin: bool,
    pub public: bool,
    pub role: Option<Role>,
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
            Subject::Anonymous => None,
        };
        Ok(ProjectAccess {
            sysadmin: subject.is_sysadmin(),
            public: project.public,
            role,
        })
    }

    /// Whether the project is visible at all. An invisible project is answered as if it did not exist.
    pub fn can_see(self) -> bool {
        self.sysadmin || self.public || self.role.is_some()
    }

    /// Whether the subject may perform `operation` on `resource` in this project. Anyone who can see a
    /// public project may read it, its metadata and its quota.
    pub fn permits(self, resource: Resource, operation: Operation) -> bool {
        if self.sysadmin {
            return true;
        }
        if let Some(role) = self.role
            && role_permits(role, resource, operation)
        {
            return true;
        }
        self.public
            && operation == Operation::Read
            && matches!(resource, Resource::Project | Resource::Metadata)
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
    let role = match subject {
        Subject::User { id, .. } => db
            .member_role(project.id, *id)
            .await?
            .map_or(ActionSet::NONE, role_actions),
        Subject::Anonymous => ActionSet::NONE,
    };
    Ok(public.union(role))
}

/// The projects whose repositories `subject` may see; `None` means all of them.
pub async fn visible_projects(db: &Db, subject: &Subject) -> Result<Option<Vec<i64>>, sqlx::Error> {
    if subject.is_sysadmin() {
        return Ok(None);
    }
    let mut ids = db.public_project_ids().await?;
    if let Subject::User { id, .. } = subject {
        ids.extend(db.member_project_ids(*id).await?);
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
