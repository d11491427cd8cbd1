//! Lists: server-side pagination (Harbor's `page` / `page_size` / `X-Total-Count`) and sortable column
//! headers (Harbor's `sort=key` / `sort=-key`).

use std::marker::PhantomData;

use leptos::prelude::*;
use serde::de::DeserializeOwned;

use crate::api::{ApiError, Paged, query_string};
use crate::components::fetch::RawFetch;
use crate::components::select_table::{SelectAllHeader, Selection};
use crate::components::toast::error_banner;

/// Where a list stands on screen: its page, page size, name filter and sort order. One `Copy` set of signals
/// per list, which the list's fetch, toolbar, table and pagination share.
#[derive(Debug, Clone, Copy)]
pub struct ListControls {
    pub page: RwSignal<u32>,
    pub page_size: RwSignal<u32>,
    pub filter: RwSignal<String>,
    pub sort: RwSignal<Option<Sort>>,
}

impl ListControls {
    /// The first page, of the smallest size, unfiltered, in the server's order.
    pub fn new() -> Self {
        Self::sorted(None)
    }

    /// Like [`ListControls::new`], in `sort` order until the user picks another.
    pub fn sorted(sort: Option<Sort>) -> Self {
        ListControls {
            page: RwSignal::new(1),
            page_size: RwSignal::new(PAGE_SIZES[0]),
            filter: RwSignal::new(String::new()),
            sort: RwSignal::new(sort),
        }
    }

    /// The page, its size, the filter and the sort (tracked), for a list's API path.
    pub fn get(&self) -> (u32, u32, String, Option<Sort>) {
        (
            self.page.get(),
            self.page_size.get(),
            self.filter.get(),
            self.sort.get(),
        )
    }
}

impl Default for ListControls {
    fn default() -> Self {
        Self::new()
    }
}

/// One server-side page of a list: fetched whenever its path changes or on [`PagedList::refresh`], with the
/// page number stepped back when the last page empties (after a delete). Every list page builds on it. The
/// fetching is not generic ([`RawFetch`]); only reading the page parses it as `T`.
pub struct PagedList<T: 'static> {
    raw: RawFetch,
    items: PhantomData<fn() -> T>,
}

impl<T: 'static> Clone for PagedList<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for PagedList<T> {}

impl<T: DeserializeOwned + 'static> PagedList<T> {
    /// `path` is the list's API path with its page, filter and sort (`None` while it cannot be known yet, e.g.
    /// before the project is loaded); `list` holds the pager's signals.
    pub fn new(
        path: impl Fn() -> Option<String> + Send + Sync + 'static,
        list: ListControls,
    ) -> Self {
        PagedList {
            raw: paged_fetch(Memo::new(move |_| path()), list),
            items: PhantomData,
        }
    }

    /// The fetch under the list (not generic), for the toolbar's refresh and the table's progress and total.
    pub fn fetch(&self) -> RawFetch {
        self.raw
    }

    /// The page on screen (the previous one while the next loads), or `None` before there is one.
    pub fn current(&self) -> Option<Result<Paged<T>, ApiError>> {
        self.raw
            .with(|answer| answer.as_ref().map_err(Clone::clone)?.page())
    }

    /// Fetches the page again.
    pub fn refresh(&self) {
        self.raw.refetch();
    }

    /// The `<tbody>` of the page on screen: `row` for each item, or one row across the `columns` saying that
    /// the page is loading, what failed, or `empty` when nothing matched. The three states are one shared,
    /// non-generic view ([`status_row`]) for every list.
    pub fn rows(
        &self,
        columns: &'static str,
        empty: &'static str,
        row: impl FnMut(T) -> AnyView,
    ) -> AnyView {
        match self.current() {
            Some(Ok(page)) if !page.items.is_empty() => {
                page.items.into_iter().map(row).collect_view().into_any()
            }
            Some(Ok(_)) => status_row(columns, ListStatus::Empty(empty)),
            Some(Err(e)) => status_row(columns, ListStatus::Failed(e.message)),
            None => status_row(columns, ListStatus::Loading),
        }
    }

    /// The items on screen, empty while there are none (loading, or an error).
    pub fn items(&self) -> Vec<T> {
        self.current()
            .and_then(Result::ok)
            .map(|page| page.items)
            .unwrap_or_default()
    }

    /// The keys (as `key` gives them) of the items on screen, for a [`Selection`] of this list.
    pub fn keys(&self, key: fn(&T) -> String) -> Signal<Vec<String>> {
        let list = *self;
        Signal::derive(move || list.items().iter().map(key).collect())
    }

    /// The items on screen that `selection` holds, in page order.
    pub fn chosen(&self, selection: Selection, key: fn(&T) -> String) -> Vec<T> {
        let chosen = selection.keys();
        self.items()
            .into_iter()
            .filter(|item| chosen.contains(&key(item)))
            .collect()
    }
}

/// The fetch under every [`PagedList`], with the effect that steps the page back when it is past the end.
fn paged_fetch(path: Memo<Option<String>>, list: ListControls) -> RawFetch {
    let raw = RawFetch::new(path, RwSignal::new(0));
    Effect::new(move |_| {
        let pager = Pager {
            page: list.page.get_untracked(),
            page_size: list.page_size.get_untracked(),
            total: raw.total(),
        };
        if !raw.loading() && pager.clamped_page() != pager.page {
            list.page.set(pager.clamped_page());
        }
    });
    raw
}

/// What a list's body says instead of rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListStatus {
    Loading,
    /// The server's message.
    Failed(String),
    /// Nothing matched: the list's own sentence (`No projects found`).
    Empty(&'static str),
}

/// One row across `columns` cells saying `status`.
pub fn status_row(columns: &'static str, status: ListStatus) -> AnyView {
    let (class, cell) = match status {
        ListStatus::Loading => ("loading", "Loading…".into_any()),
        ListStatus::Failed(message) => ("", error_banner(message)),
        ListStatus::Empty(text) => ("empty", text.into_any()),
    };
    view! { <tr><td colspan=columns class=class>{cell}</td></tr> }.into_any()
}

/// A wide table's box: it scrolls sideways inside its place in a narrow window, never the page (a 1024 px
/// window must do). The one way the console keeps a table within its place (`.list-scroll`).
pub fn scroll_box(table: AnyView) -> AnyView {
    view! { <div class="list-scroll">{table}</div> }.into_any()
}

/// A list's toolbar, the same on every list: `children` at its start (New …, the Action menu); at its end the
/// name filter (typing goes back to the first page) when `filter` names it, and the refresh button.
#[component]
pub fn ListToolbar(
    list: ListControls,
    fetch: RawFetch,
    /// The filter's placeholder and accessible name (`Filter projects by name`); empty: no filter.
    #[prop(optional)]
    filter: &'static str,
    children: Children,
) -> impl IntoView {
    let search = (!filter.is_empty()).then(|| {
        view! {
            <input type="search" class="search" placeholder=filter aria-label=filter
                prop:value=move || list.filter.get()
                on:input=move |ev| {
                    list.filter.set(event_target_value(&ev));
                    list.page.set(1);
                }/>
        }
    });
    view! {
        <div class="toolbar">
            <div class="toolbar-start">{children()}</div>
            <div class="toolbar-end">
                {search}
                <button type="button" class="secondary icon" aria-label="Refresh"
                    on:click=move |_| fetch.refetch()>"⟳"</button>
            </div>
        </div>
    }
}

/// A list's table, the same on every list page: the progress bar, the table in its [`scroll_box`] with the
/// header cells `children` (after the checkbox column's header, when rows can be chosen: Harbor's list
/// pattern, [`super::select_table`]) and the `rows`, and the pagination under it.
#[component]
pub fn ListTable(
    list: ListControls,
    /// The list's fetch: the progress bar and the total follow it.
    fetch: RawFetch,
    /// The `<tbody>`'s rows (e.g. [`PagedList::rows`]).
    #[prop(into)]
    rows: ViewFn,
    /// Rows can be chosen (each row renders its own [`super::select_table::SelectCell`]).
    #[prop(optional)]
    selection: Option<Selection>,
    /// Extra classes of the table (`member-list`, …).
    #[prop(optional)]
    class: &'static str,
    children: Children,
) -> impl IntoView {
    let loading = move || fetch.loading();
    let class = if selection.is_some() {
        format!("list selectable {class}")
    } else {
        format!("list {class}")
    };
    let table = view! {
        <table class=class aria-busy=move || loading().to_string()>
            <thead>
                <tr>
                    {selection.map(|selection| view! { <SelectAllHeader selection=selection/> })}
                    {children()}
                </tr>
            </thead>
            <tbody>{move || rows.run()}</tbody>
        </table>
    };
    view! {
        <div class="progress" class:progress-active=loading aria-hidden="true"></div>
        {scroll_box(table.into_any())}
        <Pagination list=list total=Signal::derive(move || fetch.total())/>
    }
}

/// The API path of one page of the list at `base`: `?page=…&page_size=…`, then `params` (those with a value).
pub fn page_path(base: &str, page: u32, page_size: u32, params: &[(&str, String)]) -> String {
    let mut pairs = vec![
        ("page", page.to_string()),
        ("page_size", page_size.to_string()),
    ];
    pairs.extend_from_slice(params);
    format!("{base}{}", query_string(&pairs))
}

/// Harbor's fuzzy match of `key` (`key=~value`, a term of its `q`), or nothing for an empty value. Commas
/// separate `q`'s terms, so the value's commas are dropped.
pub fn fuzzy(key: &str, value: &str) -> String {
    let value = value.replace(',', "");
    let value = value.trim();
    if value.is_empty() {
        String::new()
    } else {
        format!("{key}=~{value}")
    }
}

/// Page sizes offered under every list.
pub const PAGE_SIZES: [u32; 3] = [15, 25, 50];

/// Where a list stands: the current page (from 1), its size and the total number of items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pager {
    pub page: u32,
    pub page_size: u32,
    pub total: u64,
}

impl Pager {
    /// Number of pages; an empty list still has one.
    pub fn pages(&self) -> u32 {
        let size = u64::from(self.page_size.max(1));
        self.total.div_ceil(size).max(1).min(u64::from(u32::MAX)) as u32
    }

    pub fn has_previous(&self) -> bool {
        self.page > 1
    }

    pub fn has_next(&self) -> bool {
        self.page < self.pages()
    }

    /// `"16 - 30 of 42 items"`, or `"0 items"`.
    pub fn label(&self) -> String {
        if self.total == 0 {
            return "0 items".to_owned();
        }
        let first = u64::from(self.page.saturating_sub(1)) * u64::from(self.page_size) + 1;
        let last = (first + u64::from(self.page_size) - 1).min(self.total);
        let noun = if self.total == 1 { "item" } else { "items" };
        format!("{first} - {last} of {} {noun}", self.total)
    }

    /// The page to show after the total changed (e.g. the last item of the last page was deleted).
    pub fn clamped_page(&self) -> u32 {
        self.page.clamp(1, self.pages())
    }
}

/// A sort order on one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: &'static str,
    pub descending: bool,
}

impl Sort {
    /// Harbor's `sort` parameter: `key` or `-key`.
    pub fn param(sort: Option<Sort>) -> String {
        match sort {
            Some(Sort {
                key,
                descending: false,
            }) => key.to_owned(),
            Some(Sort {
                key,
                descending: true,
            }) => format!("-{key}"),
            None => String::new(),
        }
    }

    /// A click on column `key`: ascending, then descending, then the server's default order.
    pub fn toggle(current: Option<Sort>, key: &'static str) -> Option<Sort> {
        match current {
            Some(s) if s.key == key && !s.descending => Some(Sort {
                key,
                descending: true,
            }),
            Some(s) if s.key == key => None,
            _ => Some(Sort {
                key,
                descending: false,
            }),
        }
    }

    /// `aria-sort` for column `key`.
    pub fn aria(current: Option<Sort>, key: &str) -> &'static str {
        match current {
            Some(s) if s.key == key && s.descending => "descending",
            Some(s) if s.key == key => "ascending",
            _ => "none",
        }
    }
}

/// A column header that sorts its list on click (a real button, so keyboards reach it).
#[component]
pub fn SortHeader(
    label: &'static str,
    key: &'static str,
    /// The list's controls: their sort order.
    list: ListControls,
    /// Extra classes of the header cell (e.g. `number`).
    #[prop(optional)]
    class: &'static str,
) -> impl IntoView {
    let sort = list.sort;
    let arrow = move || match sort.get() {
        Some(s) if s.key == key && s.descending => "▼",
        Some(s) if s.key == key => "▲",
        _ => "",
    };
    view! {
        <th scope="col" class=class aria-sort=move || Sort::aria(sort.get(), key)>
            <button type="button" class="sort" on:click=move |_| sort.update(|s| *s = Sort::toggle(*s, key))>
                {label} <span class="sort-arrow" aria-hidden="true">{arrow}</span>
            </button>
        </th>
    }
}

/// The footer of a list: item range, page size and page buttons.
#[component]
pub fn Pagination(list: ListControls, #[prop(into)] total: Signal<u64>) -> impl IntoView {
    let ListControls {
        page, page_size, ..
    } = list;
    let pager = move || Pager {
        page: page.get(),
        page_size: page_size.get(),
        total: total.get(),
    };
    view! {
        <nav class="pagination" aria-label="Pagination">
            <span class="pagination-range">{move || pager().label()}</span>
            <label class="pagination-size">
                "Page size "
                <select on:change=move |ev| {
                    if let Ok(size) = event_target_value(&ev).parse::<u32>() {
                        page_size.set(size);
                        page.set(1);
                    }
                }>
                    {PAGE_SIZES
                        .iter()
                        .map(|size| {
                            let size = *size;
                            view! {
                                <option value=size.to_string() selected=move || page_size.get() == size>
                                    {size}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="button" class="icon" aria-label="Previous page"
                disabled=move || !pager().has_previous()
                on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))>
                "‹"
            </button>
            <span class="pagination-page">{move || format!("{} / {}", pager().page, pager().pages())}</span>
            <button type="button" class="icon" aria-label="Next page"
                disabled=move || !pager().has_next()
                on:click=move |_| page.update(|p| *p += 1)>
                "›"
            </button>
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pager(page: u32, page_size: u32, total: u64) -> Pager {
        Pager {
            page,
            page_size,
            total,
        }
    }

    #[test]
    fn pages_round_up_and_never_drop_to_zero() {
        assert_eq!(pager(1, 15, 0).pages(), 1);
        assert_eq!(pager(1, 15, 15).pages(), 1);
        assert_eq!(pager(1, 15, 16).pages(), 2);
        assert_eq!(pager(1, 0, 3).pages(), 3);
    }

    #[test]
    fn labels_show_the_range_on_the_page() {
        assert_eq!(pager(1, 15, 0).label(), "0 items");
        assert_eq!(pager(1, 15, 1).label(), "1 - 1 of 1 item");
        assert_eq!(pager(2, 15, 42).label(), "16 - 30 of 42 items");
        assert_eq!(pager(3, 15, 42).label(), "31 - 42 of 42 items");
    }

    #[test]
    fn navigation_stops_at_both_ends() {
        assert!(!pager(1, 15, 42).has_previous());
        assert!(pager(1, 15, 42).has_next());
        assert!(pager(3, 15, 42).has_previous());
        assert!(!pager(3, 15, 42).has_next());
        assert_eq!(pager(4, 15, 30).clamped_page(), 2);
        assert_eq!(pager(0, 15, 30).clamped_page(), 1);
    }

    #[test]
    fn page_paths_carry_the_page_and_the_params_with_a_value() {
        assert_eq!(
            page_path("/users", 2, 25, &[]),
            "/users?page=2&page_size=25"
        );
        assert_eq!(
            page_path(
                "/projects",
                1,
                15,
                &[("q", fuzzy("name", " a,b ")), ("sort", String::new())]
            ),
            "/projects?page=1&page_size=15&q=name%3D~ab"
        );
        assert_eq!(fuzzy("name", " , "), "");
    }

    #[test]
    fn sorting_cycles_ascending_descending_off() {
        let asc = Sort::toggle(None, "name");
        assert_eq!(Sort::param(asc), "name");
        let desc = Sort::toggle(asc, "name");
        assert_eq!(Sort::param(desc), "-name");
        assert_eq!(Sort::aria(desc, "name"), "descending");
        assert_eq!(Sort::toggle(desc, "name"), None);
        assert_eq!(
            Sort::param(Sort::toggle(desc, "creation_time")),
            "creation_time"
        );
        assert_eq!(Sort::aria(desc, "creation_time"), "none");
    }
}
