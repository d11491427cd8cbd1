//! Modal dialogs on the native `<dialog>` element: the browser traps focus, closes on Escape and restores
//! focus afterwards, so every dialog is keyboard-accessible without extra code.

use std::future::Future;
use std::pin::Pin;

use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::toast::{ErrorBanner, error_banner, use_toasts};

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

/// Whether a form is being sent, and why it was not taken: for [`FormDialog`] and the forms on pages.
#[derive(Debug, Clone, Copy)]
pub struct FormStatus {
    pub busy: RwSignal<bool>,
    pub error: RwSignal<Option<String>>,
}

impl FormStatus {
    pub fn new() -> Self {
        FormStatus {
            busy: RwSignal::new(false),
            error: RwSignal::new(None),
        }
    }

    /// Says why the form cannot be sent (a check before sending failed).
    pub fn fail(&self, message: String) {
        self.error.set(Some(message));
    }

    /// Sends the form: busy while `request` runs, then `done` with its answer, or the server's message shown.
    /// Not generic over the request and what follows (boxed), so one copy serves every form.
    pub fn send<T: 'static>(self, request: Request<T>, done: Box<dyn FnOnce(T)>) {
        self.busy.set(true);
        self.error.set(None);
        spawn_local(async move {
            let result = request.await;
            self.busy.set(false);
            match result {
                Ok(answer) => done(answer),
                Err(e) => self.error.set(Some(e.message)),
            }
        });
    }
}

impl Default for FormStatus {
    fn default() -> Self {
        Self::new()
    }
}

/// A request a form sends (see [`FormStatus::send`]): `Box::pin(async move { api::put(&path, &body).await })`.
pub type Request<T> = Pin<Box<dyn Future<Output = Result<T, api::ApiError>>>>;

/// A dialog around a form, the same for every form in a dialog: the fields `children` in the body, the error
/// of `status` under them, and Cancel and the submit button (disabled while the form is sent) in the footer.
/// `on_submit` checks the form and sends it (the submit event's default is prevented already); the browser's
/// own validation is off, so every check says why in the dialog.
#[component]
pub fn FormDialog(
    open: RwSignal<bool>,
    #[prop(into)] title: Signal<String>,
    status: FormStatus,
    on_submit: Callback<()>,
    /// Extra classes of the body (`form-grid`: labels beside their fields).
    #[prop(optional)]
    class: &'static str,
    /// The submit button's label (`OK` unless given).
    #[prop(optional, into)]
    submit_label: Option<Signal<&'static str>>,
    /// The submit button's label while the form is sent (`Creating…`); the label stays unless given.
    #[prop(optional)]
    busy_label: &'static str,
    /// Buttons before Cancel (e.g. Test Connection).
    #[prop(optional)]
    extra: Option<AnyView>,
    children: Children,
) -> impl IntoView {
    let label = move || {
        if status.busy.get() && !busy_label.is_empty() {
            busy_label
        } else {
            submit_label.map_or("OK", |l| l.get())
        }
    };
    view! {
        <Dialog open=open title=title>
            <form on:submit=move |ev| {
                ev.prevent_default();
                on_submit.run(());
            } novalidate>
                <div class=format!("dialog-body {class}")>
                    {children()}
                    <div class="form-wide"><ErrorBanner error=status.error/></div>
                </div>
                <footer class="dialog-footer">
                    {extra}
                    <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button type="submit" disabled=move || status.busy.get()>{label}</button>
                </footer>
            </form>
        </Dialog>
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
                {move || error.get().map(error_banner)}
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

/// "Delete with confirmation", the same on every list: the Action menu's Delete calls [`DeleteFlow::ask_all`]
/// with the chosen items' API paths and names (or a single item calls [`DeleteFlow::ask`]), which opens its
/// [`DeleteDialog`]: one confirmation that names everything that will go. One non-generic copy serves every
/// list.
#[derive(Debug, Clone, Copy)]
pub struct DeleteFlow {
    open: RwSignal<bool>,
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    /// The `DELETE` paths and the items' names.
    targets: RwSignal<Vec<(String, String)>>,
}

impl DeleteFlow {
    pub fn new() -> Self {
        DeleteFlow {
            open: RwSignal::new(false),
            busy: RwSignal::new(false),
            error: RwSignal::new(None),
            targets: RwSignal::new(Vec::new()),
        }
    }

    /// Asks whether to `DELETE {path}` (`name` is what the dialog and the toast call it).
    pub fn ask(&self, path: String, name: String) {
        self.ask_all(vec![(path, name)]);
    }

    /// Asks once whether to delete all of `targets` (`(path, name)` pairs); nothing to ask for none.
    pub fn ask_all(&self, targets: Vec<(String, String)>) {
        if targets.is_empty() {
            return;
        }
        self.targets.set(targets);
        self.error.set(None);
        self.open.set(true);
    }
}

impl Default for DeleteFlow {
    fn default() -> Self {
        Self::new()
    }
}

/// The dialog of a [`DeleteFlow`]. `message` and `done` turn the items' names (as [`names_phrase`] joins them)
/// and their count into the question and the toast after success; then `on_deleted` runs (the list
/// refreshes). The items are deleted one after the other; those that fail stay in the dialog, each named with
/// the server's reason, for another try.
#[component]
pub fn DeleteDialog(
    flow: DeleteFlow,
    title: &'static str,
    message: fn(&str, usize) -> String,
    done: fn(&str, usize) -> String,
    on_deleted: Callback<()>,
    #[prop(default = "Delete")] confirm_label: &'static str,
) -> impl IntoView {
    let toasts = use_toasts();
    let confirm = Callback::new(move |()| {
        let targets = flow.targets.get_untracked();
        if targets.is_empty() {
            return;
        }
        flow.busy.set(true);
        flow.error.set(None);
        spawn_local(async move {
            let total = targets.len();
            let mut deleted = Vec::new();
            let mut failed = Vec::new();
            let mut remaining = targets.into_iter();
            for (path, name) in remaining.by_ref() {
                match api::delete(&path).await {
                    Ok(()) => deleted.push(name),
                    Err(e) => {
                        // The session ended: the console is on its way to sign-in; the rest would fail alike.
                        let stop = e.is_unauthorized();
                        failed.push((path, name, e.message));
                        if stop {
                            break;
                        }
                    }
                }
            }
            failed.extend(remaining.map(|(path, name)| (path, name, String::new())));
            flow.busy.set(false);
            if !deleted.is_empty() {
                toasts.success(done(&names_phrase(&deleted), deleted.len()));
                on_deleted.run(());
            }
            if failed.is_empty() {
                flow.open.set(false);
            } else {
                let reasons: Vec<(String, String)> = failed
                    .iter()
                    .map(|(_, name, why)| (name.clone(), why.clone()))
                    .collect();
                flow.error.set(Some(failure_report(&reasons, total)));
                flow.targets.set(
                    failed
                        .into_iter()
                        .map(|(path, name, _)| (path, name))
                        .collect(),
                );
            }
        });
    });
    let question = Signal::derive(move || {
        flow.targets.with(|targets| {
            let names: Vec<String> = targets.iter().map(|(_, name)| name.clone()).collect();
            if names.is_empty() {
                String::new()
            } else {
                message(&names_phrase(&names), names.len())
            }
        })
    });
    view! {
        <ConfirmDialog open=flow.open title=title message=question confirm_label=confirm_label busy=flow.busy
            error=flow.error on_confirm=confirm/>
    }
}

/// `a`, `a and b`, `a, b and c`.
pub fn names_phrase(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What a delete names: `project team` for one, `3 projects: a, b and c` for more.
pub fn what(noun: &str, nouns: &str, names: &str, count: usize) -> String {
    if count == 1 {
        format!("{noun} {names}")
    } else {
        format!("{count} {nouns}: {names}")
    }
}

/// Why a delete failed: the server's message alone when one item was asked for, else each failed item with
/// its reason, one a line (an item not tried, after the session ended, has no reason).
pub fn failure_report(failed: &[(String, String)], asked: usize) -> String {
    if let ([(_, why)], 1) = (failed, asked) {
        return why.clone();
    }
    let lines: Vec<String> = failed
        .iter()
        .map(|(name, why)| {
            if why.is_empty() {
                format!("{name}: not tried")
            } else {
                format!("{name}: {why}")
            }
        })
        .collect();
    format!("{} of {asked} failed:\n{}", failed.len(), lines.join("\n"))
}

/// A number unique to this page load, for element ids.
pub fn next_id() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn names_read_as_a_sentence() {
        assert_eq!(names_phrase(&[]), "");
        assert_eq!(names_phrase(&names(&["a"])), "a");
        assert_eq!(names_phrase(&names(&["a", "b"])), "a and b");
        assert_eq!(names_phrase(&names(&["a", "b", "c"])), "a, b and c");
        assert_eq!(what("project", "projects", "team", 1), "project team");
        assert_eq!(
            what("project", "projects", "a and b", 2),
            "2 projects: a and b"
        );
    }

    #[test]
    fn failures_name_each_item_and_its_reason() {
        let one = [("alice".to_owned(), "Not allowed.".to_owned())];
        assert_eq!(failure_report(&one, 1), "Not allowed.");
        assert_eq!(
            failure_report(&one, 3),
            "1 of 3 failed:\nalice: Not allowed."
        );
        let two = [
            ("a".to_owned(), "Gone.".to_owned()),
            ("b".to_owned(), String::new()),
        ];
        assert_eq!(
            failure_report(&two, 2),
            "2 of 2 failed:\na: Gone.\nb: not tried"
        );
    }
}
