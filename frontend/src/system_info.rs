//! What the console knows about the installation, from `GET /systeminfo`: read once when a signed-in page
//! opens (and again after the System settings change), shared by every page as a context.
//!
//! Rule: read defensively. The answer is kept as JSON and each field is read on its own, so a field that is
//! missing or of another type (an older or newer server) gives the safe default instead of failing the whole
//! answer: not read-only, auth mode unknown, project creation open to everyone.

use leptos::prelude::*;
use serde_json::Value;

use crate::components::fetch::Fetch;

/// Harbor's auth mode where users and groups live in Berth's own database.
pub const DB_AUTH: &str = "db_auth";
/// Harbor's `project_creation_restriction` that leaves project creation to system administrators.
pub const ADMIN_ONLY: &str = "adminonly";

/// `GET /systeminfo`, shared.
#[derive(Clone, Copy)]
pub struct SystemInfo(Fetch<Value>);

impl SystemInfo {
    /// The installation's auth mode (`db_auth`, `ldap_auth`, `oidc_auth`), once known.
    pub fn auth_mode(&self) -> Option<String> {
        self.0.ok().as_ref().and_then(auth_mode)
    }

    /// Whether the registry is in read-only mode.
    pub fn read_only(&self) -> bool {
        self.0.ok().as_ref().is_some_and(read_only)
    }

    /// Whether only system administrators may create projects.
    pub fn admin_only_creation(&self) -> bool {
        self.0.ok().as_ref().is_some_and(admin_only_creation)
    }

    /// Asks the server again (after a setting changed).
    pub fn refetch(&self) {
        self.0.refetch();
    }
}

/// Starts reading `/systeminfo` and shares it with the pages below.
pub fn provide() -> SystemInfo {
    let info = SystemInfo(Fetch::at("/systeminfo"));
    provide_context(info);
    info
}

/// The shared system information (read here if no page above shares it).
pub fn use_system_info() -> SystemInfo {
    use_context::<SystemInfo>().unwrap_or_else(provide)
}

/// `auth_mode` of a `/systeminfo` answer.
pub fn auth_mode(info: &Value) -> Option<String> {
    info.get("auth_mode")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// `read_only` of a `/systeminfo` answer: `true` (or the text `"true"`); anything else is not read-only.
pub fn read_only(info: &Value) -> bool {
    match info.get("read_only") {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::String(text)) => text.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Whether `project_creation_restriction` of a `/systeminfo` answer is `adminonly`.
pub fn admin_only_creation(info: &Value) -> bool {
    info.get("project_creation_restriction")
        .and_then(Value::as_str)
        .is_some_and(|r| r == ADMIN_ONLY)
}

/// Whether Administration → Groups applies: groups come from LDAP or the OIDC provider, not in database
/// auth mode (Harbor's navigation hides Groups there too). Unknown mode: hidden until known.
pub fn has_groups(auth_mode: Option<&str>) -> bool {
    auth_mode.is_some_and(|mode| mode != DB_AUTH)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn read_only_is_read_defensively() {
        assert!(read_only(&json!({"read_only": true})));
        assert!(read_only(&json!({"read_only": "true"})));
        assert!(!read_only(&json!({"read_only": false})));
        assert!(!read_only(&json!({"read_only": 1})));
        assert!(!read_only(&json!({})));
        assert!(!read_only(&json!(null)));
    }

    #[test]
    fn settings_are_read_one_by_one() {
        let info = json!({"auth_mode": "ldap_auth", "project_creation_restriction": "adminonly",
                          "read_only": "nonsense"});
        assert_eq!(auth_mode(&info).as_deref(), Some("ldap_auth"));
        assert!(admin_only_creation(&info));
        assert!(!read_only(&info));
        let old = json!({"auth_mode": 3, "project_creation_restriction": "everyone"});
        assert_eq!(auth_mode(&old), None);
        assert!(!admin_only_creation(&old));
    }

    #[test]
    fn groups_belong_to_directories() {
        assert!(!has_groups(Some("db_auth")));
        assert!(has_groups(Some("ldap_auth")));
        assert!(has_groups(Some("oidc_auth")));
        assert!(!has_groups(None));
    }
}
