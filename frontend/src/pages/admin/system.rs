//! Administration → Configuration → System (`/harbor/configs/setting`): Harbor's system settings (project
//! creation, read-only mode, robot token lifetime and name prefix, self-registration), edited with Save and
//! Cancel and saved with `PUT /configurations` (only the keys changed); then Berth's system information as
//! cards — general information (`GET /systeminfo`), component health (`GET /health`) and statistics
//! (`GET /statistics`) — and the current auth mode, with a link to the Authentication tab.
//!
//! A setting the server does not return is not shown (as on the Authentication tab), so the page works with
//! a server that lacks one.

use berth_api::statistics::Statistic;
use berth_api::system::{ComponentHealthStatus, GeneralInfo, OverallHealthStatus};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;

use super::auth_config::{Field, FieldInput, Kind, changes_in, is_shown};
use super::config_form::ConfigForm;
use crate::components::fetch::Fetch;
use crate::components::toast::{ErrorBanner, answered, error_banner, loading_note};
use crate::format;
use crate::system_info::use_system_info;

/// Harbor's choices of `project_creation_restriction`.
pub const PROJECT_CREATION: &[(&str, &str)] =
    &[("everyone", "Everyone"), ("adminonly", "Admin Only")];

/// The fields of Harbor's System Settings, in its order.
pub const SYSTEM_FIELDS: &[Field] = &[
    Field {
        key: "project_creation_restriction",
        label: "Project Creation",
        kind: Kind::Choice(PROJECT_CREATION),
        hint: "Who may create projects: everyone signed in, or system administrators only.",
    },
    Field {
        key: "read_only",
        label: "Repository Read Only",
        kind: Kind::Bool,
        hint: "Refuse pushes and the deletion of repositories, artifacts and tags (e.g. during maintenance).",
    },
    Field {
        key: "robot_token_duration",
        label: "Robot Token Expiration (Days)",
        kind: Kind::Integer,
        hint: "How long a new robot account's secret is valid unless its creator chooses otherwise.",
    },
    Field {
        key: "robot_name_prefix",
        label: "Robot Name Prefix",
        kind: Kind::Text,
        hint: "Put before every robot account's name, e.g. robot$.",
    },
    Field {
        key: "self_registration",
        label: "Allow Self-Registration",
        kind: Kind::Bool,
        hint: "Whether people may sign themselves up (database authentication only).",
    },
];

/// How `project_creation_restriction` reads.
pub fn project_creation_name(restriction: &str) -> String {
    PROJECT_CREATION
        .iter()
        .find(|(value, _)| *value == restriction)
        .map_or_else(|| restriction.to_owned(), |(_, label)| (*label).to_owned())
}

/// How an authentication mode of `systeminfo` reads.
pub fn auth_mode_name(mode: &str) -> String {
    match mode {
        "db_auth" => "Database".to_owned(),
        "ldap_auth" => "LDAP".to_owned(),
        "uaa_auth" => "UAA".to_owned(),
        "http_auth" => "HTTP Auth".to_owned(),
        "oidc_auth" => "OIDC".to_owned(),
        other => other.to_owned(),
    }
}

/// Whether a component's (or the overall) status is healthy.
pub fn is_healthy(status: &str) -> bool {
    status.eq_ignore_ascii_case("healthy")
}

/// A component's name as a heading: `"database"` → `"Database"`.
pub fn component_label(name: &str) -> String {
    name.split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(format::capitalise)
        .collect::<Vec<_>>()
        .join(" ")
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "Yes" } else { "No" }
}

#[component]
pub fn SystemPage() -> impl IntoView {
    let info = Fetch::<GeneralInfo>::at("/systeminfo");
    let health = Fetch::<OverallHealthStatus>::at("/health");
    let statistics = Fetch::<Statistic>::at("/statistics");
    let refresh = move |_| {
        info.refetch();
        health.refetch();
        statistics.refetch();
    };

    let general = move || {
        answered(info.get(), |info| {
            view! {
            <dl class="facts">
                <dt>"Version"</dt><dd data-testid="system-version">{info.harbor_version}</dd>
                <dt>"Authentication mode"</dt><dd>{auth_mode_name(&info.auth_mode)}</dd>
                <dt>"Registry"</dt><dd><code>{info.registry_url}</code></dd>
                <dt>"External URL"</dt><dd><code>{info.external_url}</code></dd>
                <dt>"Storage"</dt><dd>{info.registry_storage_provider_name}</dd>
                <dt>"Project creation"</dt>
                <dd data-testid="system-project-creation">
                    {project_creation_name(&info.project_creation_restriction)}
                </dd>
                <dt>"Self-registration"</dt><dd>{yes_no(info.self_registration)}</dd>
                <dt>"Read only"</dt><dd>{yes_no(info.read_only)}</dd>
                <dt>"Server time"</dt><dd>{format::time(&info.current_time)}</dd>
            </dl>
            }
            .into_any()
        })
    };

    let components = move || match health.get() {
        // Berth answers 500 when a component is unhealthy.
        Some(Err(e)) if e.status == 500 => {
            error_banner("A component of Berth is unhealthy; see the server's log.".to_owned())
        }
        answer => answered(answer, |overall| {
            let overall_ok = is_healthy(&overall.status);
            view! {
                <p class="health-overall">
                    <StatusDot healthy=overall_ok/>
                    {if overall_ok { "All components are healthy" } else { "Some components are unhealthy" }}
                </p>
                <ul class="health-list">
                    {overall.components.into_iter().map(|c| view! { <ComponentRow component=c/> }).collect_view()}
                </ul>
            }
            .into_any()
        }),
    };

    let counts = move || {
        answered(statistics.get(), |s| {
            view! {
            <dl class="facts">
                <dt>"Projects"</dt><dd data-testid="stat-projects">{s.total_project_count}</dd>
                <dt>"Public projects"</dt><dd>{s.public_project_count}</dd>
                <dt>"Private projects"</dt><dd>{s.private_project_count}</dd>
                <dt>"Repositories"</dt><dd data-testid="stat-repositories">{s.total_repo_count}</dd>
                <dt>"Public repositories"</dt><dd>{s.public_repo_count}</dd>
                <dt>"Private repositories"</dt><dd>{s.private_repo_count}</dd>
                <dt>"Storage used"</dt><dd>{format::bytes(s.total_storage_consumption)}</dd>
            </dl>
            }
            .into_any()
        })
    };

    let auth_mode = move || match info.get() {
        Some(Ok(info)) => auth_mode_name(&info.auth_mode),
        Some(Err(_)) => "—".to_owned(),
        None => "…".to_owned(),
    };

    view! {
        <section class="system-page">
            <SystemSettings on_saved=Callback::new(move |()| info.refetch())/>
            <div class="toolbar">
                <h2>"System"</h2>
                <button type="button" class="secondary icon" aria-label="Refresh" on:click=refresh>"⟳"</button>
            </div>
            <div class="cards">
                <section class="card" aria-labelledby="system-general">
                    <h2 id="system-general">"General"</h2>
                    {general}
                </section>
                <section class="card" aria-labelledby="system-health">
                    <h2 id="system-health">"Health"</h2>
                    {components}
                </section>
                <section class="card" aria-labelledby="system-statistics">
                    <h2 id="system-statistics">"Statistics"</h2>
                    {counts}
                </section>
            </div>
            <section class="card auth-config" aria-labelledby="system-auth">
                <h2 id="system-auth">"Authentication"</h2>
                <dl class="facts">
                    <dt>"Auth mode"</dt><dd data-testid="auth-mode">{auth_mode}</dd>
                </dl>
                <p><A href="/harbor/configs/auth">"Configure authentication"</A></p>
            </section>
        </section>
    }
}

/// Harbor's System Settings form, over `GET`/`PUT /configurations`.
#[component]
fn SystemSettings(on_saved: Callback<()>) -> impl IntoView {
    let form = ConfigForm::new(|settings, values| changes_in(SYSTEM_FIELDS, settings, values));
    let (settings, values, error, busy) = (form.settings, form.values, form.error, form.busy);
    let shared = use_system_info();
    let unchanged = move || form.unchanged();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.save(move || {
            // The banner, the navigation and the cards below read these too.
            shared.refetch();
            on_saved.run(());
        });
    };
    let cancel = move |_| form.reset();
    let fields = move || {
        settings.with(|s| {
            s.as_ref().map(|s| {
                SYSTEM_FIELDS
                    .iter()
                    .filter(|f| is_shown(f, s))
                    .map(|f| view! { <FieldInput field=*f values=values/> })
                    .collect_view()
            })
        })
    };
    view! {
        <form class="card system-settings" aria-labelledby="system-settings-title" on:submit=submit novalidate>
            <h2 id="system-settings-title">"System Settings"</h2>
            {move || settings.with(Option::is_none).then(loading_note)}
            <div class="auth-form">{fields}</div>
            <ErrorBanner error=error/>
            <div class="auth-actions">
                <button type="submit" disabled=move || busy.get() || unchanged()>"Save"</button>
                <button type="button" class="secondary" on:click=cancel disabled=move || busy.get() || unchanged()>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

#[component]
fn StatusDot(healthy: bool) -> impl IntoView {
    view! { <span class="status-dot" class:status-ok=healthy class:status-bad=!healthy aria-hidden="true"></span> }
}

#[component]
fn ComponentRow(component: ComponentHealthStatus) -> impl IntoView {
    let healthy = is_healthy(&component.status);
    let name = component.name.clone();
    view! {
        <li data-component=name>
            <StatusDot healthy=healthy/>
            <span class="health-name">{component_label(&component.name)}</span>
            <span class="health-status" class:status-text-bad=!healthy>
                {if healthy { "Healthy".to_owned() } else { "Unhealthy".to_owned() }}
            </span>
            {component.error.map(|e| view! { <span class="muted health-error">{e}</span> })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_modes_read_as_harbor_names_them() {
        assert_eq!(auth_mode_name("db_auth"), "Database");
        assert_eq!(auth_mode_name("ldap_auth"), "LDAP");
        assert_eq!(auth_mode_name("oidc_auth"), "OIDC");
        assert_eq!(auth_mode_name("something_new"), "something_new");
    }

    #[test]
    fn health_is_read_from_the_status_text() {
        assert!(is_healthy("healthy"));
        assert!(is_healthy("Healthy"));
        assert!(!is_healthy("unhealthy"));
        assert!(!is_healthy(""));
    }

    use crate::pages::admin::auth_config::{Settings, form_values};

    #[test]
    fn only_changed_system_settings_are_sent_typed() {
        let settings: Settings = serde_json::from_value(serde_json::json!({
            "project_creation_restriction": {"value": "everyone", "editable": true},
            "robot_token_duration": {"value": 30, "editable": true},
            "robot_name_prefix": {"value": "robot$", "editable": true},
            "self_registration": {"value": false, "editable": true},
            "ldap_url": {"value": "", "editable": true},
        }))
        .unwrap_or_default();
        let mut values = form_values(&settings);
        assert_eq!(
            changes_in(SYSTEM_FIELDS, &settings, &values),
            Ok(Default::default())
        );
        values.insert("project_creation_restriction".into(), "adminonly".into());
        values.insert("robot_token_duration".into(), "45".into());
        values.insert("self_registration".into(), "true".into());
        values.insert("ldap_url".into(), "ldap://elsewhere".into());
        let body = changes_in(SYSTEM_FIELDS, &settings, &values).unwrap_or_default();
        assert_eq!(
            serde_json::Value::Object(body),
            serde_json::json!({"project_creation_restriction": "adminonly", "robot_token_duration": 45,
                               "self_registration": true})
        );
        values.insert("robot_token_duration".into(), "soon".into());
        assert!(changes_in(SYSTEM_FIELDS, &settings, &values).is_err());
        // A server without `read_only` gets no such field.
        let read_only = SYSTEM_FIELDS.iter().find(|f| f.key == "read_only");
        assert!(read_only.is_some_and(|f| !is_shown(f, &settings)));
    }

    #[test]
    fn project_creation_reads_as_harbor_names_it() {
        assert_eq!(project_creation_name("adminonly"), "Admin Only");
        assert_eq!(project_creation_name("everyone"), "Everyone");
        assert_eq!(project_creation_name("other"), "other");
    }

    #[test]
    fn component_names_become_labels() {
        assert_eq!(component_label("database"), "Database");
        assert_eq!(component_label("job_service"), "Job Service");
        assert_eq!(component_label("registry-ctl"), "Registry Ctl");
    }
}
