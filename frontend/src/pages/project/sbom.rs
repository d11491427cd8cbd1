//! An artifact's SBOM on its page (Harbor's artifact SBOM tab, in short): where its latest generation is,
//! "Generate SBOM" (`POST …/scan` with `scan_type: sbom`) and "Stop" (`POST …/scan/stop`, the same body) for
//! those whose role may (`scan` `create` / `stop`), and "Download SBOM" once there is one (the `sbom`
//! addition: the document of the SBOM accessory, SPDX 2.3 JSON unless asked otherwise). While a generation is queued or running, the artifact
//! is read again every two seconds until it ends.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::use_project;
use crate::answers::Artifact;
use crate::api;
use crate::components::sbom_bar::{SbomBar, SbomState};
use crate::components::toast::use_toasts;
use crate::components::vulnerability_bar::ScanState;

/// The SBOM section of an artifact's page. `base` is the artifact's REST path; `reload` reads the artifact
/// again (its SBOM state).
#[component]
pub fn SbomSection(artifact: Artifact, base: String, reload: Callback<()>) -> impl IntoView {
    let ctx = use_project();
    let toasts = use_toasts();
    let state = SbomState::of(artifact.sbom_overview.as_ref());
    let running = state.running();
    let busy = RwSignal::new(false);
    let send = {
        let base = base.clone();
        move |suffix: &'static str, done: &'static str| {
            let path = format!("{base}/scan{suffix}");
            busy.set(true);
            spawn_local(async move {
                let result = api::post(&path, &serde_json::json!({"scan_type": "sbom"})).await;
                busy.set(false);
                match result {
                    Ok(()) => {
                        toasts.success(done);
                        reload.run(());
                    }
                    Err(e) => toasts.error(e.message),
                }
            });
        }
    };
    let generate = {
        let send = send.clone();
        move |_| send("", "SBOM generation requested")
    };
    let stop = move |_| send("/stop", "SBOM generation stopped");
    // While the generation is queued or running, read the artifact again every two seconds (unless the
    // vulnerabilities section does so already for a scan under way).
    let scanning = matches!(
        ScanState::of(artifact.scan_overview.as_ref()),
        ScanState::Queued | ScanState::Scanning
    );
    if running && !scanning {
        set_timeout(
            move || {
                reload.try_run(());
            },
            std::time::Duration::from_secs(2),
        );
    }
    let may_generate = move || ctx.can("scan", "create");
    let may_stop = move || running && ctx.can("scan", "stop");
    let note = match &state {
        SbomState::NotGenerated => Some("No SBOM generated yet."),
        SbomState::Queued => Some("The SBOM generation is queued."),
        SbomState::Generating => Some("Generating the SBOM…"),
        SbomState::Error(_) => Some("The last SBOM generation failed. Generate it again to retry."),
        SbomState::Stopped => Some("The last SBOM generation was stopped."),
        SbomState::Generated(_) => None,
    };
    let digest = match &state {
        SbomState::Generated(digest) => Some(digest.clone()),
        _ => None,
    };
    view! {
        <section class="artifact-section sbom" aria-label="SBOM">
            <h3>"SBOM"</h3>
            <div class="vuln-toolbar">
                <SbomBar state=state artifact_path=base/>
                <button type="button" hidden=move || !may_generate() disabled=move || busy.get() || running
                    on:click=generate>"Generate SBOM"</button>
                <button type="button" class="secondary" hidden=move || !may_stop() disabled=move || busy.get()
                    on:click=stop>"Stop"</button>
            </div>
            {note.map(|note| view! { <p class="empty vuln-empty">{note}</p> })}
            {digest.map(|digest| view! {
                <p class="hint sbom-digest">"The SBOM accessory: " <code>{digest}</code></p>
            })}
        </section>
    }
}
