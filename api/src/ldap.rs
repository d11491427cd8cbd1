//! LDAP: Harbor's `LdapConf`, `LdapPingResult`, `LdapUser`, `LdapImportUsers` and `LdapFailedImportUser`
//! (`/ldap/ping`, `/ldap/users/search`, `/ldap/users/import`; `/ldap/groups/search` answers with
//! [`crate::usergroups::UserGroup`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Harbor's `LdapConf`: settings to test with `POST /ldap/ping`. Absent fields (and an absent or empty
/// `ldap_search_password`) are taken from the stored configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LdapConf {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_search_dn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_search_password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_base_dn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_scope: Option<i64>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_connection_timeout: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_verify_cert: Option<bool>,
}

/// Harbor's `LdapPingResult`: whether the test connection worked, and what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LdapPingResult {
    pub success: bool,
    pub message: String,
}

/// Harbor's `LdapUser`: one hit of `GET /ldap/users/search`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LdapUser {
    pub username: String,
    pub realname: String,
    pub email: String,
}

/// Harbor's `LdapImportUsers`: the body of `POST /ldap/users/import`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LdapImportUsers {
    pub ldap_uid_list: Vec<String>,
}

/// Harbor's `LdapFailedImportUser`: a uid `POST /ldap/users/import` could not add, and why (in the 404 body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LdapFailedImportUser {
    pub uid: String,
    pub error: String,
}
