//! An artifact's Vulnerabilities view (Harbor's `artifact-vulnerabilities`), on its page: the findings of its
//! latest report (`GET …/artifacts/{ref}/additions/vulnerabilities`, an object keyed by report MIME type) as a
//! table — CVE id linked to its first link, severity (coloured), package, current version, fixed-in version
//! ("no fix", with the vendor's word when it gave one), CVSS v3 score, an "Allowlisted" mark, and the
//! description on demand — with a text filter (id or package), a severity filter and a sort (severity, worst
//! first, by default; or id, or package). "Scan" (`POST …/scan`) and "Stop" (`POST …/scan/stop`) are offered
//! to those whose role may (`scan` `create` / `stop`); a refusal is shown as a toast. While a scan is queued
//! or running, the artifact is read again every two seconds until its report is there.
//!
//! When the project prevents vulnerable images from running (`prevent_vul` at a `severity`), the view says
//! what that means for this artifact, as a client pulling it would learn: refused while it has findings at or
//! above the severity that the CVE allowlist does not exempt (how many, and the policy), refused while it was
//! never scanned, else allowed ([`pull_verdict`]).
//!
//! Rule: what the table shows is decided by the pure functions below ([`visible`], [`fixed_in`],
//! [`cvss_text`], [`pull_verdict`]), unit-tested without a browser.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;

use super::use_project;
use crate::answers::{Artifact, Project};
use crate::api;
use crate::components::fetch::Fetch;
use crate::components::toast::{answered, use_toasts};
use crate::components::vulnerability_bar::{ScanState, Severity, VulnerabilityBar};

/// The `…/additions/vulnerabilities` answer: of its reports (keyed by MIME type), Harbor's native one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Reports {
    #[serde(
        default,
        rename = "application/vnd.security.vulnerability.report; version=1.1"
    )]
    pub native: Option<Report>,
}

/// A vulnerability report, what the view shows of it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Report {
    #[serde(default)]
    pub vulnerabilities: Vec<Finding>,
}

/// One finding (Harbor's `VulnerabilityItem`), what the view shows of it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Finding {
    pub id: String,
    #[serde(default)]
    pub package: String,
    #[serde(default)]
    pub version: String,
    /// Empty when there is no fix.
    #[serde(default)]
    pub fix_version: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default)]
    pub preferred_cvss: Option<Cvss>,
    #[serde(default)]
    pub vendor_attributes: VendorAttributes,
}

/// A finding's CVSS scores, the v3 one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Cvss {
    #[serde(default)]
    pub score_v3: Option<f64>,
}

/// The vendor's attributes of a finding that the view shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct VendorAttributes {
    /// The vendor's word for an unfixed finding (`no-dsa`, `will_not_fix`, …).
    #[serde(default)]
    pub status: Option<String>,
    /// The effective CVE allowlist names it.
    #[serde(default)]
    pub allowlisted: bool,
    /// The distro's source package of a binary package (Debian's `openssl` for `libssl3`).
    #[serde(default)]
    pub source_package: Option<String>,
    /// Where the package comes from (`Debian:12`, `npm`, …).
    #[serde(default)]
    pub ecosystem: Option<String>,
}

impl Finding {
    /// Its severity (an unknown word counts as Unknown).
    pub fn severity(&self) -> Severity {
        Severity::parse(&self.severity).unwrap_or(Severity::Unknown)
    }

    /// Its source package when it differs from the package.
    pub fn source(&self) -> Option<&str> {
        self.vendor_attributes
            .source_package
            .as_deref()
            .filter(|s| !s.is_empty() && *s != self.package)
    }
}

/// The orders the table offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Worst first, then by id (the default).
    Severity,
    Id,
    Package,
}

impl Order {
    pub const ALL: [(Order, &'static str, &'static str); 3] = [
        (Order::Severity, "severity", "Severity"),
        (Order::Id, "id", "Vulnerability"),
        (Order::Package, "package", "Package"),
    ];

    /// The order a `<select>` value names (the default for anything else).
    pub fn parse(value: &str) -> Order {
        Order::ALL
            .iter()
            .find(|(_, v, _)| *v == value)
            .map_or(Order::Severity, |(o, _, _)| *o)
    }
}

/// The findings shown: those whose id, package or source package contains `text` (any case) and, when
/// chosen, of `severity`, in `order`.
pub fn visible<'a>(
    findings: &'a [Finding],
    text: &str,
    severity: Option<Severity>,
    order: Order,
) -> Vec<&'a Finding> {
    let needle = text.trim().to_lowercase();
    let mut shown: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            needle.is_empty()
                || f.id.to_lowercase().contains(&needle)
                || f.package.to_lowercase().contains(&needle)
                || f.source()
                    .is_some_and(|s| s.to_lowercase().contains(&needle))
        })
        .filter(|f| severity.is_none_or(|s| f.severity() == s))
        .collect();
    match order {
        Order::Severity => shown.sort_by(|a, b| {
            (a.severity(), &a.id, &a.package).cmp(&(b.severity(), &b.id, &b.package))
        }),
        Order::Id => shown.sort_by(|a, b| (&a.id, &a.package).cmp(&(&b.id, &b.package))),
        Order::Package => shown.sort_by(|a, b| {
            (&a.package, a.severity(), &a.id).cmp(&(&b.package, b.severity(), &b.id))
        }),
    }
    shown
}

/// The Fixed-in column: the fixed version, else "no fix" with the vendor's word when there is one.
pub fn fixed_in(finding: &Finding) -> String {
    if !finding.fix_version.is_empty() {
        return finding.fix_version.clone();
    }
    match finding
        .vendor_attributes
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        Some(status) => format!("no fix ({status})"),
        None => "no fix".to_owned(),
    }
}

/// The CVSS v3 column: the score with one decimal, or nothing.
pub fn cvss_text(finding: &Finding) -> String {
    finding
        .preferred_cvss
        .as_ref()
        .and_then(|c| c.score_v3)
        .map(|score| format!("{score:.1}"))
        .unwrap_or_default()
}

/// The address a finding's id links to: its first link when that is a web address; else, for an id that
/// names a public record (the Debian tracker's data carries no links), that record: a CVE in Debian's
/// security tracker for a Debian package, else in NVD; a GHSA in GitHub's advisory database.
pub fn link_of(finding: &Finding) -> Option<String> {
    if let Some(link) = finding
        .links
        .first()
        .filter(|l| l.starts_with("https://") || l.starts_with("http://"))
    {
        return Some(link.clone());
    }
    let id = finding.id.as_str();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return None;
    }
    let debian = finding
        .vendor_attributes
        .ecosystem
        .as_deref()
        .is_some_and(|e| e.starts_with("Debian"));
    if id.starts_with("CVE-") {
        Some(if debian {
            format!("https://security-tracker.debian.org/tracker/{id}")
        } else {
            format!("https://nvd.nist.gov/vuln/detail/{id}")
        })
    } else if id.starts_with("GHSA-") {
        Some(format!("https://github.com/advisories/{id}"))
    } else {
        None
    }
}

/// What "Prevent vulnerable images from running" decides for pulls of an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullVerdict {
    /// Pulls are refused: `count` findings at or above the threshold (`None`: any severity) that the
    /// allowlist does not exempt.
    Refused {
        count: usize,
        threshold: Option<Severity>,
    },
    /// Pulls are refused until the artifact is scanned.
    Unscanned,
    /// Pulls are allowed: no finding at or above the threshold is left unexempted.
    Allowed { threshold: Option<Severity> },
}

impl PullVerdict {
    /// The sentence the view shows.
    pub fn sentence(&self) -> String {
        let of = |threshold: &Option<Severity>| match threshold {
            Some(s) => format!("of severity {} or higher", s.label()),
            None => "of any severity".to_owned(),
        };
        match self {
            PullVerdict::Refused { count, threshold } => format!(
                "Pulls of this artifact are refused: it has {count} {} {} that the CVE allowlist does not \
                 exempt, and the project prevents vulnerable images from running (Configuration → \
                 Vulnerability scanning). Fix them, or add them to the CVE allowlist.",
                if *count == 1 {
                    "vulnerability"
                } else {
                    "vulnerabilities"
                },
                of(threshold)
            ),
            PullVerdict::Unscanned => {
                "Pulls of this artifact are refused until it is scanned: the project \
                prevents vulnerable images from running."
                    .to_owned()
            }
            PullVerdict::Allowed { threshold } => format!(
                "Pulls are allowed: no vulnerability {} is left that the CVE allowlist does not exempt (the \
                 project prevents vulnerable images from running).",
                of(threshold)
            ),
        }
    }
}

/// The severity a project refuses from, when it prevents vulnerable images: `Some(None)` for Harbor's `none`
/// (any finding), `Some(Some(s))` for a severity (the server's default, Low, for a word it does not know);
/// `None` when the project does not prevent them.
pub fn prevention(project: &Project) -> Option<Option<Severity>> {
    let m = &project.metadata;
    if m.prevent_vul.as_deref() != Some("true") {
        return None;
    }
    Some(match m.severity.as_deref().unwrap_or("low") {
        word if word.eq_ignore_ascii_case("none") => None,
        word => Some(Severity::parse(word).unwrap_or(Severity::Low)),
    })
}

/// What a project that refuses from `threshold` (see [`prevention`]) decides for an artifact in scan `state`
/// with `findings` (its latest report's, each marked when the allowlist exempts it). `None` when the view
/// cannot tell (a scan under way or failed: the server then goes by the previous report, which the view
/// does not have).
pub fn pull_verdict(
    threshold: Option<Severity>,
    state: &ScanState,
    findings: &[Finding],
) -> Option<PullVerdict> {
    match state {
        ScanState::NotScanned => Some(PullVerdict::Unscanned),
        ScanState::Clean | ScanState::Found(_) => {
            let count = findings
                .iter()
                .filter(|f| !f.vendor_attributes.allowlisted)
                .filter(|f| threshold.is_none_or(|t| f.severity() <= t))
                .count();
            Some(if count == 0 {
                PullVerdict::Allowed { threshold }
            } else {
                PullVerdict::Refused { count, threshold }
            })
        }
        _ => None,
    }
}

/// The verdict's note (a warning when pulls are refused).
fn verdict_note(verdict: Option<PullVerdict>) -> Option<AnyView> {
    let verdict = verdict?;
    let (class, id) = match verdict {
        PullVerdict::Allowed { .. } => ("banner pull-verdict hint", "pull-allowed"),
        _ => ("banner banner-warning pull-verdict", "pull-refused"),
    };
    Some(view! { <p class=class role="status" data-testid=id>{verdict.sentence()}</p> }.into_any())
}

/// The Vulnerabilities section of an artifact's page. `base` is the artifact's REST path; `reload` is bumped
/// to read the artifact again (its scan state) after a Scan or Stop.
#[component]
pub fn VulnerabilitiesSection(
    artifact: Artifact,
    base: String,
    reload: Callback<()>,
) -> impl IntoView {
    let ctx = use_project();
    let toasts = use_toasts();
    let state = ScanState::of(artifact.scan_overview.as_ref());
    let has_report = matches!(state, ScanState::Found(_) | ScanState::Clean);
    let running = matches!(state, ScanState::Queued | ScanState::Scanning);
    let busy = RwSignal::new(false);
    let send = {
        let base = base.clone();
        move |suffix: &'static str, done: &'static str| {
            let path = format!("{base}/scan{suffix}");
            busy.set(true);
            spawn_local(async move {
                let result = if suffix.is_empty() {
                    api::post(&path, &serde_json::json!({"scan_type": "vulnerability"})).await
                } else {
                    api::post(&path, &serde_json::json!({})).await
                };
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
    let scan = {
        let send = send.clone();
        move |_| send("", "Scan requested")
    };
    let stop = move |_| send("/stop", "Scan stopped");
    // While the scan is queued or running, read the artifact again every two seconds (this section is made
    // anew from each answer, so each one sets the next look).
    if running {
        set_timeout(
            move || {
                reload.try_run(());
            },
            std::time::Duration::from_secs(2),
        );
    }
    let may_scan = move || ctx.can("scan", "create");
    // The project's "prevent vulnerable images" threshold, once the project is loaded.
    let prevents = move || ctx.project.with(|p| p.as_ref().and_then(prevention));
    let may_stop = move || running && ctx.can("scan", "stop");
    let report = has_report.then(|| {
        let path = format!("{base}/additions/vulnerabilities");
        Fetch::<Reports>::new(move || Some(path.clone()))
    });
    let verdict_state = state.clone();
    let content = match report {
        Some(report) => (move || {
            answered(report.get(), |reports| {
                let findings = reports
                    .native
                    .map(|r| r.vulnerabilities)
                    .unwrap_or_default();
                let verdict = prevents().and_then(|t| pull_verdict(t, &verdict_state, &findings));
                view! { {verdict_note(verdict)} <FindingsTable findings=findings/> }.into_any()
            })
        })
        .into_any(),
        None => {
            let note = match &state {
                ScanState::NotScanned => "Not scanned yet",
                ScanState::Queued => "The scan is queued.",
                ScanState::Scanning => "Scanning…",
                ScanState::Error => "The last scan failed. Scan again to retry.",
                ScanState::Stopped => "The last scan was stopped.",
                _ => "",
            };
            let verdict = move || prevents().and_then(|t| pull_verdict(t, &verdict_state, &[]));
            view! { {move || verdict_note(verdict())} <p class="empty vuln-empty">{note}</p> }
                .into_any()
        }
    };
    view! {
        <section class="artifact-section vulnerabilities" aria-label="Vulnerabilities">
            <h3>"Vulnerabilities"</h3>
            <div class="vuln-toolbar">
                <VulnerabilityBar state=state/>
                <button type="button" hidden=move || !may_scan() disabled=move || busy.get() || running
                    on:click=scan>"Scan"</button>
                <button type="button" class="secondary" hidden=move || !may_stop() disabled=move || busy.get()
                    on:click=stop>"Stop"</button>
            </div>
            {content}
        </section>
    }
}

/// The findings, with the filters and the order above them.
#[component]
fn FindingsTable(findings: Vec<Finding>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let severity = RwSignal::new(None::<Severity>);
    let order = RwSignal::new(Order::Severity);
    let total = findings.len();
    let findings = StoredValue::new(findings);
    let severity_options = Severity::ALL
        .into_iter()
        .map(|s| view! { <option value=s.label()>{s.label()}</option> })
        .collect_view();
    let order_options = Order::ALL
        .iter()
        .map(|(_, value, label)| view! { <option value=*value>{*label}</option> })
        .collect_view();
    let rows = move || {
        findings.with_value(|all| {
            let shown = visible(all, &text.get(), severity.get(), order.get());
            if shown.is_empty() {
                let note = if total == 0 {
                    "No vulnerability"
                } else {
                    "No vulnerability matches the filters"
                };
                return view! { <tbody><tr><td colspan="7" class="empty">{note}</td></tr></tbody> }
                    .into_any();
            }
            shown
                .into_iter()
                .map(|f| view! { <FindingRows finding=f.clone()/> })
                .collect_view()
                .into_any()
        })
    };
    view! {
        <div class="vuln-filters">
            <input type="search" aria-label="Filter by vulnerability or package" placeholder="Filter by CVE or package"
                bind:value=text/>
            <select aria-label="Severity" on:change=move |ev| severity.set(Severity::parse(&event_target_value(&ev)))>
                <option value="">"All severities"</option>
                {severity_options}
            </select>
            <label>
                "Sort by "
                <select on:change=move |ev| order.set(Order::parse(&event_target_value(&ev)))>{order_options}</select>
            </label>
        </div>
        <div class="list-scroll">
            <table class="list vulnerability-list">
                <thead>
                    <tr>
                        <th scope="col">"Vulnerability"</th>
                        <th scope="col">"Severity"</th>
                        <th scope="col">"Package"</th>
                        <th scope="col">"Current version"</th>
                        <th scope="col">"Fixed in version"</th>
                        <th scope="col" class="number">"CVSS3"</th>
                        <th scope="col"><span class="visually-hidden">"Description"</span></th>
                    </tr>
                </thead>
                {rows}
            </table>
        </div>
    }
}

/// One finding's row, and its description's row when opened. Each finding is a `<tbody>` of its own, so the
/// two rows stay together.
#[component]
fn FindingRows(finding: Finding) -> impl IntoView {
    let open = RwSignal::new(false);
    let severity = finding.severity();
    let id = match link_of(&finding) {
        Some(href) => view! { <a href=href target="_blank" rel="noopener noreferrer">{finding.id.clone()}</a> }
            .into_any(),
        None => view! { <span>{finding.id.clone()}</span> }.into_any(),
    };
    let allowlisted = finding.vendor_attributes.allowlisted.then(|| {
        view! { <span class="allowlisted-mark" title="In the CVE allowlist">"Allowlisted"</span> }
    });
    let description = finding.description.clone();
    let has_description = !description.is_empty();
    let toggle_label = format!("Description of {}", finding.id);
    view! {
        <tbody class="finding" data-id=finding.id.clone()>
            <tr>
                <td class="finding-id">{id}{allowlisted}</td>
                <td><span class=format!("severity-label {}", severity.class())>{severity.label()}</span></td>
                <td class="finding-package">
                    {finding.package.clone()}
                    {finding.source().map(|s| view! { <span class="muted">{format!(" ({s})")}</span> })}
                </td>
                <td><code class="artifact-code">{finding.version.clone()}</code></td>
                <td>{fixed_in(&finding)}</td>
                <td class="number">{cvss_text(&finding)}</td>
                <td class="actions">
                    {has_description.then(|| view! {
                        <button type="button" class="icon expand" aria-label=toggle_label
                            aria-expanded=move || open.get().to_string()
                            on:click=move |_| open.update(|o| *o = !*o)>
                            <span class="expand-arrow" class:expand-open=move || open.get() aria-hidden="true">"▸"</span>
                        </button>
                    })}
                </td>
            </tr>
            {move || open.get().then(|| view! {
                <tr class="finding-description"><td colspan="7">{description.clone()}</td></tr>
            })}
        </tbody>
    }
}

#[cfg(test)]
mod tests {
    use berth_api::vulnerabilities as wire;

    use super::*;

    fn finding(id: &str, package: &str, severity: &str) -> Finding {
        Finding {
            id: id.to_owned(),
            package: package.to_owned(),
            severity: severity.to_owned(),
            ..Finding::default()
        }
    }

    fn ids(shown: &[&Finding]) -> Vec<String> {
        shown.iter().map(|f| f.id.clone()).collect()
    }

    #[test]
    fn reports_read_as_the_server_writes_them() -> Result<(), serde_json::Error> {
        let item = wire::VulnerabilityItem {
            id: "CVE-2024-3094".to_owned(),
            package: "xz-utils".to_owned(),
            version: "5.6.0-0.2".to_owned(),
            fix_version: String::new(),
            severity: "Critical".to_owned(),
            description: "backdoor".to_owned(),
            links: vec!["https://security-tracker.debian.org/tracker/CVE-2024-3094".to_owned()],
            preferred_cvss: Some(wire::CvssDetails {
                score_v3: Some(10.0),
                ..wire::CvssDetails::default()
            }),
            cwe_ids: vec!["CWE-506".to_owned()],
            vendor_attributes:
                serde_json::json!({"status": "no-dsa", "allowlisted": true, "layer": "x"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
        };
        let sent = std::collections::BTreeMap::from([(
            wire::NATIVE_REPORT_MIME.to_owned(),
            wire::VulnerabilityReport {
                vulnerabilities: vec![item],
                ..wire::VulnerabilityReport::default()
            },
        )]);
        let read: Reports = serde_json::from_value(serde_json::to_value(&sent)?)?;
        let findings = read.native.map(|r| r.vulnerabilities).unwrap_or_default();
        assert_eq!(
            findings,
            [Finding {
                id: "CVE-2024-3094".to_owned(),
                package: "xz-utils".to_owned(),
                version: "5.6.0-0.2".to_owned(),
                fix_version: String::new(),
                severity: "Critical".to_owned(),
                description: "backdoor".to_owned(),
                links: vec!["https://security-tracker.debian.org/tracker/CVE-2024-3094".to_owned()],
                preferred_cvss: Some(Cvss {
                    score_v3: Some(10.0)
                }),
                vendor_attributes: VendorAttributes {
                    status: Some("no-dsa".to_owned()),
                    allowlisted: true,
                    ..VendorAttributes::default()
                },
            }]
        );
        assert_eq!(fixed_in(&findings[0]), "no fix (no-dsa)");
        assert_eq!(cvss_text(&findings[0]), "10.0");
        Ok(())
    }

    fn project(metadata: serde_json::Value) -> Result<Project, serde_json::Error> {
        serde_json::from_value(
            serde_json::json!({"project_id": 1, "name": "p", "metadata": metadata}),
        )
    }

    #[test]
    fn the_threshold_is_the_projects_severity_when_it_prevents() -> Result<(), serde_json::Error> {
        assert_eq!(prevention(&project(serde_json::json!({}))?), None);
        assert_eq!(
            prevention(&project(
                serde_json::json!({"prevent_vul": "false", "severity": "high"})
            )?),
            None
        );
        assert_eq!(
            prevention(&project(
                serde_json::json!({"prevent_vul": "true", "severity": "high"})
            )?),
            Some(Some(Severity::High))
        );
        assert_eq!(
            prevention(&project(
                serde_json::json!({"prevent_vul": "true", "severity": "none"})
            )?),
            Some(None)
        );
        // Harbor's default severity, and the server's reading of a word it does not know.
        assert_eq!(
            prevention(&project(serde_json::json!({"prevent_vul": "true"}))?),
            Some(Some(Severity::Low))
        );
        assert_eq!(
            prevention(&project(
                serde_json::json!({"prevent_vul": "true", "severity": "odd"})
            )?),
            Some(Some(Severity::Low))
        );
        Ok(())
    }

    #[test]
    fn pulls_are_refused_for_findings_at_or_above_the_threshold_not_allowlisted() {
        let mut exempt = finding("CVE-3", "c", "Critical");
        exempt.vendor_attributes.allowlisted = true;
        let all = [
            finding("CVE-1", "a", "High"),
            finding("CVE-2", "b", "Medium"),
            exempt,
            finding("CVE-4", "d", "Negligible"),
        ];
        let found = ScanState::Found(crate::components::vulnerability_bar::Findings {
            total: 4,
            fixable: 0,
            worst: Severity::Critical,
            counts: Vec::new(),
        });
        assert_eq!(
            pull_verdict(Some(Severity::Medium), &found, &all),
            Some(PullVerdict::Refused {
                count: 2,
                threshold: Some(Severity::Medium)
            })
        );
        assert_eq!(
            pull_verdict(Some(Severity::Critical), &found, &all),
            Some(PullVerdict::Allowed {
                threshold: Some(Severity::Critical)
            })
        );
        // Harbor's `none`: any finding counts (the allowlisted one still does not).
        assert_eq!(
            pull_verdict(None, &found, &all),
            Some(PullVerdict::Refused {
                count: 3,
                threshold: None
            })
        );
        assert_eq!(
            pull_verdict(Some(Severity::Low), &ScanState::Clean, &[]),
            Some(PullVerdict::Allowed {
                threshold: Some(Severity::Low)
            })
        );
        assert_eq!(
            pull_verdict(Some(Severity::Low), &ScanState::NotScanned, &[]),
            Some(PullVerdict::Unscanned)
        );
        assert_eq!(
            pull_verdict(Some(Severity::Low), &ScanState::Scanning, &[]),
            None
        );
        let refused = PullVerdict::Refused {
            count: 1,
            threshold: Some(Severity::High),
        };
        assert!(refused.sentence().starts_with(
            "Pulls of this artifact are refused: it has 1 vulnerability of severity High or higher"
        ));
        assert!(
            PullVerdict::Allowed { threshold: None }
                .sentence()
                .contains("of any severity")
        );
    }

    #[test]
    fn fixed_in_says_no_fix_with_the_vendors_word() {
        let mut f = finding("CVE-1", "p", "High");
        assert_eq!(fixed_in(&f), "no fix");
        f.vendor_attributes.status = Some(String::new());
        assert_eq!(fixed_in(&f), "no fix");
        f.vendor_attributes.status = Some("will_not_fix".to_owned());
        assert_eq!(fixed_in(&f), "no fix (will_not_fix)");
        f.fix_version = "1.2.3".to_owned();
        assert_eq!(fixed_in(&f), "1.2.3");
        assert_eq!(cvss_text(&f), "");
        f.preferred_cvss = Some(Cvss {
            score_v3: Some(7.45),
        });
        assert_eq!(cvss_text(&f), "7.5");
    }

    #[test]
    fn only_web_links_are_followed_else_the_record_the_id_names() {
        let mut f = finding("CVE-2023-5363", "libssl3", "Unknown");
        assert_eq!(
            link_of(&f).as_deref(),
            Some("https://nvd.nist.gov/vuln/detail/CVE-2023-5363")
        );
        f.vendor_attributes.ecosystem = Some("Debian:12".to_owned());
        assert_eq!(
            link_of(&f).as_deref(),
            Some("https://security-tracker.debian.org/tracker/CVE-2023-5363")
        );
        f.links = vec!["javascript:alert(1)".to_owned(), "https://x".to_owned()];
        assert_eq!(
            link_of(&f).as_deref(),
            Some("https://security-tracker.debian.org/tracker/CVE-2023-5363")
        );
        f.links = vec!["https://www.openssl.org/news/secadv/20231024.txt".to_owned()];
        assert_eq!(
            link_of(&f).as_deref(),
            Some("https://www.openssl.org/news/secadv/20231024.txt")
        );
        assert_eq!(
            link_of(&finding("GHSA-jfh8-c2jp-5v3q", "log4j", "High")).as_deref(),
            Some("https://github.com/advisories/GHSA-jfh8-c2jp-5v3q")
        );
        // Nothing made up for other ids, nor for an id that is not a plain name.
        assert_eq!(link_of(&finding("RUSTSEC-2024-0001", "x", "High")), None);
        assert_eq!(link_of(&finding("CVE-1/../x", "x", "High")), None);
    }

    #[test]
    fn the_text_filter_matches_the_source_package_too() {
        let mut libssl = finding("CVE-2023-5363", "libssl3", "Unknown");
        libssl.vendor_attributes.source_package = Some("openssl".to_owned());
        let mut openssl = finding("CVE-2023-5363", "openssl", "Unknown");
        openssl.vendor_attributes.source_package = Some("openssl".to_owned());
        let zlib = finding("CVE-2023-45853", "zlib1g", "Unknown");
        let all = [libssl, openssl, zlib];
        assert_eq!(
            visible(&all, "OpenSSL", None, Order::Package)
                .iter()
                .map(|f| f.package.as_str())
                .collect::<Vec<_>>(),
            ["libssl3", "openssl"]
        );
        assert_eq!(all[0].source(), Some("openssl"));
        assert_eq!(all[1].source(), None);
    }

    #[test]
    fn the_default_order_is_worst_first_then_by_id() {
        let all = [
            finding("CVE-3", "zlib", "Low"),
            finding("CVE-2", "openssl", "Critical"),
            finding("GHSA-1", "lodash", "bogus"),
            finding("CVE-1", "curl", "Critical"),
            finding("CVE-4", "bash", "Medium"),
        ];
        assert_eq!(
            ids(&visible(&all, "", None, Order::Severity)),
            ["CVE-1", "CVE-2", "CVE-4", "CVE-3", "GHSA-1"]
        );
        assert_eq!(
            ids(&visible(&all, "", None, Order::Id)),
            ["CVE-1", "CVE-2", "CVE-3", "CVE-4", "GHSA-1"]
        );
        assert_eq!(
            ids(&visible(&all, "", None, Order::Package)),
            ["CVE-4", "CVE-1", "GHSA-1", "CVE-2", "CVE-3"]
        );
        assert_eq!(Order::parse("package"), Order::Package);
        assert_eq!(Order::parse("nonsense"), Order::Severity);
    }

    #[test]
    fn filters_match_id_or_package_in_any_case_and_a_severity() {
        let all = [
            finding("CVE-2024-3094", "xz-utils", "Critical"),
            finding("CVE-2023-4863", "libwebp", "High"),
            finding("GHSA-xxxx", "XZ-java", "Low"),
        ];
        assert_eq!(
            ids(&visible(&all, " xz ", None, Order::Severity)),
            ["CVE-2024-3094", "GHSA-xxxx"]
        );
        assert_eq!(
            ids(&visible(&all, "cve-2023", None, Order::Severity)),
            ["CVE-2023-4863"]
        );
        assert_eq!(
            ids(&visible(&all, "xz", Some(Severity::Low), Order::Severity)),
            ["GHSA-xxxx"]
        );
        assert!(visible(&all, "nothing", None, Order::Severity).is_empty());
    }
}
