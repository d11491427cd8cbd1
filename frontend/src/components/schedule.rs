//! The schedule of a system job run through Harbor's `…/schedule` endpoints (garbage collection, the audit log
//! purge, scan-all): its type (None, Hourly, Daily, Weekly or a custom six-field cron, Harbor's
//! `cron-selection`), the cron of a custom one, and when it runs next. One editor for every such page.
//!
//! Rule: what is sent and read is decided by the pure functions [`schedule_object`] and [`schedule_of`],
//! unit-tested without a browser; the server checks the cron and its refusal is shown as it says it.

use leptos::prelude::*;
use serde_json::{Value, json};

/// The schedule types, in Harbor's order.
pub const SCHEDULE_TYPES: [&str; 5] = ["None", "Hourly", "Daily", "Weekly", "Custom"];

/// Harbor's `ScheduleObj` for a schedule of `kind` (one of [`SCHEDULE_TYPES`]); a custom one carries `cron`,
/// which must have six fields.
pub fn schedule_object(kind: &str, cron: &str) -> Result<Value, String> {
    if kind != "Custom" {
        return Ok(json!({ "type": kind }));
    }
    let cron = cron.trim();
    if cron.split_whitespace().count() != 6 {
        return Err(
            "A custom schedule is a cron expression of six fields: second minute hour day-of-month month \
             day-of-week (e.g. 0 0 3 * * *)."
                .to_owned(),
        );
    }
    Ok(json!({ "type": "Custom", "cron": cron }))
}

/// The type and cron of the schedule a `GET …/schedule` answers (Harbor's `Schedule`/`ExecHistory`, whose
/// `schedule` is the `ScheduleObj`): `("None", "")` when there is none; a type the editor does not know is
/// shown as Custom with its cron.
pub fn schedule_of(answer: &Value) -> (String, String) {
    let object = answer.get("schedule").unwrap_or(&Value::Null);
    let kind = match object.get("type").and_then(Value::as_str) {
        None => "None",
        Some(kind) if SCHEDULE_TYPES.contains(&kind) => kind,
        Some(_) => "Custom",
    };
    let cron = object
        .get("cron")
        .and_then(Value::as_str)
        .unwrap_or_default();
    (kind.to_owned(), cron.to_owned())
}

/// "Next run: …" of a `GET …/schedule` answer, when it names one.
pub fn next_run(answer: &Value) -> Option<String> {
    answer
        .pointer("/schedule/next_scheduled_time")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(|t| format!("Next run: {}", crate::format::time(t)))
}

/// The schedule's fields, for a `form-grid`: its type, the cron (editable for Custom only) and `next` (the
/// next run, when known).
#[component]
pub fn ScheduleFields(
    kind: RwSignal<String>,
    cron: RwSignal<String>,
    #[prop(into)] next: Signal<Option<String>>,
) -> impl IntoView {
    let types = SCHEDULE_TYPES
        .iter()
        .map(|&kind| view! { <option value=kind>{kind}</option> })
        .collect_view();
    view! {
        <label for="job-schedule">"Schedule"</label>
        <select id="job-schedule" bind:value=kind>{types}</select>
        <label for="job-cron">"Cron"</label>
        <input id="job-cron" type="text" placeholder="0 0 3 * * *"
            disabled=move || kind.with(|t| t != "Custom") bind:value=cron/>
        <p class="hint">{move || next.get()}</p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_carry_their_type_and_a_custom_cron() {
        assert_eq!(schedule_object("Daily", "x"), Ok(json!({"type": "Daily"})));
        assert_eq!(schedule_object("None", ""), Ok(json!({"type": "None"})));
        assert_eq!(
            schedule_object("Custom", " 0 0 3 * * * "),
            Ok(json!({"type": "Custom", "cron": "0 0 3 * * *"}))
        );
        assert!(schedule_object("Custom", "0 3 * * *").is_err());
        assert!(schedule_object("Custom", "").is_err());
    }

    #[test]
    fn the_servers_schedule_is_read_back() {
        let answer = json!({"schedule": {"type": "Weekly", "cron": "0 0 0 * * 0", "next_scheduled_time": ""}});
        assert_eq!(
            schedule_of(&answer),
            ("Weekly".to_owned(), "0 0 0 * * 0".to_owned())
        );
        assert_eq!(next_run(&answer), None);
        assert_eq!(schedule_of(&json!({})), ("None".to_owned(), String::new()));
        assert_eq!(
            schedule_of(&json!({"schedule": {"type": "Schedule", "cron": "0 1 2 * * *"}})),
            ("Custom".to_owned(), "0 1 2 * * *".to_owned())
        );
    }
}
