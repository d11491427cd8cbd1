//! Users: Harbor's `UserResp` and `UserCreationReq`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Harbor's `UserResp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserResp {
    pub user_id: i64,
    pub username: String,
    pub email: String,
    pub realname: String,
    pub comment: String,
    pub sysadmin_flag: bool,
    pub admin_role_in_auth: bool,
    /// Set for users who sign in through OIDC; its `secret` only for the user themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_user_meta: Option<crate::oidc::OidcUserInfo>,
    pub creation_time: String,
    pub update_time: String,
}

/// Harbor's `UserCreationReq`: the body of `POST /users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserCreationReq {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub realname: String,
    #[serde(default)]
    pub comment: String,
}

/// Harbor's `UserSearchRespItem`: one hit of `GET /users/search`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserSearchRespItem {
    pub user_id: i64,
    pub username: String,
}

/// Harbor's `UserProfile`: the body of `PUT /users/{user_id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserProfile {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub realname: String,
    #[serde(default)]
    pub comment: String,
}

/// Harbor's `PasswordReq`: the body of `PUT /users/{user_id}/password`. `old_password` may be left out by a
/// system administrator changing someone else's password.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PasswordReq {
    #[serde(default)]
    pub old_password: String,
    #[serde(default)]
    pub new_password: String,
}

impl std::fmt::Debug for PasswordReq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordReq").finish_non_exhaustive()
    }
}

/// Harbor's `UserSysAdminFlag`: the body of `PUT /users/{user_id}/sysadmin`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserSysAdminFlag {
    #[serde(default)]
    pub sysadmin_flag: bool,
}

/// Harbor's `Permission`: one item of `GET /users/current/permissions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Permission {
    pub resource: String,
    pub action: String,
}

/// Harbor's `Permissions` (`GET /permissions`): the system-level and project-level permissions a robot may be
/// given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Permissions {
    pub system: Vec<Permission>,
    pub project: Vec<Permission>,
}
