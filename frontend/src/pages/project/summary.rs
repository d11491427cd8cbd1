//! The project's Summary tab (`/harbor/projects/{id}/summary`): access level and type, repository and
//! artifact counts, storage quota, members by role (for those who may list members), pulls with a chart of
//! the last 30 days, and the push commands — from `GET /projects/{id}/summary`. A proxy-cache project shows
//! its endpoint (the summary's `registry`) and include/exclude patterns, and the pull command instead: nobody
//! pushes to a proxy cache.

use berth_api::projects::ProjectSummary;
use leptos::prelude::*;

use super::use_project;
use crate::answers::{Project, ProjectMetadata};
use crate::api;
use crate::components::copy_button::CopyButton;
use crate::components::fetch::Fetch;
use crate::components::pulls_chart::PullsChart;
use crate::components::push_commands::{PushCommands, browser_registry};
use crate::components::quota_bar::quota_view;
use crate::components::toast::answered;

/// A proxy-cache project's patterns as shown, `(include, exclude)` (Berth's `proxy_include` / `proxy_exclude`
/// metadata, comma-separated doublestar globs; unset means every repository is included, none excluded).
pub fn patterns_shown(metadata: &ProjectMetadata) -> (String, String) {
    let or = |value: &Option<String>, none: &str| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(none)
            .to_owned()
    };
    (
        or(&metadata.proxy_include, "All repositories"),
        or(&metadata.proxy_exclude, "None"),
    )
}

/// The pull command of a proxy-cache project: the upstream's repository under the project's name.
pub fn pull_command(host: &str, project: &str) -> String {
    format!("docker pull {host}/{project}/<upstream repository>:<tag>")
}

/// A proxy cache's endpoint as `name (url)`, from the summary's `registry` (Harbor's summary has it, without
/// its credential); "Proxy Cache" when it is missing.
pub fn endpoint_label(summary: Option<&ProjectSummary>) -> String {
    let registry = summary.and_then(|s| s.registry.as_ref());
    let field = |key: &str| registry.and_then(|r| r.get(key)).and_then(|v| v.as_str());
    match (field("name"), field("url")) {
        (Some(name), Some(url)) => format!("{name} ({url})"),
        (Some(name), None) => name.to_owned(),
        _ => "Proxy Cache".to_owned(),
    }
}

/// How to pull through a proxy-cache project, with a copy button.
#[component]
pub fn PullCommand(#[prop(into)] project: Signal<String>) -> impl IntoView {
    let (host, _) = browser_registry();
    let text = Signal::derive(move || pull_command(&host, &project.get()));
    view! {
        <div class="push-commands">
            <p class="hint">
                "Pull an image of the endpoint through this project, e.g. Docker Hub's official "
                <code>"library/nginx"</code> ":"
            </p>
            <div class="push-line">
                <code data-testid="pull-command">{move || text.get()}</code>
                <CopyButton text=text label="Copy the docker pull command"/>
            </div>
        </div>
    }
}

/// Harbor's "Access Level" of a project.
pub fn access_level(project: &Project) -> &'static str {
    if project.is_public() {
        "Public"
    } else {
        "Private"
    }
}

/// Harbor's project type: hosted, or a proxy cache of another registry.
pub fn project_type(project: &Project) -> &'static str {
    if project.is_proxy() {
        "Proxy Cache"
    } else {
        "Hosted"
    }
}

/// The member counts by role, in Harbor's order, when the summary has them (only for callers who may list
/// the project's members).
pub fn member_counts(summary: &ProjectSummary) -> Option<Vec<(&'static str, i64)>> {
    let counts = [
        ("Project Admin", summary.project_admin_count),
        ("Maintainer", summary.maintainer_count),
        ("Developer", summary.developer_count),
        ("Guest", summary.guest_count),
        ("Limited Guest", summary.limited_guest_count),
    ];
    if counts.iter().all(|(_, n)| n.is_none()) {
        return None;
    }
    Some(
        counts
            .into_iter()
            .map(|(role, n)| (role, n.unwrap_or(0)))
            .collect(),
    )
}

#[component]
pub fn SummaryTab() -> impl IntoView {
    let ctx = use_project();
    let summary = Fetch::<ProjectSummary>::with_reload(
        move || {
            Some(format!(
                "/projects/{}/summary",
                api::encode_component(&ctx.id.get())
            ))
        },
        ctx.reload,
    );
    let project_name = Signal::derive(move || ctx.name().unwrap_or_default());
    let info = move || {
        ctx.project.get().map(|project| {
            let proxy = project.registry_id.map(|_| {
                let (include, exclude) = patterns_shown(&project.metadata);
                let endpoint = move || endpoint_label(summary.ok().as_ref());
                view! {
                    <dt>"Endpoint"</dt>
                    <dd data-testid="proxy-endpoint">{endpoint}</dd>
                    <dt>"Include"</dt>
                    <dd data-testid="summary-proxy-include">{include}</dd>
                    <dt>"Exclude"</dt>
                    <dd data-testid="summary-proxy-exclude">{exclude}</dd>
                }
            });
            view! {
                <dl class="summary-facts">
                    <dt>"Access Level"</dt>
                    <dd data-testid="summary-access">{access_level(&project)}</dd>
                    <dt>"Type"</dt>
                    <dd data-testid="summary-type">{project_type(&project)}</dd>
                    {proxy}
                </dl>
            }
        })
    };
    let body = move || {
        answered(summary.get(), |s| {
            view! { <SummaryCards summary=s/> }.into_any()
        })
    };
    let push =
        move || {
            if ctx.is_proxy() {
                return Some(view! {
                <section class="project-card summary-push" aria-labelledby="summary-pull-title">
                    <h2 id="summary-pull-title">"Pull Command"</h2>
                    <PullCommand project=project_name/>
                </section>
            }
            .into_any());
            }
            (ctx.can("repository", "push") && !project_name.get().is_empty()).then(|| {
                view! {
                    <section class="project-card summary-push" aria-labelledby="summary-push-title">
                        <h2 id="summary-push-title">"Push Command"</h2>
                        <PushCommands project=project_name/>
                    </section>
                }
                .into_any()
            })
        };
    view! {
        <div class="project-summary">
            <section class="project-card" aria-labelledby="summary-info-title">
                <h2 id="summary-info-title">"Project Info"</h2>
                {info}
            </section>
            {body}
            {push}
        </div>
    }
}

/// One of the summary's big numbers, `testid` naming it for tests.
fn number(testid: &'static str, value: i64, label: &'static str) -> AnyView {
    view! {
        <div>
            <span class="summary-number" data-testid=testid>{value}</span>
            <span class="summary-number-label">{label}</span>
        </div>
    }
    .into_any()
}

#[component]
fn SummaryCards(summary: ProjectSummary) -> impl IntoView {
    let members = member_counts(&summary).map(|counts| {
        let rows = counts
            .into_iter()
            .map(|(role, n)| view! { <dt>{role}</dt><dd>{n}</dd> })
            .collect_view();
        view! {
            <section class="project-card" aria-labelledby="summary-members-title">
                <h2 id="summary-members-title">"Members"</h2>
                <dl class="summary-facts">{rows}</dl>
            </section>
        }
    });
    view! {
        <section class="project-card" aria-labelledby="summary-repos-title">
            <h2 id="summary-repos-title">"Repositories"</h2>
            <div class="summary-numbers">
                {number("summary-repo-count", summary.repo_count, "Repositories")}
                {number("summary-artifact-count", summary.artifact_count, "Artifacts")}
            </div>
        </section>
        <section class="project-card" aria-labelledby="summary-quota-title">
            <h2 id="summary-quota-title">"Quota"</h2>
            <span class="summary-number-label">"Storage"</span>
            {quota_view(summary.quota)}
        </section>
        {members}
        <section class="project-card summary-pulls" aria-labelledby="summary-pulls-title">
            <h2 id="summary-pulls-title">"Pulls"</h2>
            <div class="summary-numbers">{number("summary-pull-count", summary.pull_count, "Total pulls")}</div>
            <PullsChart days=summary.pulls_per_day/>
        </section>
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn project(public: Option<&str>, registry_id: Option<i64>) -> Project {
        Project {
            project_id: 3,
            name: "team".to_owned(),
            registry_id,
            creation_time: String::new(),
            current_user_role_id: None,
            current_user_role_ids: Vec::new(),
            repo_count: 0,
            metadata: ProjectMetadata {
                public: public.map(str::to_owned),
                ..ProjectMetadata::default()
            },
            quota: None,
            cve_allowlist: None,
        }
    }

    fn summary() -> ProjectSummary {
        ProjectSummary {
            repo_count: 1,
            project_admin_count: None,
            maintainer_count: None,
            developer_count: None,
            guest_count: None,
            limited_guest_count: None,
            quota: None,
            registry: None,
            artifact_count: 1,
            pull_count: 0,
            pulls_per_day: Vec::new(),
        }
    }

    #[test]
    fn access_level_and_type_follow_metadata_and_registry() {
        assert_eq!(access_level(&project(Some("true"), None)), "Public");
        assert_eq!(access_level(&project(Some("false"), None)), "Private");
        assert_eq!(access_level(&project(None, None)), "Private");
        assert_eq!(project_type(&project(None, None)), "Hosted");
        assert_eq!(project_type(&project(None, Some(2))), "Proxy Cache");
    }

    #[test]
    fn proxy_patterns_read_from_metadata_and_say_when_none() {
        let metadata = ProjectMetadata {
            proxy_include: Some("library/**,team/*".to_owned()),
            proxy_exclude: Some(" ".to_owned()),
            ..ProjectMetadata::default()
        };
        assert_eq!(
            patterns_shown(&metadata),
            ("library/**,team/*".to_owned(), "None".to_owned())
        );
        assert_eq!(
            patterns_shown(&ProjectMetadata::default()),
            ("All repositories".to_owned(), "None".to_owned())
        );
        assert_eq!(
            pull_command("127.0.0.1:5000", "hub"),
            "docker pull 127.0.0.1:5000/hub/<upstream repository>:<tag>"
        );
    }

    #[test]
    fn endpoints_show_name_and_url_from_the_summary() {
        assert_eq!(endpoint_label(None), "Proxy Cache");
        assert_eq!(endpoint_label(Some(&summary())), "Proxy Cache");
        let with_registry = ProjectSummary {
            registry: Some(
                serde_json::json!({"id": 2, "name": "hub", "url": "https://hub.docker.com"}),
            ),
            ..summary()
        };
        assert_eq!(
            endpoint_label(Some(&with_registry)),
            "hub (https://hub.docker.com)"
        );
    }

    #[test]
    fn member_counts_appear_only_when_sent() {
        assert_eq!(member_counts(&summary()), None);
        let with_members = ProjectSummary {
            project_admin_count: Some(1),
            developer_count: Some(3),
            guest_count: Some(0),
            ..summary()
        };
        assert_eq!(
            member_counts(&with_members),
            Some(vec![
                ("Project Admin", 1),
                ("Maintainer", 0),
                ("Developer", 3),
                ("Guest", 0),
                ("Limited Guest", 0),
            ])
        );
    }
}
