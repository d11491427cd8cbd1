//! The routes (Harbor's portal paths, so Harbor users and their bookmarks feel at home) and the app shell:
//! top bar with the user menu and theme switch, left navigation, the read-only banner, and the page in the
//! middle.
//!
//! Rules: administration pages are for system administrators; anyone else who follows a link to one gets
//! the no-permission page (the server refuses them anyway). Groups are listed only where groups come from a
//! directory (not in database auth mode), as in Harbor.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Outlet, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::{Lazy, LazyRoute, lazy_route, path};

use crate::api;
use crate::auth::{self, CurrentUser, SIGN_IN_PATH};
use crate::components::dialog::{Dialog, FormDialog, FormStatus};
use crate::components::toast::{self, ErrorBanner, ToastArea, loading_note};
use crate::components::when::When;
use crate::pages::not_found::NoPermission;
use crate::pages::profile::UserProfileDialog;
use crate::pages::{admin, not_found, project, projects, search, sign_in};
use crate::system_info::{self, SystemInfo};
use crate::theme::{self, Theme};
use crate::title;

/// Harbor's read-only banner (`REPO_READ_ONLY`), in Berth's words.
pub const READ_ONLY_NOTICE: &str = "Berth is set to read-only mode: pushing images and deleting repositories, \
    artifacts and tags are refused until an administrator turns it off.";

/// The whole console.
#[component]
pub fn App() -> impl IntoView {
    theme::provide();
    toast::provide();
    auth::provide();
    view! {
        <Router>
            <DocumentTitle/>
            <Routes fallback=|| view! { <not_found::NotFound/> }>
                <Route path=path!("/") view=page(|| view! { <Redirect path=auth::HOME_PATH/> }.into_any())/>
                <Route path=path!("/account/sign-in") view=page(|| view! { <sign_in::SignIn/> }.into_any())/>
                <Route path=path!("/harbor/sign-in") view=page(|| view! { <sign_in::SignIn/> }.into_any())/>
                <Route path=path!("/oidc-onboard") view=page(|| view! { <sign_in::OidcOnboard/> }.into_any())/>
                <ParentRoute path=path!("/harbor") view=page(|| view! { <Shell/> }.into_any())>
                    <Route path=path!("") view=page(|| view! { <Redirect path=auth::HOME_PATH/> }.into_any())/>
                    <Route path=path!("projects") view=page(|| view! { <projects::ProjectsPage/> }.into_any())/>
                    <ParentRoute path=path!("projects/:id")
                        view=page(|| view! { <project::ProjectPage/> }.into_any())>
                        <Route path=path!("") view=page(|| view! { <project::ToSummary/> }.into_any())/>
                        <Route path=path!("summary") view=page(|| view! { <project::summary::SummaryTab/> }.into_any())/>
                        <Route path=path!("repositories")
                            view=page(|| view! { <project::repositories::RepositoriesTab/> }.into_any())/>
                        <Route path=path!("repositories/:repo/artifacts-tab")
                            view=page(|| view! { <project::artifacts::ArtifactsPage/> }.into_any())/>
                        <Route path=path!("repositories/:repo/artifacts-tab/artifacts/:digest")
                            view=page(|| view! { <project::artifact::ArtifactPage/> }.into_any())/>
                        <Route path=path!("members") view=page(|| view! { <project::members::MembersTab/> }.into_any())/>
                        <Route path=path!("labels") view={Lazy::<ProjectLabelsRoute>::new()}/>
                        <Route path=path!("tag-strategy")
                            view={Lazy::<PolicyRoute>::new()}/>
                        <Route path=path!("robot-account")
                            view=page(|| view! { <project::robots::RobotsTab/> }.into_any())/>
                        <Route path=path!("webhook") view={Lazy::<WebhooksRoute>::new()}/>
                        <Route path=path!("logs") view=page(|| view! { <project::logs::LogsTab/> }.into_any())/>
                        <Route path=path!("configs") view={Lazy::<ProjectConfigRoute>::new()}/>
                    </ParentRoute>
                    <Route path=path!("search") view={Lazy::<SearchRoute>::new()}/>
                    <Route path=path!("users") view={Lazy::<UsersRoute>::new()}/>
                    <Route path=path!("groups") view={Lazy::<GroupsRoute>::new()}/>
                    <Route path=path!("robot-accounts")
                        view={Lazy::<RobotsRoute>::new()}/>
                    <Route path=path!("registries") view={Lazy::<RegistriesRoute>::new()}/>
                    <Route path=path!("replications") view={Lazy::<ReplicationsRoute>::new()}/>
                    <Route path=path!("labels") view={Lazy::<LabelsRoute>::new()}/>
                    <ParentRoute path=path!("interrogation-services")
                        view=page(|| view! {
                            <AdminOnly><admin::vulnerability::InterrogationServicesPage/></AdminOnly>
                        }.into_any())>
                        <Route path=path!("")
                            view=page(|| view! { <Redirect path="/harbor/interrogation-services/scanners"/> }.into_any())/>
                        <Route path=path!("security-hub") view={Lazy::<SecurityHubRoute>::new()}/>
                        <Route path=path!("scanners") view={Lazy::<ScannersRoute>::new()}/>
                        <Route path=path!("vulnerability") view={Lazy::<VulnerabilityRoute>::new()}/>
                    </ParentRoute>
                    <Route path=path!("logs") view={Lazy::<AuditLogRoute>::new()}/>
                    <ParentRoute path=path!("clean-up")
                        view=page(|| view! { <AdminOnly><admin::cleanup::CleanUpPage/></AdminOnly> }.into_any())>
                        <Route path=path!("") view=page(|| view! { <Redirect path="/harbor/clean-up/gc"/> }.into_any())/>
                        <Route path=path!("gc") view={Lazy::<GcRoute>::new()}/>
                        <Route path=path!("log-rotation")
                            view={Lazy::<LogRotationRoute>::new()}/>
                    </ParentRoute>
                    <ParentRoute path=path!("job-service-dashboard")
                        view=page(|| view! { <AdminOnly><admin::jobs::JobServicePage/></AdminOnly> }.into_any())>
                        <Route path=path!("")
                            view=page(|| view! { <Redirect path="/harbor/job-service-dashboard/pending-jobs"/> }.into_any())/>
                        <Route path=path!("pending-jobs") view={Lazy::<JobQueuesRoute>::new()}/>
                        <Route path=path!("schedules") view={Lazy::<SchedulesRoute>::new()}/>
                        <Route path=path!("workers") view={Lazy::<WorkersRoute>::new()}/>
                    </ParentRoute>
                    <ParentRoute path=path!("configs")
                        view={Lazy::<ConfigRoute>::new()}>
                        <Route path=path!("")
                            view=page(|| view! { <Redirect path="/harbor/configs/auth"/> }.into_any())/>
                        <Route path=path!("auth") view={Lazy::<AuthConfigRoute>::new()}/>
                        <Route path=path!("setting") view={Lazy::<SystemRoute>::new()}/>
                    </ParentRoute>
                </ParentRoute>
            </Routes>
            <ToastArea/>
        </Router>
    }
}

/// A route's view. Every route's view has this one type (a plain function returning an erased view), so the
/// router's per-route code (choosing and matching, its futures) is instantiated once for all routes instead of
/// once per page (docs/benchmarks.md, "Console").
type PageFn = fn() -> AnyView;

/// A route's view as a [`PageFn`].
fn page(view: PageFn) -> PageFn {
    view
}

/// Defines a lazily loaded route: its page's code is a WASM module of its own (scripts/build-console.sh splits
/// it off), which the browser fetches the first time the route is visited, so the first load stays within the
/// size budget (docs/benchmarks.md, "Console").
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $view:expr) => {
        $(#[$doc])*
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                $view
            }
        }
    };
}

lazy_page!(
    /// The results of the top bar's search box.
    SearchRoute => view! { <search::SearchPage/> }.into_any()
);
lazy_page!(
    /// Administration → Users.
    UsersRoute => view! { <AdminOnly><admin::users::UsersPage/></AdminOnly> }.into_any()
);
lazy_page!(
    /// Administration → Groups.
    GroupsRoute => view! { <AdminOnly><admin::groups::GroupsPage/></AdminOnly> }.into_any()
);
lazy_page!(
    /// Administration → Robot Accounts.
    RobotsRoute => view! { <AdminOnly><admin::robots::RobotsPage/></AdminOnly> }.into_any()
);
lazy_page!(
    /// Administration → Audit Log.
    AuditLogRoute => view! { <AdminOnly><admin::logs::AuditLogPage/></AdminOnly> }.into_any()
);
lazy_page!(
    /// Administration → Configuration (its tabs are lazy routes of their own).
    ConfigRoute => view! { <AdminOnly><admin::config::ConfigPage/></AdminOnly> }.into_any()
);
lazy_page!(
    /// Administration → Configuration → Authentication.
    AuthConfigRoute => view! { <admin::auth_config::AuthConfigTab/> }.into_any()
);
lazy_page!(
    /// Administration → Configuration → System Settings.
    SystemRoute => view! { <admin::system::SystemPage/> }.into_any()
);
lazy_page!(
    /// Administration → Registries.
    RegistriesRoute => view! { <AdminOnly><admin::registries::RegistriesPage/></AdminOnly> }.into_any()
);
lazy_page!(
    /// Administration → Replications.
    ReplicationsRoute => view! { <AdminOnly><admin::replications::ReplicationsPage/></AdminOnly> }.into_any()
);
lazy_page!(
    /// Administration → Interrogation Services → Scanners (the parent route checks the caller is an admin).
    ScannersRoute => view! { <admin::scanners::ScannersPage/> }.into_any()
);
lazy_page!(
    /// Administration → Interrogation Services → Vulnerability: scan-all and the vulnerability database.
    VulnerabilityRoute => view! { <admin::vulnerability::VulnerabilityTab/> }.into_any()
);
lazy_page!(
    /// Administration → Interrogation Services → Security Hub (the parent route checks the caller is an admin).
    SecurityHubRoute => view! { <admin::security_hub::SecurityHubPage/> }.into_any()
);
lazy_page!(
    /// Administration → Clean Up → Garbage Collection (the parent route checks the caller is an admin).
    GcRoute => view! { <admin::cleanup::GcTab/> }.into_any()
);
lazy_page!(
    /// Administration → Clean Up → Log Rotation.
    LogRotationRoute => view! { <admin::cleanup::LogRotationTab/> }.into_any()
);
lazy_page!(
    /// Administration → Job Service Dashboard → Job Queues.
    JobQueuesRoute => view! { <admin::jobs::QueuesTab/> }.into_any()
);
lazy_page!(
    /// Administration → Job Service Dashboard → Schedules.
    SchedulesRoute => view! { <admin::jobs::SchedulesTab/> }.into_any()
);
lazy_page!(
    /// Administration → Job Service Dashboard → Workers.
    WorkersRoute => view! { <admin::jobs::WorkersTab/> }.into_any()
);
lazy_page!(
    /// A project's Configuration tab (with its vulnerability settings and CVE allowlist).
    ProjectConfigRoute => view! { <project::config::ConfigTab/> }.into_any()
);
lazy_page!(
    /// A project's Webhooks tab.
    WebhooksRoute => view! { <project::webhooks::WebhooksTab/> }.into_any()
);
lazy_page!(
    /// Administration → Labels (the global labels).
    LabelsRoute => view! { <AdminOnly><admin::labels::LabelsPage/></AdminOnly> }.into_any()
);
lazy_page!(
    /// A project's Labels tab.
    ProjectLabelsRoute => view! { <project::labels::LabelsTab/> }.into_any()
);
lazy_page!(
    /// A project's Policy tab: Tag Retention and Tag Immutability.
    PolicyRoute => view! { <project::policy::PolicyTab/> }.into_any()
);

/// Keeps the document's title in step with the page (see [`title`]).
#[component]
fn DocumentTitle() -> impl IntoView {
    title::provide();
}

/// An administration page: shown to system administrators, the no-permission page to anyone else.
#[component]
fn AdminOnly(children: ChildrenFn) -> impl IntoView {
    let user = auth::use_current_user();
    view! {
        <When when=move || user.is_sysadmin() fallback=|| view! { <NoPermission/> }>
            {children()}
        </When>
    }
}

/// Pages for signed-in users: loads who is signed in (or goes to sign-in), then shows the layout around the
/// page. Any 401 from the API later sends the user back to sign-in, returning here afterwards.
#[component]
fn Shell() -> impl IntoView {
    let user = auth::use_current_user();
    let info = system_info::provide();
    let navigate = use_navigate();
    let location = use_location();
    let to_sign_in = move || {
        let here = format!(
            "{}{}",
            location.pathname.get_untracked(),
            location.search.get_untracked()
        );
        user.0.set(None);
        navigate(&auth::sign_in_url(&here), Default::default());
    };
    api::on_unauthorized(to_sign_in.clone());
    let failure = RwSignal::new(None::<String>);
    spawn_local(async move {
        match api::current_user().await {
            Ok(me) => user.0.set(Some(me)),
            // The 401 handler has gone to sign-in already.
            Err(e) if e.is_unauthorized() => {}
            Err(e) => failure.set(Some(e.message)),
        }
    });
    view! {
        <When
            when=move || user.0.with(|u| u.is_some())
            fallback=move || view! {
                <div class="boot">
                    <ErrorBanner error=failure/>
                    <When when=move || failure.with(|f| f.is_none())>{loading_note()}</When>
                </div>
            }
        >
            <div class="shell">
                <a class="skip-link" href="#main">"Skip to content"</a>
                <TopBar user=user info=info/>
                <div class="shell-body">
                    <SideNav user=user info=info/>
                    <main class="content" id="main" tabindex="-1">
                        <When when=move || info.read_only()>
                            <div class="banner banner-warning read-only-banner" role="status"
                                data-testid="read-only-banner">
                                {READ_ONLY_NOTICE}
                            </div>
                        </When>
                        <Outlet/>
                    </main>
                </div>
            </div>
        </When>
    }
}

#[component]
fn SideNav(user: CurrentUser, info: SystemInfo) -> impl IntoView {
    let groups = move || system_info::has_groups(info.auth_mode().as_deref());
    view! {
        <nav class="sidenav" aria-label="Main">
            <A href="/harbor/projects">"Projects"</A>
            <When when=move || user.is_sysadmin()>
                <div class="nav-group" role="group" aria-labelledby="nav-admin">
                    <h2 id="nav-admin" class="nav-group-title">"Administration"</h2>
                    <A href="/harbor/users">"Users"</A>
                    <When when=groups><A href="/harbor/groups">"Groups"</A></When>
                    <A href="/harbor/robot-accounts">"Robot Accounts"</A>
                    <A href="/harbor/registries">"Registries"</A>
                    <A href="/harbor/replications">"Replications"</A>
                    <A href="/harbor/labels">"Labels"</A>
                    <A href="/harbor/interrogation-services">"Interrogation Services"</A>
                    <A href="/harbor/logs">"Audit Log"</A>
                    <A href="/harbor/clean-up">"Clean Up"</A>
                    <A href="/harbor/job-service-dashboard">"Job Service Dashboard"</A>
                    <A href="/harbor/configs">"Configuration"</A>
                </div>
            </When>
        </nav>
    }
}

#[component]
fn TopBar(user: CurrentUser, info: SystemInfo) -> impl IntoView {
    let theme = use_context::<RwSignal<Theme>>().unwrap_or_else(theme::provide);
    let menu_open = RwSignal::new(false);
    let password_open = RwSignal::new(false);
    let profile_open = RwSignal::new(false);
    let about_open = RwSignal::new(false);
    let navigate = use_navigate();
    let toasts = toast::use_toasts();
    let sign_out = move |_| {
        menu_open.set(false);
        let navigate = navigate.clone();
        spawn_local(async move {
            if let Err(e) = api::sign_out().await {
                toasts.error(e.message);
            }
            user.0.set(None);
            navigate(SIGN_IN_PATH, Default::default());
        });
    };
    let username = move || {
        user.0
            .with(|u| u.as_ref().map(|u| u.username.clone()).unwrap_or_default())
    };
    let has_password = move || has_local_password(info.auth_mode().as_deref(), &username());
    view! {
        <header class="topbar">
            <A href="/harbor/projects" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"⚓"</span>
                " Berth"
            </A>
            <SearchBox/>
            <div class="topbar-actions">
                <button type="button" class="topbar-button" data-testid="theme-toggle"
                    aria-label=move || format!("Switch to {} theme", theme.get().other().as_str())
                    on:click=move |_| theme.update(|t| *t = t.other())>
                    {move || if theme.get() == Theme::Dark { "☀ Light" } else { "☾ Dark" }}
                </button>
                <div class="user-menu" on:keydown=move |ev| if ev.key() == "Escape" { menu_open.set(false) }>
                    <button type="button" class="topbar-button" aria-haspopup="menu"
                        aria-expanded=move || menu_open.get().to_string()
                        on:click=move |_| menu_open.update(|o| *o = !*o)>
                        {username} " ▾"
                    </button>
                    <When when=move || menu_open.get()>
                        // A click anywhere outside the menu closes it.
                        <div class="menu-backdrop" on:click=move |_| menu_open.set(false)></div>
                        <div class="menu" role="menu">
                            <button type="button" role="menuitem"
                                on:click=move |_| { menu_open.set(false); profile_open.set(true) }>
                                "User Profile"
                            </button>
                            <When when=has_password>
                                <button type="button" role="menuitem"
                                    on:click=move |_| { menu_open.set(false); password_open.set(true) }>
                                    "Change Password"
                                </button>
                            </When>
                            <button type="button" role="menuitem"
                                on:click=move |_| { menu_open.set(false); about_open.set(true) }>
                                "About"
                            </button>
                            <button type="button" role="menuitem" on:click=sign_out.clone()>"Log Out"</button>
                        </div>
                    </When>
                </div>
            </div>
        </header>
        <UserProfileDialog open=profile_open user=user/>
        <ChangePasswordDialog open=password_open user=user/>
        <Dialog open=about_open title="About Berth">
            <div class="dialog-body">
                <p>"Berth " {env!("CARGO_PKG_VERSION")}</p>
                <p>"A multitenant container registry with Harbor's REST API v2.0, in one binary."</p>
            </div>
            <footer class="dialog-footer">
                <button type="button" on:click=move |_| about_open.set(false)>"Close"</button>
            </footer>
        </Dialog>
    }
}

/// Harbor's global search box: projects, repositories, digests and labels; Enter shows the results page.
#[component]
fn SearchBox() -> impl IntoView {
    let term = RwSignal::new(String::new());
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = term.get_untracked();
        if !typed.trim().is_empty() {
            navigate(&search::results_href(&typed), Default::default());
        }
    };
    view! {
        <form class="topbar-search" role="search" on:submit=submit>
            <input type="search" aria-label="Search Berth" data-testid="global-search"
                placeholder="Search projects, repositories, digests, labels"
                maxlength=search::MAX_TERM.to_string()
                prop:value=move || term.get()
                on:input=move |ev| term.set(event_target_value(&ev))/>
        </form>
    }
}

#[component]
fn ChangePasswordDialog(open: RwSignal<bool>, user: CurrentUser) -> impl IntoView {
    let old = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let status = FormStatus::new();
    let toasts = toast::use_toasts();
    Effect::new(move |_| {
        if open.get() {
            old.set(String::new());
            new.set(String::new());
            confirm.set(String::new());
            status.error.set(None);
        }
    });
    let submit = Callback::new(move |()| {
        let (old, new) = (old.get_untracked(), new.get_untracked());
        let checked = check_current_password(&old)
            .and_then(|()| check_new_password(&new, &confirm.get_untracked()));
        if let Err(message) = checked {
            return status.fail(message);
        }
        let Some(id) = user.0.with_untracked(|u| u.as_ref().map(|u| u.user_id)) else {
            return;
        };
        status.send(
            Box::pin(async move { api::change_password(id, &old, &new).await }),
            Box::new(move |()| {
                open.set(false);
                toasts.success("Password changed");
            }),
        );
    });
    view! {
        <FormDialog open=open title="Change Password" status=status on_submit=submit>
            <label for="pw-old">"Current password"</label>
            <input id="pw-old" type="password" autocomplete="current-password" required bind:value=old/>
            <label for="pw-new">"New password"</label>
            <input id="pw-new" type="password" autocomplete="new-password" required bind:value=new/>
            <p class="hint">"At least 8 characters, with an upper-case letter, a lower-case letter and a digit."</p>
            <label for="pw-confirm">"Confirm password"</label>
            <input id="pw-confirm" type="password" autocomplete="new-password" required bind:value=confirm/>
        </FormDialog>
    }
}

/// The current password, which a change needs (the form leaves the browser's own checks off).
fn check_current_password(old: &str) -> Result<(), String> {
    if old.is_empty() {
        return Err("Enter your current password.".to_owned());
    }
    Ok(())
}

/// The console's own check before asking the server (which applies Harbor's password rules anyway).
pub fn check_new_password(new: &str, confirm: &str) -> Result<(), String> {
    if new != confirm {
        return Err("The two new passwords differ.".to_owned());
    }
    if new.is_empty() {
        return Err("Enter a new password.".to_owned());
    }
    Ok(())
}

/// Whether the signed-in user has a Berth password to change: everyone in `db_auth`, only the local `admin` when
/// LDAP or OIDC signs users in (as Harbor's menu shows it). Unknown mode: shown; the server decides.
fn has_local_password(auth_mode: Option<&str>, username: &str) -> bool {
    auth_mode.is_none_or(|mode| mode == "db_auth") || username == "admin"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_accounts_change_passwords() {
        assert!(has_local_password(Some("db_auth"), "alice"));
        assert!(has_local_password(None, "alice"));
        assert!(!has_local_password(Some("ldap_auth"), "alice"));
        assert!(!has_local_password(Some("oidc_auth"), "alice"));
        assert!(has_local_password(Some("oidc_auth"), "admin"));
    }

    #[test]
    fn a_change_needs_the_current_password() {
        assert!(check_current_password("").is_err());
        assert!(check_current_password("Old-passw0rd").is_ok());
    }

    #[test]
    fn new_passwords_must_match() {
        assert!(check_new_password("Abcdefg1", "Abcdefg1").is_ok());
        assert!(check_new_password("Abcdefg1", "Abcdefg2").is_err());
        assert!(check_new_password("", "").is_err());
    }
}
