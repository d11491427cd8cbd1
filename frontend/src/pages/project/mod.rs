//! A project's page (`/harbor/projects/{id}`): its name, the tab bar (Harbor's tabs and paths) and the tab in
//! view. The page loads the project and what the user may do in it once, and shares both with the tabs as a
//! [`ProjectContext`].
//!
//! Rules (Harbor's portal): a tab is shown only to roles whose permissions list its resource ([`TABS`]); a
//! direct link to a tab the role lacks shows the no-permission page instead of the server's refusal; a
//! project that cannot be read (absent, or private to others) is one "project not found" page, with no tabs.

pub mod artifact;
pub mod artifacts;
pub mod config;
pub mod config_scan;
pub mod config_scanner;
pub mod labels;
pub mod logs;
pub mod members;
pub mod policy;
pub mod repositories;
pub mod retention;
pub mod robots;
pub mod sbom;
pub mod summary;
pub mod vulnerabilities;
pub mod webhooks;

use berth_api::users::Permission;
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::{use_location, use_params_map};

use crate::answers::Project;
use crate::api;
use crate::components::fetch::Fetch;
use crate::components::toast::{error_banner, loading_note};
use crate::pages::not_found::{NoPermission, ProjectNotFound};
use crate::permissions::Permissions;
use crate::title;

/// One tab: its path segment, label, and the `(resource, action)` a role needs to see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tab {
    pub segment: &'static str,
    pub label: &'static str,
    pub needs: (&'static str, &'static str),
}

const fn tab(
    segment: &'static str,
    label: &'static str,
    needs: (&'static str, &'static str),
) -> Tab {
    Tab {
        segment,
        label,
        needs,
    }
}

/// The tabs in Harbor's order, each with the permission Harbor's portal checks before showing it
/// (`project-detail.component.ts`; Berth's matrix names the project configuration `metadata`).
/// Policy holds Tag Retention and Tag Immutability (the same roles may see both).
pub const TABS: [Tab; 9] = [
    tab("summary", "Summary", (".", "read")),
    tab("repositories", "Repositories", ("repository", "list")),
    tab("members", "Members", ("member", "list")),
    tab("labels", "Labels", ("label", "list")),
    tab("tag-strategy", "Policy", ("immutable-tag", "list")),
    tab("robot-account", "Robot Accounts", ("robot", "list")),
    tab("webhook", "Webhooks", ("notification-policy", "list")),
    tab("logs", "Logs", ("log", "list")),
    tab("configs", "Configuration", ("metadata", "read")),
];

/// The tab an address inside a project shows (`/harbor/projects/3/repositories/app/artifacts-tab` → the
/// Repositories tab); `None` for the project's own address.
pub fn tab_of(path: &str) -> Option<&'static Tab> {
    let segment = path
        .trim_start_matches('/')
        .split('/')
        .nth(3)
        .filter(|s| !s.is_empty())?;
    TABS.iter().find(|t| t.segment == segment)
}

/// Whether `permissions` allow the tab at `path` (addresses of no tab are allowed: they redirect or are not
/// found).
pub fn may_open(permissions: &Permissions, path: &str) -> bool {
    tab_of(path).is_none_or(|t| permissions.can(t.needs.0, t.needs.1))
}

/// The project in view and the user's permissions in it, for the tabs (`use_context::<ProjectContext>()`).
#[derive(Debug, Clone, Copy)]
pub struct ProjectContext {
    /// The `{id}` of the address, as typed.
    pub id: Memo<String>,
    /// The project, once loaded (`None` while loading or when it failed; the page shows why).
    pub project: Signal<Option<Project>>,
    /// What the user may do here; empty until known, so actions appear only once allowed.
    pub permissions: Signal<Permissions>,
    /// Bump to make the page load the project again (after a tab changed it).
    pub reload: RwSignal<u32>,
}

impl ProjectContext {
    /// Whether the user may take `action` on `resource` here (see [`Permissions::can`]).
    pub fn can(&self, resource: &str, action: &str) -> bool {
        self.permissions.with(|p| p.can(resource, action))
    }

    /// Whether the project is a proxy cache (nobody pushes to it); `false` until it is loaded.
    pub fn is_proxy(&self) -> bool {
        self.project
            .with(|p| p.as_ref().is_some_and(Project::is_proxy))
    }

    /// The project's name, once loaded (REST paths under `/projects/{project_name}` need it).
    pub fn name(&self) -> Option<String> {
        self.project.with(|p| p.as_ref().map(|p| p.name.clone()))
    }
}

/// The tabs' view of the project page.
pub fn use_project() -> ProjectContext {
    expect_context::<ProjectContext>()
}

#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let reload = RwSignal::new(0_u32);
    let loaded = Fetch::<Project>::with_reload(
        move || Some(format!("/projects/{}", api::encode_component(&id.get()))),
        reload,
    );
    let project = Signal::derive(move || loaded.get().and_then(Result::ok));
    let project_id = Memo::new(move |_| project.with(|p| p.as_ref().map(|p| p.project_id)));
    let granted = Fetch::<Vec<Permission>>::new(move || {
        project_id
            .get()
            .map(|id| format!("/users/current/permissions?scope=/project/{id}&relative=true"))
    });
    let permissions = Signal::derive(move || {
        granted
            .get()
            .and_then(Result::ok)
            .map(Permissions::new)
            .unwrap_or_default()
    });
    provide_context(ProjectContext {
        id,
        project,
        permissions,
        reload,
    });
    if let Some(title) = title::project_title() {
        Effect::new(move |_| {
            title.set_project(project.with(|p| p.as_ref().map(|p| p.name.clone())))
        });
        on_cleanup(move || title.set_project(None));
    }
    // Whether the tab in view may be opened: `None` until the permissions are known.
    let allowed = Memo::new(move |_| {
        granted
            .get()
            .map(|_| permissions.with(|p| may_open(p, &location.pathname.get())))
    });
    let tabs = move || {
        permissions.with(|p| {
            TABS.iter()
                .filter(|t| p.can(t.needs.0, t.needs.1))
                .map(|t| {
                    let segment = t.segment;
                    view! { <A href=move || format!("/harbor/projects/{}/{segment}", id.get())>{t.label}</A> }
                })
                .collect_view()
        })
    };
    let panel = move || match allowed.get() {
        None => loading_note(),
        Some(true) => view! { <Outlet/> }.into_any(),
        Some(false) => view! { <NoPermission/> }.into_any(),
    };
    // The page's shape changes only with the kind of answer, so a reload (after a tab saved a change) keeps
    // the tab in view as it is.
    let state = Memo::new(move |_| match loaded.get() {
        None => Load::Loading,
        Some(Ok(_)) => Load::Loaded,
        // Absent, or private to someone else: the server answers alike, and so does the console.
        Some(Err(e)) if matches!(e.status, 400 | 403 | 404) => Load::NotFound,
        Some(Err(e)) => Load::Failed(e.message),
    });
    let name = move || project.with(|p| p.as_ref().map(|p| p.name.clone()).unwrap_or_default());
    move || {
        match state.get() {
        Load::Loading => loading_note(),
        Load::NotFound => view! { <ProjectNotFound/> }.into_any(),
        Load::Failed(message) => view! {
            <section class="page">
                <nav class="breadcrumb" aria-label="Breadcrumb"><A href="/harbor/projects">"Projects"</A></nav>
                <h1>"Project"</h1>
                {error_banner(message)}
            </section>
        }
        .into_any(),
        Load::Loaded => view! {
            <section class="page">
                <nav class="breadcrumb" aria-label="Breadcrumb"><A href="/harbor/projects">"Projects"</A></nav>
                <h1>{name}</h1>
                <nav class="tabs" aria-label="Project">{tabs}</nav>
                <div class="tab-panel">{panel}</div>
            </section>
        }
        .into_any(),
    }
    }
}

/// How far loading the project got.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Load {
    Loading,
    Loaded,
    NotFound,
    Failed(String),
}

/// `/harbor/projects/{id}` opens the Summary tab, as Harbor's portal does with its first tab.
#[component]
pub fn ToSummary() -> impl IntoView {
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
    view! { <Redirect path=format!("/harbor/projects/{id}/summary")/> }
}

/// What a tab not built yet shows.
pub fn coming(what: &'static str) -> impl IntoView {
    view! { <p class="empty">{what} " will be shown here in a later version of the console."</p> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_name_their_tab() {
        assert_eq!(
            tab_of("/harbor/projects/3/logs").map(|t| t.label),
            Some("Logs")
        );
        assert_eq!(
            tab_of("/harbor/projects/3/repositories/a%2Fb/artifacts-tab").map(|t| t.segment),
            Some("repositories")
        );
        assert_eq!(tab_of("/harbor/projects/3"), None);
        assert_eq!(tab_of("/harbor/projects/3/"), None);
        assert_eq!(tab_of("/harbor/projects/3/nothing"), None);
    }

    #[test]
    fn a_guest_may_not_open_the_log() {
        // What the server grants a Guest (docs/reference/harbor-rbac.md), in part.
        let guest = Permissions::of(&[
            (".", "read"),
            ("repository", "list"),
            ("member", "list"),
            ("robot", "list"),
            ("metadata", "read"),
        ]);
        assert!(may_open(&guest, "/harbor/projects/3/members"));
        assert!(may_open(&guest, "/harbor/projects/3/configs"));
        assert!(!may_open(&guest, "/harbor/projects/3/logs"));
        assert!(may_open(&guest, "/harbor/projects/3"));
        assert!(!may_open(
            &Permissions::default(),
            "/harbor/projects/3/summary"
        ));
        let visible: Vec<&str> = TABS
            .iter()
            .filter(|t| guest.can(t.needs.0, t.needs.1))
            .map(|t| t.label)
            .collect();
        assert_eq!(
            visible,
            [
                "Summary",
                "Repositories",
                "Members",
                "Robot Accounts",
                "Configuration"
            ]
        );
    }
}
