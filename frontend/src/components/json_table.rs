//! A read-only table over a JSON list, for the administration pages that show a few fields of each item (the
//! job service's queues, pools, workers and schedules; the Clean Up histories).
//!
//! Rule: those pages read their answers as `serde_json::Value` through this one non-generic table: columns
//! are data ([`Col`]), cells are formatted by [`cell_text`], and a row's buttons come from one callback. No
//! answer type, deserializer or row component per list, which keeps the `.wasm` small (docs/benchmarks.md,
//! "Console").

use leptos::prelude::*;
use serde_json::Value;

use crate::components::fetch::RawFetch;
use crate::components::table::{ListStatus, scroll_box, status_row};
use crate::format;

/// How a column shows its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// The text or number as it is.
    Text,
    /// An RFC 3339 time, in the console's format.
    Time,
    /// A boolean as `Yes`/`No`.
    YesNo,
    /// Seconds as a duration (`1 h 2 min`).
    Seconds,
}

/// One column: its header, the item's field (a key of the JSON object) and how it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Col {
    pub header: &'static str,
    pub key: &'static str,
    pub cell: Cell,
}

/// A column of `cell` showing `key` under `header`.
pub const fn col(header: &'static str, key: &'static str, cell: Cell) -> Col {
    Col { header, key, cell }
}

/// The text of `item`'s field `key` shown as `cell` (empty when the field is missing or null). A key
/// `outer.inner` reads `inner` of the JSON text in `outer` (Harbor's `job_parameters`).
pub fn cell_text(item: &Value, key: &str, cell: Cell) -> String {
    let inner;
    let field = match key.split_once('.') {
        Some((outer, key)) => {
            inner = item
                .get(outer)
                .and_then(Value::as_str)
                .and_then(|text| serde_json::from_str::<Value>(text).ok())
                .and_then(|v| v.get(key).cloned())
                .unwrap_or(Value::Null);
            &inner
        }
        None => item.get(key).unwrap_or(&Value::Null),
    };
    match (cell, field) {
        (_, Value::Null) => String::new(),
        (Cell::Time, Value::String(t)) => format::time(t),
        (Cell::YesNo, Value::Bool(b)) => if *b { "Yes" } else { "No" }.to_owned(),
        (Cell::Seconds, Value::Number(n)) => n.as_i64().map_or_else(|| n.to_string(), duration),
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

/// `42 s`, `3 min 5 s`, `2 h 1 min`, `3 d 4 h`: a latency as Harbor's dashboard reads it.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        3600..86400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86400, s % 86400 / 3600),
    }
}

/// The items of a JSON list answer (an empty list for anything else).
pub fn items(answer: Value) -> Vec<Value> {
    match answer {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}

/// The table of the list `fetch` answers: `columns`, then (when `actions` is given) a last column with the
/// buttons `actions` makes for each item. Loading, failure and `empty` are the lists' shared status row.
#[component]
pub fn JsonTable(
    fetch: RawFetch,
    columns: &'static [Col],
    empty: &'static str,
    /// The buttons of a row, from its item.
    #[prop(optional)]
    actions: Option<Callback<Value, AnyView>>,
    /// The table's accessible name.
    label: &'static str,
) -> impl IntoView {
    let width: &'static str = match columns.len() + usize::from(actions.is_some()) {
        1 => "1",
        2 => "2",
        3 => "3",
        4 => "4",
        5 => "5",
        6 => "6",
        7 => "7",
        _ => "8",
    };
    let rows = move || {
        let answer = fetch.with(|answer| {
            answer
                .as_ref()
                .map_err(Clone::clone)
                .map(|a| a.json::<Value>())
        });
        match answer {
            None => status_row(width, ListStatus::Loading),
            Some(Err(e)) | Some(Ok(Err(e))) => status_row(width, ListStatus::Failed(e.message)),
            Some(Ok(Ok(list))) => {
                let list = items(list);
                if list.is_empty() {
                    return status_row(width, ListStatus::Empty(empty));
                }
                list.into_iter()
                    .map(|item| {
                        let cells = columns
                            .iter()
                            .map(|c| view! { <td data-key=c.key>{cell_text(&item, c.key, c.cell)}</td> })
                            .collect_view();
                        let buttons = actions.map(|a| view! { <td class="row-actions">{a.run(item)}</td> });
                        view! { <tr>{cells}{buttons}</tr> }.into_any()
                    })
                    .collect_view()
                    .into_any()
            }
        }
    };
    let headers = columns
        .iter()
        .map(|c| view! { <th scope="col">{c.header}</th> })
        .collect_view();
    let action_header = actions
        .map(|_| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> });
    let table = view! {
        <table class="list" aria-label=label aria-busy=move || fetch.loading().to_string()>
            <thead><tr>{headers}{action_header}</tr></thead>
            <tbody>{rows}</tbody>
        </table>
    };
    scroll_box(table.into_any())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_show_their_field_as_their_column_says() {
        let item = json!({"job_type": "GARBAGE_COLLECTION", "count": 2, "latency": 3725, "paused": true,
            "note": null});
        assert_eq!(
            cell_text(&item, "job_type", Cell::Text),
            "GARBAGE_COLLECTION"
        );
        assert_eq!(cell_text(&item, "count", Cell::Text), "2");
        assert_eq!(cell_text(&item, "latency", Cell::Seconds), "1 h 2 min");
        assert_eq!(cell_text(&item, "paused", Cell::YesNo), "Yes");
        assert_eq!(cell_text(&item, "note", Cell::Text), "");
        assert_eq!(cell_text(&item, "missing", Cell::Time), "");
        let run = json!({"job_parameters": "{\"dry_run\":true}"});
        assert_eq!(
            cell_text(&run, "job_parameters.dry_run", Cell::YesNo),
            "Yes"
        );
        assert_eq!(cell_text(&run, "job_parameters.workers", Cell::Text), "");
    }

    #[test]
    fn durations_read_in_the_largest_units() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(-5), "0 s");
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(185), "3 min 5 s");
        assert_eq!(duration(90_000), "1 d 1 h");
    }

    #[test]
    fn only_lists_have_items() {
        assert_eq!(items(json!([1, 2])).len(), 2);
        assert!(items(json!({"a": 1})).is_empty());
    }
}
