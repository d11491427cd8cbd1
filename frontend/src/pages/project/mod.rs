//! A project's page (`/harbor/projects/{id}`): its name, the tab bar (Harbor's tabs and paths) and the tab in
//! view. The page loads the project and what the user may do in it once, and shares both with the tabs as a
//! [`ProjectContext`].

pub mod artifact;
pub mod artifacts;
pub mod config;
pub mod logs;
pub mod members;
pub mod repositories;
pub mod robots;
pub mod summary;

use berth_api::projects::Project;
use berth_api::users::Permission;
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::components::fetch::Fetch;
use crate::permissions::Permissions;

/// The tabs, as `(path segment, label)`, in Harbor's order.
pub const TABS: [(&str, &str); 6] = [
    ("summary", "Summary"),
    ("repositories", "Repositories"),
    ("members", "Members"),
    ("robot-account", "Robot Accounts"),
    ("logs", "Logs"),
    ("configs", "Configuration"),
];

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
    let title = move || match loaded.get() {
        Some(Ok(p)) => p.name,
        Some(Err(_)) => "Project".to_owned(),
        None => "…".to_owned(),
    };
    view! {
        <section class="page">
            <nav class="breadcrumb" aria-label="Breadcrumb"><A href="/harbor/projects">"Projects"</A></nav>
            <h1>{title}</h1>
            {move || match loaded.get() {
                Some(Err(e)) => Some(view! { <div class="banner banner-error" role="alert">{e.message}</div> }),
                _ => None,
            }}
            <nav class="tabs" aria-label="Project">
                {TABS
                    .iter()
                    .map(|(segment, label)| {
                        view! { <A href=move || format!("/harbor/projects/{}/{segment}", id.get())>{*label}</A> }
                    })
                    .collect_view()}
            </nav>
            <div class="tab-panel">
                <Outlet/>
            </div>
        </section>
    }
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
