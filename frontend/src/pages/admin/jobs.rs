//! Administration → Job Service Dashboard (`/harbor/job-service-dashboard`, Harbor's page and tabs): the job
//! queues (`GET /jobservice/queues`: pending count, latency, paused; Pause, Resume and Stop through `PUT
//! /jobservice/queues/{job_type}` with Harbor's `{"action": …}`), the schedules (`GET /schedules`, and whether
//! the queues are paused, `GET /schedules/all/paused`, with Pause All / Resume All), the worker pools and their
//! workers with the jobs they run, and any job's log (`GET /jobservice/jobs/{id}/log`).
//!
//! Rules: every list is a [`JsonTable`] over the answer's JSON (no answer types of their own); a refusal of the
//! server is shown as its message; Stop asks first, as it ends the queue's pending and running jobs.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use serde_json::{Value, json};

use crate::components::dialog::ConfirmDialog;
use crate::components::fetch::{Fetch, RawFetch};
use crate::components::job_log::{LogDialog, LogView, send_action};
use crate::components::json_table::{Cell, Col, JsonTable, col};

const QUEUES: [Col; 4] = [
    col("Job Type", "job_type", Cell::Text),
    col("Pending Count", "count", Cell::Text),
    col("Latency", "latency", Cell::Seconds),
    col("Paused", "paused", Cell::YesNo),
];

const SCHEDULES: [Col; 5] = [
    col("ID", "id", Cell::Text),
    col("Vendor Type", "vendor_type", Cell::Text),
    col("Vendor ID", "vendor_id", Cell::Text),
    col("Cron", "cron", Cell::Text),
    col("Updated", "update_time", Cell::Time),
];

const POOLS: [Col; 6] = [
    col("Worker Pool ID", "worker_pool_id", Cell::Text),
    col("PID", "pid", Cell::Text),
    col("Host", "host", Cell::Text),
    col("Started", "start_at", Cell::Time),
    col("Heartbeat", "heartbeat_at", Cell::Time),
    col("Concurrency", "concurrency", Cell::Text),
];

const WORKERS: [Col; 6] = [
    col("Worker ID", "id", Cell::Text),
    col("Worker Pool ID", "pool_id", Cell::Text),
    col("Job Name", "job_name", Cell::Text),
    col("Job ID", "job_id", Cell::Text),
    col("Started", "start_at", Cell::Time),
    col("Checked In", "checkin_at", Cell::Time),
];

/// The API path of job `id`'s log, or why there is none: Berth's job ids are whole numbers.
pub fn job_log_path(id: &str) -> Result<String, String> {
    let id = id.trim();
    match id.parse::<u64>() {
        Ok(n) if n > 0 => Ok(format!("/jobservice/jobs/{n}/log")),
        _ => Err("A job ID is a whole number, e.g. 12.".to_owned()),
    }
}

/// The label of the button that flips every queue (`Pause All` while they run).
pub fn all_queues_action(paused: bool) -> (&'static str, &'static str) {
    if paused {
        ("resume", "Resume All")
    } else {
        ("pause", "Pause All")
    }
}

#[component]
pub fn JobServicePage() -> impl IntoView {
    let log = LogView::new();
    let job_id = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let open_log = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match job_log_path(&job_id.get_untracked()) {
            Ok(path) => {
                error.set(None);
                log.show(path);
            }
            Err(message) => error.set(Some(message)),
        }
    };
    provide_context(log);
    view! {
        <section class="page">
            <h1>"Job Service Dashboard"</h1>
            <form class="toolbar job-log-form" on:submit=open_log>
                <div class="toolbar-start">
                    <label for="job-log-id">"Job ID"</label>
                    <input id="job-log-id" type="text" inputmode="numeric" bind:value=job_id/>
                    <button type="submit" class="secondary">"View Log"</button>
                </div>
            </form>
            {move || error.get().map(crate::components::toast::error_banner)}
            <nav class="tabs" aria-label="Job Service Dashboard">
                <A href="/harbor/job-service-dashboard/pending-jobs">"Job Queues"</A>
                <A href="/harbor/job-service-dashboard/schedules">"Schedules"</A>
                <A href="/harbor/job-service-dashboard/workers">"Workers"</A>
            </nav>
            <div class="tab-panel">
                <Outlet/>
            </div>
        </section>
        <LogDialog log=log/>
    }
}

/// A list's heading and refresh button.
fn list_head(title: &'static str, fetch: RawFetch) -> AnyView {
    view! {
        <div class="toolbar">
            <h2 class="toolbar-start">{title}</h2>
            <div class="toolbar-end">
                <button type="button" class="secondary icon" aria-label=format!("Refresh {title}")
                    on:click=move |_| fetch.refetch()>"⟳"</button>
            </div>
        </div>
    }
    .into_any()
}

/// A fixed path's fetch.
fn fetch_of(path: &'static str) -> RawFetch {
    RawFetch::new(Memo::new(move |_| Some(path.to_owned())), RwSignal::new(0))
}

#[component]
pub fn QueuesTab() -> impl IntoView {
    let queues = fetch_of("/jobservice/queues");
    let after = Callback::new(move |()| queues.refetch());
    let stopping = RwSignal::new(String::new());
    let confirm_open = RwSignal::new(false);
    let act = move |job_type: String, action: &'static str, done: String| {
        send_action(
            false,
            format!("/jobservice/queues/{job_type}"),
            json!({ "action": action }),
            done,
            after,
        );
    };
    let actions = Callback::new(move |queue: Value| {
        let job_type = queue
            .get("job_type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let paused = queue
            .get("paused")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let (action, label) = if paused {
            ("resume", "Resume")
        } else {
            ("pause", "Pause")
        };
        let flip_type = job_type.clone();
        let done = format!("{job_type}: {}", if paused { "resumed" } else { "paused" });
        view! {
            <button type="button" class="secondary" data-testid="queue-toggle"
                on:click=move |_| act(flip_type.clone(), action, done.clone())>{label}</button>
            <button type="button" class="secondary"
                on:click=move |_| { stopping.set(job_type.clone()); confirm_open.set(true) }>"Stop"</button>
        }
        .into_any()
    });
    let confirm = Callback::new(move |()| {
        confirm_open.set(false);
        let job_type = stopping.get_untracked();
        act(
            job_type.clone(),
            "stop",
            format!("{job_type}: jobs stopped"),
        );
    });
    let no_error = Signal::derive(|| None::<String>);
    view! {
        {list_head("Job Queues", queues)}
        <JsonTable fetch=queues columns=&QUEUES empty="No job queues" actions=actions label="Job Queues"/>
        <ConfirmDialog open=confirm_open title="Stop Jobs"
            message=Signal::derive(move || format!(
                "Stop every pending and running job of {}? Stopped jobs do not run again.", stopping.get()))
            confirm_label="Stop" busy=false error=no_error on_confirm=confirm/>
    }
}

#[component]
pub fn SchedulesTab() -> impl IntoView {
    let schedules = fetch_of("/schedules?page=1&page_size=100");
    let paused = Fetch::<Value>::at("/schedules/all/paused");
    let is_paused = move || {
        paused
            .ok()
            .and_then(|s| s.get("paused").and_then(Value::as_bool))
    };
    let after = Callback::new(move |()| {
        paused.refetch();
        schedules.refetch();
    });
    let flip = move |_| {
        let (action, _) = all_queues_action(is_paused().unwrap_or(false));
        let done = if action == "pause" {
            "Every queue paused"
        } else {
            "Every queue resumed"
        };
        send_action(
            false,
            "/jobservice/queues/all".to_owned(),
            json!({ "action": action }),
            done.to_owned(),
            after,
        );
    };
    view! {
        <div class="card job-schedules-status">
            <p data-testid="schedules-status">
                "Scheduled jobs: "
                {move || match is_paused() {
                    Some(true) => "Paused (every queue is paused)",
                    Some(false) => "Running",
                    None => "…",
                }}
            </p>
            <button type="button" class="secondary" on:click=flip disabled=move || is_paused().is_none()>
                {move || all_queues_action(is_paused().unwrap_or(false)).1}
            </button>
        </div>
        {list_head("Schedules", schedules)}
        <JsonTable fetch=schedules columns=&SCHEDULES empty="No schedules" label="Schedules"/>
    }
}

#[component]
pub fn WorkersTab() -> impl IntoView {
    let pools = fetch_of("/jobservice/pools");
    let workers = fetch_of("/jobservice/pools/all/workers");
    let log = use_context::<LogView>().unwrap_or_default();
    let actions = Callback::new(move |worker: Value| {
        let job = worker
            .get("job_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        job.map(|id| {
            view! {
                <button type="button" class="secondary"
                    on:click=move |_| log.show(format!("/jobservice/jobs/{id}/log"))>"Log"</button>
            }
        })
        .into_any()
    });
    view! {
        {list_head("Worker Pools", pools)}
        <JsonTable fetch=pools columns=&POOLS empty="No worker pools" label="Worker Pools"/>
        {list_head("Workers", workers)}
        <JsonTable fetch=workers columns=&WORKERS empty="No workers" actions=actions label="Workers"/>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_logs_are_found_by_whole_number_ids() {
        assert_eq!(
            job_log_path(" 12 "),
            Ok("/jobservice/jobs/12/log".to_owned())
        );
        assert!(job_log_path("0").is_err());
        assert!(job_log_path("../users").is_err());
        assert!(job_log_path("").is_err());
    }

    #[test]
    fn the_all_queues_button_flips_the_state() {
        assert_eq!(all_queues_action(true), ("resume", "Resume All"));
        assert_eq!(all_queues_action(false), ("pause", "Pause All"));
    }
}
