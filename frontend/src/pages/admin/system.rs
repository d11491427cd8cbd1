//! Administration → Configuration → System (`/harbor/configs/setting`): Berth's system information as cards —
//! general information (`GET /systeminfo`), component health (`GET /health`) and statistics
//! (`GET /statistics`) — and the current auth mode, with a link to the Authentication tab.

use berth_api::statistics::Statistic;
use berth_api::system::{ComponentHealthStatus, GeneralInfo, OverallHealthStatus};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::fetch::Fetch;
use crate::format;

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

    let general = move || match info.get() {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Some(Err(e)) => {
            view! { <div class="banner banner-error" role="alert">{e.message}</div> }.into_any()
        }
        Some(Ok(info)) => view! {
            <dl class="facts">
                <dt>"Version"</dt><dd data-testid="system-version">{info.harbor_version}</dd>
                <dt>"Authentication mode"</dt><dd>{auth_mode_name(&info.auth_mode)}</dd>
                <dt>"Registry"</dt><dd><code>{info.registry_url}</code></dd>
                <dt>"External URL"</dt><dd><code>{info.external_url}</code></dd>
                <dt>"Storage"</dt><dd>{info.registry_storage_provider_name}</dd>
                <dt>"Project creation"</dt><dd>{info.project_creation_restriction}</dd>
                <dt>"Self-registration"</dt><dd>{yes_no(info.self_registration)}</dd>
                <dt>"Read only"</dt><dd>{yes_no(info.read_only)}</dd>
                <dt>"Server time"</dt><dd>{format::time(&info.current_time)}</dd>
            </dl>
        }
        .into_any(),
    };

    let components = move || match health.get() {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        // Berth answers 500 when a component is unhealthy.
        Some(Err(e)) if e.status == 500 => view! {
            <div class="banner banner-error" role="alert">
                "A component of Berth is unhealthy; see the server's log."
            </div>
        }
        .into_any(),
        Some(Err(e)) => {
            view! { <div class="banner banner-error" role="alert">{e.message}</div> }.into_any()
        }
        Some(Ok(overall)) => {
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
        }
    };

    let counts = move || match statistics.get() {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Some(Err(e)) => {
            view! { <div class="banner banner-error" role="alert">{e.message}</div> }.into_any()
        }
        Some(Ok(s)) => view! {
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
        .into_any(),
    };

    let auth_mode = move || match info.get() {
        Some(Ok(info)) => auth_mode_name(&info.auth_mode),
        Some(Err(_)) => "—".to_owned(),
        None => "…".to_owned(),
    };

    view! {
        <section class="system-page">
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

    #[test]
    fn component_names_become_labels() {
        assert_eq!(component_label("database"), "Database");
        assert_eq!(component_label("job_service"), "Job Service");
        assert_eq!(component_label("registry-ctl"), "Registry Ctl");
    }
}
