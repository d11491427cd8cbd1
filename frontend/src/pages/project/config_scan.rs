//! The "Vulnerability scanning" part of a project's Configuration tab, as Harbor's
//! (`project-policy-config`): scan and generate an SBOM on push (`auto_scan`, `auto_sbom_generation`), prevent
//! vulnerable images from running at or above a severity (`prevent_vul`, `severity`), and the CVE allowlist
//! (`reuse_sys_cve_allowlist`: the system's or the project's; the project's ids and its expiry,
//! `cve_allowlist`). It is saved with the rest of the tab by one `PUT /projects/{id}`.
//!
//! Rule: the console does not judge CVE ids beyond splitting what is typed into ids; the server checks them
//! and its refusal is shown as it says it.

use berth_api::projects::{CveAllowlist, CveAllowlistItem, ProjectMetadata};
use leptos::prelude::*;

use crate::answers::Project;
use crate::components::dialog::{FormDialog, FormStatus};

/// The severities a project may refuse from, worst first, as `(value the server stores, label)` (Harbor's
/// options; the server reads `negligible` as `none`).
pub const SEVERITIES: [(&str, &str); 5] = [
    ("critical", "Critical"),
    ("high", "High"),
    ("medium", "Medium"),
    ("low", "Low"),
    ("none", "None"),
];

/// The severity of a project that never chose one (Harbor's default).
pub const DEFAULT_SEVERITY: &str = "low";

/// A project's vulnerability settings, as shown and as saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanSettings {
    pub auto_scan: bool,
    pub auto_sbom: bool,
    pub prevent_vul: bool,
    /// One of [`SEVERITIES`]' values.
    pub severity: String,
    /// Use the system's allowlist (Harbor's default) rather than the project's.
    pub reuse_system: bool,
    /// The project's allowlist, in its order.
    pub items: Vec<String>,
    /// Unix seconds; `None`: never expires.
    pub expires_at: Option<i64>,
}

impl ScanSettings {
    /// The settings of `project` as the server answered it (Harbor's defaults for those it lacks).
    pub fn of(project: &Project) -> Self {
        let m = &project.metadata;
        let flag =
            |v: &Option<String>, default: bool| v.as_deref().map_or(default, |v| v == "true");
        let allowlist = project.cve_allowlist.clone().unwrap_or_default();
        ScanSettings {
            auto_scan: flag(&m.auto_scan, false),
            auto_sbom: flag(&m.auto_sbom_generation, false),
            prevent_vul: flag(&m.prevent_vul, false),
            severity: m
                .severity
                .as_deref()
                .filter(|s| SEVERITIES.iter().any(|(v, _)| v == s))
                .unwrap_or(DEFAULT_SEVERITY)
                .to_owned(),
            reuse_system: flag(&m.reuse_sys_cve_allowlist, true),
            items: allowlist.items.into_iter().map(|i| i.cve_id).collect(),
            expires_at: allowlist.expires_at,
        }
    }

    /// Writes these settings into the metadata of a `PUT /projects/{id}` body.
    pub fn fill(&self, metadata: &mut ProjectMetadata) {
        metadata.auto_scan = Some(self.auto_scan.to_string());
        metadata.auto_sbom_generation = Some(self.auto_sbom.to_string());
        metadata.prevent_vul = Some(self.prevent_vul.to_string());
        metadata.severity = Some(self.severity.clone());
        metadata.reuse_sys_cve_allowlist = Some(self.reuse_system.to_string());
    }

    /// The project's allowlist as a `PUT /projects/{id}` sends it (replacing the stored one).
    pub fn allowlist(&self) -> CveAllowlist {
        CveAllowlist {
            expires_at: self.expires_at,
            items: self
                .items
                .iter()
                .map(|id| CveAllowlistItem { cve_id: id.clone() })
                .collect(),
            ..CveAllowlist::default()
        }
    }
}

/// The ids typed into the Add dialog (separated by commas, spaces or new lines), without those already in
/// `existing` and without repeats, in the order typed.
pub fn new_ids(typed: &str, existing: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for id in typed
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|id| !id.is_empty())
    {
        if !existing.iter().any(|e| e == id) && !ids.iter().any(|e| e == id) {
            ids.push(id.to_owned());
        }
    }
    ids
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The Unix seconds of the start (UTC) of a date input's `YYYY-MM-DD`; `None` for anything else.
pub fn date_to_unix(date: &str) -> Option<i64> {
    let mut parts = date.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // Reject days a month lacks (2027-02-30): the date must read back the same.
    (unix_to_date(days * 86_400) == date).then_some(days * 86_400)
}

/// The `YYYY-MM-DD` (UTC) of Unix seconds, as a date input shows it (Hinnant's `civil_from_days`).
pub fn unix_to_date(seconds: i64) -> String {
    let z = seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The form's state: one signal per field, so each input binds to its own.
#[derive(Debug, Clone, Copy)]
pub struct ScanForm {
    pub auto_scan: RwSignal<bool>,
    pub auto_sbom: RwSignal<bool>,
    pub prevent_vul: RwSignal<bool>,
    pub severity: RwSignal<String>,
    pub reuse_system: RwSignal<bool>,
    pub items: RwSignal<Vec<String>>,
    pub never_expires: RwSignal<bool>,
    /// The expiry date as the date input holds it (`YYYY-MM-DD`, or empty).
    pub expires_on: RwSignal<String>,
}

impl Default for ScanForm {
    fn default() -> Self {
        Self::new()
    }
}

impl ScanForm {
    pub fn new() -> Self {
        ScanForm {
            auto_scan: RwSignal::new(false),
            auto_sbom: RwSignal::new(false),
            prevent_vul: RwSignal::new(false),
            severity: RwSignal::new(DEFAULT_SEVERITY.to_owned()),
            reuse_system: RwSignal::new(true),
            items: RwSignal::new(Vec::new()),
            never_expires: RwSignal::new(true),
            expires_on: RwSignal::new(String::new()),
        }
    }

    /// Shows `settings`.
    pub fn set(&self, settings: &ScanSettings) {
        self.auto_scan.set(settings.auto_scan);
        self.auto_sbom.set(settings.auto_sbom);
        self.prevent_vul.set(settings.prevent_vul);
        self.severity.set(settings.severity.clone());
        self.reuse_system.set(settings.reuse_system);
        self.items.set(settings.items.clone());
        self.never_expires.set(settings.expires_at.is_none());
        self.expires_on
            .set(settings.expires_at.map(unix_to_date).unwrap_or_default());
    }

    /// The settings shown (tracked). An expiry date that does not parse counts as none chosen yet, which
    /// the form refuses to save (see [`ScanForm::expiry_error`]).
    pub fn get(&self) -> ScanSettings {
        ScanSettings {
            auto_scan: self.auto_scan.get(),
            auto_sbom: self.auto_sbom.get(),
            prevent_vul: self.prevent_vul.get(),
            severity: self.severity.get(),
            reuse_system: self.reuse_system.get(),
            items: self.items.get(),
            expires_at: if self.never_expires.get() {
                None
            } else {
                self.expires_on.with(|d| date_to_unix(d))
            },
        }
    }

    /// Why the expiry cannot be saved: a date is wanted and none is chosen.
    pub fn expiry_error(&self) -> Option<&'static str> {
        (!self.never_expires.get_untracked()
            && self
                .expires_on
                .with_untracked(|d| date_to_unix(d).is_none()))
        .then_some("Choose the date the allowlist expires, or tick \"Never expires\".")
    }
}

/// A checkbox setting with its hint.
fn flag_row(
    id: &'static str,
    label: &'static str,
    flag: RwSignal<bool>,
    hint: &'static str,
) -> impl IntoView {
    view! {
        <div class="config-row">
            <label class="checkbox" for=id>
                <input id=id type="checkbox" bind:checked=flag/>
                {label}
            </label>
            <p class="hint">{hint}</p>
        </div>
    }
}

/// The "Vulnerability scanning" and "CVE allowlist" fieldsets, disabled unless `allowed`.
#[component]
pub fn ScanFields(form: ScanForm, #[prop(into)] allowed: Signal<bool>) -> impl IntoView {
    let adding = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let add_status = FormStatus::new();
    let add = Callback::new(move |()| {
        let ids = form
            .items
            .with_untracked(|items| new_ids(&typed.get_untracked(), items));
        if ids.is_empty() {
            add_status.fail("Enter one or more CVE IDs.".to_owned());
            return;
        }
        form.items.update(|items| items.extend(ids));
        typed.set(String::new());
        add_status.error.set(None);
        adding.set(false);
    });
    let project_list = move || !form.reuse_system.get();
    let items = move || {
        form.items.with(|items| {
            if items.is_empty() {
                return view! { <li class="empty">"No CVE IDs in the project allowlist"</li> }.into_any();
            }
            items
                .iter()
                .map(|id| {
                    let id = id.clone();
                    let remove_id = id.clone();
                    view! {
                        <li>
                            <span class="cve-id">{id.clone()}</span>
                            <button type="button" class="icon" aria-label=format!("Remove {id}")
                                disabled=move || !project_list()
                                on:click=move |_| form.items.update(|items| items.retain(|i| *i != remove_id))>
                                "×"
                            </button>
                        </li>
                    }
                })
                .collect_view()
                .into_any()
        })
    };
    let severity_options = SEVERITIES
        .iter()
        .map(|(value, label)| view! { <option value=*value>{*label}</option> })
        .collect_view();
    view! {
        <fieldset disabled=move || !allowed.get() class="scan-config">
            <legend>"Vulnerability scanning"</legend>
            {flag_row("project_config_auto_scan", "Automatically scan images on push", form.auto_scan,
                "Scan new images automatically when they are pushed to the project registry.")}
            {flag_row("project_config_auto_sbom", "Automatically generate SBOM on push", form.auto_sbom,
                "Generate a software bill of materials for new images when they are pushed.")}
            <div class="config-row">
                <label class="checkbox" for="project_config_prevent_vul">
                    <input id="project_config_prevent_vul" type="checkbox" bind:checked=form.prevent_vul/>
                    "Prevent vulnerable images from running."
                </label>
                <p class="hint severity-row">
                    <label for="project_config_severity">
                        "Prevent images with vulnerability severity of"
                    </label>
                    " "
                    <select id="project_config_severity" disabled=move || !form.prevent_vul.get()
                        prop:value=move || form.severity.get()
                        on:change=move |ev| form.severity.set(event_target_value(&ev))>
                        {severity_options}
                    </select>
                    " and above from being deployed."
                </p>
            </div>
        </fieldset>
        <fieldset disabled=move || !allowed.get() class="cve-allowlist">
            <legend>"CVE allowlist"</legend>
            <p class="hint">
                "The CVEs of an allowlist are ignored when deciding whether an image is vulnerable. Use the "
                "system allowlist, or a list of the project's own."
            </p>
            <div class="config-row allowlist-choice" role="radiogroup" aria-label="CVE allowlist">
                <label class="checkbox">
                    <input type="radio" name="project_config_allowlist" checked=move || form.reuse_system.get()
                        on:change=move |_| form.reuse_system.set(true)/>
                    "System allowlist"
                </label>
                <label class="checkbox">
                    <input type="radio" name="project_config_allowlist" checked=project_list
                        on:change=move |_| form.reuse_system.set(false)/>
                    "Project allowlist"
                </label>
            </div>
            <div class="allowlist-items">
                <div class="allowlist-toolbar">
                    <button type="button" class="secondary" disabled=move || !project_list()
                        on:click=move |_| {
                            add_status.error.set(None);
                            adding.set(true);
                        }>"Add"</button>
                </div>
                <ul class="allowlist" aria-label="Project allowlist">{items}</ul>
                <div class="allowlist-expiry">
                    <label for="project_config_expires">"Expires at"</label>
                    <input id="project_config_expires" type="date" bind:value=form.expires_on
                        disabled=move || !project_list() || form.never_expires.get()/>
                    <label class="checkbox" for="project_config_never_expires">
                        <input id="project_config_never_expires" type="checkbox"
                            disabled=move || !project_list() bind:checked=form.never_expires/>
                        "Never expires"
                    </label>
                </div>
            </div>
        </fieldset>
        <FormDialog open=adding title="Add CVE IDs" status=add_status on_submit=add
            submit_label=Signal::stored("Add")>
            <label for="project_config_add_cves">"CVE IDs"</label>
            <textarea id="project_config_add_cves" rows="5" bind:value=typed
                aria-describedby="project_config_add_cves_hint"></textarea>
            <p class="hint" id="project_config_add_cves_hint">
                "Separate the CVE IDs with commas or new lines, e.g. CVE-2024-3094."
            </p>
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(metadata: serde_json::Value, allowlist: serde_json::Value) -> Project {
        serde_json::from_value(
            serde_json::json!({"project_id": 3, "name": "p", "metadata": metadata,
            "cve_allowlist": allowlist}),
        )
        .unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn a_project_without_settings_has_harbors_defaults() {
        let settings = ScanSettings::of(&project(serde_json::json!({}), serde_json::json!(null)));
        assert_eq!(
            settings,
            ScanSettings {
                auto_scan: false,
                auto_sbom: false,
                prevent_vul: false,
                severity: "low".to_owned(),
                reuse_system: true,
                items: Vec::new(),
                expires_at: None,
            }
        );
    }

    #[test]
    fn settings_read_back_as_saved() {
        let settings = ScanSettings {
            auto_scan: true,
            auto_sbom: true,
            prevent_vul: true,
            severity: "critical".to_owned(),
            reuse_system: false,
            items: vec!["CVE-2024-1".to_owned(), "GHSA-x".to_owned()],
            expires_at: Some(1_900_000_000),
        };
        let mut metadata = ProjectMetadata::default();
        settings.fill(&mut metadata);
        let answer = project(
            serde_json::to_value(&metadata).unwrap_or_default(),
            serde_json::to_value(settings.allowlist()).unwrap_or_default(),
        );
        assert_eq!(ScanSettings::of(&answer), settings);
        assert_eq!(
            serde_json::to_value(&metadata).unwrap_or_default(),
            serde_json::json!({"auto_scan": "true", "auto_sbom_generation": "true", "prevent_vul": "true",
                "severity": "critical", "reuse_sys_cve_allowlist": "false"})
        );
        // Never expiring is sent as null, which the server reads as "never".
        let never = ScanSettings {
            expires_at: None,
            ..settings
        };
        assert_eq!(
            serde_json::to_value(never.allowlist()).unwrap_or_default()["expires_at"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn an_unknown_stored_severity_shows_the_default() {
        let settings = ScanSettings::of(&project(
            serde_json::json!({"severity": "bogus"}),
            serde_json::json!(null),
        ));
        assert_eq!(settings.severity, DEFAULT_SEVERITY);
    }

    #[test]
    fn typed_ids_split_on_commas_and_lines_without_repeats() {
        let existing = vec!["CVE-1".to_owned()];
        assert_eq!(
            new_ids(" CVE-2,CVE-3\nCVE-1\r\n\nCVE-2 , CVE-4 ", &existing),
            ["CVE-2", "CVE-3", "CVE-4"]
        );
        assert!(new_ids(" ,\n", &existing).is_empty());
    }

    #[test]
    fn dates_convert_both_ways_in_utc() {
        assert_eq!(date_to_unix("1970-01-01"), Some(0));
        assert_eq!(date_to_unix("2000-03-01"), Some(951_868_800));
        assert_eq!(date_to_unix("2030-02-28"), Some(1_898_467_200));
        assert_eq!(unix_to_date(1_898_467_200), "2030-02-28");
        assert_eq!(unix_to_date(1_898_467_200 + 86_399), "2030-02-28");
        assert_eq!(unix_to_date(951_868_800 - 1), "2000-02-29");
        for bad in [
            "",
            "2030-02-30",
            "2030-13-01",
            "1969-12-31",
            "2030-1",
            "x-y-z",
        ] {
            assert_eq!(date_to_unix(bad), None, "{bad}");
        }
    }
}
