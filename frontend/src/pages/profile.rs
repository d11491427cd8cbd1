//! User Profile (the user menu's "User Profile", as in Harbor): who is signed in, their email, name and comment
//! (edited here, `PUT /users/{id}`) and, for a user who signs in through OIDC, the CLI secret that
//! `docker login` takes instead of a password — masked, shown on request, copyable, and regenerated in the
//! browser (`PUT /users/{id}/cli_secret`).
//!
//! Rule: a new secret comes from the browser's CSPRNG (`crypto.getRandomValues`) and meets Harbor's rule
//! ([`is_valid_cli_secret`]) before it is sent.

use berth_api::oidc::OidcCliSecretReq;
use berth_api::users::UserProfile;
use leptos::prelude::*;

use crate::api;
use crate::auth::CurrentUser;
use crate::components::copy_button::CopyButton;
use crate::components::dialog::{FormDialog, FormStatus};
use crate::components::toast::{ErrorBanner, use_toasts};
use crate::components::when::When;
use crate::format;

/// The length of a generated CLI secret.
pub const CLI_SECRET_LEN: usize = 32;

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Harbor's rule for a CLI secret: 8 to 128 characters, with an upper-case letter, a lower-case letter and a
/// digit.
pub fn is_valid_cli_secret(secret: &str) -> bool {
    (8..=128).contains(&secret.chars().count())
        && secret.bytes().any(|b| b.is_ascii_uppercase())
        && secret.bytes().any(|b| b.is_ascii_lowercase())
        && secret.bytes().any(|b| b.is_ascii_digit())
}

/// A secret of `len` letters and digits from random bytes, without modulo bias (bytes of 248 and above are
/// skipped); `None` when the bytes run out first or the result misses Harbor's rule.
pub fn secret_from_bytes(random: &[u8], len: usize) -> Option<String> {
    let secret: String = random
        .iter()
        .filter(|b| usize::from(**b) < 4 * ALPHABET.len())
        .take(len)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    (secret.len() == len && is_valid_cli_secret(&secret)).then_some(secret)
}

/// A new CLI secret from the browser's CSPRNG, or `None` if the browser has none.
fn generate_cli_secret() -> Option<String> {
    let crypto = web_sys::window()?.crypto().ok()?;
    // A 32-character draw misses one of the three classes about once in 190; draw again then.
    for _ in 0..16 {
        let mut random = [0_u8; 2 * CLI_SECRET_LEN];
        crypto.get_random_values_with_u8_array(&mut random).ok()?;
        if let Some(secret) = secret_from_bytes(&random, CLI_SECRET_LEN) {
            return Some(secret);
        }
    }
    None
}

/// The body of `PUT /users/{id}` from the profile's fields, trimmed. The server applies Harbor's rules (an email
/// of the right shape, a name without `,~#$%`, a comment of at most 30 characters) and its message is shown.
pub fn profile_request(email: &str, realname: &str, comment: &str) -> UserProfile {
    UserProfile {
        email: email.trim().to_owned(),
        realname: realname.trim().to_owned(),
        comment: comment.trim().to_owned(),
    }
}

/// A secret as shown while hidden.
pub fn masked(secret: &str) -> String {
    "•".repeat(secret.chars().count().min(16))
}

/// The profile as a form, as Harbor's: the username and creation time are shown, email, name and comment are
/// edited, and OK saves them. An OIDC user's CLI secret is managed in the same dialog.
#[component]
pub fn UserProfileDialog(open: RwSignal<bool>, user: CurrentUser) -> impl IntoView {
    let field = move |read: fn(&berth_api::users::UserResp) -> String| {
        move || user.0.with(|u| u.as_ref().map(read).unwrap_or_default())
    };
    let has_secret = move || {
        user.0
            .with(|u| u.as_ref().is_some_and(|u| u.oidc_user_meta.is_some()))
    };
    let email = RwSignal::new(String::new());
    let realname = RwSignal::new(String::new());
    let comment = RwSignal::new(String::new());
    let status = FormStatus::new();
    let toasts = use_toasts();
    // Each opening starts from the profile as it is.
    Effect::new(move |_| {
        if open.get() {
            user.0.with_untracked(|u| {
                if let Some(u) = u {
                    email.set(u.email.clone());
                    realname.set(u.realname.clone());
                    comment.set(u.comment.clone());
                }
            });
            status.error.set(None);
        }
    });
    let submit = Callback::new(move |()| {
        let Some(id) = user.0.with_untracked(|u| u.as_ref().map(|u| u.user_id)) else {
            return;
        };
        let body = profile_request(
            &email.get_untracked(),
            &realname.get_untracked(),
            &comment.get_untracked(),
        );
        let saved = body.clone();
        status.send(
            Box::pin(async move { api::put(&format!("/users/{id}"), &body).await }),
            Box::new(move |()| {
                user.0.update(|u| {
                    if let Some(u) = u.as_mut() {
                        u.email = saved.email;
                        u.realname = saved.realname;
                        u.comment = saved.comment;
                    }
                });
                open.set(false);
                toasts.success("Saved the profile");
            }),
        );
    });
    view! {
        <FormDialog open=open title="User Profile" status=status on_submit=submit busy_label="Saving…">
            <div class="form-grid">
                <span class="form-label">"Username"</span>
                <span data-testid="profile-username">{field(|u| u.username.clone())}</span>
                <label for="profile-email">"Email"</label>
                <input id="profile-email" type="email" required maxlength="255" autocomplete="email"
                    bind:value=email/>
                <label for="profile-realname">"First and last name"</label>
                <input id="profile-realname" type="text" required maxlength="255" autocomplete="name"
                    bind:value=realname/>
                <label for="profile-comment">"Comments"</label>
                <input id="profile-comment" type="text" maxlength="30" autocomplete="off"
                    bind:value=comment/>
                <span class="form-label">"Created"</span>
                <span>{field(|u| format::time(&u.creation_time))}</span>
            </div>
            <When when=has_secret>
                <CliSecret user=user/>
            </When>
        </FormDialog>
    }
}

/// The CLI secret of an OIDC user: masked until shown, copyable, and regenerated after a confirmation.
#[component]
fn CliSecret(user: CurrentUser) -> impl IntoView {
    let shown = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let status = FormStatus::new();
    let toasts = use_toasts();
    let secret = Signal::derive(move || {
        user.0.with(|u| {
            u.as_ref()
                .and_then(|u| u.oidc_user_meta.as_ref())
                .map(|m| m.secret.clone())
                .unwrap_or_default()
        })
    });
    let regenerate = move |_| {
        let Some(id) = user.0.with_untracked(|u| u.as_ref().map(|u| u.user_id)) else {
            return;
        };
        let Some(new_secret) = generate_cli_secret() else {
            return status.fail("This browser cannot generate a secure random secret.".to_owned());
        };
        confirming.set(false);
        let body = OidcCliSecretReq {
            secret: new_secret.clone(),
        };
        status.send(
            Box::pin(async move { api::put(&format!("/users/{id}/cli_secret"), &body).await }),
            Box::new(move |()| {
                user.0.update(|u| {
                    if let Some(meta) = u.as_mut().and_then(|u| u.oidc_user_meta.as_mut()) {
                        meta.secret = new_secret;
                    }
                });
                shown.set(true);
                toasts.success("A new CLI secret was set");
            }),
        );
    };
    view! {
        <section class="cli-secret-section" aria-labelledby="cli-secret-title">
            <h3 id="cli-secret-title">"CLI secret"</h3>
            <p class="hint">"Use it as the password of docker login."</p>
            <div class="cli-secret">
                <code data-testid="cli-secret">
                    {move || if shown.get() { secret.get() } else { masked(&secret.get()) }}
                </code>
                <button type="button" class="secondary small" aria-pressed=move || shown.get().to_string()
                    on:click=move |_| shown.update(|s| *s = !*s)>
                    {move || if shown.get() { "Hide" } else { "Show" }}
                </button>
                <CopyButton text=secret label="Copy CLI secret"/>
                <button type="button" class="secondary small" on:click=move |_| confirming.set(true)>
                    "Regenerate"
                </button>
            </div>
            <When when=move || confirming.get()>
                <div class="banner" role="alert">
                    <p>"The current secret stops working at once. Generate a new one?"</p>
                    <div class="inline">
                        <button type="button" class="secondary small" on:click=move |_| confirming.set(false)>
                            "Cancel"
                        </button>
                        <button type="button" class="danger small" disabled=move || status.busy.get()
                            on:click=regenerate>
                            "Regenerate secret"
                        </button>
                    </div>
                </div>
            </When>
            <ErrorBanner error=status.error/>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harbors_secret_rule() {
        assert!(is_valid_cli_secret("Abcdefg1"));
        assert!(!is_valid_cli_secret("Abcdef1"), "7 characters");
        assert!(!is_valid_cli_secret("abcdefg1"), "no upper-case letter");
        assert!(!is_valid_cli_secret("ABCDEFG1"), "no lower-case letter");
        assert!(!is_valid_cli_secret("Abcdefgh"), "no digit");
        assert!(is_valid_cli_secret(&format!("Ab1{}", "x".repeat(125))));
        assert!(
            !is_valid_cli_secret(&format!("Ab1{}", "x".repeat(126))),
            "129 characters"
        );
    }

    #[test]
    fn secrets_are_drawn_without_bias_from_the_alphabet() {
        // 0 → 'A', 26 → 'a', 52 → '0', 62 → 'A' again; 248..=255 are skipped.
        let bytes = [0, 255, 26, 248, 52, 1, 27, 53, 2, 28];
        assert_eq!(secret_from_bytes(&bytes, 8).as_deref(), Some("Aa0Bb1Cc"));
        assert_eq!(
            secret_from_bytes(&[62, 88, 114, 3, 29, 55, 4, 30], 8).as_deref(),
            Some("Aa0Dd3Ee")
        );
    }

    #[test]
    fn draws_that_run_short_or_miss_a_class_are_refused() {
        assert_eq!(secret_from_bytes(&[0, 26, 52, 255, 255], 8), None);
        assert_eq!(secret_from_bytes(&[0; 8], 8), None, "all 'A'");
    }

    #[test]
    fn profile_edits_are_sent_trimmed() {
        let body = profile_request("  alice@example.com ", " Alice Liddell\t", " ops ");
        assert_eq!(body.email, "alice@example.com");
        assert_eq!(body.realname, "Alice Liddell");
        assert_eq!(body.comment, "ops");
    }

    #[test]
    fn hidden_secrets_show_no_characters() {
        assert_eq!(masked("Abc"), "•••");
        assert_eq!(masked(&"x".repeat(40)).chars().count(), 16);
    }
}
