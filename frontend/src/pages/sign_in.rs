//! Sign-in (`/account/sign-in`, Harbor's path): user name and password, posted to `/c/login`; in OIDC mode
//! (`GET /systeminfo`) also "LOGIN VIA <provider>", a full-page visit to `/c/oidc/login` (the local form stays
//! for the `admin` account). `/oidc-onboard` is where a new OIDC user chooses a user name.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};

use berth_api::system::GeneralInfo;

use crate::api::{self, ApiError};
use crate::auth;
use crate::components::fetch::Fetch;
use crate::components::toast::ErrorBanner;

/// The one message for wrong credentials: it never says which part was wrong.
pub const INVALID_CREDENTIALS: &str = "Invalid user name or password";

#[component]
pub fn SignIn() -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let query = use_query_map();
    // A failed provider sign-in comes back here with the server's reason.
    let error = RwSignal::new(
        query
            .with_untracked(|q| q.get("oidc_error"))
            .map(|reason| format!("Sign-in with the identity provider failed: {reason}")),
    );
    let navigate = use_navigate();
    let user = auth::use_current_user();
    let info = Fetch::<GeneralInfo>::at("/systeminfo");
    let sso = move || {
        info.ok()
            .filter(|i| i.auth_mode == "oidc_auth")
            .map(|i| sso_label(i.oidc_provider_name.as_deref()))
    };
    let sso_href = move || oidc_login_url(query.with(|q| q.get("redirect_url")).as_deref());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let name = username.get_untracked().trim().to_owned();
        let secret = password.get_untracked();
        if name.is_empty() || secret.is_empty() {
            error.set(Some("Enter your user name and password.".to_owned()));
            return;
        }
        let target =
            auth::after_sign_in(query.with_untracked(|q| q.get("redirect_url")).as_deref());
        let navigate = navigate.clone();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::sign_in(&name, &secret).await {
                Ok(()) => {
                    user.0.set(None);
                    navigate(&target, Default::default());
                }
                Err(e) => {
                    busy.set(false);
                    password.set(String::new());
                    error.set(Some(sign_in_error(&e)));
                }
            }
        });
    };
    view! {
        <main class="sign-in">
            <form class="sign-in-card" on:submit=submit>
                <h1><span class="brand-mark" aria-hidden="true">"⚓"</span>" Berth"</h1>
                <p class="sign-in-lead">"Sign in to the registry console"</p>
                <label for="login_username">"Username"</label>
                <input id="login_username" name="principal" type="text" autocomplete="username" autofocus
                    required bind:value=username/>
                <label for="login_password">"Password"</label>
                <input id="login_password" name="password" type="password" autocomplete="current-password"
                    required bind:value=password/>
                <ErrorBanner error=error/>
                <button type="submit" id="log_in" class="wide" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Log In" }}
                </button>
                {move || sso().map(|label| view! {
                    <div class="sign-in-sso">
                        <p class="sign-in-or">"or"</p>
                        <a class="sso-button" id="log_in_oidc" href=sso_href rel="external">{label}</a>
                    </div>
                })}
            </form>
        </main>
    }
}

/// The OIDC button's label: Harbor's "LOGIN VIA OIDC PROVIDER", with the provider's name when it has one.
pub fn sso_label(provider: Option<&str>) -> String {
    match provider.map(str::trim) {
        Some(name) if !name.is_empty() => format!("LOGIN VIA {name}"),
        _ => "LOGIN VIA OIDC PROVIDER".to_owned(),
    }
}

/// Where the OIDC button goes: the server's `/c/oidc/login`, passing on where to return (only a path on
/// this site, see [`auth::after_sign_in`]).
pub fn oidc_login_url(redirect_url: Option<&str>) -> String {
    match redirect_url {
        Some(_) => format!(
            "/c/oidc/login?redirect_url={}",
            api::encode_component(&auth::after_sign_in(redirect_url))
        ),
        None => "/c/oidc/login".to_owned(),
    }
}

/// The console's check of a chosen user name before the server's: not empty, at most 255 characters, none of
/// Harbor's forbidden characters.
pub fn onboard_username_error(name: &str) -> Option<&'static str> {
    let name = name.trim();
    if name.is_empty() {
        Some("Enter a user name.")
    } else if name.chars().count() > 255 {
        Some("The user name is longer than 255 characters.")
    } else if name.contains([',', '"', '~', '#', '%', '$']) {
        Some(r#"The user name may not contain , " ~ # % or $."#)
    } else {
        None
    }
}

/// `/oidc-onboard?username=<suggestion>`: a user who signed in with the OIDC provider for the first time and
/// got no user name from it chooses one (`POST /c/oidc/onboard`), then enters the console.
#[component]
pub fn OidcOnboard() -> impl IntoView {
    let query = use_query_map();
    let username = RwSignal::new(query.with_untracked(|q| q.get("username").unwrap_or_default()));
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let user = auth::use_current_user();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let name = username.get_untracked().trim().to_owned();
        if let Some(message) = onboard_username_error(&name) {
            error.set(Some(message.to_owned()));
            return;
        }
        let navigate = navigate.clone();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::oidc_onboard(&name).await {
                Ok(()) => {
                    user.0.set(None);
                    navigate(auth::HOME_PATH, Default::default());
                }
                Err(e) => {
                    busy.set(false);
                    error.set(Some(onboard_error(&e)));
                }
            }
        });
    };
    view! {
        <main class="sign-in">
            <form class="sign-in-card" on:submit=submit novalidate>
                <h1><span class="brand-mark" aria-hidden="true">"⚓"</span>" Berth"</h1>
                <p class="sign-in-lead">"Choose the user name you will have in Berth."</p>
                <label for="onboard_username">"Username"</label>
                <input id="onboard_username" type="text" autocomplete="username" autofocus required
                    maxlength="255" bind:value=username/>
                <ErrorBanner error=error/>
                <button type="submit" class="wide" disabled=move || busy.get()>"SAVE"</button>
            </form>
        </main>
    }
}

/// What the onboarding page says when the server refuses the name.
pub fn onboard_error(error: &ApiError) -> String {
    match error.status {
        409 => "This user name is taken; choose another.".to_owned(),
        401 => "Your sign-in with the provider has expired; sign in again.".to_owned(),
        _ => error.message.clone(),
    }
}

/// What the page says when sign-in fails: the same sentence for any wrong credential.
pub fn sign_in_error(error: &ApiError) -> String {
    match error.status {
        400 | 401 | 403 => INVALID_CREDENTIALS.to_owned(),
        _ => error.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_credentials_never_say_which_part_was_wrong() {
        for (status, message) in [
            (401, "invalid username or password"),
            (401, "no such user"),
            (403, ""),
        ] {
            let e = ApiError {
                status,
                message: message.to_owned(),
            };
            assert_eq!(sign_in_error(&e), INVALID_CREDENTIALS);
        }
    }

    #[test]
    fn the_oidc_button_names_the_provider() {
        assert_eq!(sso_label(Some("Keycloak")), "LOGIN VIA Keycloak");
        assert_eq!(sso_label(Some("  ")), "LOGIN VIA OIDC PROVIDER");
        assert_eq!(sso_label(None), "LOGIN VIA OIDC PROVIDER");
    }

    #[test]
    fn the_oidc_login_returns_only_to_this_site() {
        assert_eq!(oidc_login_url(None), "/c/oidc/login");
        assert_eq!(
            oidc_login_url(Some("/harbor/projects/3")),
            "/c/oidc/login?redirect_url=%2Fharbor%2Fprojects%2F3"
        );
        assert_eq!(
            oidc_login_url(Some("https://evil.example")),
            "/c/oidc/login?redirect_url=%2Fharbor%2Fprojects"
        );
    }

    #[test]
    fn onboarding_names_are_checked_and_conflicts_explained() {
        assert_eq!(onboard_username_error(" alice "), None);
        assert!(onboard_username_error("  ").is_some());
        assert!(onboard_username_error("a#b").is_some());
        assert!(onboard_username_error(&"a".repeat(256)).is_some());
        let taken = ApiError {
            status: 409,
            message: "conflict".to_owned(),
        };
        assert_eq!(
            onboard_error(&taken),
            "This user name is taken; choose another."
        );
    }

    #[test]
    fn other_failures_are_explained() {
        let e = ApiError {
            status: 429,
            message: "Too many sign-in attempts".to_owned(),
        };
        assert_eq!(sign_in_error(&e), "Too many sign-in attempts");
    }
}
