//! Project members: Harbor's `ProjectMemberEntity`, `ProjectMember` and `RoleRequest`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Harbor's `ProjectMemberEntity`: one member as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectMemberEntity {
    pub id: i64,
    pub project_id: i64,
    pub entity_name: String,
    pub role_name: String,
    pub role_id: i64,
    pub entity_id: i64,
    /// `u` for a user, `g` for a group.
    pub entity_type: String,
}

/// Harbor's `UserEntity`: a user named by id or by username.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserEntity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// Harbor's `UserGroup`, as a member reference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserGroup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_type: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_group_dn: Option<String>,
}

/// Harbor's `ProjectMember`: the body of `POST /projects/{p}/members`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectMember {
    pub role_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_user: Option<UserEntity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_group: Option<UserGroup>,
}

/// Harbor's `RoleRequest`: the body of `PUT /projects/{p}/members/{mid}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoleRequest {
    pub role_id: i64,
}
