//! System configuration (`/configurations`): Harbor's `ConfigurationsResponse` (`GET`), `Configurations`
//! (`PUT`), and the config items.
//!
//! Berth has the keys of the authentication modes (database, LDAP, OIDC) and the auth-related ones. Secrets
//! (`ldap_search_password`, `oidc_client_secret`) can be written but are never returned, as in Harbor.
//! `ldap_starttls`, `ldap_nested_groups`, `ldap_nested_groups_timeout`, `ldap_group_cache_seconds`,
//! `ldap_email_attribute` and `ldap_display_name_attribute` are Berth extensions.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Harbor's `StringConfigItem`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StringConfigItem {
    pub value: String,
    /// Whether `PUT /configurations` may change it now.
    pub editable: bool,
}

/// Harbor's `BoolConfigItem`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BoolConfigItem {
    pub value: bool,
    /// Whether `PUT /configurations` may change it now.
    pub editable: bool,
}

/// Harbor's `IntegerConfigItem`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IntegerConfigItem {
    pub value: i64,
    /// Whether `PUT /configurations` may change it now.
    pub editable: bool,
}

/// Harbor's `ConfigurationsResponse` (`GET /configurations`), with the keys Berth has. Secrets are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConfigurationsResponse {
    /// `db_auth`, `ldap_auth` or `oidc_auth`. Only editable while no user other than `admin` exists.
    pub auth_mode: StringConfigItem,
    /// Whether the auth mode is the primary one (the console offers it first).
    pub primary_auth_mode: BoolConfigItem,
    /// The LDAP server: `ldap://host[:port]` or `ldaps://host[:port]`.
    pub ldap_url: StringConfigItem,
    /// The DN of the service account that searches for users.
    pub ldap_search_dn: StringConfigItem,
    /// Where user searches start.
    pub ldap_base_dn: StringConfigItem,
    /// An extra filter users must match, e.g. `(objectClass=person)`.
    pub ldap_filter: StringConfigItem,
    /// The attribute that holds the user name, e.g. `uid`, `cn` or `sAMAccountName`.
    pub ldap_uid: StringConfigItem,
    /// The user search scope: 0 base, 1 one level, 2 subtree.
    pub ldap_scope: IntegerConfigItem,
    /// Seconds to wait for the LDAP server.
    pub ldap_timeout: IntegerConfigItem,
    /// Whether the LDAP server's TLS certificate is verified.
    pub ldap_verify_cert: BoolConfigItem,
    /// Where group searches start.
    pub ldap_group_base_dn: StringConfigItem,
    /// An extra filter groups must match.
    pub ldap_group_search_filter: StringConfigItem,
    /// The attribute that holds a group's name, e.g. `cn`.
    pub ldap_group_attribute_name: StringConfigItem,
    /// Members of this group are system administrators.
    pub ldap_group_admin_dn: StringConfigItem,
    /// The user attribute listing its groups (`memberof`), or the group attribute listing members (`member`).
    pub ldap_group_membership_attribute: StringConfigItem,
    /// The group search scope: 0 base, 1 one level, 2 subtree.
    pub ldap_group_search_scope: IntegerConfigItem,
    /// Berth extension: upgrade an `ldap://` connection with StartTLS.
    pub ldap_starttls: BoolConfigItem,
    /// Berth extension: also count the groups of a user's groups.
    pub ldap_nested_groups: BoolConfigItem,
    /// Berth extension: how long following nested groups may take, in seconds.
    pub ldap_nested_groups_timeout: IntegerConfigItem,
    /// Berth extension: how long a user's LDAP groups are remembered after sign-in, in seconds (0: not cached).
    pub ldap_group_cache_seconds: IntegerConfigItem,
    /// Berth extension: the attribute holding a user's email address.
    pub ldap_email_attribute: StringConfigItem,
    /// Berth extension: the attribute holding a user's display name.
    pub ldap_display_name_attribute: StringConfigItem,
    /// The provider's name, shown on the sign-in button.
    pub oidc_name: StringConfigItem,
    /// The issuer URL, from which the provider's configuration is discovered.
    pub oidc_endpoint: StringConfigItem,
    /// The client ID registered with the provider.
    pub oidc_client_id: StringConfigItem,
    /// The claim that lists the user's groups.
    pub oidc_groups_claim: StringConfigItem,
    /// Members of this group are system administrators.
    pub oidc_admin_group: StringConfigItem,
    /// A regular expression: only matching groups are taken.
    pub oidc_group_filter: StringConfigItem,
    /// The scopes requested, comma separated; must include `openid`.
    pub oidc_scope: StringConfigItem,
    /// The claim that holds the user name.
    pub oidc_user_claim: StringConfigItem,
    /// Whether the provider's TLS certificate is verified.
    pub oidc_verify_cert: BoolConfigItem,
    /// Whether users are created on first sign-in without choosing a name.
    pub oidc_auto_onboard: BoolConfigItem,
    /// Extra parameters of the authorization request, as a JSON object of strings.
    pub oidc_extra_redirect_parms: StringConfigItem,
    /// Lifetime of registry tokens, in minutes.
    pub token_expiration: IntegerConfigItem,
    /// Default lifetime of robot account secrets, in days.
    pub robot_token_duration: IntegerConfigItem,
    /// The prefix of robot account names.
    pub robot_name_prefix: StringConfigItem,
    /// Whether people may sign themselves up.
    pub self_registration: BoolConfigItem,
    /// Who may create projects: `everyone` or `adminonly`.
    pub project_creation_restriction: StringConfigItem,
    /// Read-only mode: every push, delete and change other than this setting (and signing in and out) is
    /// refused with 403 `DENIED`.
    #[serde(default)]
    pub read_only: BoolConfigItem,
}

/// Harbor's `Configurations` (`PUT /configurations`): any subset of the keys; a key left out keeps its value.
/// Harbor's other keys (UAA, HTTP auth proxy, e-mail, audit forwarding, …) are accepted with a value of their
/// type and ignored. A key neither Harbor nor Berth has, a value of the wrong type or a value out of range is
/// refused with 400, and then nothing changes. An empty secret removes the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Configurations {
    /// `db_auth`, `ldap_auth` or `oidc_auth`. Only editable while no user other than `admin` exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<String>,
    /// Whether the auth mode is the primary one (the console offers it first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_auth_mode: Option<bool>,
    /// The LDAP server: `ldap://host[:port]` or `ldaps://host[:port]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_url: Option<String>,
    /// The DN of the service account that searches for users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_search_dn: Option<String>,
    /// The service account's password. Write-only: never returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_search_password: Option<String>,
    /// Where user searches start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_base_dn: Option<String>,
    /// An extra filter users must match, e.g. `(objectClass=person)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_filter: Option<String>,
    /// The attribute that holds the user name, e.g. `uid`, `cn` or `sAMAccountName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_uid: Option<String>,
    /// The user search scope: 0 base, 1 one level, 2 subtree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_scope: Option<i64>,
    /// Seconds to wait for the LDAP server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_timeout: Option<i64>,
    /// Whether the LDAP server's TLS certificate is verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_verify_cert: Option<bool>,
    /// Where group searches start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_group_base_dn: Option<String>,
    /// An extra filter groups must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_group_search_filter: Option<String>,
    /// The attribute that holds a group's name, e.g. `cn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_group_attribute_name: Option<String>,
    /// Members of this group are system administrators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_group_admin_dn: Option<String>,
    /// The user attribute listing its groups (`memberof`), or the group attribute listing members (`member`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_group_membership_attribute: Option<String>,
    /// The group search scope: 0 base, 1 one level, 2 subtree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_group_search_scope: Option<i64>,
    /// Berth extension: upgrade an `ldap://` connection with StartTLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_starttls: Option<bool>,
    /// Berth extension: also count the groups of a user's groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_nested_groups: Option<bool>,
    /// Berth extension: how long following nested groups may take, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_nested_groups_timeout: Option<i64>,
    /// Berth extension: how long a user's LDAP groups are remembered after sign-in, in seconds (0: not cached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_group_cache_seconds: Option<i64>,
    /// Berth extension: the attribute holding a user's email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_email_attribute: Option<String>,
    /// Berth extension: the attribute holding a user's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ldap_display_name_attribute: Option<String>,
    /// The provider's name, shown on the sign-in button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_name: Option<String>,
    /// The issuer URL, from which the provider's configuration is discovered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_endpoint: Option<String>,
    /// The client ID registered with the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_client_id: Option<String>,
    /// The client secret. Write-only: never returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_client_secret: Option<String>,
    /// The claim that lists the user's groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_groups_claim: Option<String>,
    /// Members of this group are system administrators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_admin_group: Option<String>,
    /// A regular expression: only matching groups are taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_group_filter: Option<String>,
    /// The scopes requested, comma separated; must include `openid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_scope: Option<String>,
    /// The claim that holds the user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_user_claim: Option<String>,
    /// Whether the provider's TLS certificate is verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_verify_cert: Option<bool>,
    /// Whether users are created on first sign-in without choosing a name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_auto_onboard: Option<bool>,
    /// Extra parameters of the authorization request, as a JSON object of strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_extra_redirect_parms: Option<String>,
    /// Lifetime of registry tokens, in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_expiration: Option<i64>,
    /// Default lifetime of robot account secrets, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robot_token_duration: Option<i64>,
    /// The prefix of robot account names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robot_name_prefix: Option<String>,
    /// Whether people may sign themselves up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_registration: Option<bool>,
    /// Who may create projects: `everyone` or `adminonly`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_creation_restriction: Option<String>,
    /// Read-only mode: every push, delete and change other than this setting (and signing in and out) is
    /// refused with 403 `DENIED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}
