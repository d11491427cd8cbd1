//! OIDC: the body of `POST /system/oidc/ping`, Harbor's `OIDCUserInfo` (a user's `oidc_user_meta`) and
//! `OIDCCliSecretReq` (`PUT /users/{user_id}/cli_secret`), the onboarding form of `POST /c/oidc/onboard`, and
//! the rule for where a sign-in may land ([`is_local_path`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of `POST /system/oidc/ping`: the issuer to test.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OidcPingReq {
    pub url: String,
    #[serde(default = "yes")]
    pub verify_cert: bool,
}

fn yes() -> bool {
    true
}

/// Harbor's `OIDCUserInfo`: an OIDC user's link to the provider and their CLI secret. The secret is shown only
/// to the user themselves (in `GET /users/current`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OidcUserInfo {
    pub id: i64,
    pub user_id: i64,
    /// The ID token's `sub` and `iss`, concatenated.
    pub subiss: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret: String,
    pub creation_time: String,
    pub update_time: String,
}

/// Harbor's `OIDCCliSecretReq`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OidcCliSecretReq {
    pub secret: String,
}

/// The body of `POST /c/oidc/onboard`: the username an OIDC user chooses at first sign-in, when the provider
/// gave none (Harbor's portal sends the same form).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OidcOnboardReq {
    pub username: String,
}

/// The longest path a sign-in may land on.
pub const MAX_LANDING_PATH: usize = 2048;

/// Whether `target` may be where a sign-in lands (the `redirect_url` of `/c/oidc/login`, and the console's own
/// after-sign-in redirect): a path on this site. It starts with one `/` and holds no `//`, no backslash, no
/// white space and no control character, because browsers drop or rewrite those (`/\t/evil.example` is
/// followed as `//evil.example`), turning a path into another origin.
pub fn is_local_path(target: &str) -> bool {
    target.len() <= MAX_LANDING_PATH
        && target.starts_with('/')
        && !target.contains("//")
        && !target
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_on_this_site_are_landings() {
        for ok in [
            "/harbor/projects",
            "/harbor/projects/3?x=1#top",
            "/",
            "/a%2F%2Fb",
        ] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example/x",
            "/\n/evil.example",
            "/ /evil.example",
            "/x//y",
            "https://evil.example/",
            "evil.example",
            "",
            "/\u{a0}/evil",
        ] {
            assert!(!is_local_path(bad), "{bad:?}");
        }
        assert!(!is_local_path(&format!(
            "/{}",
            "a".repeat(MAX_LANDING_PATH)
        )));
    }
}
