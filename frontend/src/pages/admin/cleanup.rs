//! Administration → Clean Up (`/harbor/clean-up`, Harbor's page): the tabs Garbage Collection
//! (`/harbor/clean-up/gc`, `/system/gc*`) and Log Rotation (`/harbor/clean-up/log-rotation`,
//! `/system/purgeaudit*`). Each tab has its schedule (None, Hourly, Daily, Weekly or a custom six-field cron,
//! with the job's parameters), a run now and a dry run, and the history of runs with each run's log and Stop
//! for one that is pending or running.
//!
//! Rules: both tabs are one non-generic [`JobTab`] over a [`SystemJob`] (what differs is data); the history
//! is read as JSON values ([`JsonTable`]). Every refusal of the server (a 409 while a collection runs, a bad
//! cron) is shown as its message. While a run is pending or running the history refreshes itself.

use leptos::prelude::*;
use serde_json::{Map, Value, json};

use crate::components::audit_log::OPERATIONS;
use crate::components::fetch::{Fetch, RawFetch};
use crate::components::job_log::{LogDialog, LogView, send_action};
use crate::components::json_table::{Cell, Col, JsonTable, col};
use crate::components::schedule::{ScheduleFields, next_run, schedule_object, schedule_of};
use crate::components::table::{ListControls, Pagination, page_path};
use crate::components::tabs::tabbed_page;
use crate::components::toast::error_banner;

/// A system job Harbor runs through a `…/schedule` endpoint.
#[derive(Debug, PartialEq, Eq)]
pub struct SystemJob {
    /// Its runs under the API, e.g. `/system/gc`.
    pub base: &'static str,
    /// The run-now button (`GC Now`).
    pub run_label: &'static str,
    /// Garbage collection (`delete_untagged`, `workers`), else the audit-log purge (`audit_retention_hour`,
    /// `include_operations`).
    pub gc: bool,
}

pub const GC: SystemJob = SystemJob {
    base: "/system/gc",
    run_label: "GC Now",
    gc: true,
};

pub const PURGE: SystemJob = SystemJob {
    base: "/system/purgeaudit",
    run_label: "Purge Now",
    gc: false,
};

/// The history's columns (the dry-run flag and the parameters come from `job_parameters`, a JSON text).
const HISTORY: [Col; 7] = [
    col("ID", "id", Cell::Text),
    col("Trigger", "job_kind", Cell::Text),
    col("Dry Run", "job_parameters.dry_run", Cell::YesNo),
    col("Status", "job_status", Cell::Text),
    col("Parameters", "job_parameters", Cell::Text),
    col("Created", "creation_time", Cell::Time),
    col("Updated", "update_time", Cell::Time),
];

/// What the form holds, as text (checked when sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobForm {
    pub schedule_type: String,
    pub cron: String,
    pub delete_untagged: bool,
    pub workers: String,
    pub retention_hours: String,
    pub operations: Vec<String>,
}

impl Default for JobForm {
    fn default() -> Self {
        JobForm {
            schedule_type: "None".to_owned(),
            cron: String::new(),
            delete_untagged: false,
            workers: "1".to_owned(),
            retention_hours: "168".to_owned(),
            operations: vec!["create".to_owned(), "delete".to_owned(), "pull".to_owned()],
        }
    }
}

/// The job's parameters from the form (`dry_run` as asked), or why they cannot be sent.
pub fn parameters(job: &SystemJob, form: &JobForm, dry_run: bool) -> Result<Value, String> {
    if job.gc {
        let workers: i64 = form
            .workers
            .trim()
            .parse()
            .ok()
            .filter(|w| (1..=5).contains(w))
            .ok_or("Workers is a whole number from 1 to 5.")?;
        return Ok(json!({
            "delete_untagged": form.delete_untagged,
            "workers": workers,
            "dry_run": dry_run,
        }));
    }
    let hours: i64 = form
        .retention_hours
        .trim()
        .parse()
        .ok()
        .filter(|h| *h >= 1)
        .ok_or("Keep the logs of at least 1 hour (a whole number of hours).")?;
    if form.operations.is_empty() {
        return Err("Choose at least one operation whose logs are purged.".to_owned());
    }
    Ok(json!({
        "audit_retention_hour": hours,
        "include_operations": form.operations.join(","),
        "dry_run": dry_run,
    }))
}

/// The body of `PUT …/schedule` (the schedule) or, with `run`, of `POST …/schedule` (run now; `dry_run` as
/// asked).
pub fn schedule_body(job: &SystemJob, form: &JobForm, run: Option<bool>) -> Result<Value, String> {
    let schedule = match run {
        Some(_) => json!({"type": "Manual"}),
        None => schedule_object(&form.schedule_type, &form.cron)?,
    };
    let parameters = parameters(job, form, run.unwrap_or(false))?;
    Ok(json!({"schedule": schedule, "parameters": parameters}))
}

/// The form as the server's schedule (`GET …/schedule`, Harbor's `ExecHistory` with the parameters as JSON
/// text) sets it.
pub fn form_of(schedule: &Value) -> JobForm {
    let mut form = JobForm::default();
    (form.schedule_type, form.cron) = schedule_of(schedule);
    let parameters: Map<String, Value> = schedule
        .get("job_parameters")
        .and_then(Value::as_str)
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    if let Some(flag) = parameters.get("delete_untagged").and_then(Value::as_bool) {
        form.delete_untagged = flag;
    }
    if let Some(workers) = parameters.get("workers").and_then(Value::as_i64) {
        form.workers = workers.to_string();
    }
    if let Some(hours) = parameters
        .get("audit_retention_hour")
        .and_then(Value::as_i64)
    {
        form.retention_hours = hours.to_string();
    }
    if let Some(operations) = parameters.get("include_operations").and_then(Value::as_str) {
        form.operations = operations
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect();
    }
    form
}

/// Whether a history answer has a run that is still pending or running.
pub fn has_active_run(history: &Value) -> bool {
    history.as_array().is_some_and(|runs| {
        runs.iter().any(|run| {
            matches!(
                run.get("job_status").and_then(Value::as_str),
                Some("Pending" | "Running")
            )
        })
    })
}

#[component]
pub fn CleanUpPage() -> impl IntoView {
    tabbed_page(
        "Clean Up",
        &[
            ("/harbor/clean-up/gc", "Garbage Collection"),
            ("/harbor/clean-up/log-rotation", "Log Rotation"),
        ],
    )
}

#[component]
pub fn GcTab() -> impl IntoView {
    view! { <JobTab job=&GC/> }
}

#[component]
pub fn LogRotationTab() -> impl IntoView {
    view! { <JobTab job=&PURGE/> }
}

/// The form's fields, one signal each (bound to their inputs).
#[derive(Debug, Clone, Copy)]
struct Fields {
    schedule_type: RwSignal<String>,
    cron: RwSignal<String>,
    delete_untagged: RwSignal<bool>,
    workers: RwSignal<String>,
    retention_hours: RwSignal<String>,
    operations: RwSignal<Vec<String>>,
}

impl Fields {
    fn new() -> Self {
        let form = JobForm::default();
        Fields {
            schedule_type: RwSignal::new(form.schedule_type),
            cron: RwSignal::new(form.cron),
            delete_untagged: RwSignal::new(form.delete_untagged),
            workers: RwSignal::new(form.workers),
            retention_hours: RwSignal::new(form.retention_hours),
            operations: RwSignal::new(form.operations),
        }
    }

    fn set(&self, form: JobForm) {
        self.schedule_type.set(form.schedule_type);
        self.cron.set(form.cron);
        self.delete_untagged.set(form.delete_untagged);
        self.workers.set(form.workers);
        self.retention_hours.set(form.retention_hours);
        self.operations.set(form.operations);
    }

    fn get(&self) -> JobForm {
        JobForm {
            schedule_type: self.schedule_type.get_untracked(),
            cron: self.cron.get_untracked(),
            delete_untagged: self.delete_untagged.get_untracked(),
            workers: self.workers.get_untracked(),
            retention_hours: self.retention_hours.get_untracked(),
            operations: self.operations.get_untracked(),
        }
    }
}

/// One system job's schedule, run buttons and history.
#[component]
fn JobTab(job: &'static SystemJob) -> impl IntoView {
    let fields = Fields::new();
    let error = RwSignal::new(None::<String>);
    let schedule = Fetch::<Value>::new(move || Some(format!("{}/schedule", job.base)));
    // The form starts from the server's schedule once; later answers (after a run or a save) only refresh the
    // next run, never what the user is typing.
    let loaded = StoredValue::new(false);
    Effect::new(move |_| {
        if let Some(current) = schedule.ok()
            && !loaded.get_value()
        {
            loaded.set_value(true);
            fields.set(form_of(&current));
        }
    });
    let list = ListControls::new();
    let history = RawFetch::new(
        Memo::new(move |_| {
            let (page, size, _, _) = list.get();
            Some(page_path(job.base, page, size, &[]))
        }),
        RwSignal::new(0),
    );
    // While a run is pending or running, look again every two seconds.
    Effect::new(move |_| {
        let active = history
            .with(|a| a.as_ref().ok().and_then(|a| a.json::<Value>().ok()))
            .flatten()
            .is_some_and(|h| has_active_run(&h));
        if active {
            set_timeout(move || history.refetch(), std::time::Duration::from_secs(2));
        }
    });
    let log = LogView::new();
    let after = Callback::new(move |()| {
        error.set(None);
        history.refetch();
        schedule.refetch();
    });
    let send = move |run: Option<bool>| match schedule_body(job, &fields.get(), run) {
        Err(message) => error.set(Some(message)),
        Ok(body) => {
            let done = match run {
                None => "Schedule saved",
                Some(true) => "Dry run started",
                Some(false) if job.gc => "Garbage collection started",
                Some(false) => "Log purge started",
            };
            send_action(
                run.is_some(),
                format!("{}/schedule", job.base),
                body,
                done.to_owned(),
                after,
            );
        }
    };
    let actions = Callback::new(move |run: Value| {
        let id = run.get("id").and_then(Value::as_i64).unwrap_or_default();
        let active = matches!(
            run.get("job_status").and_then(Value::as_str),
            Some("Pending" | "Running")
        );
        let stop = active.then(|| {
            view! {
                <button type="button" class="secondary" on:click=move |_| send_action(false,
                    format!("{}/{id}", job.base), json!({}), format!("Stopping run {id}"), after)>"Stop"</button>
            }
        });
        view! {
            <button type="button" class="secondary" on:click=move |_| log.show(format!("{}/{id}/log", job.base))>
                "Log"
            </button>
            {stop}
        }
        .into_any()
    });
    let next = Signal::derive(move || schedule.ok().and_then(|s| next_run(&s)));
    let parameters = if job.gc {
        view! {
            <label class="checkbox form-wide">
                <input type="checkbox" data-testid="delete-untagged" bind:checked=fields.delete_untagged/>
                " Allow garbage collection on untagged artifacts"
            </label>
            <label for="job-workers">"Workers"</label>
            <input id="job-workers" type="number" min="1" max="5" bind:value=fields.workers/>
        }
        .into_any()
    } else {
        // Every operation the audit log records; the server's purge takes each of them.
        let operations = OPERATIONS
            .iter()
            .map(|&(op, label)| {
                view! {
                    <label class="checkbox">
                        <input type="checkbox" value=op
                            prop:checked=move || fields.operations.with(|ops| ops.iter().any(|o| o == op))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                fields.operations.update(|ops| {
                                    ops.retain(|o| o != op);
                                    if on {
                                        ops.push(op.to_owned());
                                    }
                                });
                            }/>
                        " " {label}
                    </label>
                }
            })
            .collect_view();
        view! {
            <label for="job-hours">"Keep logs of the last (hours)"</label>
            <input id="job-hours" type="number" min="1" bind:value=fields.retention_hours/>
            <span class="form-label">"Purge the logs of"</span>
            <div class="checkbox-row" role="group" aria-label="Operations to purge">{operations}</div>
        }
        .into_any()
    };
    view! {
        <div class="card job-schedule">
            <div class="form-grid">
                <ScheduleFields kind=fields.schedule_type cron=fields.cron next=next/>
                {parameters}
            </div>
            {move || error.get().map(error_banner)}
            <div class="form-actions">
                <button type="button" on:click=move |_| send(None)>"Save"</button>
                <button type="button" class="secondary" on:click=move |_| send(Some(true))>"Dry Run"</button>
                <button type="button" class="secondary" data-testid="run-now" on:click=move |_| send(Some(false))>
                    {job.run_label}
                </button>
            </div>
        </div>
        <div class="toolbar">
            <h2 class="toolbar-start">"History"</h2>
            <div class="toolbar-end">
                <button type="button" class="secondary icon" aria-label="Refresh" on:click=move |_| history.refetch()>
                    "⟳"
                </button>
            </div>
        </div>
        <JsonTable fetch=history columns=&HISTORY empty="No runs yet" actions=actions label="History"/>
        <Pagination list=list total=Signal::derive(move || history.total())/>
        <LogDialog log=log/>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gc_runs_send_harbors_parameters() {
        let form = JobForm {
            delete_untagged: true,
            workers: " 3 ".to_owned(),
            ..JobForm::default()
        };
        assert_eq!(
            schedule_body(&GC, &form, Some(true)),
            Ok(json!({"schedule": {"type": "Manual"},
                "parameters": {"delete_untagged": true, "workers": 3, "dry_run": true}}))
        );
        let bad = JobForm {
            workers: "6".to_owned(),
            ..JobForm::default()
        };
        assert!(schedule_body(&GC, &bad, Some(false)).is_err());
    }

    #[test]
    fn schedules_carry_their_type_and_a_custom_cron() {
        let daily = JobForm {
            schedule_type: "Daily".to_owned(),
            ..JobForm::default()
        };
        assert_eq!(
            schedule_body(&PURGE, &daily, None),
            Ok(
                json!({"schedule": {"type": "Daily"}, "parameters": {"audit_retention_hour": 168,
                "include_operations": "create,delete,pull", "dry_run": false}})
            )
        );
        let custom = JobForm {
            schedule_type: "Custom".to_owned(),
            cron: " 0 0 3 * * * ".to_owned(),
            ..JobForm::default()
        };
        assert_eq!(
            schedule_body(&GC, &custom, None).map(|b| b["schedule"].clone()),
            Ok(json!({"type": "Custom", "cron": "0 0 3 * * *"}))
        );
        let five_fields = JobForm {
            cron: "0 3 * * *".to_owned(),
            ..custom
        };
        assert!(schedule_body(&GC, &five_fields, None).is_err());
    }

    #[test]
    fn purges_need_hours_and_operations() {
        let none = JobForm {
            operations: Vec::new(),
            ..JobForm::default()
        };
        assert!(parameters(&PURGE, &none, false).is_err());
        let zero = JobForm {
            retention_hours: "0".to_owned(),
            ..JobForm::default()
        };
        assert!(parameters(&PURGE, &zero, false).is_err());
    }

    #[test]
    fn the_form_reads_the_servers_schedule() {
        let schedule = json!({"schedule": {"type": "Weekly", "cron": "0 0 0 * * 0"},
            "job_parameters": "{\"audit_retention_hour\":24,\"include_operations\":\"pull,login\"}"});
        let form = form_of(&schedule);
        assert_eq!(form.schedule_type, "Weekly");
        assert_eq!(form.cron, "0 0 0 * * 0");
        assert_eq!(form.retention_hours, "24");
        assert_eq!(form.operations, ["pull", "login"]);
        let gc = form_of(&json!({"schedule": {"type": "None"}, "job_parameters": "{}"}));
        assert_eq!(gc, JobForm::default());
    }

    #[test]
    fn only_pending_and_running_runs_are_active() {
        assert!(has_active_run(
            &json!([{"job_status": "Success"}, {"job_status": "Running"}])
        ));
        assert!(!has_active_run(
            &json!([{"job_status": "Success"}, {"job_status": "Error"}])
        ));
        assert!(!has_active_run(&json!({})));
    }
}
