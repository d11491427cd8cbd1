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
use crate::pages::not_found::NoPermission;
use crate::pages::profile::UserProfileDialog;
use crate::pages::{admin, not_found, project, projects, sign_in};
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
                <Route path=path!("/") view=|| view! { <Redirect path=auth::HOME_PATH/> }/>
                <Route path=path!("/account/sign-in") view=sign_in::SignIn/>
                <Route path=path!("/harbor/sign-in") view=sign_in::SignIn/>
                <Route path=path!("/oidc-onboard") view=sign_in::OidcOnboard/>
                <ParentRoute path=path!("/harbor") view=Shell>
                    <Route path=path!("") view=|| view! { <Redirect path=auth::HOME_PATH/> }/>
                    <Route path=path!("projects") view=projects::ProjectsPage/>
                    <ParentRoute path=path!("projects/:id") view=project::ProjectPage>
                        <Route path=path!("") view=project::ToSummary/>
                        <Route path=path!("summary") view=project::summary::SummaryTab/>
                        <Route path=path!("repositories") view=project::repositories::RepositoriesTab/>
                        <Route path=path!("repositories/:repo/artifacts-tab") view=project::artifacts::ArtifactsPage/>
                        <Route path=path!("repositories/:repo/artifacts-tab/artifacts/:digest")
                            view=project::artifact::ArtifactPage/>
                        <Route path=path!("members") view=project::members::MembersTab/>
                        <Route path=path!("tag-strategy") view=project::policy::PolicyTab/>
                        <Route path=path!("robot-account") view=project::robots::RobotsTab/>
                        <Route path=path!("logs") view=project::logs::LogsTab/>
                        <Route path=path!("configs") view=project::config::ConfigTab/>
                    </ParentRoute>
                    <Route path=path!("users") view={Lazy::<UsersRoute>::new()}/>
                    <Route path=path!("groups") view={Lazy::<GroupsRoute>::new()}/>
                    <Route path=path!("robot-accounts")
                        view={Lazy::<RobotsRoute>::new()}/>
                    <Route path=path!("registries") view={Lazy::<RegistriesRoute>::new()}/>
                    <Route path=path!("logs") view={Lazy::<LogsRoute>::new()}/>
                    <ParentRoute path=path!("configs")
                        view={Lazy::<ConfigRoute>::new()}>
                        <Route path=path!("") view=|| view! { <Redirect path="/harbor/configs/auth"/> }/>
                        <Route path=path!("auth") view={Lazy::<AuthConfigRoute>::new()}/>
                        <Route path=path!("setting") view={Lazy::<SystemRoute>::new()}/>
                    </ParentRoute>
                </ParentRoute>
            </Routes>
            <ToastArea/>
        </Router>
    }
}

/// Administration pages load lazily: each page's own code is a WASM module of its own (scripts/build-console.sh
/// splits it off), which the browser fetches the first time one of its routes is visited, so the first load
/// (the module under the size budget) does not carry them. `lazy_page!(Route, page)` makes `Route` the
/// `LazyRoute` that shows `page` to system administrators, as [`AdminOnly`] does.
macro_rules! lazy_page {
    ($name:ident, $page:expr) => {
        struct $name;

        #[lazy_route]
        impl LazyRoute for $name {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <AdminOnly>{$page()}</AdminOnly> }.into_any()
            }
        }
    };
}
lazy_page!(UsersRoute, admin::users::UsersPage);
lazy_page!(GroupsRoute, admin::groups::GroupsPage);
lazy_page!(RobotsRoute, admin::robots::RobotsPage);
lazy_page!(RegistriesRoute, admin::registries::RegistriesPage);
lazy_page!(LogsRoute, admin::logs::AuditLogPage);
lazy_page!(ConfigRoute, admin::config::ConfigPage);
lazy_page!(AuthConfigRoute, admin::auth_config::AuthConfigTab);
lazy_page!(SystemRoute, admin::system::SystemPage);

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
        <Show when=move || user.is_sysadmin() fallback=|| view! { <NoPermission/> }>
            {children()}
        </Show>
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
        <Show
            when=move || user.0.with(|u| u.is_some())
            fallback=move || view! {
                <div class="boot">
                    <ErrorBanner error=failure/>
                    <Show when=move || failure.with(|f| f.is_none())>{loading_note()}</Show>
                </div>
            }
        >
            <div class="shell">
                <a class="skip-link" href="#main">"Skip to content"</a>
                <TopBar user=user info=info/>
                <div class="shell-body">
                    <SideNav user=user info=info/>
                    <main class="content" id="main" tabindex="-1">
                        <Show when=move || info.read_only()>
                            <div class="banner banner-warning read-only-banner" role="status"
                                data-testid="read-only-banner">
                                {READ_ONLY_NOTICE}
                            </div>
                        </Show>
                        <Outlet/>
                    </main>
                </div>
            </div>
        </Show>
    }
}

#[component]
fn SideNav(user: CurrentUser, info: SystemInfo) -> impl IntoView {
    let groups = move || system_info::has_groups(info.auth_mode().as_deref());
    view! {
        <nav class="sidenav" aria-label="Main">
            <A href="/harbor/projects">"Projects"</A>
            <Show when=move || user.is_sysadmin()>
                <div class="nav-group" role="group" aria-labelledby="nav-admin">
                    <h2 id="nav-admin" class="nav-group-title">"Administration"</h2>
                    <A href="/harbor/users">"Users"</A>
                    <Show when=groups><A href="/harbor/groups">"Groups"</A></Show>
                    <A href="/harbor/robot-accounts">"Robot Accounts"</A>
                    <A href="/harbor/registries">"Registries"</A>
                    <A href="/harbor/logs">"Audit Log"</A>
                    <A href="/harbor/configs">"Configuration"</A>
                </div>
            </Show>
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
                    <Show when=move || menu_open.get()>
                        // A click anywhere outside the menu closes it.
                        <div class="menu-backdrop" on:click=move |_| menu_open.set(false)></div>
                        <div class="menu" role="menu">
                            <button type="button" role="menuitem"
                                on:click=move |_| { menu_open.set(false); profile_open.set(true) }>
                                "User Profile"
                            </button>
                            <Show when=has_password>
                                <button type="button" role="menuitem"
                                    on:click=move |_| { menu_open.set(false); password_open.set(true) }>
                                    "Change Password"
                                </button>
                            </Show>
                            <button type="button" role="menuitem"
                                on:click=move |_| { menu_open.set(false); about_open.set(true) }>
                                "About"
                            </button>
                            <button type="button" role="menuitem" on:click=sign_out.clone()>"Log Out"</button>
                        </div>
                    </Show>
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
