//! An artifact's SBOM at a glance (Harbor's `hbr-sbom-bar`, the artifact list's "SBOM" column and the SBOM
//! part of an artifact's page): where its latest generation is (queued, generating, failed with a link to its
//! log, stopped), or, once there is one, a link to it and "Download SBOM" (the `sbom` addition, the document of
//! the SBOM accessory, downloaded as a file).
//!
//! Rule: what is shown is decided by [`SbomState::of`], a pure function of the artifact's `sbom_overview`, so
//! it is unit-tested without a browser.

use leptos::prelude::*;

use crate::answers::SbomOverview;
use crate::api;

/// Where an artifact's SBOM is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SbomState {
    /// Never generated (or a state the console does not know).
    NotGenerated,
    Queued,
    Generating,
    /// The last generation failed; its report (whose log says why), when known.
    Error(Option<String>),
    Stopped,
    /// Generated: the SBOM accessory's digest.
    Generated(String),
}

impl SbomState {
    /// The state of an artifact's `sbom_overview` (absent: never generated).
    pub fn of(overview: Option<&SbomOverview>) -> SbomState {
        let Some(overview) = overview else {
            return SbomState::NotGenerated;
        };
        match overview.scan_status.as_str() {
            "Pending" => SbomState::Queued,
            "Running" => SbomState::Generating,
            "Error" => SbomState::Error(Some(overview.report_id.clone()).filter(|r| !r.is_empty())),
            "Stopped" => SbomState::Stopped,
            "Success" => match overview.sbom_digest.as_deref() {
                Some(digest) if !digest.is_empty() => SbomState::Generated(digest.to_owned()),
                _ => SbomState::NotGenerated,
            },
            _ => SbomState::NotGenerated,
        }
    }

    /// Whether a generation is queued or running (the page looks again until it ends).
    pub fn running(&self) -> bool {
        matches!(self, SbomState::Queued | SbomState::Generating)
    }

    /// The words shown for a state without an SBOM to link to.
    pub fn label(&self) -> &'static str {
        match self {
            SbomState::NotGenerated => "No SBOM",
            SbomState::Queued => "Queued",
            SbomState::Generating => "Generating",
            SbomState::Error(_) => "Error",
            SbomState::Stopped => "Stopped",
            SbomState::Generated(_) => "SBOM",
        }
    }

    /// The CSS classes of its badge (the vulnerability bar's colours).
    pub fn class(&self) -> &'static str {
        match self {
            SbomState::NotGenerated | SbomState::Stopped => "sbom-state scan-none",
            SbomState::Queued | SbomState::Generating => "sbom-state scan-running",
            SbomState::Error(_) => "sbom-state scan-error",
            SbomState::Generated(_) => "sbom-state scan-clean",
        }
    }
}

/// The address that downloads the SBOM of the artifact at `artifact_path` (its REST path, as
/// [`crate::pages::project::artifacts::artifact_path`] makes it): the `sbom` addition.
pub fn download_href(artifact_path: &str) -> String {
    format!("{}{artifact_path}/additions/sbom", api::BASE)
}

/// The address of a generation's log (`…/scan/{report_id}/log`, text).
pub fn log_href(artifact_path: &str, report_id: &str) -> String {
    format!(
        "{}{artifact_path}/scan/{}/log",
        api::BASE,
        api::encode_component(report_id)
    )
}

/// The SBOM of the artifact at `artifact_path` (its REST path) in `state`. `details`: where "SBOM details"
/// leads (the artifact's page, from the list; none on the page itself).
#[component]
pub fn SbomBar(
    state: SbomState,
    artifact_path: String,
    #[prop(optional)] details: Option<String>,
) -> impl IntoView {
    let class = state.class();
    let label = state.label();
    match state {
        SbomState::Generated(digest) => {
            let title = format!("SBOM {digest}");
            let link = match details {
                Some(href) => {
                    view! { <a class="sbom-details" href=href title=title>"SBOM details"</a> }
                        .into_any()
                }
                None => view! { <span class=class title=title>{label}</span> }.into_any(),
            };
            view! {
                <span class="sbom-bar">
                    {link}
                    <a class="sbom-download" href=download_href(&artifact_path) download="">"Download SBOM"</a>
                </span>
            }
            .into_any()
        }
        SbomState::Error(report) => {
            let log = report.map(|id| {
                view! {
                    <a class="sbom-log" href=log_href(&artifact_path, &id) target="_blank" rel="noopener">
                        "View Log"
                    </a>
                }
            });
            view! { <span class="sbom-bar"><span class=class>{label}</span>{log}</span> }.into_any()
        }
        _ => view! { <span class="sbom-bar"><span class=class>{label}</span></span> }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overview(status: &str, digest: Option<&str>, report: &str) -> SbomOverview {
        SbomOverview {
            scan_status: status.to_owned(),
            sbom_digest: digest.map(str::to_owned),
            report_id: report.to_owned(),
        }
    }

    #[test]
    fn states_follow_harbors_scan_status() {
        assert_eq!(SbomState::of(None), SbomState::NotGenerated);
        assert_eq!(
            SbomState::of(Some(&overview("Pending", None, "r"))),
            SbomState::Queued
        );
        assert_eq!(
            SbomState::of(Some(&overview("Running", None, "r"))),
            SbomState::Generating
        );
        assert_eq!(
            SbomState::of(Some(&overview("Error", None, "r1"))),
            SbomState::Error(Some("r1".to_owned()))
        );
        assert_eq!(
            SbomState::of(Some(&overview("Error", None, ""))),
            SbomState::Error(None)
        );
        assert_eq!(
            SbomState::of(Some(&overview("Stopped", None, "r"))),
            SbomState::Stopped
        );
        assert_eq!(
            SbomState::of(Some(&overview("Success", Some("sha256:s"), "r"))),
            SbomState::Generated("sha256:s".to_owned())
        );
        // A success without an accessory names nothing to download.
        assert_eq!(
            SbomState::of(Some(&overview("Success", None, "r"))),
            SbomState::NotGenerated
        );
        assert_eq!(
            SbomState::of(Some(&overview("Odd", None, "r"))),
            SbomState::NotGenerated
        );
        assert!(SbomState::Queued.running() && SbomState::Generating.running());
        assert!(!SbomState::Stopped.running());
        assert_eq!(SbomState::NotGenerated.label(), "No SBOM");
    }

    #[test]
    fn downloads_and_logs_are_under_the_artifacts_rest_path() {
        let path = "/projects/p/repositories/a%252Fb/artifacts/sha256%3Aab";
        assert_eq!(
            download_href(path),
            "/api/v2.0/projects/p/repositories/a%252Fb/artifacts/sha256%3Aab/additions/sbom"
        );
        assert_eq!(
            log_href(path, "r 1"),
            "/api/v2.0/projects/p/repositories/a%252Fb/artifacts/sha256%3Aab/scan/r%201/log"
        );
    }
}
