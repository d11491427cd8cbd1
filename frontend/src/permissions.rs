//! What the signed-in user may do in a project, from `GET /users/current/permissions?scope=/project/{id}
//! &relative=true` (Harbor's role matrix, decided by the server). The console uses it only to hide or disable
//! what would be refused; the server refuses it anyway.

use berth_api::users::Permission;

/// The granted `(resource, action)` pairs of one scope, relative to it (`repository`, `member`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions(Vec<Permission>);

impl Permissions {
    pub fn new(granted: Vec<Permission>) -> Self {
        Permissions(granted)
    }

    /// The given `(resource, action)` pairs, for tests.
    #[cfg(test)]
    pub fn of(pairs: &[(&str, &str)]) -> Self {
        Permissions(
            pairs
                .iter()
                .map(|(resource, action)| Permission {
                    resource: (*resource).to_owned(),
                    action: (*action).to_owned(),
                })
                .collect(),
        )
    }

    /// Whether `action` on `resource` is granted (resource as Harbor's matrix names it, e.g. `artifact`,
    /// `member`, `robot`, `metadata`; `.` is the project itself).
    pub fn can(&self, resource: &str, action: &str) -> bool {
        self.0
            .iter()
            .any(|p| p.resource == resource && p.action == action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_granted_pairs_are_allowed() {
        let perms = Permissions::of(&[("artifact", "read"), ("member", "list"), (".", "delete")]);
        assert!(perms.can("artifact", "read"));
        assert!(perms.can(".", "delete"));
        assert!(!perms.can("artifact", "delete"));
        assert!(!perms.can("read", "artifact"));
        assert!(!Permissions::default().can("artifact", "read"));
    }
}
