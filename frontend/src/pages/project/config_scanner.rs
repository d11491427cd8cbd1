//! The project's scanner, on its Configuration tab (Harbor's project "Scanner" tab): the scanner its scans use
//! (`GET /projects/{p}/scanner`: its own choice, else the system default) and, for those who may choose
//! (`scanner` `create`: project admins), a choice among `GET /projects/{p}/scanner/candidates` saved with
//! `PUT /projects/{p}/scanner`. Disabled registrations are not offered (the server refuses them).

use berth_api::scanners::{ProjectScanner, ScannerRegistration};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::use_project;
use crate::api::{self, encode_component};
use crate::components::fetch::Fetch;
use crate::components::toast::use_toasts;
use crate::components::when::When;

#[component]
pub fn ProjectScannerSection() -> impl IntoView {
    let ctx = use_project();
    let toasts = use_toasts();
    let may_choose = Memo::new(move |_| ctx.can("scanner", "create"));
    let base = Memo::new(move |_| {
        ctx.name()
            .map(|p| format!("/projects/{}/scanner", encode_component(&p)))
    });
    let current = Fetch::<ScannerRegistration>::new(move || base.get());
    let candidates = Fetch::<Vec<ScannerRegistration>>::new(move || {
        base.get()
            .filter(|_| may_choose.get())
            .map(|b| format!("{b}/candidates?page=1&page_size=100"))
    });
    let chosen = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let current_name = move || match current.get() {
        None => "…".to_owned(),
        Some(Ok(s)) => s.name,
        Some(Err(e)) => e.message,
    };
    let options = move || {
        let now = current.ok().map(|s| s.uuid).unwrap_or_default();
        candidates
            .ok()
            .unwrap_or_default()
            .into_iter()
            .filter(|s| !s.disabled)
            .map(|s| {
                let selected = s.uuid == now;
                view! { <option value=s.uuid.clone() selected=selected>{s.name.clone()}</option> }
            })
            .collect_view()
    };
    let save = move |_| {
        let Some(path) = base.get_untracked() else {
            return;
        };
        let uuid = match chosen.get_untracked() {
            u if !u.is_empty() => u,
            _ => current.ok().map(|s| s.uuid).unwrap_or_default(),
        };
        busy.set(true);
        spawn_local(async move {
            let result = api::put(&path, &ProjectScanner { uuid }).await;
            busy.set(false);
            match result {
                Ok(()) => {
                    toasts.success("Project scanner saved");
                    current.refetch();
                }
                Err(e) => toasts.error(e.message),
            }
        });
    };
    view! {
        <section class="project-scanner" aria-label="Scanner">
            <h3>"Scanner"</h3>
            <p>"Scans of this project use " <strong class="project-scanner-name">{current_name}</strong></p>
            <When when=move || may_choose.get()>
                <div class="config-row">
                    <label for="project_scanner_choice">"Project scanner"</label>
                    <select id="project_scanner_choice" on:change=move |ev| chosen.set(event_target_value(&ev))>
                        {options}
                    </select>
                    <button type="button" disabled=move || busy.get() on:click=save>"Select Scanner"</button>
                </div>
            </When>
        </section>
    }
}
