//! An audit-log table, shared by the project's Logs tab (`/projects/{name}/logs`) and Administration →
//! Audit Log (`/audit-logs`): server-side pagination, filters by operation and by username, resource or
//! resource type (Harbor's `q=operation=create,username=~adm`), sortable columns, newest first by default.
//!
//! The keys are those Berth's audit lists accept (`db::list::AUDIT_LOGS`): `username`, `resource`,
//! `resource_type`, `operation`, `op_time`.

use berth_api::audit::AuditLog as AuditEntry;
use leptos::prelude::*;

use crate::api::query_string;
use crate::components::table::{PAGE_SIZES, PagedList, Pagination, Sort, SortHeader};
use crate::format;

/// The operations Berth records, as the API spells them, with their labels.
pub const OPERATIONS: [(&str, &str); 6] = [
    ("create", "Create"),
    ("update", "Update"),
    ("delete", "Delete"),
    ("pull", "Pull"),
    ("login", "Login"),
    ("login_failed", "Login failed"),
];

/// The text filters: `(q key, label)`.
pub const TEXT_KEYS: [(&str, &str); 3] = [
    ("username", "Username"),
    ("resource", "Resource"),
    ("resource_type", "Resource Type"),
];

/// The order when the user has chosen none: newest first.
pub const NEWEST_FIRST: Sort = Sort {
    key: "op_time",
    descending: true,
};

/// Harbor's `q` for the filters: an exact operation (empty for all) and a substring of the text key `key`.
/// `q` separates terms with `,`, so a value cannot contain one: commas typed in the text are dropped.
pub fn audit_query(operation: &str, key: &str, text: &str) -> String {
    let mut terms = Vec::new();
    let operation = operation.trim();
    if !operation.is_empty() {
        terms.push(format!("operation={}", operation.replace(',', "")));
    }
    let text = text.replace(',', "");
    let text = text.trim();
    if !text.is_empty() && TEXT_KEYS.iter().any(|(k, _)| *k == key) {
        terms.push(format!("{key}=~{text}"));
    }
    terms.join(",")
}

/// The API path of one page of the log at `base` (`/audit-logs` or `/projects/{name}/logs`).
pub fn audit_path(base: &str, page: u32, page_size: u32, q: &str, sort: Option<Sort>) -> String {
    format!(
        "{base}{}",
        query_string(&[
            ("page", page.to_string()),
            ("page_size", page_size.to_string()),
            ("q", q.to_owned()),
            ("sort", Sort::param(Some(sort.unwrap_or(NEWEST_FIRST)))),
        ])
    )
}

/// The label of an operation (the wire name itself when unknown).
pub fn operation_label(operation: &str) -> String {
    OPERATIONS
        .iter()
        .find(|(op, _)| *op == operation)
        .map_or_else(|| operation.to_owned(), |(_, label)| (*label).to_owned())
}

/// The log at `path` (an API path such as `/audit-logs` or `/projects/{name}/logs`).
#[component]
pub fn AuditLog(#[prop(into)] path: String) -> impl IntoView {
    let page = RwSignal::new(1_u32);
    let page_size = RwSignal::new(PAGE_SIZES[0]);
    let operation = RwSignal::new(String::new());
    let key = RwSignal::new(TEXT_KEYS[0].0.to_owned());
    let text = RwSignal::new(String::new());
    // None: the server's order, newest first (see `audit_path`).
    let sort = RwSignal::new(None::<Sort>);

    let query = Memo::new(move |_| {
        let q = audit_query(&operation.get(), &key.get(), &text.get());
        audit_path(&path, page.get(), page_size.get(), &q, sort.get())
    });
    let logs = PagedList::<AuditEntry>::new(move || Some(query.get()), page, page_size);
    let loading = move || logs.loading();
    let total = logs.total();

    let rows = move || {
        match logs.current() {
        None => view! { <tr><td colspan="5" class="loading">"Loading…"</td></tr> }.into_any(),
        Some(Err(e)) => view! {
            <tr><td colspan="5"><div class="banner banner-error" role="alert">{e.message}</div></td></tr>
        }
        .into_any(),
        Some(Ok(list)) if list.items.is_empty() => {
            view! { <tr><td colspan="5" class="empty">"No audit log entries found"</td></tr> }.into_any()
        }
        Some(Ok(list)) => list
            .items
            .into_iter()
            .map(|entry| {
                let operation = entry.operation.clone();
                let resource = entry.resource.clone();
                view! {
                    <tr data-operation=operation data-resource=resource>
                        <td>{entry.username}</td>
                        <td class="audit-resource">{entry.resource}</td>
                        <td>{entry.resource_type}</td>
                        <td>{operation_label(&entry.operation)}</td>
                        <td>{format::time(&entry.op_time)}</td>
                    </tr>
                }
            })
            .collect_view()
            .into_any(),
    }
    };

    let filter_id = format!("audit-filter-{}", crate::components::dialog::next_id());
    let operation_id = format!("{filter_id}-op");
    let key_id = format!("{filter_id}-key");
    view! {
        <div class="audit-log">
            <div class="toolbar audit-toolbar">
                <div class="audit-filters">
                    <label for=operation_id.clone()>"Operation"</label>
                    <select id=operation_id on:change=move |ev| {
                        operation.set(event_target_value(&ev));
                        page.set(1);
                    }>
                        <option value="" selected=move || operation.get().is_empty()>"All"</option>
                        {OPERATIONS
                            .iter()
                            .map(|&(op, label)| {
                                view! { <option value=op selected=move || operation.get() == op>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="toolbar-end">
                    <select id=key_id aria-label="Filter by" on:change=move |ev| {
                        key.set(event_target_value(&ev));
                        page.set(1);
                    }>
                        {TEXT_KEYS
                            .iter()
                            .map(|&(k, label)| {
                                view! { <option value=k selected=move || key.get() == k>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                    <input type="search" class="search"
                        placeholder=move || format!("Filter by {}", label_of_key(&key.get()).to_ascii_lowercase())
                        aria-label=move || format!("Filter by {}", label_of_key(&key.get()).to_ascii_lowercase())
                        prop:value=move || text.get()
                        on:input=move |ev| {
                            text.set(event_target_value(&ev));
                            page.set(1);
                        }/>
                    <button type="button" class="secondary icon" aria-label="Refresh"
                        on:click=move |_| logs.refresh()>"⟳"</button>
                </div>
            </div>
            <div class="progress" class:progress-active=loading aria-hidden="true"></div>
            <table class="list" aria-busy=move || loading().to_string()>
                <thead>
                    <tr>
                        <SortHeader label="Username" key="username" sort=sort/>
                        <SortHeader label="Resource" key="resource" sort=sort/>
                        <SortHeader label="Resource Type" key="resource_type" sort=sort/>
                        <SortHeader label="Operation" key="operation" sort=sort/>
                        <SortHeader label="Timestamp" key="op_time" sort=sort/>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <Pagination page=page page_size=page_size total=total/>
        </div>
    }
}

fn label_of_key(key: &str) -> &'static str {
    TEXT_KEYS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("Username", |(_, label)| label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_combine_operation_and_text_filters() {
        assert_eq!(audit_query("", "username", ""), "");
        assert_eq!(audit_query("create", "username", "  "), "operation=create");
        assert_eq!(
            audit_query("", "resource", " library "),
            "resource=~library"
        );
        assert_eq!(
            audit_query("delete", "username", "adm"),
            "operation=delete,username=~adm"
        );
        assert_eq!(
            audit_query("pull", "resource_type", "artifact"),
            "operation=pull,resource_type=~artifact"
        );
    }

    #[test]
    fn commas_cannot_split_a_filter_and_unknown_keys_are_ignored() {
        assert_eq!(audit_query("", "username", "a,b"), "username=~ab");
        assert_eq!(audit_query("", "username", ","), "");
        assert_eq!(audit_query("", "client_ip; drop", "x"), "");
    }

    #[test]
    fn paths_are_paged_and_newest_first_unless_sorted() {
        assert_eq!(
            audit_path("/audit-logs", 1, 15, "", None),
            "/audit-logs?page=1&page_size=15&sort=-op_time"
        );
        assert_eq!(
            audit_path(
                "/projects/team/logs",
                2,
                25,
                "operation=create",
                Some(Sort {
                    key: "username",
                    descending: false
                })
            ),
            "/projects/team/logs?page=2&page_size=25&q=operation%3Dcreate&sort=username"
        );
    }

    #[test]
    fn operations_read_as_words() {
        assert_eq!(operation_label("login_failed"), "Login failed");
        assert_eq!(operation_label("create"), "Create");
        assert_eq!(operation_label("push"), "push");
    }
}
