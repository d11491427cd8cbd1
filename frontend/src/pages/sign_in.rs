//! Sign-in (`/account/sign-in`, Harbor's path): user name and password, posted to `/c/login`.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, ApiError};
use crate::auth;
use crate::components::toast::ErrorBanner;

/// The one message for wrong credentials: it never says which part was wrong.
pub const INVALID_CREDENTIALS: &str = "Invalid user name or password";

#[component]
pub fn SignIn() -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let query = use_query_map();
    let navigate = use_navigate();
    let user = auth::use_current_user();
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
                // The "Sign in with SSO" button of the OIDC issue goes here.
                <div class="sign-in-sso"></div>
            </form>
        </main>
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
    fn other_failures_are_explained() {
        let e = ApiError {
            status: 429,
            message: "Too many sign-in attempts".to_owned(),
        };
        assert_eq!(sign_in_error(&e), "Too many sign-in attempts");
    }
}
