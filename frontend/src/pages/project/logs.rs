//! The project's Logs tab: the project's audit-log entries (`GET /projects/{project_name}/logs`), for its
//! project admins and system administrators (`log`/`list`); the project page hides the tab from everyone
//! else and shows them the no-permission page at its address.

use leptos::prelude::*;

use crate::api;
use crate::components::audit_log::AuditLog;
use crate::components::toast::loading_note;

/// The API path of a project's log.
pub fn project_logs_path(project_name: &str) -> String {
    format!("/projects/{}/logs", api::encode_component(project_name))
}

#[component]
pub fn LogsTab() -> impl IntoView {
    let project = super::use_project();
    let name = Memo::new(move |_| project.name());
    move || match name.get() {
        None => loading_note(),
        Some(name) => view! { <AuditLog path=project_logs_path(&name)/> }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_under_the_project_name() {
        assert_eq!(project_logs_path("team-1"), "/projects/team-1/logs");
        assert_eq!(project_logs_path("a b"), "/projects/a%20b/logs");
    }
}
