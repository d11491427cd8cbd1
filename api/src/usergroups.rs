//! User groups: Harbor's `UserGroup` (also the body of `POST`/`PUT /usergroups`) and `UserGroupSearchItem`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::members::UserGroup;

/// Harbor's group types.
pub const LDAP_GROUP: i64 = 1;
pub const HTTP_GROUP: i64 = 2;
pub const OIDC_GROUP: i64 = 3;

/// Harbor's `UserGroupSearchItem`: one hit of `GET /usergroups/search`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserGroupSearchItem {
    pub id: i64,
    pub group_name: String,
    pub group_type: i64,
}
