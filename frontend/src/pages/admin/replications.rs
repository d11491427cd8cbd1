//! Administration → Replications (`/harbor/replications`): the replication rules (`GET /replication/policies`)
//! with Harbor's actions: "+ New Replication Rule", "Replicate" (start the chosen rule now, after a
//! confirmation), and on the chosen rule Edit and Delete. Under the rules, the executions (of the rule whose
//! name was clicked, or of all), read again every two seconds while one is in progress, each with its success
//! rate and a Stop button while it runs; an execution's id opens its tasks, each with a link to its log.
//!
//! For system administrators; the server refuses everyone else and the table shows its message. Berth itself is
//! one side of every rule ("Local"): push-based rules copy from Berth to a registry endpoint, pull-based ones
//! from an endpoint into Berth (docs/replication.md).

use berth_api::registries::Registry;
use berth_api::replication::{
    FILTER_LABEL, FILTER_NAME, FILTER_RESOURCE, FILTER_TAG, ReplicationExecution,
    ReplicationFilter, ReplicationPolicy, ReplicationTask, ReplicationTrigger,
    ReplicationTriggerSettings, StartReplicationExecution, TRIGGER_EVENT, TRIGGER_MANUAL,
    TRIGGER_SCHEDULED,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Serialize;
use serde_json::Value;

use crate::api;
use crate::components::action_menu::{ActionMenu, MenuItem, Needs};
use crate::components::dialog::{
    ConfirmDialog, DeleteDialog, DeleteFlow, FormDialog, FormStatus, what,
};
use crate::components::fetch::Fetch;
use crate::components::select_table::{SelectCell, Selection};
use crate::components::table::{ListControls, ListTable, ListToolbar, PagedList, fuzzy, page_path};
use crate::components::toast::use_toasts;
use crate::components::when::When;
use crate::format::time;

/// Harbor's flattening choices for the destination namespace, as `(dest_namespace_replace_count, label)`.
pub const FLATTENING: [(i8, &str); 5] = [
    (0, "No Flattening"),
    (1, "Flatten 1 Level"),
    (2, "Flatten 2 Levels"),
    (3, "Flatten 3 Levels"),
    (-1, "Flatten All Levels"),
];

/// The triggers, as `(type, label)`.
pub const TRIGGERS: [(&str, &str); 3] = [
    (TRIGGER_MANUAL, "Manual"),
    (TRIGGER_SCHEDULED, "Scheduled"),
    (TRIGGER_EVENT, "Event Based"),
];

/// The label of a trigger type (the type itself when unknown).
pub fn trigger_label(kind: &str) -> &str {
    TRIGGERS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(kind, |(_, label)| label)
}

/// Whether a rule copies from Berth (push-based): its source is Berth itself (no endpoint, or id 0).
pub fn is_push(policy: &ReplicationPolicy) -> bool {
    policy.src_registry.as_ref().is_none_or(|r| r.id == 0)
}

/// The list's API path for a page and a name filter (Harbor's fuzzy `q=name=~…`).
pub fn policies_path(page: u32, page_size: u32, name: &str) -> String {
    page_path(
        "/replication/policies",
        page,
        page_size,
        &[("q", fuzzy("name", name))],
    )
}

/// What the rule dialog holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleForm {
    pub name: String,
    pub description: String,
    /// Push-based (Berth is the source) or pull-based (Berth is the destination).
    pub push: bool,
    /// The registry endpoint's id, as the select holds it (empty: none chosen).
    pub registry: String,
    pub name_filter: String,
    pub tag_filter: String,
    /// `matches` or `excludes`, for the tag filter.
    pub tag_decoration: String,
    /// Label names, comma-separated (push-based only).
    pub labels: String,
    /// `""` (all), `image` or `artifact`.
    pub resource: String,
    pub dest_namespace: String,
    pub replace_count: i8,
    pub trigger: String,
    pub cron: String,
    pub r#override: bool,
    pub replicate_deletion: bool,
    /// KiB/s as typed; -1 is no limit.
    pub speed: String,
    pub copy_by_chunk: bool,
    pub enabled: bool,
}

impl Default for RuleForm {
    fn default() -> Self {
        RuleForm {
            name: String::new(),
            description: String::new(),
            push: true,
            registry: String::new(),
            name_filter: String::new(),
            tag_filter: String::new(),
            tag_decoration: "matches".to_owned(),
            labels: String::new(),
            resource: String::new(),
            dest_namespace: String::new(),
            replace_count: -1,
            trigger: TRIGGER_MANUAL.to_owned(),
            cron: String::new(),
            r#override: true,
            replicate_deletion: false,
            speed: "-1".to_owned(),
            copy_by_chunk: false,
            enabled: true,
        }
    }
}

impl RuleForm {
    /// The form for editing `policy`.
    pub fn of(policy: &ReplicationPolicy) -> Self {
        let push = is_push(policy);
        let side = if push {
            &policy.dest_registry
        } else {
            &policy.src_registry
        };
        let mut form = RuleForm {
            name: policy.name.clone(),
            description: policy.description.clone(),
            push,
            registry: side.as_ref().map(|r| r.id.to_string()).unwrap_or_default(),
            dest_namespace: policy.dest_namespace.clone(),
            replace_count: policy.dest_namespace_replace_count.unwrap_or(-1),
            r#override: policy.r#override,
            replicate_deletion: policy.replicate_deletion || policy.deletion,
            speed: match policy.speed {
                Some(speed) if speed > 0 => speed.to_string(),
                _ => "-1".to_owned(),
            },
            copy_by_chunk: policy.copy_by_chunk.unwrap_or(false),
            enabled: policy.enabled,
            ..RuleForm::default()
        };
        if let Some(trigger) = &policy.trigger {
            form.trigger = trigger.trigger_type.clone();
            form.cron = trigger
                .trigger_settings
                .as_ref()
                .map(|s| s.cron.clone())
                .unwrap_or_default();
        }
        for filter in &policy.filters {
            let text = filter.value.as_str().unwrap_or_default().to_owned();
            match filter.filter_type.as_str() {
                FILTER_NAME => form.name_filter = text,
                FILTER_TAG => {
                    form.tag_filter = text;
                    if filter.decoration == "excludes" {
                        form.tag_decoration = "excludes".to_owned();
                    }
                }
                FILTER_RESOURCE => form.resource = text,
                FILTER_LABEL => {
                    form.labels = filter
                        .value
                        .as_array()
                        .map(|labels| {
                            labels
                                .iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default();
                }
                _ => {}
            }
        }
        form
    }

    /// The body of `POST /replication/policies` or `PUT /replication/policies/{id}`.
    pub fn request(&self) -> Result<ReplicationPolicy, String> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err("Enter a name for the rule.".to_owned());
        }
        let registry: i64 = self
            .registry
            .trim()
            .parse()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| {
                if self.push {
                    "Choose the destination registry.".to_owned()
                } else {
                    "Choose the source registry.".to_owned()
                }
            })?;
        let speed: i32 = self
            .speed
            .trim()
            .parse()
            .ok()
            .filter(|s| *s >= -1)
            .ok_or("The bandwidth is -1 (no limit) or a number of KiB/s.")?;
        let event = self.trigger == TRIGGER_EVENT;
        if event && !self.push {
            return Err("Event-based triggers are for push-based rules only.".to_owned());
        }
        let scheduled = self.trigger == TRIGGER_SCHEDULED;
        if scheduled && self.cron.trim().is_empty() {
            return Err(
                "Enter the schedule's cron expression (six fields, with seconds).".to_owned(),
            );
        }
        let mut filters = Vec::new();
        let pattern = |kind: &str, value: &str, decoration: &str| ReplicationFilter {
            filter_type: kind.to_owned(),
            value: Value::from(value.trim()),
            decoration: decoration.to_owned(),
        };
        if !self.name_filter.trim().is_empty() {
            filters.push(pattern(FILTER_NAME, &self.name_filter, "matches"));
        }
        if !self.tag_filter.trim().is_empty() {
            filters.push(pattern(FILTER_TAG, &self.tag_filter, &self.tag_decoration));
        }
        let labels: Vec<Value> = self
            .labels
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(Value::from)
            .collect();
        if self.push && !labels.is_empty() {
            filters.push(ReplicationFilter {
                filter_type: FILTER_LABEL.to_owned(),
                value: Value::Array(labels),
                decoration: "matches".to_owned(),
            });
        }
        if !self.resource.is_empty() {
            filters.push(pattern(FILTER_RESOURCE, &self.resource, ""));
        }
        let endpoint = Some(Registry {
            id: registry,
            ..Registry::default()
        });
        Ok(ReplicationPolicy {
            name: name.to_owned(),
            description: self.description.trim().to_owned(),
            src_registry: if self.push { None } else { endpoint.clone() },
            dest_registry: if self.push { endpoint } else { None },
            dest_namespace: self.dest_namespace.trim().to_owned(),
            dest_namespace_replace_count: Some(self.replace_count),
            trigger: Some(ReplicationTrigger {
                trigger_type: self.trigger.clone(),
                trigger_settings: scheduled.then(|| ReplicationTriggerSettings {
                    cron: self.cron.trim().to_owned(),
                }),
            }),
            filters,
            replicate_deletion: event && self.replicate_deletion,
            r#override: self.r#override,
            enabled: self.enabled,
            speed: Some(speed),
            copy_by_chunk: Some(self.copy_by_chunk),
            ..ReplicationPolicy::default()
        })
    }
}

/// The body of any replication call, serialised as the body it wraps: one type, so the console's generic HTTP
/// client is compiled once for them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ReplicationBody {
    Policy(Box<ReplicationPolicy>),
    Start(StartReplicationExecution),
    Stop(Value),
}

/// `"100% (1/1)"`: an execution's succeeded tasks of all.
pub fn success_rate(execution: &ReplicationExecution) -> String {
    if execution.total <= 0 {
        return "0% (0/0)".to_owned();
    }
    let percent = execution.succeed * 100 / execution.total;
    format!("{percent}% ({}/{})", execution.succeed, execution.total)
}

/// `"1m 05s"` for 65 seconds; `"—"` when unknown.
pub fn duration_text(seconds: Option<i64>) -> String {
    match seconds {
        None => "—".to_owned(),
        Some(s) if s < 0 => "—".to_owned(),
        Some(s) if s < 60 => format!("{s}s"),
        Some(s) if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        Some(s) => format!("{}h {:02}m {:02}s", s / 3600, (s % 3600) / 60, s % 60),
    }
}

/// The seconds from `start` to `end` (RFC 3339), as the browser reads the times.
fn seconds_between(start: &str, end: &str) -> Option<i64> {
    if start.is_empty() || end.is_empty() {
        return None;
    }
    #[cfg(target_arch = "wasm32")]
    {
        let parse = |t: &str| js_sys::Date::new(&wasm_bindgen::JsValue::from_str(t)).get_time();
        let (a, b) = (parse(start), parse(end));
        if !a.is_nan() && !b.is_nan() {
            return Some(((b - a) / 1000.0).round() as i64);
        }
    }
    None
}

/// A rule's key in the selection: its id.
fn key(policy: &ReplicationPolicy) -> String {
    policy.id.to_string()
}

#[component]
pub fn ReplicationsPage() -> impl IntoView {
    let list = ListControls::new();
    let toasts = use_toasts();
    let policies = PagedList::<ReplicationPolicy>::new(
        move || {
            let (page, size, name, _) = list.get();
            Some(policies_path(page, size, &name))
        },
        list,
    );
    let dialog_open = RwSignal::new(false);
    let fields = RuleFields::new();
    let editing = RwSignal::new(None::<i64>);
    let deleting = DeleteFlow::new();
    // The rule whose executions are shown (`None`: all).
    let viewing = RwSignal::new(None::<(i64, String)>);
    let reload_executions = RwSignal::new(0u32);
    let selection = Selection::new(policies.keys(key));

    let on_new = move |_| {
        fields.load(RuleForm::default());
        editing.set(None);
        dialog_open.set(true);
    };
    let on_edit = Callback::new(move |()| {
        if let [policy] = policies.chosen(selection, key).as_slice() {
            fields.load(RuleForm::of(policy));
            editing.set(Some(policy.id));
            dialog_open.set(true);
        }
    });
    let on_delete = Callback::new(move |()| {
        deleting.ask_all(
            policies
                .chosen(selection, key)
                .into_iter()
                .map(|p| (format!("/replication/policies/{}", p.id), p.name))
                .collect(),
        );
    });
    let on_saved = Callback::new(move |message: String| {
        toasts.success(message);
        policies.refresh();
    });

    // "Replicate": asks, then starts the chosen rule and shows its executions.
    let replicate_open = RwSignal::new(false);
    let replicating = RwSignal::new(None::<(i64, String)>);
    let replicate_busy = RwSignal::new(false);
    let replicate_error = RwSignal::new(None::<String>);
    let on_replicate = move |_| {
        if let [policy] = policies.chosen(selection, key).as_slice() {
            replicating.set(Some((policy.id, policy.name.clone())));
            replicate_error.set(None);
            replicate_open.set(true);
        }
    };
    let confirm_replicate = Callback::new(move |()| {
        let Some((id, name)) = replicating.get_untracked() else {
            return;
        };
        replicate_busy.set(true);
        spawn_local(async move {
            let body = ReplicationBody::Start(StartReplicationExecution { policy_id: id });
            let result = api::post("/replication/executions", &body).await;
            replicate_busy.set(false);
            match result {
                Ok(()) => {
                    replicate_open.set(false);
                    toasts.success(format!("Started replication of {name}"));
                    viewing.set(Some((id, name)));
                    reload_executions.update(|n| *n += 1);
                }
                Err(e) => replicate_error.set(Some(e.message)),
            }
        });
    });
    let replicate_message = Signal::derive(move || {
        replicating
            .get()
            .map(|(_, name)| format!("Replicate the images of rule {name} now?"))
            .unwrap_or_default()
    });

    let rows = move || {
        policies.rows("8", "No replication rules found", move |policy| {
            view! { <RuleRow policy=policy selection=selection viewing=viewing/> }.into_any()
        })
    };
    view! {
        <section class="page replications-page">
            <h1>"Replications"</h1>
            <ListToolbar list=list fetch=policies.fetch() filter="Filter rules by name">
                <button type="button" data-testid="new-replication-rule" on:click=on_new>
                    "+ New Replication Rule"
                </button>
                <button type="button" class="secondary" data-testid="replicate"
                    disabled=move || selection.count() != 1 on:click=on_replicate>
                    "Replicate"
                </button>
                <ActionMenu selection=selection>
                    <MenuItem label="Edit" selection=selection needs=Needs::One hint="Choose one rule"
                        on_select=on_edit/>
                    <MenuItem label="Delete" danger=true selection=selection needs=Needs::Some
                        on_select=on_delete/>
                </ActionMenu>
            </ListToolbar>
            <ListTable list=list fetch=policies.fetch() selection=selection rows=rows>
                <th scope="col">"Name"</th>
                <th scope="col">"Status"</th>
                <th scope="col">"Source Registry"</th>
                <th scope="col">"Replication Mode"</th>
                <th scope="col">"Destination"</th>
                <th scope="col">"Trigger"</th>
                <th scope="col">"Description"</th>
            </ListTable>
            <Executions viewing=viewing reload=reload_executions/>
        </section>
        <RuleDialog open=dialog_open fields=fields editing=editing on_saved=on_saved/>
        <ConfirmDialog open=replicate_open title="Replicate" message=replicate_message
            confirm_label="Replicate" busy=replicate_busy error=replicate_error
            on_confirm=confirm_replicate/>
        <DeleteDialog flow=deleting title="Delete Replication Rule"
            message=|names, n| format!("Delete {}?", what("replication rule", "replication rules", names, n))
            done=|names, n| format!("Deleted {}", what("rule", "rules", names, n))
            on_deleted=Callback::new(move |()| {
                viewing.set(None);
                policies.refresh();
                reload_executions.update(|n| *n += 1);
            })/>
    }
}

#[component]
fn RuleRow(
    policy: ReplicationPolicy,
    selection: Selection,
    viewing: RwSignal<Option<(i64, String)>>,
) -> impl IntoView {
    let push = is_push(&policy);
    let name_of = |r: &Option<Registry>| {
        r.as_ref()
            .filter(|r| r.id != 0)
            .map_or_else(|| "Local".to_owned(), |r| r.name.clone())
    };
    let source = name_of(&policy.src_registry);
    let destination = name_of(&policy.dest_registry);
    let destination = if policy.dest_namespace.is_empty() {
        destination
    } else {
        format!("{destination} : {}", policy.dest_namespace)
    };
    let trigger = policy
        .trigger
        .as_ref()
        .map(|t| trigger_label(&t.trigger_type).to_owned())
        .unwrap_or_else(|| "Manual".to_owned());
    let label = format!("Select rule {}", policy.name);
    let (id, name) = (policy.id, policy.name.clone());
    let open = move |_| viewing.set(Some((id, name.clone())));
    view! {
        <tr data-rule=policy.name.clone()>
            <SelectCell selection=selection key=key(&policy) label=label/>
            <td><button type="button" class="link" on:click=open>{policy.name.clone()}</button></td>
            <td class="rule-status">
                <span class=if policy.enabled { "status-dot status-ok" } else { "status-dot" } aria-hidden="true"></span>
                {if policy.enabled { "Enabled" } else { "Disabled" }}
            </td>
            <td>{source}</td>
            <td>{if push { "Push-based" } else { "Pull-based" }}</td>
            <td class="rule-destination">{destination}</td>
            <td>{trigger}</td>
            <td>{policy.description}</td>
        </tr>
    }
}

/// The executions, newest first: of the rule in `viewing`, or of all rules.
#[component]
fn Executions(viewing: RwSignal<Option<(i64, String)>>, reload: RwSignal<u32>) -> impl IntoView {
    let list = ListControls::new();
    let toasts = use_toasts();
    let executions = PagedList::<ReplicationExecution>::new(
        move || {
            let (page, size, _, _) = list.get();
            let policy = viewing.get().map(|(id, _)| id.to_string());
            Some(page_path(
                "/replication/executions",
                page,
                size,
                &[("policy_id", policy.unwrap_or_default())],
            ))
        },
        list,
    );
    // The execution whose tasks are shown.
    let tasks_of = RwSignal::new(None::<i64>);
    let reload_tasks = RwSignal::new(0u32);
    Effect::new(move |previous: Option<u32>| {
        let n = reload.get();
        if previous.is_some_and(|p| p != n) {
            executions.refresh();
        }
        n
    });
    Effect::new(move |_| {
        viewing.track();
        tasks_of.set(None);
    });
    // While an execution is in progress, read them again every two seconds.
    Effect::new(move |_| {
        let active = executions.items().iter().any(|e| e.status == "InProgress");
        reload_tasks.update(|n| *n += 1);
        if active {
            set_timeout(
                move || executions.refresh(),
                std::time::Duration::from_secs(2),
            );
        }
    });
    let stop = Callback::new(move |id: i64| {
        spawn_local(async move {
            let body = ReplicationBody::Stop(Value::Object(serde_json::Map::new()));
            match api::put(&format!("/replication/executions/{id}"), &body).await {
                Ok(()) => {
                    toasts.success(format!("Stopping execution {id}"));
                    executions.refresh();
                }
                Err(e) => toasts.error(e.message),
            }
        });
    });
    let rows = move || {
        executions.rows("7", "No executions yet", move |execution| {
            view! { <ExecutionRow execution=execution tasks_of=tasks_of stop=stop/> }.into_any()
        })
    };
    let heading = move || match viewing.get() {
        Some((_, name)) => format!("Executions of {name}"),
        None => "Executions".to_owned(),
    };
    view! {
        <section class="replication-executions" aria-label="Executions">
            <h2>{heading}</h2>
            <ListToolbar list=list fetch=executions.fetch() filter="">
                <When when=move || viewing.with(Option::is_some)>
                    <button type="button" class="secondary" on:click=move |_| viewing.set(None)>
                        "Show all executions"
                    </button>
                </When>
            </ListToolbar>
            <ListTable list=list fetch=executions.fetch() rows=rows>
                <th scope="col">"ID"</th>
                <th scope="col">"Status"</th>
                <th scope="col">"Trigger"</th>
                <th scope="col">"Start Time"</th>
                <th scope="col">"Duration"</th>
                <th scope="col">"Success Rate"</th>
                <th scope="col">"Action"</th>
            </ListTable>
            {move || tasks_of.get().map(|id| view! { <Tasks execution=id reload=reload_tasks/> })}
        </section>
    }
}

#[component]
fn ExecutionRow(
    execution: ReplicationExecution,
    tasks_of: RwSignal<Option<i64>>,
    stop: Callback<i64>,
) -> impl IntoView {
    let id = execution.id;
    let running = execution.status == "InProgress";
    let status_class = match execution.status.as_str() {
        "Succeed" => "status-dot status-ok",
        "Failed" => "status-dot status-bad",
        _ => "status-dot",
    };
    let duration = duration_text(seconds_between(
        &execution.start_time,
        execution.end_time.as_deref().unwrap_or_default(),
    ));
    let rate = success_rate(&execution);
    let status_text = execution.status_text.clone();
    view! {
        <tr data-execution=id.to_string()>
            <td>
                <button type="button" class="link" aria-label=format!("Tasks of execution {id}")
                    on:click=move |_| tasks_of.set(Some(id))>{id}</button>
            </td>
            <td class="execution-status" title=status_text>
                <span class=status_class aria-hidden="true"></span>{execution.status.clone()}
            </td>
            <td>{trigger_label(&execution.trigger).to_owned()}</td>
            <td>{time(&execution.start_time)}</td>
            <td>{duration}</td>
            <td class="execution-rate">{rate}</td>
            <td>
                {running.then(|| view! {
                    <button type="button" class="secondary small" on:click=move |_| stop.run(id)>"Stop"</button>
                })}
            </td>
        </tr>
    }
}

/// The tasks of one execution: one per repository (or deletion) it copied.
#[component]
fn Tasks(execution: i64, reload: RwSignal<u32>) -> impl IntoView {
    let base = format!("/replication/executions/{execution}/tasks");
    let list = ListControls::new();
    let list_base = base.clone();
    let tasks = PagedList::<ReplicationTask>::new(
        move || {
            let (page, size, _, _) = list.get();
            Some(page_path(&list_base, page, size, &[]))
        },
        list,
    );
    Effect::new(move |previous: Option<u32>| {
        let n = reload.get();
        if previous.is_some_and(|p| p != n) {
            tasks.refresh();
        }
        n
    });
    let rows = move || {
        let base = base.clone();
        tasks.rows("7", "No tasks", move |task| {
            let log = format!("/api/v2.0{base}/{}/log", task.id);
            view! {
                <tr data-task=task.id.to_string()>
                    <td>{task.resource_type}</td>
                    <td class="task-resource">{task.src_resource}</td>
                    <td class="task-resource">{task.dst_resource}</td>
                    <td>{task.operation}</td>
                    <td class="task-status">{task.status}</td>
                    <td>{time(task.start_time.as_deref().unwrap_or_default())}</td>
                    <td><a href=log target="_blank" rel="noopener">"Logs"</a></td>
                </tr>
            }
            .into_any()
        })
    };
    view! {
        <section class="replication-tasks" aria-label="Tasks">
            <h3>"Tasks of execution " {execution}</h3>
            <ListToolbar list=list fetch=tasks.fetch() filter="">""</ListToolbar>
            <ListTable list=list fetch=tasks.fetch() rows=rows>
                <th scope="col">"Resource Type"</th>
                <th scope="col">"Source Resource"</th>
                <th scope="col">"Destination Resource"</th>
                <th scope="col">"Operation"</th>
                <th scope="col">"Status"</th>
                <th scope="col">"Start Time"</th>
                <th scope="col">"Logs"</th>
            </ListTable>
        </section>
    }
}

/// The rule dialog's fields, one signal each.
#[derive(Debug, Clone, Copy)]
struct RuleFields {
    name: RwSignal<String>,
    description: RwSignal<String>,
    push: RwSignal<bool>,
    registry: RwSignal<String>,
    name_filter: RwSignal<String>,
    tag_filter: RwSignal<String>,
    tag_decoration: RwSignal<String>,
    labels: RwSignal<String>,
    resource: RwSignal<String>,
    dest_namespace: RwSignal<String>,
    replace_count: RwSignal<i8>,
    trigger: RwSignal<String>,
    cron: RwSignal<String>,
    r#override: RwSignal<bool>,
    replicate_deletion: RwSignal<bool>,
    speed: RwSignal<String>,
    copy_by_chunk: RwSignal<bool>,
    enabled: RwSignal<bool>,
}

impl RuleFields {
    fn new() -> Self {
        let text = || RwSignal::new(String::new());
        let flag = || RwSignal::new(false);
        RuleFields {
            name: text(),
            description: text(),
            push: RwSignal::new(true),
            registry: text(),
            name_filter: text(),
            tag_filter: text(),
            tag_decoration: text(),
            labels: text(),
            resource: text(),
            dest_namespace: text(),
            replace_count: RwSignal::new(-1),
            trigger: text(),
            cron: text(),
            r#override: flag(),
            replicate_deletion: flag(),
            speed: text(),
            copy_by_chunk: flag(),
            enabled: flag(),
        }
    }

    fn load(&self, form: RuleForm) {
        self.name.set(form.name);
        self.description.set(form.description);
        self.push.set(form.push);
        self.registry.set(form.registry);
        self.name_filter.set(form.name_filter);
        self.tag_filter.set(form.tag_filter);
        self.tag_decoration.set(form.tag_decoration);
        self.labels.set(form.labels);
        self.resource.set(form.resource);
        self.dest_namespace.set(form.dest_namespace);
        self.replace_count.set(form.replace_count);
        self.trigger.set(form.trigger);
        self.cron.set(form.cron);
        self.r#override.set(form.r#override);
        self.replicate_deletion.set(form.replicate_deletion);
        self.speed.set(form.speed);
        self.copy_by_chunk.set(form.copy_by_chunk);
        self.enabled.set(form.enabled);
    }

    fn form(&self) -> RuleForm {
        RuleForm {
            name: self.name.get_untracked(),
            description: self.description.get_untracked(),
            push: self.push.get_untracked(),
            registry: self.registry.get_untracked(),
            name_filter: self.name_filter.get_untracked(),
            tag_filter: self.tag_filter.get_untracked(),
            tag_decoration: self.tag_decoration.get_untracked(),
            labels: self.labels.get_untracked(),
            resource: self.resource.get_untracked(),
            dest_namespace: self.dest_namespace.get_untracked(),
            replace_count: self.replace_count.get_untracked(),
            trigger: self.trigger.get_untracked(),
            cron: self.cron.get_untracked(),
            r#override: self.r#override.get_untracked(),
            replicate_deletion: self.replicate_deletion.get_untracked(),
            speed: self.speed.get_untracked(),
            copy_by_chunk: self.copy_by_chunk.get_untracked(),
            enabled: self.enabled.get_untracked(),
        }
    }
}

/// "New Replication Rule", or "Edit Replication Rule" when `editing` holds the rule's id.
#[component]
fn RuleDialog(
    open: RwSignal<bool>,
    fields: RuleFields,
    editing: RwSignal<Option<i64>>,
    on_saved: Callback<String>,
) -> impl IntoView {
    let RuleFields {
        name,
        description,
        push,
        registry,
        name_filter,
        tag_filter,
        tag_decoration,
        labels,
        resource,
        dest_namespace,
        replace_count,
        trigger,
        cron,
        r#override,
        replicate_deletion,
        speed,
        copy_by_chunk,
        enabled,
    } = fields;
    let status = FormStatus::new();
    let registries = Fetch::<Vec<Registry>>::new(move || {
        open.get()
            .then(|| "/registries?page=1&page_size=100".to_owned())
    });
    Effect::new(move |_| {
        if open.get() {
            status.error.set(None);
        }
    });
    let title = Signal::derive(move || {
        if editing.get().is_some() {
            "Edit Replication Rule"
        } else {
            "New Replication Rule"
        }
        .to_owned()
    });
    let set_mode = move |ev: leptos::ev::Event| {
        let is_push = event_target_value(&ev) == "push";
        push.set(is_push);
        if !is_push && trigger.get_untracked() == TRIGGER_EVENT {
            trigger.set(TRIGGER_MANUAL.to_owned());
        }
    };
    let registry_options = move || {
        let current = registry.get();
        let mut options =
            vec![view! {
            <option value="" selected=current.is_empty()>"Choose a registry endpoint"</option>
        }
        .into_any()];
        for r in registries.ok().unwrap_or_default() {
            let id = r.id.to_string();
            let selected = id == current;
            options.push(
                view! { <option value=id selected=selected>{format!("{}-{}", r.name, r.url)}</option> }
                    .into_any(),
            );
        }
        options.collect_view()
    };
    let flattening_options = FLATTENING
        .iter()
        .map(|(n, label)| {
            let n = *n;
            view! { <option value=n.to_string() selected=move || replace_count.get() == n>{*label}</option> }
        })
        .collect_view();
    let trigger_options = move || {
        TRIGGERS
            .iter()
            .filter(|(k, _)| push.get() || *k != TRIGGER_EVENT)
            .map(|(k, label)| {
                let k = *k;
                view! { <option value=k selected=move || trigger.with(|t| t == k)>{*label}</option> }
            })
            .collect_view()
    };
    let submit = Callback::new(move |()| {
        let body = match fields.form().request() {
            Ok(body) => body,
            Err(message) => return status.fail(message),
        };
        let id = editing.get_untracked();
        let saved = body.name.clone();
        let body = ReplicationBody::Policy(Box::new(body));
        status.send(
            Box::pin(async move {
                match id {
                    Some(id) => api::put(&format!("/replication/policies/{id}"), &body).await,
                    None => api::post("/replication/policies", &body).await,
                }
            }),
            Box::new(move |()| {
                open.set(false);
                on_saved.run(if id.is_some() {
                    format!("Saved rule {saved}")
                } else {
                    format!("Created rule {saved}")
                });
            }),
        );
    });
    let is_push = move || push.get();
    let is_scheduled = move || trigger.with(|t| t == TRIGGER_SCHEDULED);
    let is_event = move || trigger.with(|t| t == TRIGGER_EVENT);
    view! {
        <FormDialog open=open title=title status=status on_submit=submit class="form-grid replication-form">
            <label for="rule_name">"Name"</label>
            <input id="rule_name" type="text" required autocomplete="off" bind:value=name/>
            <label for="rule_description">"Description"</label>
            <input id="rule_description" type="text" autocomplete="off" bind:value=description/>
            <label for="rule_mode">"Replication mode"</label>
            <select id="rule_mode" on:change=set_mode>
                <option value="push" selected=move || push.get()>"Push-based"</option>
                <option value="pull" selected=move || !push.get()>"Pull-based"</option>
            </select>
            <label for="rule_registry">
                {move || if push.get() { "Destination registry" } else { "Source registry" }}
            </label>
            <select id="rule_registry" on:change=move |ev| registry.set(event_target_value(&ev))>
                {registry_options}
            </select>
            <span class="form-label form-wide rule-section">"Source resource filter"</span>
            <label for="rule_name_filter">"Name filter"</label>
            <input id="rule_name_filter" type="text" autocomplete="off" placeholder="library/** (all when empty)"
                bind:value=name_filter/>
            <label for="rule_tag_filter">"Tag filter"</label>
            <div class="rule-pair">
                <select id="rule_tag_decoration" aria-label="Tag filter mode"
                    on:change=move |ev| tag_decoration.set(event_target_value(&ev))>
                    <option value="matches" selected=move || tag_decoration.with(|d| d != "excludes")>"matching"</option>
                    <option value="excludes" selected=move || tag_decoration.with(|d| d == "excludes")>"excluding"</option>
                </select>
                <input id="rule_tag_filter" type="text" autocomplete="off" placeholder="v* (all when empty)"
                    bind:value=tag_filter/>
            </div>
            <When when=is_push>
                <label for="rule_labels">"Label filter"</label>
                <input id="rule_labels" type="text" autocomplete="off" placeholder="label names, comma-separated"
                    bind:value=labels/>
            </When>
            <label for="rule_resource">"Resource filter"</label>
            <select id="rule_resource" on:change=move |ev| resource.set(event_target_value(&ev))>
                <option value="" selected=move || resource.with(String::is_empty)>"All"</option>
                <option value="image" selected=move || resource.with(|r| r == "image")>"image"</option>
                <option value="artifact" selected=move || resource.with(|r| r == "artifact")>"artifact"</option>
            </select>
            <label for="rule_namespace">"Destination namespace"</label>
            <input id="rule_namespace" type="text" autocomplete="off" placeholder="(keep the source's)"
                bind:value=dest_namespace/>
            <label for="rule_flattening">"Flattening"</label>
            <select id="rule_flattening"
                on:change=move |ev| replace_count.set(event_target_value(&ev).parse().unwrap_or(-1))>
                {flattening_options}
            </select>
            <label for="rule_trigger">"Trigger Mode"</label>
            <select id="rule_trigger" on:change=move |ev| trigger.set(event_target_value(&ev))>
                {trigger_options}
            </select>
            <When when=is_scheduled>
                <label for="rule_cron">"Cron String"</label>
                <input id="rule_cron" type="text" autocomplete="off" placeholder="0 0 2 * * *" bind:value=cron/>
            </When>
            <When when=is_event>
                <span class="form-label"></span>
                <label class="checkbox">
                    <input id="rule_deletion" type="checkbox" bind:checked=replicate_deletion/>
                    "Delete remote resources when locally deleted"
                </label>
            </When>
            <label for="rule_speed">"Bandwidth"</label>
            <div class="rule-pair">
                <input id="rule_speed" type="number" min="-1" autocomplete="off" bind:value=speed/>
                <span class="muted">"KiB/s (-1: unlimited)"</span>
            </div>
            <span class="form-label">"Options"</span>
            <div class="rule-options">
                <label class="checkbox">
                    <input id="rule_override" type="checkbox" bind:checked=r#override/>"Override"
                </label>
                <label class="checkbox">
                    <input id="rule_chunk" type="checkbox" bind:checked=copy_by_chunk/>"Copy by chunk"
                </label>
                <label class="checkbox">
                    <input id="rule_enabled" type="checkbox" bind:checked=enabled/>"Enable rule"
                </label>
            </div>
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> RuleForm {
        RuleForm {
            name: " to-dr ".to_owned(),
            registry: "3".to_owned(),
            name_filter: "team/**".to_owned(),
            tag_filter: "v*".to_owned(),
            tag_decoration: "excludes".to_owned(),
            labels: "prod, qa".to_owned(),
            resource: "image".to_owned(),
            dest_namespace: "copy".to_owned(),
            replace_count: 1,
            trigger: TRIGGER_EVENT.to_owned(),
            replicate_deletion: true,
            speed: "512".to_owned(),
            ..RuleForm::default()
        }
    }

    #[test]
    fn push_rules_send_harbors_policy_shape() -> Result<(), String> {
        let body = serde_json::to_value(form().request()?).map_err(|e| e.to_string())?;
        assert_eq!(body["name"], "to-dr");
        assert_eq!(body["dest_registry"]["id"], 3);
        assert!(body.get("src_registry").is_none());
        assert_eq!(body["dest_namespace"], "copy");
        assert_eq!(body["dest_namespace_replace_count"], 1);
        assert_eq!(body["trigger"], serde_json::json!({"type": "event_based"}));
        assert_eq!(body["replicate_deletion"], true);
        assert_eq!(body["override"], true);
        assert_eq!(body["enabled"], true);
        assert_eq!(body["speed"], 512);
        assert_eq!(
            body["filters"],
            serde_json::json!([
                {"type": "name", "value": "team/**", "decoration": "matches"},
                {"type": "tag", "value": "v*", "decoration": "excludes"},
                {"type": "label", "value": ["prod", "qa"], "decoration": "matches"},
                {"type": "resource", "value": "image"},
            ])
        );
        Ok(())
    }

    #[test]
    fn pull_rules_name_their_source_and_take_no_labels() -> Result<(), String> {
        let pull = RuleForm {
            push: false,
            trigger: TRIGGER_SCHEDULED.to_owned(),
            cron: "0 0 2 * * *".to_owned(),
            ..form()
        };
        let body = serde_json::to_value(pull.request()?).map_err(|e| e.to_string())?;
        assert_eq!(body["src_registry"]["id"], 3);
        assert!(body.get("dest_registry").is_none());
        assert_eq!(
            body["trigger"],
            serde_json::json!({"type": "scheduled", "trigger_settings": {"cron": "0 0 2 * * *"}})
        );
        assert_eq!(body["replicate_deletion"], false);
        let filters = body["filters"].as_array().cloned().unwrap_or_default();
        assert!(filters.iter().all(|f| f["type"] != "label"));
        Ok(())
    }

    #[test]
    fn bad_forms_say_why() {
        let cases = [
            RuleForm {
                name: " ".to_owned(),
                ..form()
            },
            RuleForm {
                registry: String::new(),
                ..form()
            },
            RuleForm {
                speed: "-5".to_owned(),
                ..form()
            },
            RuleForm {
                push: false,
                ..form()
            },
            RuleForm {
                trigger: TRIGGER_SCHEDULED.to_owned(),
                cron: String::new(),
                ..form()
            },
        ];
        for case in cases {
            assert!(case.request().is_err(), "{case:?}");
        }
    }

    #[test]
    fn editing_starts_from_the_rule() -> Result<(), String> {
        let sent = form().request()?;
        let policy = ReplicationPolicy {
            id: 4,
            src_registry: Some(Registry {
                id: 0,
                name: "Local".to_owned(),
                ..Registry::default()
            }),
            ..sent
        };
        let back = RuleForm::of(&policy);
        assert_eq!(
            back,
            RuleForm {
                name: "to-dr".to_owned(),
                labels: "prod, qa".to_owned(),
                ..form()
            }
        );
        let unlimited = RuleForm::of(&ReplicationPolicy {
            speed: Some(0),
            ..policy
        });
        assert_eq!(unlimited.speed, "-1");
        Ok(())
    }

    #[test]
    fn rates_and_durations_read_as_harbors() {
        let execution = ReplicationExecution {
            total: 4,
            succeed: 3,
            ..ReplicationExecution::default()
        };
        assert_eq!(success_rate(&execution), "75% (3/4)");
        assert_eq!(success_rate(&ReplicationExecution::default()), "0% (0/0)");
        assert_eq!(duration_text(Some(5)), "5s");
        assert_eq!(duration_text(Some(65)), "1m 05s");
        assert_eq!(duration_text(Some(3725)), "1h 02m 05s");
        assert_eq!(duration_text(None), "—");
        assert_eq!(trigger_label(TRIGGER_EVENT), "Event Based");
        assert_eq!(
            policies_path(1, 15, "dr"),
            "/replication/policies?page=1&page_size=15&q=name%3D~dr"
        );
    }
}
