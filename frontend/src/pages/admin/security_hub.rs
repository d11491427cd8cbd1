//! Administration → Interrogation Services → Security Hub (`/harbor/interrogation-services/security-hub`,
//! Harbor's `security-hub`): the system's vulnerability summary over each artifact's latest report
//! (`GET /security/summary?with_dangerous_cve=true&with_dangerous_artifact=true`: how many artifacts are
//! scanned, the findings by severity with the fixable ones, the five most dangerous artifacts and CVEs), and
//! below it every finding (`GET /security/vul`, paged), searched by one of Harbor's conditions (CVE id,
//! repository, package, tag, digest, severity, CVSS v3 range). A dangerous artifact's repository or a dangerous
//! CVE searches the list for it; a digest opens the artifact's page.
//!
//! Rule: the search condition (`q`) and the links are made by the pure functions below ([`search_query`],
//! [`artifact_link`]), unit-tested without a browser.

use leptos::prelude::*;
use serde::Deserialize;

use super::super::project::artifacts::{artifact_link, short_digest};
use crate::components::fetch::Fetch;
use crate::components::table::{ListControls, ListTable, PagedList, page_path, scroll_box};
use crate::components::toast::error_banner;
use crate::components::vulnerability_bar::Severity;

/// Harbor's `SecuritySummary`, what the page shows of it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SecuritySummary {
    #[serde(default)]
    pub critical_cnt: u64,
    #[serde(default)]
    pub high_cnt: u64,
    #[serde(default)]
    pub medium_cnt: u64,
    #[serde(default)]
    pub low_cnt: u64,
    #[serde(default)]
    pub none_cnt: u64,
    #[serde(default)]
    pub unknown_cnt: u64,
    #[serde(default)]
    pub total_vuls: u64,
    #[serde(default)]
    pub scanned_cnt: u64,
    #[serde(default)]
    pub total_artifact: u64,
    #[serde(default)]
    pub fixable_cnt: u64,
    #[serde(default)]
    pub dangerous_cves: Vec<DangerousCve>,
    #[serde(default)]
    pub dangerous_artifacts: Vec<DangerousArtifact>,
}

/// Harbor's `DangerousCVE`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DangerousCve {
    pub cve_id: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub cvss_score_v3: Option<f64>,
    #[serde(default)]
    pub package: String,
    #[serde(default)]
    pub version: String,
}

/// Harbor's `DangerousArtifact`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct DangerousArtifact {
    #[serde(default)]
    pub project_id: i64,
    pub repository_name: String,
    pub digest: String,
    #[serde(default)]
    pub critical_cnt: u64,
    #[serde(default)]
    pub high_cnt: u64,
    #[serde(default)]
    pub medium_cnt: u64,
}

/// One finding of `GET /security/vul` (Harbor's `VulnerabilityItem` of the Security Hub).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct HubFinding {
    #[serde(default)]
    pub project_id: i64,
    pub repository_name: String,
    pub digest: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub cve_id: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub cvss_v3_score: Option<f64>,
    #[serde(default)]
    pub package: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub fixed_version: String,
    #[serde(default)]
    pub links: Vec<String>,
}

/// The conditions the list can be searched by, as `(q key, label)`, in Harbor's filter's order.
pub const FIELDS: [(&str, &str); 7] = [
    ("cve_id", "CVE ID"),
    ("repository_name", "Repository"),
    ("package", "Package"),
    ("tag", "Tag"),
    ("digest", "Digest"),
    ("severity", "Severity"),
    ("cvss_score_v3", "CVSS3"),
];

/// The `q` of `GET /security/vul` for `value` in field `key` (exact match, as Harbor's), `None` for an
/// empty value. A CVSS3 value is a range `from-to` (`7-10`; one number is that score exactly); a severity is
/// Harbor's word whatever its case. A value the server could not read as asked (a bad range, an unknown
/// severity) is an `Err` saying what to type.
pub fn search_query(key: &str, value: &str) -> Result<Option<String>, String> {
    // Commas separate `q`'s terms; a value never holds one.
    let value = value.replace(',', "");
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    match key {
        "cvss_score_v3" => {
            let (from, to) = value.split_once('-').unwrap_or((value, value));
            let score = |s: &str| {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|n| (0.0..=10.0).contains(n))
            };
            match (score(from), score(to)) {
                (Some(from), Some(to)) if from <= to => {
                    Ok(Some(format!("cvss_score_v3=[{from}~{to}]")))
                }
                _ => Err("Type a CVSS3 range from 0 to 10, such as 7-10.".to_owned()),
            }
        }
        "severity" => {
            let word = if value.eq_ignore_ascii_case("none") {
                Some("None")
            } else {
                Severity::parse(value).map(Severity::label)
            };
            match word {
                Some(word) => Ok(Some(format!("severity={word}"))),
                None => Err(
                    "Type a severity: Critical, High, Medium, Low, Negligible, None or \
                     Unknown."
                        .to_owned(),
                ),
            }
        }
        _ => Ok(Some(format!("{key}={value}"))),
    }
}

/// A severity as Harbor's coloured label (`None` coloured as `Negligible`).
fn severity_label(word: &str) -> AnyView {
    let class = if word.eq_ignore_ascii_case("none") {
        Severity::Negligible.class()
    } else {
        Severity::parse(word).map_or("sev-unknown", Severity::class)
    };
    let word = if word.is_empty() { "Unknown" } else { word };
    view! { <span class=format!("severity-label {class}")>{word.to_owned()}</span> }.into_any()
}

fn cvss(score: Option<f64>) -> String {
    score.map_or_else(String::new, |s| format!("{s:.1}"))
}

#[component]
pub fn SecurityHubPage() -> impl IntoView {
    let summary = Fetch::<SecuritySummary>::at(
        "/security/summary?with_dangerous_cve=true&with_dangerous_artifact=true",
    );
    let list = ListControls::new();
    // The condition on screen, and the one the list is searched by (set on Search).
    let field = RwSignal::new(FIELDS[0].0.to_owned());
    let value = RwSignal::new(String::new());
    let applied = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<String>);
    let findings = PagedList::<HubFinding>::new(
        move || {
            let (page, size, _, _) = list.get();
            let mut params = vec![
                ("tune_count", "true".to_owned()),
                ("with_tag", "true".to_owned()),
            ];
            if let Some(q) = applied.get() {
                params.push(("q", q));
            }
            Some(page_path("/security/vul", page, size, &params))
        },
        list,
    );
    let search_by = move |key: &str, text: &str| match search_query(key, text) {
        Ok(q) => {
            problem.set(None);
            list.page.set(1);
            applied.set(q);
        }
        Err(message) => problem.set(Some(message)),
    };
    let on_search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        search_by(&field.get_untracked(), &value.get_untracked());
    };
    let search_for = move |key: &'static str, text: String| {
        field.set(key.to_owned());
        value.set(text.clone());
        search_by(key, &text);
    };
    let rows = move || {
        findings.rows("9", "No vulnerabilities found", move |f| {
            let href = artifact_link(f.project_id, &f.repository_name, &f.digest);
            let cve = match f.links.first() {
                Some(link) => view! {
                    <a href=link.clone() target="_blank" rel="noopener noreferrer">{f.cve_id.clone()}</a>
                }
                .into_any(),
                None => f.cve_id.clone().into_any(),
            };
            view! {
                <tr>
                    <td>{cve}</td>
                    <td>{f.repository_name.clone()}</td>
                    <td><a href=href title=f.digest.clone()>{short_digest(&f.digest)}</a></td>
                    <td>{f.tags.join(", ")}</td>
                    <td class="number">{cvss(f.cvss_v3_score)}</td>
                    <td>{severity_label(&f.severity)}</td>
                    <td>{f.package.clone()}</td>
                    <td>{f.version.clone()}</td>
                    <td>{f.fixed_version.clone()}</td>
                </tr>
            }
            .into_any()
        })
    };
    let summary_view = move || match summary.get() {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Some(Err(e)) => error_banner(e.message),
        Some(Ok(s)) => {
            let not_scanned = s.total_artifact.saturating_sub(s.scanned_cnt);
            let counts = [
                ("Critical", s.critical_cnt),
                ("High", s.high_cnt),
                ("Medium", s.medium_cnt),
                ("Low", s.low_cnt),
                ("Unknown", s.unknown_cnt),
                ("None", s.none_cnt),
            ];
            let artifacts = s.dangerous_artifacts.clone();
            let cves = s.dangerous_cves.clone();
            view! {
                <h2 class="hub-headline">
                    {format!(
                        "{} artifacts, {} scanned, {not_scanned} not scanned",
                        s.total_artifact, s.scanned_cnt
                    )}
                </h2>
                <div class="cards hub-cards">
                    <section class="card hub-total" aria-label="Total Vulnerabilities">
                        <h3>"Total Vulnerabilities"</h3>
                        <p class="hub-fixable">
                            {format!("{} total with {} fixable", s.total_vuls, s.fixable_cnt)}
                        </p>
                        <dl class="facts">
                            {counts.into_iter().map(|(label, n)| view! {
                                <dt>{severity_label(label)}</dt>
                                <dd>{n}</dd>
                            }).collect_view()}
                        </dl>
                    </section>
                    <section class="card hub-artifacts" aria-label="Top 5 Most Dangerous Artifacts">
                        <h3>"Top 5 Most Dangerous Artifacts"</h3>
                        {scroll_box(view! {
                            <table class="list compact">
                                <thead><tr>
                                    <th scope="col">"Repository"</th>
                                    <th scope="col">"Digest"</th>
                                    <th scope="col">"Critical / High / Medium"</th>
                                </tr></thead>
                                <tbody>
                                    {artifacts.into_iter().map(|a| {
                                        let href = artifact_link(a.project_id, &a.repository_name, &a.digest);
                                        let repository = a.repository_name.clone();
                                        view! {
                                            <tr>
                                                <td><button type="button" class="link"
                                                    on:click=move |_| search_for("repository_name", repository.clone())>
                                                    {a.repository_name.clone()}
                                                </button></td>
                                                <td><a href=href title=a.digest.clone()>{short_digest(&a.digest)}</a></td>
                                                <td>{format!("{} / {} / {}", a.critical_cnt, a.high_cnt, a.medium_cnt)}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any())}
                    </section>
                    <section class="card hub-cves" aria-label="Top 5 Most Dangerous CVEs">
                        <h3>"Top 5 Most Dangerous CVEs"</h3>
                        {scroll_box(view! {
                            <table class="list compact">
                                <thead><tr>
                                    <th scope="col">"CVE ID"</th>
                                    <th scope="col">"Severity"</th>
                                    <th scope="col">"CVSS3"</th>
                                    <th scope="col">"Package"</th>
                                </tr></thead>
                                <tbody>
                                    {cves.into_iter().map(|c| {
                                        let id = c.cve_id.clone();
                                        view! {
                                            <tr>
                                                <td><button type="button" class="link"
                                                    on:click=move |_| search_for("cve_id", id.clone())>
                                                    {c.cve_id.clone()}
                                                </button></td>
                                                <td>{severity_label(&c.severity)}</td>
                                                <td class="number">{cvss(c.cvss_score_v3)}</td>
                                                <td>{format!("{}@{}", c.package, c.version)}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any())}
                    </section>
                </div>
            }
            .into_any()
        }
    };
    view! {
        <section class="page security-hub-page">
            {summary_view}
            <h2>"Vulnerabilities"</h2>
            <form class="toolbar hub-search" on:submit=on_search>
                <select aria-label="Search by" prop:value=move || field.get()
                    on:change=move |ev| field.set(event_target_value(&ev))>
                    {FIELDS.iter().map(|(key, label)| view! {
                        <option value=*key>{*label}</option>
                    }).collect_view()}
                </select>
                <input type="search" aria-label="Search value" placeholder="Value"
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))/>
                <button type="submit">"Search"</button>
                <button type="button" on:click=move |_| { summary.refetch(); findings.refresh(); }>
                    "Refresh"
                </button>
            </form>
            {move || problem.get().map(error_banner)}
            <ListTable list=list fetch=findings.fetch() rows=rows>
                <th scope="col">"CVE ID"</th>
                <th scope="col">"Repository"</th>
                <th scope="col">"Digest"</th>
                <th scope="col">"Tags"</th>
                <th scope="col" class="number">"CVSS3"</th>
                <th scope="col">"Severity"</th>
                <th scope="col">"Package"</th>
                <th scope="col">"Current version"</th>
                <th scope="col">"Fixed in version"</th>
            </ListTable>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_conditions_are_harbor_s_q() {
        assert_eq!(search_query("cve_id", "  "), Ok(None));
        assert_eq!(
            search_query("cve_id", " CVE-2023-4911 "),
            Ok(Some("cve_id=CVE-2023-4911".to_owned()))
        );
        assert_eq!(
            search_query("package", "glibc,x"),
            Ok(Some("package=glibcx".to_owned()))
        );
        assert_eq!(
            search_query("severity", "high"),
            Ok(Some("severity=High".to_owned()))
        );
        assert_eq!(
            search_query("severity", "NONE"),
            Ok(Some("severity=None".to_owned()))
        );
        assert!(search_query("severity", "bad").is_err());
        assert_eq!(
            search_query("cvss_score_v3", "7-10"),
            Ok(Some("cvss_score_v3=[7~10]".to_owned()))
        );
        assert_eq!(
            search_query("cvss_score_v3", "9.8"),
            Ok(Some("cvss_score_v3=[9.8~9.8]".to_owned()))
        );
        assert!(search_query("cvss_score_v3", "10-7").is_err());
        assert!(search_query("cvss_score_v3", "11").is_err());
    }

    #[test]
    fn an_artifact_links_to_its_page_inside_its_project() {
        assert_eq!(
            artifact_link(3, "library/team/app", "sha256:ab"),
            "/harbor/projects/3/repositories/team%2Fapp/artifacts-tab/artifacts/sha256%3Aab"
        );
    }
}
