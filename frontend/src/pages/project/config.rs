//! The project's Configuration tab (`/harbor/projects/{id}/configs`): the "Public" flag, saved with
//! `PUT /projects/{id}` (`ProjectReq.metadata.public`), and the project's type (hosted or proxy cache),
//! read-only. Only users who may update the project (`.`/`update`) and its metadata (`metadata`/`update`,
//! what the server checks) can save.

use berth_api::projects::{Project, ProjectMetadata, ProjectReq};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::use_project;
use crate::api;
use crate::components::toast::{ErrorBanner, use_toasts};
use crate::permissions::Permissions;

/// Whether the user may change the project's configuration.
pub fn may_configure(permissions: &Permissions) -> bool {
    permissions.can(".", "update") && permissions.can("metadata", "update")
}

/// Whether the project is public (Harbor keeps it as the metadata string `"true"`).
pub fn is_public(project: &Project) -> bool {
    project.metadata.public.as_deref() == Some("true")
}

/// The body of `PUT /projects/{id}` that sets only the public flag.
pub fn public_request(public: bool) -> ProjectReq {
    ProjectReq {
        metadata: Some(ProjectMetadata {
            public: Some(public.to_string()),
            ..ProjectMetadata::default()
        }),
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
    let saved_public = Memo::new(move |_| ctx.project.with(|p| p.as_ref().map(is_public)));
    // The form shows the project as loaded (again after each save).
    Effect::new(move |_| {
        if let Some(flag) = saved_public.get() {
            public.set(flag);
        }
    });
    let allowed = Signal::derive(move || ctx.permissions.with(may_configure));
    let changed = move || {
        saved_public
            .get()
            .is_some_and(|saved| saved != public.get())
    };

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let Some(project_id) = ctx
            .project
            .with_untracked(|p| p.as_ref().map(|p| p.project_id))
        else {
            return;
        };
        let body = public_request(public.get_untracked());
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
            </fieldset>
            <dl class="summary-facts config-facts">{project_type}</dl>
            {move || (!allowed.get() && ctx.project.with(Option::is_some)).then(|| view! {
                <p class="hint">"Only project administrators may change the configuration."</p>
            })}
            <ErrorBanner error=error/>
            <div class="config-actions">
                <button type="submit" disabled=move || !allowed.get() || busy.get() || !changed()>
                    {move || if busy.get() { "Saving…" } else { "Save" }}
                </button>
                <button type="button" class="secondary" disabled=move || busy.get() || !changed()
                    on:click=cancel>"Cancel"</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use berth_api::users::Permission;

    use super::*;

    fn granted(pairs: &[(&str, &str)]) -> Permissions {
        Permissions::new(
            pairs
                .iter()
                .map(|(r, a)| Permission {
                    resource: (*r).to_owned(),
                    action: (*a).to_owned(),
                })
                .collect(),
        )
    }

    #[test]
    fn only_who_may_update_project_and_metadata_configures() {
        assert!(may_configure(&granted(&[
            (".", "update"),
            ("metadata", "update")
        ])));
        assert!(!may_configure(&granted(&[
            (".", "read"),
            ("metadata", "read")
        ])));
        assert!(!may_configure(&granted(&[("metadata", "update")])));
        assert!(!may_configure(&Permissions::default()));
    }

    #[test]
    fn the_request_sets_only_the_public_flag() {
        let body = serde_json::to_value(public_request(true)).unwrap_or_default();
        assert_eq!(body, serde_json::json!({"metadata": {"public": "true"}}));
        let body = serde_json::to_value(public_request(false)).unwrap_or_default();
        assert_eq!(body, serde_json::json!({"metadata": {"public": "false"}}));
    }
}
