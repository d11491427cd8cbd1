//! An audit-log table, shared by the project's Logs tab (`/projects/{name}/logs`) and Administration → Audit
//! Log (`/audit-logs`): server-side pagination, Harbor's filters (its portal's `q`: one or more operations,
//! `operation={create delete}`; a date range, `op_time=[from~to]`; a part of the username, resource or
//! resource type, `username=~adm`), sortable columns, newest first by default.
//!
//! The keys are those Berth's audit lists accept (`db::list::AUDIT_LOGS`): `username`, `resource`,
//! `resource_type`, `operation`, `op_time`. Dates are the browser's local days, sent as UTC instants. An
//! anonymous pull is recorded without a username and shown as "anonymous"; a resource naming a digest is
//! shortened, with the whole of it in its title and a copy button.

use berth_api::audit::AuditLog as AuditEntry;
use leptos::prelude::*;

use crate::components::copy_button::CopyButton;
use crate::components::dialog::next_id;
use crate::components::table::{ListControls, ListTable, PagedList, Sort, SortHeader, page_path};
use crate::components::when::When;
use crate::format;

/// The operations Berth records, as the API spells them, with their labels.
pub const OPERATIONS: [(&str, &str); 7] = [
    ("create", "Create"),
    ("update", "Update"),
    ("delete", "Delete"),
    ("pull", "Pull"),
    ("login", "Login"),
    ("login_failed", "Login failed"),
    // A push or delete an immutable tag rule refused (resource type `tag`), written by the server.
    ("refused", "Refused (immutable tag)"),
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

/// What the table is filtered by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The chosen operations (none: all).
    pub operations: Vec<String>,
    /// The text filter's key (one of [`TEXT_KEYS`]) and the part typed.
    pub key: String,
    pub text: String,
    /// The first and the last instant of the range (RFC 3339, UTC), either open.
    pub from: Option<String>,
    pub until: Option<String>,
}

impl AuditFilter {
    /// Harbor's `q`. Terms are separated by `,` and list items by spaces, so a value cannot contain either:
    /// commas typed in the text are dropped, and only known operations are sent.
    pub fn q(&self) -> String {
        let mut terms = Vec::new();
        let operations: Vec<&str> = OPERATIONS
            .iter()
            .map(|(op, _)| *op)
            .filter(|op| self.operations.iter().any(|chosen| chosen == op))
            .collect();
        match operations.as_slice() {
            [] => {}
            [one] => terms.push(format!("operation={one}")),
            many => terms.push(format!("operation={{{}}}", many.join(" "))),
        }
        if let Some(range) = op_time_term(self.from.as_deref(), self.until.as_deref()) {
            terms.push(range);
        }
        let text = self.text.replace(',', "");
        let text = text.trim();
        if !text.is_empty() && TEXT_KEYS.iter().any(|(k, _)| *k == self.key) {
            terms.push(format!("{}=~{text}", self.key));
        }
        terms.join(",")
    }
}

/// Harbor's `op_time=[from~until]` (inclusive), either end open; `None` when both are.
pub fn op_time_term(from: Option<&str>, until: Option<&str>) -> Option<String> {
    let clean = |t: Option<&str>| {
        t.map(|t| t.replace([',', '~', ']', '['], ""))
            .filter(|t| !t.trim().is_empty())
    };
    match (clean(from), clean(until)) {
        (None, None) => None,
        (from, until) => Some(format!(
            "op_time=[{}~{}]",
            from.unwrap_or_default(),
            until.unwrap_or_default()
        )),
    }
}

/// The first (`end` false) or last (`end` true) second of the browser's local day `date` (`2026-01-31`, as a
/// date input gives it), as a UTC RFC 3339 instant; `None` for an empty or unreadable date. Outside a browser
/// (unit tests) the day is UTC's.
pub fn day_bound(date: &str, end: bool) -> Option<String> {
    let mut parts = date.trim().splitn(3, '-').map(str::parse::<u32>);
    let (Some(Ok(year)), Some(Ok(month)), Some(Ok(day))) =
        (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (h, m, s) = if end { (23, 59, 59) } else { (0, 0, 0) };
    #[cfg(target_arch = "wasm32")]
    {
        let local = js_sys::Date::new_with_year_month_day_hr_min_sec(
            year,
            month as i32 - 1,
            day as i32,
            h,
            m,
            s,
        );
        if local.get_time().is_nan() {
            return None;
        }
        // `2026-01-30T23:00:00.000Z`: whole seconds, so the fraction goes (the server then takes the second).
        let iso = String::from(local.to_iso_string());
        Some(iso.replace(".000Z", "Z"))
    }
    #[cfg(not(target_arch = "wasm32"))]
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z"
    ))
}

/// The API path of one page of the log at `base` (`/audit-logs` or `/projects/{name}/logs`).
pub fn audit_path(base: &str, page: u32, page_size: u32, q: &str, sort: Option<Sort>) -> String {
    page_path(
        base,
        page,
        page_size,
        &[
            ("q", q.to_owned()),
            ("sort", Sort::param(Some(sort.unwrap_or(NEWEST_FIRST)))),
        ],
    )
}

/// The label of an operation (the wire name itself when unknown).
pub fn operation_label(operation: &str) -> String {
    OPERATIONS
        .iter()
        .find(|(op, _)| *op == operation)
        .map_or_else(|| operation.to_owned(), |(_, label)| (*label).to_owned())
}

/// The Operations button's text: `All`, one label, or how many are chosen.
pub fn operations_summary(chosen: &[String]) -> String {
    match chosen {
        [] => "All".to_owned(),
        [one] => operation_label(one),
        many => format!("{} operations", many.len()),
    }
}

/// Who did it: the username, or "anonymous" for what is recorded without one (an anonymous pull).
pub fn who(username: &str) -> &str {
    if username.trim().is_empty() {
        "anonymous"
    } else {
        username
    }
}

/// A resource naming a digest (`proj/app@sha256:…`) with the digest shortened to its first 12 hex digits;
/// `None` when there is nothing to shorten.
pub fn short_resource(resource: &str) -> Option<String> {
    let (name, digest) = resource.rsplit_once('@')?;
    let (algorithm, hex) = digest.split_once(':')?;
    (hex.chars().count() > 12).then(|| {
        let kept: String = hex.chars().take(12).collect();
        format!("{name}@{algorithm}:{kept}…")
    })
}

/// The log at `path` (an API path such as `/audit-logs` or `/projects/{name}/logs`).
#[component]
pub fn AuditLog(#[prop(into)] path: String) -> impl IntoView {
    // The text filter is `list.filter`; `None` sort: the server's order, newest first (see `audit_path`).
    let list = ListControls::new();
    let page = list.page;
    let text = list.filter;
    let operations = RwSignal::new(Vec::<String>::new());
    let key = RwSignal::new(TEXT_KEYS[0].0.to_owned());
    let from_day = RwSignal::new(String::new());
    let to_day = RwSignal::new(String::new());

    let query = Memo::new(move |_| {
        let filter = AuditFilter {
            operations: operations.get(),
            key: key.get(),
            text: text.get(),
            from: day_bound(&from_day.get(), false),
            until: day_bound(&to_day.get(), true),
        };
        let (page, size, _, sort) = list.get();
        audit_path(&path, page, size, &filter.q(), sort)
    });
    let logs = PagedList::<AuditEntry>::new(move || Some(query.get()), list);

    let rows = move || {
        logs.rows("5", "No audit log entries found", |entry| {
            view! { <AuditRow entry=entry/> }.into_any()
        })
    };

    let filter_id = format!("audit-filter-{}", next_id());
    let from_id = format!("{filter_id}-from");
    let to_id = format!("{filter_id}-to");
    let key_id = format!("{filter_id}-key");
    let set_day = move |day: RwSignal<String>| {
        move |ev: leptos::ev::Event| {
            day.set(event_target_value(&ev));
            page.set(1);
        }
    };
    view! {
        <div class="audit-log">
            <div class="toolbar audit-toolbar">
                <div class="audit-filters">
                    <OperationsFilter chosen=operations page=page/>
                    <label for=from_id.clone()>"From"</label>
                    <input id=from_id type="date" class="audit-date" prop:value=move || from_day.get()
                        on:change=set_day(from_day)/>
                    <label for=to_id.clone()>"To"</label>
                    <input id=to_id type="date" class="audit-date" prop:value=move || to_day.get()
                        on:change=set_day(to_day)/>
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
            <ListTable list=list fetch=logs.fetch() class="audit-list" rows=rows>
                <SortHeader label="Username" key="username" list=list/>
                <SortHeader label="Resource" key="resource" list=list/>
                <SortHeader label="Resource Type" key="resource_type" list=list/>
                <SortHeader label="Operation" key="operation" list=list/>
                <SortHeader label="Timestamp" key="op_time" list=list/>
            </ListTable>
        </div>
    }
}

#[component]
fn AuditRow(entry: AuditEntry) -> impl IntoView {
    let operation = entry.operation.clone();
    let resource = entry.resource.clone();
    let anonymous = entry.username.trim().is_empty();
    let username = who(&entry.username).to_owned();
    let shown = short_resource(&entry.resource);
    let full = entry.resource.clone();
    let resource_cell = match shown {
        Some(short) => view! {
            <span class="audit-resource-text" title=full.clone()>{short}</span>
            <CopyButton text=full label="Copy resource"/>
        }
        .into_any(),
        None => view! { <span class="audit-resource-text">{full}</span> }.into_any(),
    };
    view! {
        <tr data-operation=operation data-resource=resource>
            <td class="audit-user" class:muted=anonymous>{username}</td>
            <td class="audit-resource">{resource_cell}</td>
            <td>{entry.resource_type}</td>
            <td>{operation_label(&entry.operation)}</td>
            <td class="time">{format::time(&entry.op_time)}</td>
        </tr>
    }
}

/// Harbor's operation filter: a menu of checkboxes, any number chosen (none: all).
#[component]
fn OperationsFilter(chosen: RwSignal<Vec<String>>, page: RwSignal<u32>) -> impl IntoView {
    let open = RwSignal::new(false);
    let toggle = move |op: &'static str| {
        chosen.update(|c| *c = crate::components::select_table::toggled(c, op));
        page.set(1);
    };
    view! {
        <div class="action-menu operations-filter" on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }>
            <button type="button" class="secondary" aria-haspopup="true"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>
                "Operations: " {move || operations_summary(&chosen.get())} <span aria-hidden="true">" ▾"</span>
            </button>
            <When when=move || open.get()>
                <div class="menu-backdrop" on:click=move |_| open.set(false)></div>
                <fieldset class="menu operations-menu">
                    <legend class="visually-hidden">"Operations"</legend>
                    {OPERATIONS
                        .iter()
                        .map(|&(op, label)| view! {
                            <label class="checkbox">
                                <input type="checkbox" value=op
                                    prop:checked=move || chosen.with(|c| c.iter().any(|o| o == op))
                                    on:change=move |_| toggle(op)/>
                                {label}
                            </label>
                        })
                        .collect_view()}
                    <button type="button" class="secondary small" on:click=move |_| {
                        chosen.set(Vec::new());
                        page.set(1);
                    }>"All"</button>
                </fieldset>
            </When>
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

    fn filter(operations: &[&str], key: &str, text: &str) -> AuditFilter {
        AuditFilter {
            operations: operations.iter().map(|s| (*s).to_owned()).collect(),
            key: key.to_owned(),
            text: text.to_owned(),
            from: None,
            until: None,
        }
    }

    #[test]
    fn queries_combine_operations_range_and_text() {
        assert_eq!(filter(&[], "username", "").q(), "");
        assert_eq!(
            filter(&["create"], "username", "  ").q(),
            "operation=create"
        );
        assert_eq!(
            filter(&[], "resource", " library ").q(),
            "resource=~library"
        );
        assert_eq!(
            filter(&["delete"], "username", "adm").q(),
            "operation=delete,username=~adm"
        );
        // Several operations are Harbor's list, in the menu's order.
        assert_eq!(
            filter(&["pull", "create"], "resource_type", "artifact").q(),
            "operation={create pull},resource_type=~artifact"
        );
        let mut ranged = filter(&["pull"], "username", "");
        ranged.from = day_bound("2026-01-05", false);
        ranged.until = day_bound("2026-01-31", true);
        assert_eq!(
            ranged.q(),
            "operation=pull,op_time=[2026-01-05T00:00:00Z~2026-01-31T23:59:59Z]"
        );
    }

    #[test]
    fn ranges_may_be_open_and_carry_no_syntax() {
        assert_eq!(op_time_term(None, None), None);
        assert_eq!(op_time_term(Some(""), Some(" ")), None);
        assert_eq!(
            op_time_term(Some("2026-01-01T00:00:00Z"), None).as_deref(),
            Some("op_time=[2026-01-01T00:00:00Z~]")
        );
        assert_eq!(
            op_time_term(None, Some("a~b],c")).as_deref(),
            Some("op_time=[~abc]")
        );
        assert_eq!(day_bound("", false), None);
        assert_eq!(day_bound("2026-13-01", false), None);
        assert_eq!(day_bound("yesterday", true), None);
        assert_eq!(
            day_bound("2026-02-03", true).as_deref(),
            Some("2026-02-03T23:59:59Z")
        );
    }

    #[test]
    fn commas_cannot_split_a_filter_and_unknown_keys_or_operations_are_ignored() {
        assert_eq!(filter(&[], "username", "a,b").q(), "username=~ab");
        assert_eq!(filter(&[], "username", ",").q(), "");
        assert_eq!(filter(&[], "client_ip; drop", "x").q(), "");
        assert_eq!(
            filter(&["drop table", "pull"], "username", "").q(),
            "operation=pull"
        );
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
        assert_eq!(operation_label("refused"), "Refused (immutable tag)");
        assert_eq!(operation_label("push"), "push");
        assert_eq!(operations_summary(&[]), "All");
        assert_eq!(operations_summary(&["pull".to_owned()]), "Pull");
        assert_eq!(
            operations_summary(&["pull".to_owned(), "delete".to_owned()]),
            "2 operations"
        );
    }

    #[test]
    fn anonymous_entries_and_digests_read_well() {
        assert_eq!(who(""), "anonymous");
        assert_eq!(who(" "), "anonymous");
        assert_eq!(who("admin"), "admin");
        assert_eq!(
            short_resource(
                "proj/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
            )
            .as_deref(),
            Some("proj/app@sha256:0123456789ab…")
        );
        assert_eq!(short_resource("proj/app:v1"), None);
        assert_eq!(short_resource("team"), None);
        assert_eq!(short_resource("a@sha256:abc"), None);
    }
}
