//! System configuration: Harbor's user-scope settings behind `GET`/`PUT /configurations` (the auth mode, LDAP,
//! OIDC and the auth-related keys), typed as [`SystemConfig`].
//!
//! Rules:
//! - A key has Harbor's default until set; `token_expiration` starts from the file/env configuration. A stored
//!   value wins over both.
//! - Every key is validated before anything is written, and a change is written in one transaction: a bad key
//!   leaves the stored configuration as it was.
//! - Secrets (`ldap_search_password`, `oidc_client_secret`) are stored sealed by [`SecretBox`] and never
//!   returned.
//! - The auth mode can change only while no user other than `admin` exists, as in Harbor
//!   (`src/controller/config/controller.go`, `authModeCanBeModified`); the CLI may force it.
//! - Request paths read the in-memory snapshot ([`LiveConfig::current`]), never the database; a change
//!   replaces the snapshot once committed.
//! - Harbor's other keys ([`HARBOR_ONLY`]: UAA, HTTP auth proxy, e-mail, audit forwarding, …) are accepted
//!   with a value of the right type and ignored, so that clients sending a whole Harbor configuration (the
//!   Terraform provider, scripts) work; a key Harbor does not have is a 400.
//!
//! Harbor's keys and defaults: `src/lib/config/metadata/metadatalist.go` and the `Configurations` definition
//! of its swagger.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use berth_api::configurations::ConfigurationsResponse;
use berth_api::ldap::LdapConf;
use serde_json::{Map, Value, json};

use super::ServiceError;
use crate::auth::ldap::{LdapScope, LdapSettings};
use crate::auth::oidc::OidcSettings;
use crate::config::Config;
use crate::crypto::SecretBox;
use crate::db::{ConfigChange, Db, SaveConfig};
use crate::secret::{Secret, StoredSecret};

/// Harbor's answer when the auth mode may no longer change.
pub const AUTH_MODE_FROZEN: &str =
    "the auth mode cannot be modified as new users have been inserted into database";

/// The largest `token_expiration` and `robot_token_duration` Harbor accepts (8 digits).
const MAX_DURATION: i64 = 99_999_999;

/// How users sign in (Harbor's `auth_mode`). The local `admin` always signs in with its password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    #[default]
    Db,
    Ldap,
    Oidc,
}

impl AuthMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Db => "db_auth",
            AuthMode::Ldap => "ldap_auth",
            AuthMode::Oidc => "oidc_auth",
        }
    }

    pub fn parse(mode: &str) -> Option<AuthMode> {
        match mode {
            "db_auth" => Some(AuthMode::Db),
            "ldap_auth" => Some(AuthMode::Ldap),
            "oidc_auth" => Some(AuthMode::Oidc),
            _ => None,
        }
    }
}

/// Who may create projects (Harbor's `project_creation_restriction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProjectCreationRestriction {
    #[default]
    Everyone,
    AdminOnly,
}

impl ProjectCreationRestriction {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectCreationRestriction::Everyone => "everyone",
            ProjectCreationRestriction::AdminOnly => "adminonly",
        }
    }
}

/// The system configuration: every key of `/configurations`, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemConfig {
    pub auth_mode: AuthMode,
    pub primary_auth_mode: bool,
    pub ldap: LdapSettings,
    pub oidc: OidcSettings,
    /// Minutes.
    pub token_expiration: u64,
    /// Days.
    pub robot_token_duration: u64,
    pub robot_name_prefix: String,
    pub self_registration: bool,
    pub project_creation_restriction: ProjectCreationRestriction,
    /// Harbor's read-only mode: every push, delete and REST change but this setting is refused
    /// ([`crate::read_only`]).
    pub read_only: bool,
}

/// The type of a key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Bool,
    Integer,
    /// Write-only text, stored sealed.
    Secret,
}

/// Every key, in Harbor's order.
const KEYS: &[(&str, Kind)] = &[
    ("auth_mode", Kind::Text),
    ("primary_auth_mode", Kind::Bool),
    ("ldap_url", Kind::Text),
    ("ldap_search_dn", Kind::Text),
    ("ldap_search_password", Kind::Secret),
    ("ldap_base_dn", Kind::Text),
    ("ldap_filter", Kind::Text),
    ("ldap_uid", Kind::Text),
    ("ldap_scope", Kind::Integer),
    ("ldap_timeout", Kind::Integer),
    ("ldap_verify_cert", Kind::Bool),
    ("ldap_group_base_dn", Kind::Text),
    ("ldap_group_search_filter", Kind::Text),
    ("ldap_group_attribute_name", Kind::Text),
    ("ldap_group_admin_dn", Kind::Text),
    ("ldap_group_membership_attribute", Kind::Text),
    ("ldap_group_search_scope", Kind::Integer),
    ("ldap_starttls", Kind::Bool),
    ("ldap_nested_groups", Kind::Bool),
    ("ldap_nested_groups_timeout", Kind::Integer),
    ("ldap_group_cache_seconds", Kind::Integer),
    ("ldap_email_attribute", Kind::Text),
    ("ldap_display_name_attribute", Kind::Text),
    ("oidc_name", Kind::Text),
    ("oidc_endpoint", Kind::Text),
    ("oidc_client_id", Kind::Text),
    ("oidc_client_secret", Kind::Secret),
    ("oidc_groups_claim", Kind::Text),
    ("oidc_admin_group", Kind::Text),
    ("oidc_group_filter", Kind::Text),
    ("oidc_scope", Kind::Text),
    ("oidc_user_claim", Kind::Text),
    ("oidc_verify_cert", Kind::Bool),
    ("oidc_auto_onboard", Kind::Bool),
    ("oidc_extra_redirect_parms", Kind::Text),
    ("token_expiration", Kind::Integer),
    ("robot_token_duration", Kind::Integer),
    ("robot_name_prefix", Kind::Text),
    ("self_registration", Kind::Bool),
    ("project_creation_restriction", Kind::Text),
    ("read_only", Kind::Bool),
];

/// Harbor's user-settable keys that Berth accepts and ignores: the rest of the swagger's `Configurations`
/// (and `scan_all_policy` of `ConfigurationsResponse`), and the user-scope keys of Harbor's config metadata
/// that the swagger leaves out (e-mail, pull-time switches). A value must still have the key's type.
pub const HARBOR_ONLY: &[(&str, KindName)] = &[
    ("ldap_group_attach_parallel", KindName::Bool),
    ("uaa_client_id", KindName::Text),
    ("uaa_client_secret", KindName::Text),
    ("uaa_endpoint", KindName::Text),
    ("uaa_verify_cert", KindName::Bool),
    ("http_authproxy_endpoint", KindName::Text),
    ("http_authproxy_tokenreview_endpoint", KindName::Text),
    ("http_authproxy_admin_groups", KindName::Text),
    ("http_authproxy_admin_usernames", KindName::Text),
    ("http_authproxy_verify_cert", KindName::Bool),
    ("http_authproxy_skip_search", KindName::Bool),
    ("http_authproxy_server_certificate", KindName::Text),
    ("oidc_logout", KindName::Bool),
    ("notification_enable", KindName::Bool),
    ("quota_per_project_enable", KindName::Bool),
    ("storage_per_project", KindName::Integer),
    ("audit_log_forward_endpoint", KindName::Text),
    ("skip_audit_log_database", KindName::Bool),
    ("session_timeout", KindName::Integer),
    ("scanner_skip_update_pulltime", KindName::Bool),
    ("banner_message", KindName::Text),
    ("disabled_audit_log_event_types", KindName::Text),
    ("scan_all_policy", KindName::Object),
    ("email_from", KindName::Text),
    ("email_host", KindName::Text),
    ("email_identity", KindName::Text),
    ("email_insecure", KindName::Bool),
    ("email_password", KindName::Text),
    ("email_port", KindName::Integer),
    ("email_ssl", KindName::Bool),
    ("email_username", KindName::Text),
    ("pull_time_update_disable", KindName::Bool),
    ("pull_count_update_disable", KindName::Bool),
    ("pull_audit_log_disable", KindName::Bool),
];

/// The type of a key in [`HARBOR_ONLY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindName {
    Text,
    Bool,
    Integer,
    /// A JSON object (or its JSON text), as Harbor's `scan_all_policy`.
    Object,
}

/// Whether `value` has the type of Harbor-only key `key`; `null` passes (Harbor's typed body leaves it out).
fn check_harbor_only(key: &str, kind: KindName, value: &Value) -> Result<(), String> {
    let fits = match kind {
        KindName::Text => value.is_string(),
        KindName::Bool => value.is_boolean(),
        KindName::Integer => value.is_i64(),
        KindName::Object => value.is_object() || value.is_string(),
    };
    if fits || value.is_null() {
        Ok(())
    } else {
        let expected = match kind {
            KindName::Text => "a string",
            KindName::Bool => "a boolean",
            KindName::Integer => "an integer",
            KindName::Object => "an object",
        };
        Err(format!("{key} must be {expected}, not {value}"))
    }
}

fn kind_of(key: &str) -> Option<Kind> {
    KEYS.iter().find(|(k, _)| *k == key).map(|(_, kind)| *kind)
}

fn text(key: &str, value: &Value) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{key} must be a string, not {value}"))
}

fn boolean(key: &str, value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| format!("{key} must be a boolean, not {value}"))
}

fn integer(key: &str, value: &Value) -> Result<i64, String> {
    value
        .as_i64()
        .ok_or_else(|| format!("{key} must be an integer, not {value}"))
}

fn scope(key: &str, value: &Value) -> Result<LdapScope, String> {
    let n = integer(key, value)?;
    LdapScope::from_harbor(n)
        .ok_or_else(|| format!("{key} must be 0 (base), 1 (one level) or 2 (subtree), not {n}"))
}

/// Harbor's rule for `token_expiration` and `robot_token_duration` (`verifyValueLengthCfg`).
fn duration(key: &str, value: &Value) -> Result<u64, String> {
    let n = integer(key, value)?;
    if n <= 0 {
        return Err(format!("the {key} value must be positive"));
    }
    if n > MAX_DURATION {
        return Err(format!(
            "the {key} value is over the limit value: {MAX_DURATION}"
        ));
    }
    Ok(n.unsigned_abs())
}

fn non_empty(key: &str, value: &Value) -> Result<String, String> {
    let s = text(key, value)?;
    if s.trim().is_empty() {
        Err(format!("{key} must not be empty"))
    } else {
        Ok(s)
    }
}

/// An LDAP filter; one given without its outer parentheses gets them, as Harbor reads it
/// (`normalizeFilter`): `objectClass=person` is `(objectClass=person)`.
fn ldap_filter(key: &str, value: &Value) -> Result<String, String> {
    let filter = text(key, value)?;
    let trimmed = filter.trim();
    if trimmed.is_empty() || trimmed.starts_with('(') {
        Ok(trimmed.to_owned())
    } else {
        Ok(format!("({trimmed})"))
    }
}

/// `ldap_url`: empty, or an `ldap://` or `ldaps://` URL with a host. Without a scheme, `ldap://` is meant.
fn ldap_url(value: &Value) -> Result<String, String> {
    let raw = text("ldap_url", value)?;
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(String::new());
    }
    let full = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("ldap://{raw}")
    };
    let url = reqwest::Url::parse(&full)
        .map_err(|e| format!("ldap_url {raw:?} is not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "ldap" | "ldaps") {
        return Err(format!(
            "ldap_url {raw:?} must start with ldap:// or ldaps://"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("ldap_url {raw:?} has no host"));
    }
    Ok(full)
}

/// `oidc_endpoint`: empty, or an `https://` (or `http://`, for a provider on a private network) URL with a host.
fn oidc_endpoint(value: &Value) -> Result<String, String> {
    let raw = text("oidc_endpoint", value)?;
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(String::new());
    }
    let url = reqwest::Url::parse(raw)
        .map_err(|e| format!("oidc_endpoint {raw:?} is not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!(
            "oidc_endpoint {raw:?} must start with https:// or http://"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("oidc_endpoint {raw:?} has no host"));
    }
    Ok(raw.to_owned())
}

impl SystemConfig {
    /// Harbor's defaults, with the values the file/env configuration also has (`token_expiration`).
    pub fn defaults(config: &Config) -> SystemConfig {
        SystemConfig {
            auth_mode: AuthMode::Db,
            primary_auth_mode: false,
            ldap: LdapSettings::default(),
            oidc: OidcSettings::default(),
            token_expiration: config.token_expiration.max(1),
            robot_token_duration: 30,
            robot_name_prefix: crate::auth::robots::DEFAULT_PREFIX.to_owned(),
            self_registration: false,
            project_creation_restriction: ProjectCreationRestriction::Everyone,
            read_only: false,
        }
    }

    /// The lifetime of registry tokens issued now.
    pub fn token_lifetime(&self) -> Duration {
        Duration::from_secs(self.token_expiration.max(1).saturating_mul(60))
    }

    /// The LDAP settings with the fields of Harbor's `LdapConf` (from `POST /ldap/ping`) put over the stored
    /// ones, each checked as `PUT /configurations` checks it. An absent or empty password keeps the stored one.
    pub fn ldap_with(&self, conf: &LdapConf) -> Result<LdapSettings, ServiceError> {
        let mut config = self.clone();
        let fields = [
            ("ldap_url", conf.ldap_url.as_ref().map(|v| json!(v))),
            (
                "ldap_search_dn",
                conf.ldap_search_dn.as_ref().map(|v| json!(v)),
            ),
            ("ldap_base_dn", conf.ldap_base_dn.as_ref().map(|v| json!(v))),
            ("ldap_filter", conf.ldap_filter.as_ref().map(|v| json!(v))),
            ("ldap_uid", conf.ldap_uid.as_ref().map(|v| json!(v))),
            ("ldap_scope", conf.ldap_scope.map(|v| json!(v))),
            (
                "ldap_timeout",
                conf.ldap_connection_timeout.map(|v| json!(v)),
            ),
            ("ldap_verify_cert", conf.ldap_verify_cert.map(|v| json!(v))),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                config.set(key, &value).map_err(ServiceError::Invalid)?;
            }
        }
        if let Some(password) = conf.ldap_search_password.as_ref().filter(|p| !p.is_empty()) {
            config.ldap.search_password = StoredSecret::Set(Secret::new(password.clone()));
        }
        Ok(config.ldap)
    }

    /// Sets plain key `key` to `value` after checking it; the message says what is wrong.
    fn set(&mut self, key: &str, value: &Value) -> Result<(), String> {
        let ldap = &mut self.ldap;
        let oidc = &mut self.oidc;
        match key {
            "auth_mode" => {
                let mode = text(key, value)?;
                self.auth_mode = AuthMode::parse(&mode).ok_or_else(|| {
                    format!(
                        "invalid auth_mode {mode:?}: it must be db_auth, ldap_auth or oidc_auth"
                    )
                })?;
            }
            // Harbor's swagger lets it be null.
            "primary_auth_mode" => self.primary_auth_mode = value.is_null() || boolean(key, value)?,
            "ldap_url" => ldap.url = ldap_url(value)?,
            "ldap_search_dn" => ldap.search_dn = text(key, value)?,
            "ldap_base_dn" => ldap.base_dn = text(key, value)?,
            "ldap_filter" => ldap.filter = ldap_filter(key, value)?,
            "ldap_uid" => ldap.uid = non_empty(key, value)?,
            "ldap_scope" => ldap.scope = scope(key, value)?,
            "ldap_timeout" => {
                let n = integer(key, value)?;
                if !(1..=3600).contains(&n) {
                    return Err(format!(
                        "ldap_timeout must be between 1 and 3600 seconds, not {n}"
                    ));
                }
                ldap.timeout = n.unsigned_abs();
            }
            "ldap_verify_cert" => ldap.verify_cert = boolean(key, value)?,
            "ldap_group_base_dn" => ldap.group_base_dn = text(key, value)?,
            "ldap_group_search_filter" => ldap.group_search_filter = ldap_filter(key, value)?,
            // Empty means Harbor's default, `cn` (a fresh Harbor answers "").
            "ldap_group_attribute_name" => {
                let name = text(key, value)?;
                ldap.group_attribute_name = if name.trim().is_empty() {
                    LdapSettings::default().group_attribute_name
                } else {
                    name
                };
            }
            "ldap_group_admin_dn" => ldap.group_admin_dn = text(key, value)?,
            "ldap_group_membership_attribute" => {
                ldap.group_membership_attribute = non_empty(key, value)?;
            }
            "ldap_group_search_scope" => ldap.group_search_scope = scope(key, value)?,
            "ldap_starttls" => ldap.starttls = boolean(key, value)?,
            "ldap_nested_groups" => ldap.nested_groups = boolean(key, value)?,
            "ldap_nested_groups_timeout" => {
                let n = integer(key, value)?;
                if !(1..=3600).contains(&n) {
                    return Err(format!(
                        "ldap_nested_groups_timeout must be between 1 and 3600 seconds, not {n}"
                    ));
                }
                ldap.nested_groups_timeout = n.unsigned_abs();
            }
            "ldap_email_attribute" => ldap.email_attribute = non_empty(key, value)?,
            "ldap_display_name_attribute" => ldap.display_name_attribute = non_empty(key, value)?,
            "ldap_group_cache_seconds" => {
                let n = integer(key, value)?;
                if !(0..=MAX_DURATION).contains(&n) {
                    return Err(format!(
                        "ldap_group_cache_seconds must be between 0 and {MAX_DURATION}, not {n}"
                    ));
                }
                ldap.group_cache_seconds = n.unsigned_abs();
            }
            "oidc_name" => oidc.name = text(key, value)?,
            "oidc_endpoint" => oidc.endpoint = oidc_endpoint(value)?,
            "oidc_client_id" => oidc.client_id = text(key, value)?,
            "oidc_groups_claim" => oidc.groups_claim = text(key, value)?,
            "oidc_admin_group" => oidc.admin_group = text(key, value)?,
            "oidc_group_filter" => oidc.group_filter = text(key, value)?,
            "oidc_scope" => {
                let scopes = text(key, value)?;
                if !scopes.trim().is_empty() && !scopes.split(',').any(|s| s.trim() == "openid") {
                    return Err(format!(
                        "oidc_scope {scopes:?} must include openid (comma separated, e.g. openid,profile,email)"
                    ));
                }
                oidc.scope = scopes;
            }
            "oidc_user_claim" => oidc.user_claim = text(key, value)?,
            "oidc_verify_cert" => oidc.verify_cert = boolean(key, value)?,
            "oidc_auto_onboard" => oidc.auto_onboard = boolean(key, value)?,
            "oidc_extra_redirect_parms" => {
                let raw = text(key, value)?;
                let raw = if raw.trim().is_empty() {
                    "{}".to_owned()
                } else {
                    raw
                };
                let parsed: Result<Map<String, Value>, _> = serde_json::from_str(&raw);
                match parsed {
                    Ok(map) if map.values().all(Value::is_string) => {}
                    _ => {
                        return Err(format!(
                            "oidc_extra_redirect_parms {raw:?} must be a JSON object of strings, e.g. {{\"prompt\":\"login\"}}"
                        ));
                    }
                }
                oidc.extra_redirect_parms = raw;
            }
            "token_expiration" => self.token_expiration = duration(key, value)?,
            "robot_token_duration" => self.robot_token_duration = duration(key, value)?,
            "robot_name_prefix" => self.robot_name_prefix = non_empty(key, value)?,
            "self_registration" => self.self_registration = boolean(key, value)?,
            "read_only" => self.read_only = boolean(key, value)?,
            "project_creation_restriction" => {
                let restriction = text(key, value)?;
                self.project_creation_restriction = match restriction.as_str() {
                    "everyone" => ProjectCreationRestriction::Everyone,
                    "adminonly" => ProjectCreationRestriction::AdminOnly,
                    _ => {
                        return Err(format!(
                            "invalid project_creation_restriction {restriction:?}: it must be everyone or adminonly"
                        ));
                    }
                };
            }
            _ => return Err(format!("unknown configuration key {key:?}")),
        }
        Ok(())
    }

    /// The value of plain key `key` as JSON (`Null` for a secret or an unknown key).
    fn get(&self, key: &str) -> Value {
        let ldap = &self.ldap;
        let oidc = &self.oidc;
        match key {
            "auth_mode" => json!(self.auth_mode.as_str()),
            "primary_auth_mode" => json!(self.primary_auth_mode),
            "ldap_url" => json!(ldap.url),
            "ldap_search_dn" => json!(ldap.search_dn),
            "ldap_base_dn" => json!(ldap.base_dn),
            "ldap_filter" => json!(ldap.filter),
            "ldap_uid" => json!(ldap.uid),
            "ldap_scope" => json!(ldap.scope.harbor_number()),
            "ldap_timeout" => json!(ldap.timeout),
            "ldap_verify_cert" => json!(ldap.verify_cert),
            "ldap_group_base_dn" => json!(ldap.group_base_dn),
            "ldap_group_search_filter" => json!(ldap.group_search_filter),
            "ldap_group_attribute_name" => json!(ldap.group_attribute_name),
            "ldap_group_admin_dn" => json!(ldap.group_admin_dn),
            "ldap_group_membership_attribute" => json!(ldap.group_membership_attribute),
            "ldap_group_search_scope" => json!(ldap.group_search_scope.harbor_number()),
            "ldap_starttls" => json!(ldap.starttls),
            "ldap_nested_groups" => json!(ldap.nested_groups),
            "ldap_nested_groups_timeout" => json!(ldap.nested_groups_timeout),
            "ldap_email_attribute" => json!(ldap.email_attribute),
            "ldap_display_name_attribute" => json!(ldap.display_name_attribute),
            "ldap_group_cache_seconds" => json!(ldap.group_cache_seconds),
            "oidc_name" => json!(oidc.name),
            "oidc_endpoint" => json!(oidc.endpoint),
            "oidc_client_id" => json!(oidc.client_id),
            "oidc_groups_claim" => json!(oidc.groups_claim),
            "oidc_admin_group" => json!(oidc.admin_group),
            "oidc_group_filter" => json!(oidc.group_filter),
            "oidc_scope" => json!(oidc.scope),
            "oidc_user_claim" => json!(oidc.user_claim),
            "oidc_verify_cert" => json!(oidc.verify_cert),
            "oidc_auto_onboard" => json!(oidc.auto_onboard),
            "oidc_extra_redirect_parms" => json!(oidc.extra_redirect_parms),
            "token_expiration" => json!(self.token_expiration),
            "robot_token_duration" => json!(self.robot_token_duration),
            "robot_name_prefix" => json!(self.robot_name_prefix),
            "self_registration" => json!(self.self_registration),
            "project_creation_restriction" => json!(self.project_creation_restriction.as_str()),
            "read_only" => json!(self.read_only),
            _ => Value::Null,
        }
    }

    fn secret_mut(&mut self, key: &str) -> Option<&mut StoredSecret> {
        match key {
            "ldap_search_password" => Some(&mut self.ldap.search_password),
            "oidc_client_secret" => Some(&mut self.oidc.client_secret),
            _ => None,
        }
    }

    /// Harbor's `ConfigurationsResponse`: every plain key as `{value, editable}`, secrets left out. The auth
    /// mode is editable only while `auth_mode_editable`.
    pub fn response(
        &self,
        auth_mode_editable: bool,
    ) -> Result<ConfigurationsResponse, serde_json::Error> {
        let mut items = Map::new();
        for (key, kind) in KEYS {
            if *kind == Kind::Secret {
                continue;
            }
            let editable = *key != "auth_mode" || auth_mode_editable;
            items.insert(
                (*key).to_owned(),
                json!({"value": self.get(key), "editable": editable}),
            );
        }
        serde_json::from_value(Value::Object(items))
    }
}

/// The stored configuration over `defaults`. A stored value that no longer validates is logged and skipped;
/// a secret that does not open is kept as [`StoredSecret::Unreadable`].
pub async fn load(
    db: &Db,
    secrets: &SecretBox,
    defaults: &SystemConfig,
) -> Result<SystemConfig, sqlx::Error> {
    let mut config = defaults.clone();
    for row in db.configuration_rows().await? {
        match (&row.value, &row.sealed, config.secret_mut(&row.key)) {
            (_, Some(sealed), Some(slot)) => {
                *slot = match secrets.open(sealed) {
                    Ok(secret) => StoredSecret::Set(secret),
                    Err(e) => {
                        tracing::error!(key = %row.key, error = %e, "a stored configuration secret does not open; set it again");
                        StoredSecret::Unreadable
                    }
                };
            }
            (Some(json), None, None) => {
                let applied = serde_json::from_str::<Value>(json)
                    .map_err(|e| e.to_string())
                    .and_then(|value| config.set(&row.key, &value));
                if let Err(e) = applied {
                    tracing::warn!(key = %row.key, error = %e, "ignoring a stored configuration value");
                }
            }
            _ => {
                tracing::warn!(key = %row.key, "ignoring a stored configuration row of the wrong kind")
            }
        }
    }
    Ok(config)
}

/// The current configuration, shared by every request: [`LiveConfig::current`] is a cheap snapshot, replaced
/// whole when a change is committed.
#[derive(Debug)]
pub struct LiveConfig {
    defaults: SystemConfig,
    current: RwLock<Arc<SystemConfig>>,
    /// Serialises changes, so snapshots are replaced in commit order.
    writer: tokio::sync::Mutex<()>,
}

impl LiveConfig {
    /// Loads the stored configuration over the defaults for `config`.
    pub async fn load(
        db: &Db,
        secrets: &SecretBox,
        config: &Config,
    ) -> Result<LiveConfig, sqlx::Error> {
        let defaults = SystemConfig::defaults(config);
        let current = load(db, secrets, &defaults).await?;
        Ok(LiveConfig {
            defaults,
            current: RwLock::new(Arc::new(current)),
            writer: tokio::sync::Mutex::new(()),
        })
    }

    /// The configuration now.
    pub fn current(&self) -> Arc<SystemConfig> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn replace(&self, config: SystemConfig) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(config);
    }
}

/// Applies `changes` (a flat `{key: value}` subset): checks every key, then stores them in one transaction and
/// replaces the live snapshot. Returns the keys changed. `force` lets the auth mode change even when users
/// exist (the CLI's escape hatch).
pub async fn update(
    db: &Db,
    secrets: &SecretBox,
    live: &LiveConfig,
    changes: &Map<String, Value>,
    force: bool,
) -> Result<Vec<String>, ServiceError> {
    let _writer = live.writer.lock().await;
    // The database, not the snapshot: the CLI may have changed it from another process.
    let before = load(db, secrets, &live.defaults).await?;
    let mut after = before.clone();
    let mut rows = Vec::with_capacity(changes.len());
    let mut ignored = Vec::new();
    for (key, value) in changes {
        let Some(kind) = kind_of(key) else {
            match HARBOR_ONLY.iter().find(|(k, _)| k == key) {
                Some((_, kind)) => {
                    check_harbor_only(key, *kind, value).map_err(ServiceError::Invalid)?;
                    ignored.push(key.as_str());
                    continue;
                }
                None => {
                    return Err(ServiceError::Invalid(format!(
                        "unknown configuration key {key:?}: neither Harbor nor Berth has it"
                    )));
                }
            }
        };
        if kind == Kind::Secret {
            let secret = text(key, value).map_err(ServiceError::Invalid)?;
            let (stored, change) = if secret.is_empty() {
                (StoredSecret::Unset, ConfigChange::Reset)
            } else {
                let sealed = secrets
                    .seal(&secret)
                    .map_err(|e| ServiceError::Invalid(format!("sealing {key}: {e}")))?;
                (
                    StoredSecret::Set(Secret::new(secret)),
                    ConfigChange::Sealed(sealed),
                )
            };
            if let Some(slot) = after.secret_mut(key) {
                *slot = stored;
            }
            rows.push((key.as_str(), change));
        } else {
            after.set(key, value).map_err(ServiceError::Invalid)?;
            // What is stored is the checked, normalised value.
            rows.push((
                key.as_str(),
                ConfigChange::Value(after.get(key).to_string()),
            ));
        }
    }
    let guard = after.auth_mode != before.auth_mode && !force;
    match db.save_configuration(&rows, guard).await? {
        SaveConfig::Saved => {}
        SaveConfig::UsersExist => return Err(ServiceError::Invalid(AUTH_MODE_FROZEN.to_owned())),
    }
    live.replace(after);
    if !ignored.is_empty() {
        tracing::info!(keys = %ignored.join(","), "Harbor configuration keys Berth does not use were accepted and ignored");
    }
    Ok(rows.into_iter().map(|(key, _)| key.to_owned()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> SystemConfig {
        SystemConfig::defaults(&Config::default())
    }

    #[test]
    fn every_key_reads_back_what_was_set() {
        let mut config = defaults();
        for (key, kind) in KEYS {
            if *kind == Kind::Secret {
                continue;
            }
            let value = config.get(key);
            assert!(!value.is_null(), "{key} has no value");
            assert_eq!(config.set(key, &value), Ok(()), "{key}");
            assert_eq!(config.get(key), value, "{key}");
        }
        assert!(config.response(true).is_ok());
    }

    #[test]
    fn bad_values_are_refused_with_the_reason() {
        let mut config = defaults();
        let cases = [
            (
                "auth_mode",
                json!("uaa_auth"),
                "must be db_auth, ldap_auth or oidc_auth",
            ),
            (
                "ldap_scope",
                json!(3),
                "must be 0 (base), 1 (one level) or 2 (subtree), not 3",
            ),
            ("ldap_scope", json!("2"), "must be an integer"),
            (
                "ldap_url",
                json!("http://ldap.example.com"),
                "must start with ldap://",
            ),
            ("ldap_url", json!("ldap://exa mple"), "is not a valid URL"),
            ("oidc_endpoint", json!("not a url"), "is not a valid URL"),
            (
                "token_expiration",
                json!(-5),
                "the token_expiration value must be positive",
            ),
            ("robot_token_duration", json!(0), "must be positive"),
            (
                "token_expiration",
                json!(100_000_000),
                "over the limit value: 99999999",
            ),
            ("self_registration", json!("yes"), "must be a boolean"),
            (
                "project_creation_restriction",
                json!("nobody"),
                "everyone or adminonly",
            ),
            (
                "oidc_extra_redirect_parms",
                json!("[1]"),
                "JSON object of strings",
            ),
            ("oidc_scope", json!("profile,email"), "must include openid"),
            ("nope", json!(1), "unknown configuration key"),
        ];
        for (key, value, expected) in cases {
            let error = config.set(key, &value).err().unwrap_or_default();
            assert!(error.contains(expected), "{key}={value}: {error}");
        }
        assert_eq!(config, defaults(), "refused values change nothing");
    }

    #[test]
    fn ldap_urls_without_a_scheme_mean_ldap() {
        let mut config = defaults();
        assert_eq!(
            config.set("ldap_url", &json!("ldap.example.com:389")),
            Ok(())
        );
        assert_eq!(config.ldap.url, "ldap://ldap.example.com:389");
    }

    #[test]
    fn the_file_token_expiration_is_the_default() {
        let config = SystemConfig::defaults(&Config {
            token_expiration: 7,
            ..Config::default()
        });
        assert_eq!(config.token_lifetime(), Duration::from_secs(7 * 60));
    }
}
