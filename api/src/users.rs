//! Users: Harbor's `UserResp` and `UserCreationReq`.

use serde::{Deserialize, Serialize};

/// Harbor's `UserResp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserResp {
    pub user_id: i64,
    pub username: String,
    pub email: String,
    pub realname: String,
    pub comment: String,
    pub sysadmin_flag: bool,
    pub admin_role_in_auth: bool,
    pub creation_time: String,
    pub update_time: String,
}

/// Harbor's `UserCreationReq`: the body of `POST /users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSearchRespItem {
    pub user_id: i64,
    pub username: String,
}
