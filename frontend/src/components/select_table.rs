//! Harbor's list pattern (its datagrids): a checkbox on every row, one in the header for the whole page, and
//! an "Action" menu ([`super::action_menu`]) whose items act on the chosen rows; a delete asks once for all of
//! them ([`super::dialog::DeleteFlow`]).
//!
//! Rule: a [`Selection`] holds the chosen rows' keys (their ids as text), not the rows, so one non-generic
//! copy serves every list; a page reads the chosen rows back from its page of items
//! ([`super::table::PagedList::chosen`]). Only rows on screen can be chosen: a row that leaves the page
//! (another page, a filter, a delete) leaves the selection. The table itself is [`super::table::ListTable`]
//! given the selection.

use leptos::prelude::*;

/// The chosen rows of one list.
#[derive(Debug, Clone, Copy)]
pub struct Selection {
    chosen: RwSignal<Vec<String>>,
    page: Signal<Vec<String>>,
}

impl Selection {
    /// A selection among `page`, the keys of the rows on screen (in their order).
    pub fn new(page: Signal<Vec<String>>) -> Self {
        let chosen = RwSignal::new(Vec::<String>::new());
        Effect::new(move |_| {
            let kept = page.with(|page| chosen.with_untracked(|c| retained(c, page)));
            if chosen.with_untracked(|c| *c != kept) {
                chosen.set(kept);
            }
        });
        Selection { chosen, page }
    }

    /// Whether the row `key` is chosen.
    pub fn contains(&self, key: &str) -> bool {
        self.chosen.with(|c| c.iter().any(|k| k == key))
    }

    /// Chooses the row `key`, or lets it go.
    pub fn toggle(&self, key: &str) {
        self.chosen.update(|c| *c = toggled(c, key));
    }

    /// The chosen keys, in the order they were chosen.
    pub fn keys(&self) -> Vec<String> {
        self.chosen.get()
    }

    /// How many rows are chosen.
    pub fn count(&self) -> usize {
        self.chosen.with(Vec::len)
    }

    /// Lets every row go.
    pub fn clear(&self) {
        self.chosen.set(Vec::new());
    }

    /// What the header's checkbox shows.
    pub fn header(&self) -> HeaderState {
        self.page
            .with(|page| self.chosen.with(|c| HeaderState::of(c, page)))
    }

    /// The header's checkbox: chooses every row on screen, or (when all are chosen) none.
    pub fn toggle_all(&self) {
        let all = self.page.get_untracked();
        let next = if self.header() == HeaderState::All {
            Vec::new()
        } else {
            all
        };
        self.chosen.set(next);
    }
}

/// The header checkbox's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderState {
    /// Nothing on screen, or nothing chosen.
    None,
    /// Some rows on screen are chosen (the checkbox is indeterminate).
    Some,
    /// Every row on screen is chosen.
    All,
}

impl HeaderState {
    pub fn of(chosen: &[String], page: &[String]) -> HeaderState {
        let on_page = page.iter().filter(|k| chosen.contains(k)).count();
        match on_page {
            0 => HeaderState::None,
            n if n == page.len() => HeaderState::All,
            _ => HeaderState::Some,
        }
    }
}

/// `chosen` with `key` added (at the end) or taken out.
pub fn toggled(chosen: &[String], key: &str) -> Vec<String> {
    if chosen.iter().any(|k| k == key) {
        chosen.iter().filter(|k| *k != key).cloned().collect()
    } else {
        let mut next = chosen.to_vec();
        next.push(key.to_owned());
        next
    }
}

/// The keys of `chosen` still on `page`.
pub fn retained(chosen: &[String], page: &[String]) -> Vec<String> {
    chosen
        .iter()
        .filter(|k| page.contains(k))
        .cloned()
        .collect()
}

/// The header cell of the checkbox column: chooses the whole page.
#[component]
pub fn SelectAllHeader(selection: Selection) -> impl IntoView {
    let empty = move || selection.page.with(Vec::is_empty);
    view! {
        <th scope="col" class="select">
            <input type="checkbox" aria-label="Select all rows on this page"
                disabled=empty
                prop:checked=move || selection.header() == HeaderState::All
                prop:indeterminate=move || selection.header() == HeaderState::Some
                on:change=move |_| selection.toggle_all()/>
        </th>
    }
}

/// A row's checkbox cell; `label` names the row for screen readers (`Select project team`).
#[component]
pub fn SelectCell(
    selection: Selection,
    #[prop(into)] key: String,
    #[prop(into)] label: String,
) -> impl IntoView {
    let toggle_key = key.clone();
    view! {
        <td class="select">
            <input type="checkbox" aria-label=label
                prop:checked=move || selection.contains(&key)
                on:change=move |_| selection.toggle(&toggle_key)/>
        </td>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn toggling_adds_at_the_end_and_removes() {
        let chosen = toggled(&keys(&["2"]), "5");
        assert_eq!(chosen, keys(&["2", "5"]));
        assert_eq!(toggled(&chosen, "2"), keys(&["5"]));
        assert_eq!(toggled(&[], "1"), keys(&["1"]));
    }

    #[test]
    fn rows_that_leave_the_page_leave_the_selection() {
        assert_eq!(
            retained(&keys(&["3", "1", "9"]), &keys(&["1", "2", "3"])),
            keys(&["3", "1"])
        );
        assert!(retained(&keys(&["1"]), &[]).is_empty());
    }

    #[test]
    fn the_header_is_all_some_or_none_of_the_page() {
        let page = keys(&["1", "2", "3"]);
        assert_eq!(HeaderState::of(&[], &page), HeaderState::None);
        assert_eq!(HeaderState::of(&keys(&["2"]), &page), HeaderState::Some);
        assert_eq!(
            HeaderState::of(&keys(&["3", "1", "2"]), &page),
            HeaderState::All
        );
        assert_eq!(HeaderState::of(&[], &[]), HeaderState::None);
        // A stale key (not on screen) does not count.
        assert_eq!(HeaderState::of(&keys(&["7"]), &page), HeaderState::None);
    }
}
