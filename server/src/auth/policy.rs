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
