//! The project's Configuration tab (`/harbor/projects/{id}/configs`): the "Public" flag, saved with
//! `PUT /projects/{id}` (`metadata.public`), and the project's type (hosted or proxy cache),
//! read-only. A proxy-cache project also shows its endpoint and its include/exclude patterns (Berth's
//! `proxy_include` / `proxy_exclude` metadata). Only users who may update the project (`.`/`update`) and its
//! metadata (`metadata`/`update`, what the server checks) can save; everyone else sees the form disabled and
//! no Save or Cancel.
//!
//! Below them, the vulnerability settings and the CVE allowlist ([`super::config_scan`]), saved by the same
//! request.
//!
//! Rule: the patterns decide what the proxy cache pulls from its upstream, so only system administrators set
//! them (the server refuses anyone else's change with 403). Everyone else sees them read-only, with a note
//! saying so, and their save sends the public flag alone.

use berth_api::projects::{ProjectMetadata, ProjectReq};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::config_scan::{self, ScanFields, ScanForm, ScanSettings};
use super::config_scanner::ProjectScannerSection;
use super::use_project;
use crate::answers::Project;
use crate::api;
use crate::auth::use_current_user;
use crate::components::toast::{ErrorBanner, use_toasts};
use crate::components::when::When;
use crate::permissions::Permissions;

/// The pattern fields' descriptions: what the patterns are, and (for those who may not change them) who does.
const PATTERNS_DESCRIBED_BY: &str = "project-config-patterns-hint project-config-patterns-note";

/// What a proxy cache's pattern fields say to those who may not change them.
pub const PATTERNS_NOTE: &str = "Only a system administrator sets these patterns: they decide what this proxy \
    cache pulls from its registry endpoint.";

/// Whether the user may change the project's configuration.
pub fn may_configure(permissions: &Permissions) -> bool {
    permissions.can(".", "update") && permissions.can("metadata", "update")
}

/// A proxy-cache project's `(include, exclude)` patterns as saved (empty when unset).
pub fn saved_patterns(project: &Project) -> Option<(String, String)> {
    project.registry_id.map(|_| {
        let m = &project.metadata;
        (
            m.proxy_include.clone().unwrap_or_default(),
            m.proxy_exclude.clone().unwrap_or_default(),
        )
    })
}

/// The patterns a save sends: a system administrator's edits of a proxy-cache project's patterns, else none
/// (the server keeps them).
pub fn patterns_to_send(
    sysadmin: bool,
    proxy: bool,
    edited: (String, String),
) -> Option<(String, String)> {
    (sysadmin && proxy).then_some(edited)
}

/// The body of `PUT /projects/{id}` that sets the public flag, when given both patterns of a proxy-cache
/// project (trimmed; empty clears a pattern), and when given the vulnerability settings with the project's
/// CVE allowlist (which replaces the stored one).
pub fn config_request(
    public: bool,
    patterns: Option<&(String, String)>,
    scan: Option<&ScanSettings>,
) -> ProjectReq {
    let mut metadata = ProjectMetadata {
        public: Some(public.to_string()),
        proxy_include: patterns.map(|p| p.0.trim().to_owned()),
        proxy_exclude: patterns.map(|p| p.1.trim().to_owned()),
        ..ProjectMetadata::default()
    };
    if let Some(scan) = scan {
        scan.fill(&mut metadata);
    }
    ProjectReq {
        metadata: Some(metadata),
        cve_allowlist: scan.map(ScanSettings::allowlist),
        ..ProjectReq::default()
    }
}

#[component]
pub fn ConfigTab() -> impl IntoView {
    let ctx = use_project();
    let toasts = use_toasts();
    let public = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let saved_public = Memo::new(move |_| ctx.project.with(|p| p.as_ref().map(Project::is_public)));
    // The form shows the project as loaded (again after each save).
    Effect::new(move |_| {
        if let Some(flag) = saved_public.get() {
            public.set(flag);
        }
    });
    let allowed = Signal::derive(move || ctx.permissions.with(may_configure));
    let user = use_current_user();
    // Whether the patterns are this user's to change (a system administrator's).
    let sets_patterns = move || user.is_sysadmin();
    // A proxy cache's patterns: as saved, and as edited.
    let saved = Memo::new(move |_| ctx.project.with(|p| p.as_ref().and_then(saved_patterns)));
    let include = RwSignal::new(String::new());
    let exclude = RwSignal::new(String::new());
    let reset_patterns = move |saved: Option<(String, String)>| {
        if let Some((i, e)) = saved {
            include.set(i);
            exclude.set(e);
        }
    };
    Effect::new(move |_| reset_patterns(saved.get()));
    // The vulnerability settings: as saved, and as edited.
    let scan = ScanForm::new();
    let saved_scan = Memo::new(move |_| ctx.project.with(|p| p.as_ref().map(ScanSettings::of)));
    Effect::new(move |_| {
        if let Some(settings) = saved_scan.get() {
            scan.set(&settings);
        }
    });
    let changed = move || {
        saved_public
            .get()
            .is_some_and(|saved| saved != public.get())
            || saved_scan.with(|s| s.as_ref().is_some_and(|s| *s != scan.get()))
            // A date being chosen (not yet a valid one) is a change too, so Save can say what is missing.
            || !scan.never_expires.get() && scan.expires_on.with(|d| config_scan::date_to_unix(d).is_none())
            || sets_patterns()
                && saved.with(|s| {
                    s.as_ref()
                        .is_some_and(|(i, e)| include.with(|v| v != i) || exclude.with(|v| v != e))
                })
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(project_id) = ctx
            .project
            .with_untracked(|p| p.as_ref().map(|p| p.project_id))
        else {
            return;
        };
        let patterns = patterns_to_send(
            untrack(sets_patterns),
            saved.with_untracked(Option::is_some),
            (include.get_untracked(), exclude.get_untracked()),
        );
        if let Some(problem) = scan.expiry_error() {
            error.set(Some(problem.to_owned()));
            return;
        }
        let settings = untrack(|| scan.get());
        let body = config_request(public.get_untracked(), patterns.as_ref(), Some(&settings));
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = api::put(&format!("/projects/{project_id}"), &body).await;
            busy.set(false);
            match result {
                Ok(()) => {
                    toasts.success("Configuration saved");
                    ctx.reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let cancel = move |_| {
        if let Some(flag) = saved_public.get_untracked() {
            public.set(flag);
        }
        reset_patterns(saved.get_untracked());
        if let Some(settings) = saved_scan.get_untracked() {
            scan.set(&settings);
        }
        error.set(None);
    };

    let project_type = move || {
        ctx.project.get().map(|project| match project.registry_id {
            Some(registry_id) => view! {
                <dt>"Project Type"</dt>
                <dd data-testid="config-type">"Proxy Cache"</dd>
                <dt>"Registry"</dt>
                <dd data-testid="config-registry">{format!("Registry endpoint #{registry_id}")}</dd>
            }
            .into_any(),
            None => view! {
                <dt>"Project Type"</dt>
                <dd data-testid="config-type">"Hosted"</dd>
            }
            .into_any(),
        })
    };

    view! {
        <form class="project-config" on:submit=submit>
            <fieldset disabled=move || !allowed.get()>
                <legend>"Project registry"</legend>
                <div class="config-row">
                    <label class="checkbox" for="project_config_public">
                        <input id="project_config_public" type="checkbox" bind:checked=public
                            aria-describedby="project-config-public-hint"/>
                        "Public"
                    </label>
                    <p class="hint" id="project-config-public-hint">
                        "Making a project repository public will allow anyone to pull images from it, without "
                        "signing in. Only members may push. A private project is visible only to its members "
                        "and system administrators."
                    </p>
                </div>
                <div class="config-row proxy-patterns" hidden=move || saved.with(Option::is_none)>
                    <label for="project_config_proxy_include">"Proxy Cache: include"</label>
                    <input id="project_config_proxy_include" type="text" autocomplete="off"
                        placeholder="library/**" aria-describedby=PATTERNS_DESCRIBED_BY
                        readonly=move || !sets_patterns() bind:value=include/>
                    <label for="project_config_proxy_exclude">"Proxy Cache: exclude"</label>
                    <input id="project_config_proxy_exclude" type="text" autocomplete="off"
                        aria-describedby=PATTERNS_DESCRIBED_BY
                        readonly=move || !sets_patterns() bind:value=exclude/>
                    <p class="hint" id="project-config-patterns-hint">
                        "Repositories of the endpoint this project caches (include) or refuses (exclude), as "
                        "comma-separated patterns; ** matches across /. Empty: every repository."
                    </p>
                    <p class="hint" id="project-config-patterns-note" hidden=sets_patterns>{PATTERNS_NOTE}</p>
                </div>
            </fieldset>
            <ScanFields form=scan allowed=allowed/>
            <dl class="summary-facts config-facts">{project_type}</dl>
            {move || (!allowed.get() && ctx.project.with(Option::is_some)).then(|| view! {
                <p class="hint">"Only project administrators may change the configuration."</p>
            })}
            <ErrorBanner error=error/>
            // Only who may change the configuration gets Save and Cancel (Harbor's matrix: project admins).
            <When when=move || allowed.get()>
                <div class="config-actions">
                    <button type="submit" disabled=move || busy.get() || !changed()>
                        {move || if busy.get() { "Saving…" } else { "Save" }}
                    </button>
                    <button type="button" class="secondary" disabled=move || busy.get() || !changed()
                        on:click=cancel>"Cancel"</button>
                </div>
            </When>
        </form>
        <ProjectScannerSection/>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_who_may_update_project_and_metadata_configures() {
        assert!(may_configure(&Permissions::of(&[
            (".", "update"),
            ("metadata", "update")
        ])));
        assert!(!may_configure(&Permissions::of(&[
            (".", "read"),
            ("metadata", "read")
        ])));
        assert!(!may_configure(&Permissions::of(&[("metadata", "update")])));
        assert!(!may_configure(&Permissions::default()));
    }

    #[test]
    fn proxy_projects_save_both_patterns_trimmed_and_empty_clears() {
        let patterns = (" library/** ".to_owned(), String::new());
        let body =
            serde_json::to_value(config_request(true, Some(&patterns), None)).unwrap_or_default();
        assert_eq!(
            body,
            serde_json::json!({"metadata": {"public": "true", "proxy_include": "library/**", "proxy_exclude": ""}})
        );
    }

    #[test]
    fn only_proxy_projects_have_patterns() -> Result<(), serde_json::Error> {
        let mut project: Project = serde_json::from_value(
            serde_json::json!({"project_id": 3, "name": "hub",
            "owner_id": 1, "creation_time": "", "update_time": "", "owner_name": "admin", "togglable": true,
            "deleted": false, "repo_count": 0, "metadata": {"proxy_include": "library/**"}}),
        )?;
        assert_eq!(saved_patterns(&project), None);
        project.registry_id = Some(2);
        assert_eq!(
            saved_patterns(&project),
            Some(("library/**".to_owned(), String::new()))
        );
        Ok(())
    }

    #[test]
    fn only_system_administrators_send_the_patterns() {
        let edited = || ("library/**".to_owned(), "library/old".to_owned());
        assert_eq!(patterns_to_send(true, true, edited()), Some(edited()));
        assert_eq!(patterns_to_send(false, true, edited()), None);
        assert_eq!(patterns_to_send(true, false, edited()), None);
        // A project admin's save of a proxy cache carries the public flag alone, which the server takes.
        let body = config_request(true, patterns_to_send(false, true, edited()).as_ref(), None);
        assert_eq!(
            serde_json::to_value(body).unwrap_or_default(),
            serde_json::json!({"metadata": {"public": "true"}})
        );
    }

    #[test]
    fn the_request_sets_only_the_public_flag() {
        let body = serde_json::to_value(config_request(true, None, None)).unwrap_or_default();
        assert_eq!(body, serde_json::json!({"metadata": {"public": "true"}}));
        let body = serde_json::to_value(config_request(false, None, None)).unwrap_or_default();
        assert_eq!(body, serde_json::json!({"metadata": {"public": "false"}}));
    }
}
