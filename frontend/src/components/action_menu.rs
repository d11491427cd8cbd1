//! Harbor's "Action" menu over a list: one button that opens the actions on the chosen rows
//! ([`super::select_table::Selection`]); an action that needs exactly one row, or that the user may not take
//! on what is chosen, is shown disabled rather than failing later.
//!
//! Rule: whether an item is enabled is decided inside [`MenuItem`] from the selection and a [`Needs`] rule
//! (plus an optional `allowed` signal), not by a closure per item on every page (the .wasm budget).

use leptos::prelude::*;

use crate::components::when::When;

use super::select_table::Selection;

/// The "Action ▾" button and its menu over the rows `selection` holds (their number is shown beside it);
/// `children` are [`MenuItem`]s. Choosing an item, clicking outside or Escape closes the menu. With `shown`,
/// the whole menu is there only while it holds (for a user who may take none of its actions); hidden rather
/// than left out, which costs no component per page.
#[component]
pub fn ActionMenu(
    selection: Selection,
    children: ChildrenFn,
    #[prop(optional)] shown: Option<Signal<bool>>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let children = StoredValue::new(children);
    view! {
        <div class="action-menu" hidden=move || shown.is_some_and(|shown| !shown.get())
            on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }>
            <button type="button" class="secondary action-menu-button" aria-haspopup="menu"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>
                "Action" <span aria-hidden="true">" ▾"</span>
            </button>
            <When when=move || open.get()>
                <div class="menu-backdrop" on:click=move |_| open.set(false)></div>
                <div class="menu action-menu-items" role="menu" aria-label="Action"
                    on:click=move |_| open.set(false)>
                    {children.with_value(|c| c())}
                </div>
            </When>
            <span class="selection-count muted" aria-live="polite">
                {move || selection_label(selection.count())}
            </span>
        </div>
    }
}

/// How many chosen rows an action takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Exactly one (edit, change a role, …).
    One,
    /// One or more (delete, remove).
    Some,
}

impl Needs {
    pub fn met(self, chosen: usize) -> bool {
        match self {
            Needs::One => chosen == 1,
            Needs::Some => chosen > 0,
        }
    }
}

/// One action of an [`ActionMenu`] on the rows `selection` holds: enabled when as many are chosen as it
/// `needs` and, if given, `allowed` holds (the user's role, what the chosen rows permit); `hint` says why it is
/// disabled (as the item's title).
#[component]
pub fn MenuItem(
    #[prop(into)] label: Signal<String>,
    selection: Selection,
    needs: Needs,
    on_select: Callback<()>,
    #[prop(optional)] allowed: Option<Signal<bool>>,
    /// A destructive action (drawn in the danger colour).
    #[prop(optional)]
    danger: bool,
    #[prop(optional)] hint: &'static str,
) -> impl IntoView {
    let disabled =
        move || !needs.met(selection.count()) || allowed.is_some_and(|allowed| !allowed.get());
    view! {
        <button type="button" role="menuitem" class:menu-danger=danger
            disabled=disabled
            title=move || (disabled() && !hint.is_empty()).then_some(hint)
            on:click=move |_| on_select.run(())>
            {move || label.get()}
        </button>
    }
}

/// `"2 selected"`, or nothing when no row is chosen.
pub fn selection_label(count: usize) -> String {
    if count == 0 {
        String::new()
    } else {
        format!("{count} selected")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_take_one_or_some_rows() {
        assert!(Needs::One.met(1));
        assert!(!Needs::One.met(0) && !Needs::One.met(2));
        assert!(Needs::Some.met(1) && Needs::Some.met(7));
        assert!(!Needs::Some.met(0));
    }

    #[test]
    fn the_count_shows_only_when_rows_are_chosen() {
        assert_eq!(selection_label(0), "");
        assert_eq!(selection_label(1), "1 selected");
        assert_eq!(selection_label(12), "12 selected");
    }
}
