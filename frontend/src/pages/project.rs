//! A project's page (`/harbor/projects/{id}`): its name and the tab bar (Harbor's tabs and paths). The tabs'
//! contents come in a later phase of the console.

use berth_api::projects::Project;
use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_params_map;

use crate::api;

/// The tabs, as `(path segment, label)`, in Harbor's order.
pub const TABS: [(&str, &str); 6] = [
    ("summary", "Summary"),
    ("repositories", "Repositories"),
    ("members", "Members"),
    ("robot-account", "Robot Accounts"),
    ("logs", "Logs"),
    ("configs", "Configuration"),
];

#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let project = LocalResource::new(move || {
        let id = id.get();
        async move { api::get::<Project>(&format!("/projects/{}", api::encode_component(&id))).await }
    });
    let title = move || match project.get() {
        Some(Ok(p)) => p.name,
        Some(Err(_)) => "Project".to_owned(),
        None => "…".to_owned(),
    };
    view! {
        <section class="page">
            <nav class="breadcrumb" aria-label="Breadcrumb"><A href="/harbor/projects">"Projects"</A></nav>
            <h1>{title}</h1>
            {move || match project.get() {
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

fn coming(what: &'static str) -> impl IntoView {
    view! { <p class="empty">{what} " will be shown here in a later version of the console."</p> }
}

#[component]
pub fn SummaryTab() -> impl IntoView {
    coming("The project's quota, counts and pulls")
}

#[component]
pub fn RepositoriesTab() -> impl IntoView {
    coming("Repositories")
}

#[component]
pub fn MembersTab() -> impl IntoView {
    coming("Members")
}

#[component]
pub fn RobotsTab() -> impl IntoView {
    coming("Robot accounts")
}

#[component]
pub fn LogsTab() -> impl IntoView {
    coming("The project's audit log")
}

#[component]
pub fn ConfigTab() -> impl IntoView {
    coming("The project's configuration")
}
