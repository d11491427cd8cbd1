//! Modal dialogs on the native `<dialog>` element: the browser traps focus, closes on Escape and restores
//! focus afterwards, so every dialog is keyboard-accessible without extra code.

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::toast::use_toasts;

/// A modal dialog shown while `open` is true. Closing it any way (Escape, the × button) sets `open` to false.
#[component]
pub fn Dialog(
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    children: Children,
) -> impl IntoView {
    let node: NodeRef<html::Dialog> = NodeRef::new();
    let title_id = format!("dialog-title-{}", next_id());
    let labelled_by = title_id.clone();
    Effect::new(move |_| {
        let Some(dialog) = node.get() else {
            return;
        };
        if open.get() {
            if !dialog.open() {
                let _ = dialog.show_modal();
            }
        } else if dialog.open() {
            dialog.close();
        }
    });
    view! {
        <dialog node_ref=node class="dialog" aria-labelledby=labelled_by on:close=move |_| open.set(false)>
            <header class="dialog-header">
                <h2 id=title_id>{move || title.get()}</h2>
                <button type="button" class="icon" aria-label="Close" on:click=move |_| open.set(false)>"×"</button>
            </header>
            {children()}
        </dialog>
    }
}

/// Asks before a destructive action. `on_confirm` runs the action; the dialog shows `busy` while it runs and
/// the server's message in `error` if it fails.
#[component]
pub fn ConfirmDialog(
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    #[prop(into)] message: Signal<String>,
    #[prop(into)] confirm_label: String,
    #[prop(into)] busy: Signal<bool>,
    #[prop(into)] error: Signal<Option<String>>,
    on_confirm: Callback<()>,
) -> impl IntoView {
    view! {
        <Dialog open=open title=title>
            <div class="dialog-body">
                <p>{move || message.get()}</p>
                {move || error.get().map(|e| view! { <p class="banner banner-error" role="alert">{e}</p> })}
            </div>
            <footer class="dialog-footer">
                <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="button" class="danger" disabled=move || busy.get()
                    on:click=move |_| on_confirm.run(())>
                    {move || if busy.get() { "Working…".to_owned() } else { confirm_label.clone() }}
                </button>
            </footer>
        </Dialog>
    }
}

/// "Delete with confirmation", the same on every list: a row calls [`DeleteFlow::ask`] with the item's API
/// path and name, which opens its [`DeleteDialog`]. One non-generic copy serves every list.
#[derive(Debug, Clone, Copy)]
pub struct DeleteFlow {
    open: RwSignal<bool>,
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    /// The `DELETE` path and the item's name.
    target: RwSignal<Option<(String, String)>>,
}

impl DeleteFlow {
    pub fn new() -> Self {
        DeleteFlow {
            open: RwSignal::new(false),
            busy: RwSignal::new(false),
            error: RwSignal::new(None),
            target: RwSignal::new(None),
        }
    }

    /// Asks whether to `DELETE {path}` (`name` is what the dialog and the toast call it).
    pub fn ask(&self, path: String, name: String) {
        self.target.set(Some((path, name)));
        self.error.set(None);
        self.open.set(true);
    }
}

impl Default for DeleteFlow {
    fn default() -> Self {
        Self::new()
    }
}

/// The dialog of a [`DeleteFlow`]: `message` and `done` turn the item's name into the question and the toast
/// after success; then `on_deleted` runs (the list refreshes). A failure stays in the dialog.
#[component]
pub fn DeleteDialog(
    flow: DeleteFlow,
    title: &'static str,
    message: fn(&str) -> String,
    done: fn(&str) -> String,
    on_deleted: Callback<()>,
    #[prop(default = "Delete")] confirm_label: &'static str,
) -> impl IntoView {
    let toasts = use_toasts();
    let confirm = Callback::new(move |()| {
        let Some((path, name)) = flow.target.get_untracked() else {
            return;
        };
        flow.busy.set(true);
        spawn_local(async move {
            let result = api::delete(&path).await;
            flow.busy.set(false);
            match result {
                Ok(()) => {
                    flow.open.set(false);
                    toasts.success(done(&name));
                    on_deleted.run(());
                }
                Err(e) => flow.error.set(Some(e.message)),
            }
        });
    });
    let question = Signal::derive(move || {
        flow.target
            .with(|t| t.as_ref().map(|(_, name)| message(name)))
            .unwrap_or_default()
    });
    view! {
        <ConfirmDialog open=flow.open title=title message=question confirm_label=confirm_label busy=flow.busy
            error=flow.error on_confirm=confirm/>
    }
}

/// A number unique to this page load, for element ids.
pub fn next_id() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
