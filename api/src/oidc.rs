//! OIDC: the body of `POST /system/oidc/ping`, Harbor's `OIDCUserInfo` (a user's `oidc_user_meta`) and
//! `OIDCCliSecretReq` (`PUT /users/{user_id}/cli_secret`), and the onboarding form of `POST /c/oidc/onboard`.

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
