//! The Policy tab's Tag Retention section, Harbor's: the project's retention rules (up to 15, combined with
//! "or"), added and edited in Harbor's rule dialog, the schedule, Dry Run and Run Now, the runs with their
//! per-repository tasks, and each task's per-tag decisions ("kept by rule 1: …", "removed: matched no retain
//! rule …", immutable tags kept) read from Berth's `…/tasks/{tid}/reasons`.
//!
//! Rules: the policy (`GET /retentions/{id}`, its id the project's `retention_id`) is read and written as
//! `serde_json::Value` and the dialog is built from `GET /retentions/metadatas` (its templates and their
//! parameter), so the .wasm carries no retention types. The first rule of a project without a policy creates it
//! (`POST /retentions`); every later change puts the whole policy back (`PUT /retentions/{id}`), as Harbor's
//! portal does. Writing needs `tag-retention` `create`/`update` (project admins and maintainers); others with
//! `read` see the rules and runs only.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};

use super::policy::{MAX_RULES, SelectorField, list_of, pattern_of, verb};
use super::use_project;
use crate::api;
use crate::components::dialog::{ConfirmDialog, Dialog, FormDialog, FormStatus, Request};
use crate::components::fetch::Fetch;
use crate::components::table::{
    ListControls, ListStatus, ListTable, ListToolbar, PagedList, page_path, scroll_box, status_row,
};
use crate::components::toast::{ErrorBanner, Toasts, use_toasts};
use crate::format;

const RESOURCE: &str = "tag-retention";

/// Harbor's schedule presets (six-field cron, seconds first); anything else is Custom.
pub const SCHEDULES: [(&str, &str); 4] = [
    ("None", ""),
    ("Hourly", "0 0 * * * *"),
    ("Daily", "0 0 0 * * *"),
    ("Weekly", "0 0 0 * * 0"),
];

/// The string at `key` of a JSON object, or `""`.
fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

/// A rule's first repository selector and first tag selector, as the dialog edits them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleForm {
    pub repo_excluded: bool,
    /// The comma-separated list the dialog shows.
    pub repositories: String,
    pub template: String,
    /// The template's parameter as typed (empty for `always`).
    pub param: String,
    pub tag_excluded: bool,
    pub tags: String,
    pub untagged: bool,
}

impl RuleForm {
    /// A new rule's fields, as Harbor's dialog opens: every repository and tag, untagged artifacts included.
    pub fn new(template: &str) -> Self {
        RuleForm {
            repo_excluded: false,
            repositories: "**".to_owned(),
            template: template.to_owned(),
            param: String::new(),
            tag_excluded: false,
            tags: "**".to_owned(),
            untagged: true,
        }
    }

    /// The fields of a rule as the server sends it.
    pub fn of(rule: &Value) -> Self {
        let repo = &rule["scope_selectors"]["repository"][0];
        let tag = &rule["tag_selectors"][0];
        let template = text(rule, "template").to_owned();
        let param = match &rule["params"][&template] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => String::new(),
        };
        let tag_excluded = text(tag, "decoration") == "excludes";
        RuleForm {
            repo_excluded: text(repo, "decoration") == "repoExcludes",
            repositories: list_of(text(repo, "pattern")),
            template,
            param,
            tag_excluded,
            tags: list_of(text(tag, "pattern")),
            untagged: untagged(text(tag, "extras"), tag_excluded),
        }
    }

    /// Harbor's `RetentionRule` of these fields; `takes_param` when the template has a parameter. Says what is
    /// missing instead.
    pub fn rule(&self, takes_param: bool, disabled: bool) -> Result<Value, String> {
        let repositories = pattern_of(&self.repositories);
        let tags = pattern_of(&self.tags);
        if repositories.is_empty() || tags.is_empty() {
            return Err("Enter the repositories and the tags (** for all).".to_owned());
        }
        let params = if takes_param {
            let n: u32 = self
                .param
                .trim()
                .parse()
                .map_err(|_| "Enter the count or the days as a whole number.".to_owned())?;
            json!({ self.template.as_str(): n })
        } else {
            json!({})
        };
        let decoration = |excluded, matches, excludes| if excluded { excludes } else { matches };
        Ok(json!({
            "priority": 0, "disabled": disabled, "action": "retain", "template": self.template,
            "params": params,
            "tag_selectors": [{"kind": "doublestar",
                "decoration": decoration(self.tag_excluded, "matches", "excludes"),
                "pattern": tags, "extras": json!({"untagged": self.untagged}).to_string()}],
            "scope_selectors": {"repository": [{"kind": "doublestar",
                "decoration": decoration(self.repo_excluded, "repoMatches", "repoExcludes"),
                "pattern": repositories}]}
        }))
    }
}

/// Whether a tag selector's `extras` take untagged artifacts in (the server's default when it says nothing:
/// `matches` takes them, `excludes` leaves them).
pub fn untagged(extras: &str, excluded: bool) -> bool {
    serde_json::from_str::<Value>(extras)
        .ok()
        .and_then(|e| e["untagged"].as_bool())
        .unwrap_or(!excluded)
}

/// What a template keeps, in Harbor's words from the metadata with `#` its parameter: `the most recently
/// pushed 5 artifacts`; the template's name when the metadata does not know it.
pub fn template_text(metadata: &Value, template: &str, param: &str) -> String {
    metadata["templates"]
        .as_array()
        .and_then(|all| all.iter().find(|t| text(t, "rule_template") == template))
        .map_or_else(
            || format!("{template} {param}"),
            |t| text(t, "display_text").replace('#', param),
        )
}

/// Whether a template takes a parameter, and its unit (`COUNT`, `DAYS`), as the metadata says.
pub fn template_unit(metadata: &Value, template: &str) -> Option<String> {
    metadata["templates"]
        .as_array()?
        .iter()
        .find(|t| text(t, "rule_template") == template)
        .and_then(|t| t["params"].get(0))
        .map(|p| text(p, "unit").to_owned())
}

/// A rule in Harbor's words: `For the repositories matching **, retain the most recently pushed 5 artifacts with
/// tags matching ** with untagged artifacts`.
pub fn sentence(rule: &Value, metadata: &Value) -> String {
    let form = RuleForm::of(rule);
    let repo_verb = verb(text(
        &rule["scope_selectors"]["repository"][0],
        "decoration",
    ));
    let tag_verb = verb(text(&rule["tag_selectors"][0], "decoration"));
    format!(
        "For the repositories {repo_verb} {}, retain {} with tags {tag_verb} {}{}",
        form.repositories,
        template_text(metadata, &form.template, &form.param),
        form.tags,
        if form.untagged {
            " with untagged artifacts"
        } else {
            ""
        }
    )
}

/// A new policy of the project holding `rules`, with no schedule.
pub fn new_policy(project_id: i64, rules: Vec<Value>) -> Value {
    json!({
        "algorithm": "or", "rules": rules,
        "trigger": {"kind": "Schedule", "settings": {"cron": ""}},
        "scope": {"level": "project", "ref": project_id}
    })
}

/// The schedule a cron is (`None`, `Hourly`, …), or `Custom`.
pub fn schedule_of(cron: &str) -> &'static str {
    SCHEDULES
        .iter()
        .find(|(_, c)| *c == cron.trim())
        .map_or("Custom", |(name, _)| name)
}

/// How long a run took, from its start and end in milliseconds: `42 s`, `3 min 5 s`, `2 h 10 min`.
pub fn duration_text(millis: f64) -> String {
    let s = (millis / 1000.0).round().max(0.0) as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// The time between two RFC 3339 times, or `""` while the run has no end.
fn duration(start: &str, end: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let (a, b) = (js_sys::Date::parse(start), js_sys::Date::parse(end));
        if !end.is_empty() && !a.is_nan() && !b.is_nan() {
            return duration_text(b - a);
        }
    }
    let _ = (start, end);
    String::new()
}

/// The list at the fixed path `base`, a page at a time, its items read as JSON.
fn values_at(base: String, list: ListControls) -> PagedList<Value> {
    PagedList::new(
        move || {
            let (page, size, _, _) = list.get();
            Some(page_path(&base, page, size, &[]))
        },
        list,
    )
}

/// Whether a run (or a task) has not ended yet.
fn running(status: &str) -> bool {
    matches!(status, "Pending" | "Running" | "InProgress")
}

/// Sends `request`, then says `done`, or why it failed (one copy for every button that acts at once).
fn report(toasts: Toasts, request: Request<()>, done: String) {
    spawn_local(async move {
        match request.await {
            Ok(()) => toasts.success(done),
            Err(e) => toasts.error(e.message),
        }
    });
}

/// The project's policy as the section reads and writes it.
#[derive(Clone, Copy)]
struct Store {
    project_id: i64,
    /// The project's `retention_id`; `None`: no policy yet.
    id: Memo<Option<i64>>,
    policy: Fetch<Value>,
    /// Bumped to reload the project (its `retention_id`) after the policy was created.
    reload_project: RwSignal<u32>,
}

impl Store {
    /// The policy's rules (none without a policy, or while it loads).
    fn rules(&self) -> Vec<Value> {
        self.policy
            .ok()
            .and_then(|p| p["rules"].as_array().cloned())
            .unwrap_or_default()
    }

    /// The policy with `change` made to it (a new one without a policy), sent: `PUT` or the first `POST`.
    fn save(self, change: impl FnOnce(&mut Value)) -> Request<()> {
        let id = self.id.get_untracked();
        let mut policy = match (id, self.policy.ok()) {
            (Some(_), Some(policy)) => policy,
            _ => new_policy(self.project_id, Vec::new()),
        };
        change(&mut policy);
        Box::pin(async move {
            match id {
                Some(id) => api::put(&format!("/retentions/{id}"), &policy).await?,
                None => api::post("/retentions", &policy).await?,
            }
            match id {
                Some(_) => self.policy.refetch(),
                None => self.reload_project.update(|n| *n += 1),
            }
            Ok(())
        })
    }

    /// The policy with its rules set to `rules`.
    fn save_rules(self, rules: Vec<Value>) -> Request<()> {
        self.save(move |policy| policy["rules"] = Value::Array(rules))
    }
}

#[component]
pub fn RetentionSection(project_id: i64) -> impl IntoView {
    let ctx = use_project();
    let toasts = use_toasts();
    let id = Memo::new(move |_| {
        ctx.project.with(|p| {
            p.as_ref()
                .and_then(|p| p.metadata.retention_id.as_deref()?.parse::<i64>().ok())
        })
    });
    let store = Store {
        project_id,
        id,
        policy: Fetch::new(move || id.get().map(|id| format!("/retentions/{id}"))),
        reload_project: ctx.reload,
    };
    let metadata = Fetch::<Value>::at("/retentions/metadatas");
    let meta = Signal::derive(move || metadata.ok().unwrap_or_default());
    // Known before the tab shows (the project page waits for them), so read once.
    let can_write = ctx.can(RESOURCE, "update") || ctx.can(RESOURCE, "create");
    let count = move || store.rules().len();
    let editing = RwSignal::new(None::<usize>);
    let open = RwSignal::new(false);

    let act =
        move |request: Request<()>, done: &'static str| report(toasts, request, done.to_owned());
    let rows = move || {
        let loaded = match id.get() {
            None => Some(Ok(Vec::new())),
            Some(_) => store
                .policy
                .get()
                .map(|p| p.map(|p| p["rules"].as_array().cloned().unwrap_or_default())),
        };
        match loaded {
            None => status_row("4", ListStatus::Loading),
            Some(Err(e)) => status_row("4", ListStatus::Failed(e.message)),
            Some(Ok(rules)) if rules.is_empty() => status_row(
                "4",
                ListStatus::Empty("No retention rules: nothing is removed"),
            ),
            Some(Ok(rules)) => rules
                .into_iter()
                .enumerate()
                .map(|(i, rule)| {
                    let disabled = rule["disabled"].as_bool().unwrap_or(false);
                    let line = meta.with(|m| sentence(&rule, m));
                    let toggle = move |_| {
                        let mut rules = store.rules();
                        if let Some(r) = rules.get_mut(i) {
                            r["disabled"] = Value::Bool(!disabled);
                        }
                        act(
                            store.save_rules(rules),
                            if disabled { "Rule enabled" } else { "Rule disabled" },
                        );
                    };
                    view! {
                        <tr data-rule=i + 1 class:rule-disabled=disabled>
                            <td>{i + 1}</td>
                            <td class="rule-text">{line}</td>
                            <td class="rule-status">{if disabled { "Disabled" } else { "Enabled" }}</td>
                            <td class="actions" hidden=!can_write>
                                <button type="button" class="secondary" on:click=move |_| {
                                    editing.set(Some(i));
                                    open.set(true);
                                }>"Edit"</button>
                                <button type="button" class="secondary" on:click=toggle>
                                    {if disabled { "Enable" } else { "Disable" }}
                                </button>
                                <button type="button" class="secondary danger" on:click=move |_| {
                                    let mut rules = store.rules();
                                    if i < rules.len() {
                                        rules.remove(i);
                                    }
                                    act(store.save_rules(rules), "Rule deleted");
                                }>"Delete"</button>
                            </td>
                        </tr>
                    }
                    .into_any()
                })
                .collect_view()
                .into_any(),
        }
    };
    let full = move || count() >= MAX_RULES;
    let table = view! {
        <table class="list retention-rules">
            <thead><tr>
                <th scope="col">"#"</th>
                <th scope="col">"Rule"</th>
                <th scope="col">"Status"</th>
                <th scope="col" hidden=!can_write>"Actions"</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    };
    view! {
        <p class="hint">
            "Tags that no enabled rule retains are removed when retention runs; an artifact goes only when none \
             of its tags is kept, and immutable tags are always kept. Up to 15 rules, combined with \"or\"."
        </p>
        <div class="toolbar">
            <div class="toolbar-start">
                <strong>"Retention rules"</strong>
                <span class="badge rule-count">{move || format!("{}/{MAX_RULES}", count())}</span>
                <button type="button" hidden=!can_write disabled=full
                    on:click=move |_| {
                        editing.set(None);
                        open.set(true);
                    }>"+ Add Retention Rule"</button>
            </div>
        </div>
        {scroll_box(table.into_any())}
        <ScheduleForm store=store can_write=can_write/>
        <h3>"Retention runs"</h3>
        {move || match id.get() {
            Some(policy_id) => view! {
                <Executions policy_id=policy_id has_rules=Signal::derive(move || count() > 0)/>
            }
            .into_any(),
            None => view! { <p class="empty">"Add a rule to run retention."</p> }.into_any(),
        }}
        <RuleDialog open=open editing=editing store=store metadata=meta/>

    }
}

/// Harbor's Add/Edit Retention Rule dialog: `editing` holds the index of the rule to edit, or `None`.
#[component]
fn RuleDialog(
    open: RwSignal<bool>,
    editing: RwSignal<Option<usize>>,
    store: Store,
    metadata: Signal<Value>,
) -> impl IntoView {
    let toasts = use_toasts();
    let repo_excluded = RwSignal::new(false);
    let repositories = RwSignal::new(String::new());
    let template = RwSignal::new(String::new());
    let param = RwSignal::new(String::new());
    let tag_excluded = RwSignal::new(false);
    let tags = RwSignal::new(String::new());
    let untagged = RwSignal::new(true);
    let status = FormStatus::new();
    Effect::new(move |_| {
        if open.get() {
            untrack(|| {
                let first = metadata
                    .with_untracked(|m| text(&m["templates"][0], "rule_template").to_owned());
                let form = editing
                    .get_untracked()
                    .and_then(|i| store.rules().get(i).map(RuleForm::of))
                    .unwrap_or_else(|| RuleForm::new(&first));
                repo_excluded.set(form.repo_excluded);
                repositories.set(form.repositories);
                template.set(form.template);
                param.set(form.param);
                tag_excluded.set(form.tag_excluded);
                tags.set(form.tags);
                untagged.set(form.untagged);
                status.error.set(None);
            });
        }
    });
    let unit = move || template.with(|t| metadata.with(|m| template_unit(m, t)));
    let title = Signal::derive(move || {
        if editing.with(Option::is_some) {
            "Edit Retention Rule".to_owned()
        } else {
            "Add Retention Rule".to_owned()
        }
    });
    let submit = Callback::new(move |()| {
        let form = RuleForm {
            repo_excluded: repo_excluded.get_untracked(),
            repositories: repositories.get_untracked(),
            template: template.get_untracked(),
            param: param.get_untracked(),
            tag_excluded: tag_excluded.get_untracked(),
            tags: tags.get_untracked(),
            untagged: untagged.get_untracked(),
        };
        let index = editing.get_untracked();
        let mut rules = store.rules();
        let disabled = index
            .and_then(|i| rules.get(i))
            .is_some_and(|r| r["disabled"].as_bool().unwrap_or(false));
        let rule = match form.rule(unit().is_some(), disabled) {
            Ok(rule) => rule,
            Err(message) => return status.fail(message),
        };
        match index.filter(|i| *i < rules.len()) {
            Some(i) => rules[i] = rule,
            None => rules.push(rule),
        }
        status.send(
            store.save_rules(rules),
            Box::new(move |()| {
                open.set(false);
                toasts.success(
                    if index.is_some() {
                        "Rule saved"
                    } else {
                        "Rule added"
                    }
                    .to_owned(),
                );
            }),
        );
    });
    let templates = move || {
        metadata.with(|m| {
            m["templates"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|t| {
                    let name = text(&t, "rule_template").to_owned();
                    let shown = format!("retain {}", text(&t, "display_text"));
                    view! { <option value=name>{shown}</option> }
                })
                .collect_view()
        })
    };
    view! {
        <FormDialog open=open title=title status=status on_submit=submit class="form-grid">
            <SelectorField label="For the repositories" excluded=repo_excluded value=repositories
                placeholder="Enter multiple comma separated repos, repo*, or **"/>
            <label for="retention-template">"By artifact count or number of days"</label>
            <select id="retention-template" prop:value=template on:change=move |ev| {
                template.set(event_target_value(&ev));
                param.set(String::new());
            }>{templates}</select>
            {move || unit().map(|unit| {
                let label = format::capitalise(&unit.to_ascii_lowercase());
                view! {
                    <label for="retention-param">{label}</label>
                    <input id="retention-param" type="number" min="0" bind:value=param/>
                }
            })}
            <SelectorField label="Tags" excluded=tag_excluded value=tags
                placeholder="Enter multiple comma separated tags, tag*, or **"/>
            <label for="retention-untagged">"Untagged artifacts"</label>
            <label class="checkbox">
                <input id="retention-untagged" type="checkbox" bind:checked=untagged/>
                "included"
            </label>
        </FormDialog>
    }
}

/// The schedule: None, Hourly, Daily, Weekly, or a custom six-field cron; saved into the policy's trigger.
#[component]
fn ScheduleForm(store: Store, can_write: bool) -> impl IntoView {
    let toasts = use_toasts();
    let cron = RwSignal::new(String::new());
    let custom = RwSignal::new(false);
    Effect::new(move |_| {
        let saved = store
            .policy
            .ok()
            .map(|p| text(&p["trigger"]["settings"], "cron").to_owned())
            .unwrap_or_default();
        custom.set(schedule_of(&saved) == "Custom");
        cron.set(saved);
    });
    let status = FormStatus::new();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = cron.get_untracked().trim().to_owned();
        if value.split_whitespace().count() != 6 && !value.is_empty() {
            return status.fail(
                "A cron has six fields: second, minute, hour, day of month, month, day of week."
                    .to_owned(),
            );
        }
        status.send(
            store.save(move |p| {
                p["trigger"] = json!({"kind": "Schedule", "settings": {"cron": value}})
            }),
            Box::new(move |()| toasts.success("Schedule saved".to_owned())),
        );
    };
    let disabled = move || !can_write || store.id.get().is_none();
    view! {
        <form class="retention-schedule toolbar" on:submit=save novalidate>
            <label for="retention-schedule">"Schedule"</label>
            <select id="retention-schedule" disabled=disabled
                prop:value=move || if custom.get() { "Custom" } else { cron.with(|c| schedule_of(c)) }
                on:change=move |ev| {
                let choice = event_target_value(&ev);
                custom.set(choice == "Custom");
                if let Some((_, c)) = SCHEDULES.iter().find(|(name, _)| *name == choice) {
                    cron.set((*c).to_owned());
                }
            }>
                {SCHEDULES
                    .iter()
                    .map(|(name, _)| *name)
                    .chain(["Custom"])
                    .map(|name| view! { <option value=name>{name}</option> })
                    .collect_view()}
            </select>
            <input type="text" aria-label="Cron" placeholder="0 0 0 * * *" bind:value=cron
                readonly=move || !custom.get() disabled=disabled/>
            <button type="submit" class="secondary" disabled=move || disabled() || status.busy.get()>"Save"</button>
            <ErrorBanner error=status.error/>
        </form>
    }
}

/// Dry Run, Run Now, and the runs of the policy: each with its tasks (one per repository) and their reasons.
#[component]
fn Executions(policy_id: i64, has_rules: Signal<bool>) -> impl IntoView {
    let ctx = use_project();
    let toasts = use_toasts();
    let can_run = ctx.can(RESOURCE, "update");
    let base = format!("/retentions/{policy_id}/executions");
    let list = ListControls::new();
    let runs = values_at(base.clone(), list);
    // While a run has not ended, ask again every 2 s (one timer at a time); open task lists follow `tick`.
    let tick = RwSignal::new(0_u32);
    let waiting = StoredValue::new(false);
    Effect::new(move |_| {
        let busy = runs.items().iter().any(|r| running(text(r, "status")));
        if busy && !waiting.get_value() {
            waiting.set_value(true);
            set_timeout(
                move || {
                    waiting.set_value(false);
                    runs.refresh();
                    tick.update(|n| *n += 1);
                },
                Duration::from_secs(2),
            );
        }
    });
    let start = {
        let base = base.clone();
        move |dry_run: bool| {
            let base = base.clone();
            Box::pin(async move {
                api::post(&base, &json!({ "dry_run": dry_run })).await?;
                runs.refresh();
                Ok(())
            }) as Request<()>
        }
    };
    let dry = start.clone();
    let dry_run = move |_| report(toasts, dry(true), "Dry run started".to_owned());
    let confirm_open = RwSignal::new(false);
    let run_status = FormStatus::new();
    let run_now = Callback::new(move |()| {
        run_status.send(
            start(false),
            Box::new(move |()| {
                confirm_open.set(false);
                toasts.success("Retention run started".to_owned());
            }),
        );
    });
    let expanded = RwSignal::new(None::<i64>);
    let reasons = Reasons {
        task: RwSignal::new(None),
        open: RwSignal::new(false),
    };
    let row_base = base.clone();
    let rows = move || {
        let base = row_base.clone();
        runs.rows("7", "No retention runs yet", move |run| {
            let id = run["id"].as_i64().unwrap_or_default();
            let status = text(&run, "status").to_owned();
            let stop_path = format!("{base}/{id}");
            let stop = move |_| {
                let path = stop_path.clone();
                let request: Request<()> = Box::pin(async move {
                    api::patch(&path, &json!({"action": "stop"})).await?;
                    runs.refresh();
                    Ok(())
                });
                report(toasts, request, format!("Stopping run {id}"));
            };
            let open = move || expanded.get() == Some(id);
            let tasks_base = format!("{base}/{id}/tasks");
            view! {
                <tr data-execution=id>
                    <td>
                        <button type="button" class="link" aria-expanded=move || open().to_string()
                            aria-label=format!("Tasks of run {id}")
                            on:click=move |_| expanded.update(|e| *e = if *e == Some(id) { None } else { Some(id) })>
                            {move || if open() { "▾ " } else { "▸ " }} {id}
                        </button>
                    </td>
                    <td class="execution-status">{status.clone()}</td>
                    <td>{if run["dry_run"].as_bool().unwrap_or(false) { "Yes" } else { "No" }}</td>
                    <td>{format::capitalise(&text(&run, "trigger").to_ascii_lowercase())}</td>
                    <td>{format::time(text(&run, "start_time"))}</td>
                    <td>{duration(text(&run, "start_time"), text(&run, "end_time"))}</td>
                    <td>
                        <button type="button" class="secondary" on:click=stop
                            hidden=!running(&status) || !can_run>"Stop"</button>
                    </td>
                </tr>
                {move || open().then(|| view! {
                    <tr class="execution-tasks">
                        <td colspan="7"><Tasks base=tasks_base.clone() tick=tick reasons=reasons/></td>
                    </tr>
                })}
            }
            .into_any()
        })
    };
    view! {
        <ListToolbar list=list fetch=runs.fetch()>
            <button type="button" class="secondary" hidden=!can_run disabled=move || !has_rules.get()
                on:click=dry_run>"Dry Run"</button>
            <button type="button" hidden=!can_run disabled=move || !has_rules.get()
                on:click=move |_| {
                    run_status.error.set(None);
                    confirm_open.set(true);
                }>"Run Now"</button>
        </ListToolbar>
        <ListTable list=list fetch=runs.fetch() class="retention-executions" rows=rows>
            <th scope="col">"ID"</th>
            <th scope="col">"Status"</th>
            <th scope="col">"Dry Run"</th>
            <th scope="col">"Trigger"</th>
            <th scope="col">"Start Time"</th>
            <th scope="col">"Duration"</th>
            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
        </ListTable>
        <ConfirmDialog open=confirm_open title="Run Retention"
            message="Run the retention policy now? Tags that no rule retains are removed, and artifacts none of \
                     whose tags are kept are deleted; this cannot be undone. A dry run shows what would go."
            confirm_label="Run" busy=run_status.busy error=run_status.error on_confirm=run_now/>
        <ReasonsDialog target=reasons/>
    }
}

/// The tasks of one run: a repository each, with what it kept of how many, and its reasons and log.
#[component]
fn Tasks(base: String, tick: RwSignal<u32>, reasons: Reasons) -> impl IntoView {
    let list = ListControls::new();
    let tasks = values_at(base.clone(), list);
    Effect::new(move |first: Option<()>| {
        tick.track();
        if first.is_some() {
            tasks.refresh();
        }
    });
    let rows = move || {
        let base = base.clone();
        tasks.rows("6", "No repositories in scope", move |task| {
            let path = format!("{base}/{}", task["id"].as_i64().unwrap_or_default());
            let repository = text(&task, "repository").to_owned();
            let log = format!("{}{path}", api::BASE);
            let shown = path.clone();
            let name = repository.clone();
            let (total, retained) = (
                task["total"].as_i64().unwrap_or(0),
                task["retained"].as_i64().unwrap_or(0),
            );
            view! {
                <tr data-repository=repository.clone()>
                    <td>{repository.clone()}</td>
                    <td>{text(&task, "status").to_owned()}</td>
                    <td>{format!("{retained}/{total}")}</td>
                    <td>{format::time(text(&task, "start_time"))}</td>
                    <td>{duration(text(&task, "start_time"), text(&task, "end_time"))}</td>
                    <td class="actions">
                        <button type="button" class="secondary"
                            on:click=move |_| {
                                reasons.task.set(Some((shown.clone(), name.clone())));
                                reasons.open.set(true);
                            }>"Reasons"</button>
                        <a href=log target="_blank" rel="noopener">"Log"</a>
                    </td>
                </tr>
            }
            .into_any()
        })
    };
    view! {
        <ListTable list=list fetch=tasks.fetch() class="retention-tasks" rows=rows>
            <th scope="col">"Repository"</th>
            <th scope="col">"Status"</th>
            <th scope="col">"Retained/Total"</th>
            <th scope="col">"Start Time"</th>
            <th scope="col">"Duration"</th>
            <th scope="col">"Log"</th>
        </ListTable>
    }
}

/// The task whose reasons the dialog shows (its API path and repository), and whether the dialog is open
/// (closing it leaves the last task, and its page, in place).
#[derive(Clone, Copy)]
struct Reasons {
    task: RwSignal<Option<(String, String)>>,
    open: RwSignal<bool>,
}

/// What one task decided for each tag and untagged artifact, and why (`…/tasks/{tid}/reasons`).
#[component]
fn ReasonsDialog(target: Reasons) -> impl IntoView {
    let Reasons { task: target, open } = target;
    let list = ListControls::new();
    let reasons = PagedList::<Value>::new(
        move || {
            let (page, size, _, _) = list.get();
            target.with(|t| {
                t.as_ref()
                    .map(|(path, _)| page_path(&format!("{path}/reasons"), page, size, &[]))
            })
        },
        list,
    );
    let title = Signal::derive(move || {
        target.with(|t| {
            t.as_ref()
                .map(|(_, repo)| format!("Retention of {repo}"))
                .unwrap_or_default()
        })
    });
    let rows = move || {
        reasons.rows("4", "Nothing was in scope", |r| {
            let tag = text(&r, "tag").to_owned();
            let retained = r["retained"].as_bool().unwrap_or(false);
            let digest: String = text(&r, "digest").chars().take(19).collect();
            view! {
                <tr data-tag=tag.clone() class:reason-removed=!retained>
                    <td>{if tag.is_empty() { "(untagged)".to_owned() } else { tag.clone() }}</td>
                    <td><code>{digest}</code></td>
                    <td class="reason-fate">{if retained { "Retained" } else { "Removed" }}</td>
                    <td class="reason-text">{text(&r, "reason").to_owned()}</td>
                </tr>
            }
            .into_any()
        })
    };
    view! {
        <Dialog open=open title=title>
            <div class="dialog-body reasons-body">
                <ListTable list=list fetch=reasons.fetch() class="retention-reasons" rows=rows>
                    <th scope="col">"Tag"</th>
                    <th scope="col">"Digest"</th>
                    <th scope="col">"Result"</th>
                    <th scope="col">"Reason"</th>
                </ListTable>
            </div>
        </Dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata() -> Value {
        json!({"templates": [
            {"rule_template": "latestPushedK", "display_text": "the most recently pushed # artifacts",
             "action": "retain", "params": [{"type": "int", "unit": "COUNT", "required": true}]},
            {"rule_template": "always", "display_text": "always", "action": "retain", "params": []}
        ]})
    }

    #[test]
    fn rules_read_in_harbors_words() {
        let form = RuleForm {
            param: "5".to_owned(),
            ..RuleForm::new("latestPushedK")
        };
        let rule = form.rule(true, false).unwrap_or_default();
        assert_eq!(
            sentence(&rule, &metadata()),
            "For the repositories matching **, retain the most recently pushed 5 artifacts with tags matching ** \
             with untagged artifacts"
        );
        let other = RuleForm {
            repo_excluded: true,
            repositories: "tmp, old".to_owned(),
            tag_excluded: true,
            tags: "v*".to_owned(),
            untagged: false,
            ..RuleForm::new("always")
        };
        let rule = other.rule(false, true).unwrap_or_default();
        assert_eq!(
            sentence(&rule, &metadata()),
            "For the repositories excluding tmp,old, retain always with tags excluding v*"
        );
        assert_eq!(
            RuleForm::of(&rule),
            RuleForm {
                repositories: "tmp,old".to_owned(),
                ..other
            }
        );
        assert_eq!(rule["disabled"], json!(true));
        assert_eq!(
            rule["scope_selectors"]["repository"][0]["pattern"],
            json!("{tmp,old}")
        );
        assert_eq!(rule["params"], json!({}));
    }

    #[test]
    fn rules_are_harbors_and_checked() {
        let mut form = RuleForm::new("latestPushedK");
        assert!(
            form.rule(true, false)
                .is_err_and(|e| e.contains("whole number"))
        );
        form.param = " 3 ".to_owned();
        let rule = form.rule(true, false).unwrap_or_default();
        assert_eq!(rule["params"], json!({"latestPushedK": 3}));
        assert_eq!(rule["action"], json!("retain"));
        assert_eq!(
            rule["tag_selectors"][0]["extras"],
            json!("{\"untagged\":true}")
        );
        assert_eq!(
            rule["scope_selectors"]["repository"][0]["decoration"],
            json!("repoMatches")
        );
        assert_eq!(
            RuleForm::of(&rule),
            RuleForm {
                param: "3".to_owned(),
                ..form.clone()
            }
        );
        form.tags = " , ".to_owned();
        assert!(form.rule(true, false).is_err_and(|e| e.contains("tags")));
        // What the server reads as a rule is what the console sends.
        let rule = RuleForm {
            param: "1".to_owned(),
            ..RuleForm::new("latestPushedK")
        }
        .rule(true, false)
        .unwrap_or_default();
        let policy: berth_api::retention::RetentionPolicy =
            serde_json::from_value(new_policy(4, vec![rule])).unwrap_or_default();
        assert_eq!(policy.rules.len(), 1);
        assert_eq!(policy.scope.map(|s| s.reference), Some(4));
        assert_eq!(policy.rules[0].params.get("latestPushedK"), Some(&json!(1)));
    }

    #[test]
    fn untagged_follows_the_servers_default() {
        assert!(untagged("", false));
        assert!(!untagged("", true));
        assert!(!untagged("{\"untagged\":false}", false));
        assert!(untagged("{\"untagged\":true}", true));
    }

    #[test]
    fn templates_come_from_the_metadata() {
        assert_eq!(
            template_unit(&metadata(), "latestPushedK").as_deref(),
            Some("COUNT")
        );
        assert_eq!(template_unit(&metadata(), "always"), None);
        assert_eq!(template_unit(&metadata(), "unknown"), None);
        assert_eq!(
            template_text(&metadata(), "nDaysSinceLastPull", "7"),
            "nDaysSinceLastPull 7"
        );
    }

    #[test]
    fn schedules_and_durations() {
        assert_eq!(schedule_of(""), "None");
        assert_eq!(schedule_of("0 0 0 * * *"), "Daily");
        assert_eq!(schedule_of("0 0 0 * * 0"), "Weekly");
        assert_eq!(schedule_of("0 30 2 * * *"), "Custom");
        assert_eq!(duration_text(0.0), "0 s");
        assert_eq!(duration_text(42_400.0), "42 s");
        assert_eq!(duration_text(185_000.0), "3 min 5 s");
        assert_eq!(duration_text(7_800_000.0), "2 h 10 min");
        assert!(running("Running") && running("Pending") && !running("Success"));
    }
}
