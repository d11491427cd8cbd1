//! Harbor's "Action" menu over a list: one button that opens the actions on the chosen rows
//! ([`super::select_table::Selection`]); an action that needs exactly one row, or that the user may not take
//! on what is chosen, is shown disabled rather than failing later.

use leptos::prelude::*;

/// The "Action ▾" button and its menu. `chosen` is how many rows are chosen (shown beside it); `children` are
/// [`MenuItem`]s. Choosing an item, clicking outside or Escape closes the menu.
#[component]
pub fn ActionMenu(
    #[prop(into)] chosen: Signal<usize>,
    #[prop(default = "Action")] label: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let children = StoredValue::new(children);
    view! {
        <div class="action-menu" on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }>
            <button type="button" class="secondary action-menu-button" aria-haspopup="menu"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>
                {label} <span aria-hidden="true">" ▾"</span>
            </button>
            <Show when=move || open.get()>
                <div class="menu-backdrop" on:click=move |_| open.set(false)></div>
                <div class="menu action-menu-items" role="menu" aria-label=label
                    on:click=move |_| open.set(false)>
                    {children.with_value(|c| c())}
                </div>
            </Show>
            <span class="selection-count muted" aria-live="polite">
                {move || selection_label(chosen.get())}
            </span>
        </div>
    }
}

/// One action of an [`ActionMenu`]; `hint` says why it is disabled (as the item's title).
#[component]
pub fn MenuItem(
    #[prop(into)] label: Signal<String>,
    #[prop(into)] disabled: Signal<bool>,
    on_select: Callback<()>,
    /// A destructive action (drawn in the danger colour).
    #[prop(optional)]
    danger: bool,
    #[prop(optional, into)] hint: MaybeProp<String>,
) -> impl IntoView {
    view! {
        <button type="button" role="menuitem" class:menu-danger=danger
            disabled=move || disabled.get()
            title=move || disabled.get().then(|| hint.get()).flatten()
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
    fn the_count_shows_only_when_rows_are_chosen() {
        assert_eq!(selection_label(0), "");
        assert_eq!(selection_label(1), "1 selected");
        assert_eq!(selection_label(12), "12 selected");
    }
}
