//! Administration → Configuration → Authentication (`/harbor/configs/auth`): Harbor's form for the auth mode
//! and every LDAP and OIDC key of `GET`/`PUT /configurations`, with "TEST LDAP SERVER" (`POST /ldap/ping`) and
//! "TEST OIDC SERVER" (`POST /system/oidc/ping`).
//!
//! Rules:
//! - The form is driven by one table of fields ([`LDAP_FIELDS`], [`OIDC_FIELDS`]); a key the server does not
//!   return is not shown (secrets excepted: they are write-only and never returned).
//! - Only the fields of the selected mode are shown, as in Harbor.
//! - Save sends only the keys whose value changed ([`changed_settings`]); a secret only when the admin typed a
//!   new one (an empty secret input keeps the stored secret, since the server would remove it).

use std::collections::BTreeMap;

use berth_api::ldap::{LdapConf, LdapPingResult};
use berth_api::oidc::OidcPingReq;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::config_form::ConfigForm;
use crate::api;
use crate::components::toast::{ErrorBanner, loading_note};
use crate::components::when::When;

/// One `ConfigurationsResponse` item: its value (text, boolean or integer) and whether it may change now.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ConfigItem {
    pub value: Value,
    #[serde(default = "editable")]
    pub editable: bool,
}

fn editable() -> bool {
    true
}

/// `GET /configurations`: key → item.
pub type Settings = BTreeMap<String, ConfigItem>;

/// The form's values, as typed: key → text (`"true"`/`"false"` for check boxes).
pub type FormValues = BTreeMap<String, String>;

/// How a field is edited and sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Write-only text (never returned; sent only when typed).
    Secret,
    Bool,
    Integer,
    /// An LDAP search scope: 0 base, 1 one level, 2 subtree.
    Scope,
    /// One of a few texts, as `(value, label)`.
    Choice(&'static [(&'static str, &'static str)]),
}

/// One input of the form.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub hint: &'static str,
}

const fn field(key: &'static str, label: &'static str, kind: Kind, hint: &'static str) -> Field {
    Field {
        key,
        label,
        kind,
        hint,
    }
}

pub const DB_AUTH: &str = "db_auth";
pub const LDAP_AUTH: &str = "ldap_auth";
pub const OIDC_AUTH: &str = "oidc_auth";

/// The modes offered, as `(auth_mode, label)`.
pub const AUTH_MODES: [(&str, &str); 3] = [
    (DB_AUTH, "Database"),
    (LDAP_AUTH, "LDAP"),
    (OIDC_AUTH, "OIDC"),
];

/// The fields of database authentication.
pub const DB_FIELDS: &[Field] = &[field(
    "self_registration",
    "Allow Self-Registration",
    Kind::Bool,
    "Whether people may sign themselves up.",
)];

/// The LDAP fields, in Harbor's order, then Berth's extensions.
pub const LDAP_FIELDS: &[Field] = &[
    field(
        "ldap_url",
        "LDAP URL",
        Kind::Text,
        "ldap://host:389 or ldaps://host:636",
    ),
    field(
        "ldap_search_dn",
        "LDAP Search DN",
        Kind::Text,
        "The account that searches for users, e.g. cn=admin,dc=example,dc=com",
    ),
    field(
        "ldap_search_password",
        "LDAP Search Password",
        Kind::Secret,
        "Leave empty to keep the stored password.",
    ),
    field(
        "ldap_base_dn",
        "LDAP Base DN",
        Kind::Text,
        "Where user searches start, e.g. ou=people,dc=example,dc=com",
    ),
    field(
        "ldap_filter",
        "LDAP Filter",
        Kind::Text,
        "An extra filter users must match, e.g. (objectClass=person)",
    ),
    field(
        "ldap_uid",
        "LDAP UID",
        Kind::Text,
        "The attribute holding the user name: uid, cn or sAMAccountName",
    ),
    field("ldap_scope", "LDAP Scope", Kind::Scope, ""),
    field(
        "ldap_email_attribute",
        "LDAP Email Attribute",
        Kind::Text,
        "e.g. mail",
    ),
    field(
        "ldap_display_name_attribute",
        "LDAP Display Name Attribute",
        Kind::Text,
        "e.g. displayName or cn",
    ),
    field("ldap_timeout", "LDAP Timeout (seconds)", Kind::Integer, ""),
    field(
        "ldap_starttls",
        "LDAP StartTLS",
        Kind::Bool,
        "Upgrade an ldap:// connection with StartTLS.",
    ),
    field(
        "ldap_verify_cert",
        "LDAP Verify Certificate",
        Kind::Bool,
        "Verify the LDAP server's TLS certificate.",
    ),
    field(
        "ldap_group_base_dn",
        "LDAP Group Base DN",
        Kind::Text,
        "Where group searches start.",
    ),
    field(
        "ldap_group_search_filter",
        "LDAP Group Filter",
        Kind::Text,
        "e.g. (objectClass=groupOfNames)",
    ),
    field(
        "ldap_group_attribute_name",
        "LDAP Group GID",
        Kind::Text,
        "The attribute holding a group's name, e.g. cn",
    ),
    field(
        "ldap_group_admin_dn",
        "LDAP Group Admin DN",
        Kind::Text,
        "Members of this group are system administrators.",
    ),
    field(
        "ldap_group_membership_attribute",
        "LDAP Group Membership",
        Kind::Text,
        "memberof (on users) or member (on groups)",
    ),
    field(
        "ldap_group_search_scope",
        "LDAP Group Scope",
        Kind::Scope,
        "",
    ),
    field(
        "ldap_nested_groups",
        "LDAP Nested Groups",
        Kind::Bool,
        "Also count the groups of a user's groups.",
    ),
    field(
        "ldap_nested_groups_timeout",
        "Nested Groups Timeout (seconds)",
        Kind::Integer,
        "",
    ),
    field(
        "ldap_group_cache_seconds",
        "Group Cache (seconds)",
        Kind::Integer,
        "How long a user's groups are remembered after sign-in; 0: not cached.",
    ),
];

/// The OIDC fields, in Harbor's order.
pub const OIDC_FIELDS: &[Field] = &[
    field(
        "oidc_name",
        "OIDC Provider Name",
        Kind::Text,
        "Shown on the sign-in button.",
    ),
    field(
        "oidc_endpoint",
        "OIDC Endpoint",
        Kind::Text,
        "The issuer URL, e.g. https://accounts.example.com",
    ),
    field("oidc_client_id", "OIDC Client ID", Kind::Text, ""),
    field(
        "oidc_client_secret",
        "OIDC Client Secret",
        Kind::Secret,
        "Leave empty to keep the stored secret.",
    ),
    field(
        "oidc_groups_claim",
        "Group Claim Name",
        Kind::Text,
        "The claim listing the user's groups, e.g. groups",
    ),
    field(
        "oidc_admin_group",
        "OIDC Admin Group",
        Kind::Text,
        "Members of this group are system administrators.",
    ),
    field(
        "oidc_group_filter",
        "OIDC Group Filter",
        Kind::Text,
        "A regular expression: only matching groups are taken.",
    ),
    field(
        "oidc_scope",
        "OIDC Scope",
        Kind::Text,
        "Comma separated; must include openid, e.g. openid,profile,email,offline_access",
    ),
    field(
        "oidc_verify_cert",
        "Verify Certificate",
        Kind::Bool,
        "Verify the provider's TLS certificate.",
    ),
    field(
        "oidc_auto_onboard",
        "Automatic onboarding",
        Kind::Bool,
        "Create users at first sign-in without asking for a user name.",
    ),
    field(
        "oidc_user_claim",
        "Username Claim",
        Kind::Text,
        "The claim holding the user name; empty: the user chooses one.",
    ),
    field(
        "oidc_extra_redirect_parms",
        "Extra Redirect Parameters",
        Kind::Text,
        r#"A JSON object of strings, e.g. {"prompt":"login"}"#,
    ),
];

/// The fields shown for an auth mode.
pub fn fields_of(mode: &str) -> &'static [Field] {
    match mode {
        LDAP_AUTH => LDAP_FIELDS,
        OIDC_AUTH => OIDC_FIELDS,
        _ => DB_FIELDS,
    }
}

/// Every field the form knows (the mode select aside).
fn all_fields() -> impl Iterator<Item = &'static Field> {
    DB_FIELDS.iter().chain(LDAP_FIELDS).chain(OIDC_FIELDS)
}

/// Whether `field` is shown: the server has the key (secrets are never returned, so always).
pub fn is_shown(field: &Field, settings: &Settings) -> bool {
    field.kind == Kind::Secret || settings.contains_key(field.key)
}

/// A value as the form shows it.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The form's starting values: every returned key as text, secrets empty.
pub fn form_values(settings: &Settings) -> FormValues {
    settings
        .iter()
        .map(|(key, item)| (key.clone(), value_text(&item.value)))
        .collect()
}

fn value_of(field: &Field, text: &str) -> Result<Value, String> {
    match field.kind {
        Kind::Text | Kind::Secret | Kind::Choice(_) => Ok(Value::String(text.trim().to_owned())),
        Kind::Bool => Ok(Value::Bool(text == "true")),
        Kind::Integer | Kind::Scope => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("{} must be a whole number.", field.label)),
    }
}

/// The body of `PUT /configurations`: the auth mode and each field whose value differs from what the server
/// returned; a secret only when one was typed. A number that does not parse is refused with its label.
pub fn changed_settings(
    settings: &Settings,
    values: &FormValues,
) -> Result<Map<String, Value>, String> {
    let mut body = Map::new();
    if let (Some(mode), Some(item)) = (values.get("auth_mode"), settings.get("auth_mode"))
        && *mode != value_text(&item.value)
    {
        body.insert("auth_mode".to_owned(), Value::String(mode.clone()));
    }
    body.extend(changes_in(all_fields(), settings, values)?);
    Ok(body)
}

/// The keys among `fields` whose value differs from what the server returned, typed as `PUT /configurations`
/// takes them (a secret only when one was typed); a number that does not parse is refused with its label.
pub fn changes_in<'a>(
    fields: impl IntoIterator<Item = &'a Field>,
    settings: &Settings,
    values: &FormValues,
) -> Result<Map<String, Value>, String> {
    let mut body = Map::new();
    for field in fields {
        let Some(text) = values.get(field.key) else {
            continue;
        };
        let changed = match field.kind {
            Kind::Secret => !text.is_empty(),
            _ => settings.get(field.key).is_some_and(|item| {
                value_of(field, text).map_or(true, |value| value != item.value)
            }),
        };
        if changed {
            body.insert(field.key.to_owned(), value_of(field, text)?);
        }
    }
    Ok(body)
}

/// The body of `POST /ldap/ping`: the LDAP settings as typed (a key the form lacks, and an empty password,
/// mean the stored value).
pub fn ldap_ping_request(values: &FormValues) -> LdapConf {
    let text = |key: &str| values.get(key).map(|v| v.trim().to_owned());
    let number = |key: &str| values.get(key).and_then(|v| v.trim().parse().ok());
    LdapConf {
        ldap_url: text("ldap_url"),
        ldap_search_dn: text("ldap_search_dn"),
        ldap_search_password: text("ldap_search_password").filter(|p| !p.is_empty()),
        ldap_base_dn: text("ldap_base_dn"),
        ldap_filter: text("ldap_filter"),
        ldap_uid: text("ldap_uid"),
        ldap_scope: number("ldap_scope"),
        ldap_connection_timeout: number("ldap_timeout"),
        ldap_verify_cert: values.get("ldap_verify_cert").map(|v| v == "true"),
    }
}

/// The body of `POST /system/oidc/ping`.
pub fn oidc_ping_request(values: &FormValues) -> OidcPingReq {
    OidcPingReq {
        url: values
            .get("oidc_endpoint")
            .map(|v| v.trim().to_owned())
            .unwrap_or_default(),
        verify_cert: values.get("oidc_verify_cert").is_none_or(|v| v == "true"),
    }
}

/// The outcome of a "TEST … SERVER" button: `(succeeded, what to say)`.
pub type TestResult = (bool, String);

/// What the page says after `POST /ldap/ping`.
pub fn ldap_test_result(answer: Result<LdapPingResult, api::ApiError>) -> TestResult {
    match answer {
        Ok(r) if r.success => (true, "Connection to the LDAP server succeeded.".to_owned()),
        Ok(r) if r.message.trim().is_empty() => {
            (false, "Connection to the LDAP server failed.".to_owned())
        }
        Ok(r) => (
            false,
            format!("Connection to the LDAP server failed: {}", r.message.trim()),
        ),
        Err(e) => (
            false,
            format!("Connection to the LDAP server failed: {}", e.message),
        ),
    }
}

/// What the page says after `POST /system/oidc/ping`.
pub fn oidc_test_result(answer: Result<(), api::ApiError>) -> TestResult {
    match answer {
        Ok(()) => (true, "Connection to the OIDC server succeeded.".to_owned()),
        Err(e) => (
            false,
            format!("Connection to the OIDC server failed: {}", e.message),
        ),
    }
}

/// Harbor's hint when the auth mode may no longer change.
pub const AUTH_MODE_LOCKED: &str =
    "The authentication mode can only be changed while there are no users other than admin.";

#[component]
pub fn AuthConfigTab() -> impl IntoView {
    let form = ConfigForm::new(changed_settings);
    let (settings, values, error) = (form.settings, form.values, form.error);
    let testing = RwSignal::new(false);
    let tested = RwSignal::new(None::<TestResult>);
    let mode = Memo::new(move |_| values.with(|v| v.get("auth_mode").cloned().unwrap_or_default()));
    let unchanged = move || form.unchanged();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.save(|| {});
    };
    let cancel = move |_| {
        tested.set(None);
        form.reset();
    };
    let test_server = move |_| {
        let form = values.get_untracked();
        let ldap = mode.get_untracked() == LDAP_AUTH;
        testing.set(true);
        tested.set(None);
        spawn_local(async move {
            let result = if ldap {
                ldap_test_result(api::post_json("/ldap/ping", &ldap_ping_request(&form)).await)
            } else {
                oidc_test_result(api::post("/system/oidc/ping", &oidc_ping_request(&form)).await)
            };
            testing.set(false);
            tested.set(Some(result));
        });
    };

    let mode_editable = move || {
        settings.with(|s| {
            s.as_ref()
                .and_then(|s| s.get("auth_mode"))
                .is_some_and(|item| item.editable)
        })
    };
    let fields = move || {
        let mode = mode.get();
        settings.with(|s| {
            s.as_ref().map(|s| {
                fields_of(&mode)
                    .iter()
                    .filter(|f| is_shown(f, s))
                    .map(|f| view! { <FieldInput field=*f values=values/> })
                    .collect_view()
            })
        })
    };

    view! {
        <form class="auth-settings" on:submit=submit novalidate>
            {move || settings.with(Option::is_none).then(loading_note)}
            <div class="auth-form" class:hidden=move || settings.with(Option::is_none)>
                <label for="cfg-auth_mode">"Auth Mode"</label>
                <div>
                    <select id="cfg-auth_mode" disabled=move || !mode_editable()
                        on:change=move |ev| {
                            let mode = event_target_value(&ev);
                            tested.set(None);
                            values.update(|v| { v.insert("auth_mode".to_owned(), mode); });
                        }>
                        {AUTH_MODES
                            .iter()
                            .map(|&(value, label)| view! {
                                <option value=value selected=move || mode.get() == value>{label}</option>
                            })
                            .collect_view()}
                    </select>
                    <When when=move || settings.with(Option::is_some) && !mode_editable()>
                        <p class="hint" data-testid="auth-mode-locked">{AUTH_MODE_LOCKED}</p>
                    </When>
                </div>
                {fields}
            </div>
            <ErrorBanner error=error/>
            {move || tested.get().map(|(ok, message)| view! {
                <p class="banner" class:banner-error=!ok class:banner-success=ok role="status"
                    data-testid="test-result">{message}</p>
            })}
            <div class="auth-actions">
                <button type="submit" disabled=move || form.busy.get() || unchanged()>"SAVE"</button>
                <button type="button" class="secondary" on:click=cancel disabled=unchanged>"CANCEL"</button>
                <When when=move || mode.get() == LDAP_AUTH>
                    <button type="button" class="secondary" on:click=test_server disabled=move || testing.get()>
                        "TEST LDAP SERVER"
                    </button>
                </When>
                <When when=move || mode.get() == OIDC_AUTH>
                    <button type="button" class="secondary" on:click=test_server disabled=move || testing.get()>
                        "TEST OIDC SERVER"
                    </button>
                </When>
                <When when=move || testing.get()><span class="muted">"Testing…"</span></When>
            </div>
        </form>
    }
}

/// One labelled input of the form, bound to its key in `values`.
#[component]
pub fn FieldInput(field: Field, values: RwSignal<FormValues>) -> impl IntoView {
    let key = field.key;
    let id = format!("cfg-{key}");
    let hint_id = format!("cfg-{key}-hint");
    let current = move || values.with(|v| v.get(key).cloned().unwrap_or_default());
    let set = move |value: String| {
        values.update(|v| {
            v.insert(key.to_owned(), value);
        })
    };
    let described = (!field.hint.is_empty()).then(|| hint_id.clone());
    let input = match field.kind {
        Kind::Bool => view! {
            <input id=id.clone() type="checkbox" aria-describedby=described.clone()
                prop:checked=move || current() == "true"
                on:change=move |ev| set(event_target_checked(&ev).to_string())/>
        }
        .into_any(),
        Kind::Scope | Kind::Choice(_) => {
            let options: &'static [(&str, &str)] = match field.kind {
                Kind::Choice(options) => options,
                _ => &[("0", "Base"), ("1", "OneLevel"), ("2", "Subtree")],
            };
            view! {
                <select id=id.clone() aria-describedby=described.clone()
                    on:change=move |ev| set(event_target_value(&ev))>
                    {options
                        .iter()
                        .map(|&(value, label)| view! {
                            <option value=value selected=move || current() == value>{label}</option>
                        })
                        .collect_view()}
                </select>
            }
            .into_any()
        }
        kind => view! {
            <input id=id.clone() aria-describedby=described.clone() autocomplete="off"
                type=match kind { Kind::Secret => "password", Kind::Integer => "number", _ => "text" }
                prop:value=current
                on:input=move |ev| set(event_target_value(&ev))/>
        }
        .into_any(),
    };
    view! {
        <label for=id>{field.label}</label>
        <div class="auth-field">
            {input}
            {(!field.hint.is_empty()).then(|| view! { <p class="hint" id=hint_id>{field.hint}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(pairs: Value) -> Settings {
        serde_json::from_value(pairs).unwrap_or_default()
    }

    fn sample() -> Settings {
        settings(json!({
            "auth_mode": {"value": "db_auth", "editable": true},
            "ldap_url": {"value": "", "editable": true},
            "ldap_scope": {"value": 2, "editable": true},
            "ldap_verify_cert": {"value": true, "editable": true},
            "ldap_timeout": {"value": 5, "editable": true},
            "oidc_endpoint": {"value": "https://id.example.com", "editable": true},
            "oidc_verify_cert": {"value": true, "editable": true},
        }))
    }

    #[test]
    fn the_form_starts_from_the_servers_values() {
        let values = form_values(&sample());
        assert_eq!(values.get("ldap_scope").map(String::as_str), Some("2"));
        assert_eq!(
            values.get("ldap_verify_cert").map(String::as_str),
            Some("true")
        );
        assert_eq!(values.get("ldap_url").map(String::as_str), Some(""));
        assert_eq!(values.get("ldap_search_password"), None);
    }

    #[test]
    fn an_untouched_form_sends_nothing() {
        let s = sample();
        assert_eq!(changed_settings(&s, &form_values(&s)), Ok(Map::new()));
    }

    #[test]
    fn only_changed_keys_are_sent_with_their_types() {
        let s = sample();
        let mut values = form_values(&s);
        values.insert("auth_mode".into(), "ldap_auth".into());
        values.insert("ldap_url".into(), " ldap://127.0.0.1:1 ".into());
        values.insert("ldap_scope".into(), "1".into());
        values.insert("ldap_verify_cert".into(), "false".into());
        let body = changed_settings(&s, &values).unwrap_or_default();
        assert_eq!(
            Value::Object(body),
            json!({"auth_mode": "ldap_auth", "ldap_url": "ldap://127.0.0.1:1", "ldap_scope": 1,
                   "ldap_verify_cert": false})
        );
    }

    #[test]
    fn secrets_are_sent_only_when_typed() {
        let s = sample();
        let mut values = form_values(&s);
        values.insert("ldap_search_password".into(), String::new());
        assert_eq!(changed_settings(&s, &values), Ok(Map::new()));
        values.insert("oidc_client_secret".into(), "s3cret".into());
        let body = changed_settings(&s, &values).unwrap_or_default();
        assert_eq!(Value::Object(body), json!({"oidc_client_secret": "s3cret"}));
    }

    #[test]
    fn a_number_that_does_not_parse_is_refused_by_its_label() {
        let s = sample();
        let mut values = form_values(&s);
        values.insert("ldap_timeout".into(), "soon".into());
        assert_eq!(
            changed_settings(&s, &values),
            Err("LDAP Timeout (seconds) must be a whole number.".to_owned())
        );
    }

    #[test]
    fn each_mode_shows_its_own_fields_and_only_known_keys() {
        assert!(
            fields_of(LDAP_AUTH)
                .iter()
                .all(|f| f.key.starts_with("ldap_"))
        );
        assert!(
            fields_of(OIDC_AUTH)
                .iter()
                .all(|f| f.key.starts_with("oidc_"))
        );
        assert_eq!(fields_of(DB_AUTH)[0].key, "self_registration");
        let s = sample();
        let shown: Vec<&str> = LDAP_FIELDS
            .iter()
            .filter(|f| is_shown(f, &s))
            .map(|f| f.key)
            .collect();
        assert_eq!(
            shown,
            [
                "ldap_url",
                "ldap_search_password",
                "ldap_scope",
                "ldap_timeout",
                "ldap_verify_cert"
            ]
        );
    }

    #[test]
    fn ldap_tests_use_the_typed_values_and_keep_the_stored_password() {
        let mut values = form_values(&sample());
        values.insert("ldap_url".into(), "ldap://127.0.0.1:1".into());
        values.insert("ldap_search_password".into(), String::new());
        let conf = ldap_ping_request(&values);
        assert_eq!(conf.ldap_url.as_deref(), Some("ldap://127.0.0.1:1"));
        assert_eq!(conf.ldap_search_password, None);
        assert_eq!(conf.ldap_scope, Some(2));
        assert_eq!(conf.ldap_connection_timeout, Some(5));
        assert_eq!(conf.ldap_verify_cert, Some(true));
        assert_eq!(conf.ldap_base_dn, None);
        values.insert("ldap_search_password".into(), "pw".into());
        assert_eq!(
            ldap_ping_request(&values).ldap_search_password.as_deref(),
            Some("pw")
        );
    }

    #[test]
    fn test_results_say_what_failed() {
        let failed = LdapPingResult {
            success: false,
            message: "connection refused".into(),
        };
        assert_eq!(
            ldap_test_result(Ok(failed)),
            (
                false,
                "Connection to the LDAP server failed: connection refused".to_owned()
            )
        );
        let ok = LdapPingResult {
            success: true,
            message: String::new(),
        };
        assert!(ldap_test_result(Ok(ok)).0);
        let refused = api::ApiError {
            status: 400,
            message: "Invalid issuer".into(),
        };
        assert_eq!(
            oidc_test_result(Err(refused)),
            (
                false,
                "Connection to the OIDC server failed: Invalid issuer".to_owned()
            )
        );
        let values = form_values(&sample());
        assert_eq!(
            oidc_ping_request(&values),
            OidcPingReq {
                url: "https://id.example.com".into(),
                verify_cert: true
            }
        );
    }
}
