//! The document's title: `<Page> - <Project> - Berth` inside a project and `<Page> - Berth` elsewhere, as
//! Harbor's browser tabs read, so a user with many tabs open tells them apart.
//!
//! The page comes from the address ([`page_of`]) unless a page that shows something else in its place (no
//! permission, not found) says so with [`show_instead`]; the project's name comes from the project page once it
//! has loaded the project ([`Title::set_project`]).

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::pages::project::artifacts::repository_from_param;

/// What the title is made of besides the address, shared as a context.
#[derive(Debug, Clone, Copy)]
pub struct Title {
    instead: RwSignal<Option<&'static str>>,
    project: RwSignal<Option<String>>,
}

impl Title {
    /// Names the project in view (`None`: none, or not found), until the project page goes away.
    pub fn set_project(&self, name: Option<String>) {
        self.project.set(name);
    }
}

/// Shares the title's parts and keeps `document.title` in step with them and the address; call inside the
/// router.
pub fn provide() {
    let title = Title {
        instead: RwSignal::new(None),
        project: RwSignal::new(None),
    };
    provide_context(title);
    let location = use_location();
    Effect::new(move |_| {
        let path = location.pathname.get();
        let page = title
            .instead
            .get()
            .map(str::to_owned)
            .or_else(|| page_of(&path));
        let project = title
            .project
            .get()
            .filter(|_| path.starts_with("/harbor/projects/"));
        let text = document_title(page.as_deref(), project.as_deref());
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&text);
        }
    });
}

fn use_title() -> Option<Title> {
    use_context::<Title>()
}

/// Puts `page` in the title while the calling component is shown (a page shown in place of another).
pub fn show_instead(page: &'static str) {
    if let Some(title) = use_title() {
        title.instead.set(Some(page));
        on_cleanup(move || title.instead.set(None));
    }
}

/// The shared title, for the project page.
pub fn project_title() -> Option<Title> {
    use_title()
}

/// `<Page> - <Project> - Berth`, leaving out what is unknown.
pub fn document_title(page: Option<&str>, project: Option<&str>) -> String {
    page.into_iter()
        .chain(project)
        .filter(|part| !part.is_empty())
        .chain(["Berth"])
        .collect::<Vec<_>>()
        .join(" - ")
}

/// The page an address shows, as its heading or tab names it; `None` for an address the console does not know.
pub fn page_of(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let name = match segments.as_slice() {
        ["account" | "harbor", "sign-in"] => "Sign In",
        ["oidc-onboard"] => "Onboarding",
        ["harbor", "projects"] => "Projects",
        ["harbor", "projects", _] | ["harbor", "projects", _, "summary"] => "Summary",
        ["harbor", "projects", _, "repositories"] => "Repositories",
        [
            "harbor",
            "projects",
            _,
            "repositories",
            repository,
            "artifacts-tab",
            ..,
        ] => {
            let repository = repository_from_param(repository);
            return Some(match segments.get(7) {
                Some(digest) => format!("{} - {repository}", short_digest(digest)),
                None => repository,
            });
        }
        ["harbor", "projects", _, "members"] => "Members",
        ["harbor", "projects", _, "labels"] => "Labels",
        ["harbor", "projects", _, "tag-strategy"] => "Policy",
        ["harbor", "projects", _, "robot-account"] => "Robot Accounts",
        ["harbor", "projects", _, "webhook"] => "Webhooks",
        ["harbor", "projects", _, "logs"] => "Logs",
        ["harbor", "projects", _, "configs"] => "Configuration",
        ["harbor", "search"] => "Search",
        ["harbor", "users"] => "Users",
        ["harbor", "groups"] => "Groups",
        ["harbor", "robot-accounts"] => "Robot Accounts",
        ["harbor", "registries"] => "Registries",
        ["harbor", "replications"] => "Replications",
        ["harbor", "labels"] => "Labels",
        ["harbor", "logs"] => "Audit Log",
        ["harbor", "interrogation-services", ..] => "Interrogation Services",
        ["harbor", "clean-up", ..] => "Clean Up",
        ["harbor", "job-service-dashboard", ..] => "Job Service Dashboard",
        ["harbor", "configs"] => "Configuration",
        ["harbor", "configs", "auth"] => "Authentication - Configuration",
        ["harbor", "configs", "setting"] => "System - Configuration",
        _ => return None,
    };
    Some(name.to_owned())
}

/// `sha256:0123456789ab` of a digest, as lists show it.
fn short_digest(digest: &str) -> String {
    let digest = repository_from_param(digest);
    match digest.split_once(':') {
        Some((algorithm, hex)) => format!("{algorithm}:{}", hex.get(..12).unwrap_or(hex)),
        None => digest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_name_the_page_then_the_project() {
        assert_eq!(
            document_title(Some("Members"), Some("library")),
            "Members - library - Berth"
        );
        assert_eq!(document_title(Some("Users"), None), "Users - Berth");
        assert_eq!(document_title(None, None), "Berth");
        assert_eq!(document_title(Some(""), Some("library")), "library - Berth");
    }

    #[test]
    fn each_address_names_its_page() {
        let cases = [
            ("/account/sign-in", Some("Sign In")),
            ("/harbor/projects", Some("Projects")),
            ("/harbor/projects/3", Some("Summary")),
            ("/harbor/projects/3/summary", Some("Summary")),
            ("/harbor/projects/3/repositories", Some("Repositories")),
            (
                "/harbor/projects/3/repositories/tools%2Fcli/artifacts-tab",
                Some("tools/cli"),
            ),
            (
                "/harbor/projects/3/repositories/app/artifacts-tab/artifacts/sha256:0123456789abcdef",
                Some("sha256:0123456789ab - app"),
            ),
            ("/harbor/projects/3/tag-strategy", Some("Policy")),
            ("/harbor/projects/3/robot-account", Some("Robot Accounts")),
            ("/harbor/projects/3/webhook", Some("Webhooks")),
            ("/harbor/projects/3/labels", Some("Labels")),
            ("/harbor/labels", Some("Labels")),
            ("/harbor/replications", Some("Replications")),
            ("/harbor/search", Some("Search")),
            ("/harbor/projects/3/configs", Some("Configuration")),
            ("/harbor/logs", Some("Audit Log")),
            ("/harbor/clean-up/gc", Some("Clean Up")),
            (
                "/harbor/interrogation-services/vulnerability",
                Some("Interrogation Services"),
            ),
            (
                "/harbor/job-service-dashboard/workers",
                Some("Job Service Dashboard"),
            ),
            ("/harbor/configs/setting", Some("System - Configuration")),
            ("/harbor/nothing", None),
            ("/", None),
        ];
        for (path, page) in cases {
            assert_eq!(page_of(path).as_deref(), page, "{path}");
        }
    }
}
