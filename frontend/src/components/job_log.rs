//! A job's log in a dialog (`GET …/log`, text), and the one way the job pages send an action: a `PUT`/`POST`
//! whose failure (e.g. 409 when a collection already runs) is shown as the server's message.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api;
use crate::components::dialog::Dialog;
use crate::components::fetch::RawFetch;
use crate::components::toast::{error_banner, loading_note, use_toasts};

/// Where the log dialog reads from: the API path of a log (`/jobservice/jobs/7/log`), `None` while closed.
#[derive(Debug, Clone, Copy)]
pub struct LogView {
    path: RwSignal<Option<String>>,
    open: RwSignal<bool>,
}

impl LogView {
    pub fn new() -> Self {
        let view = LogView {
            path: RwSignal::new(None),
            open: RwSignal::new(false),
        };
        Effect::new(move |_| {
            if !view.open.get() {
                view.path.set(None);
            }
        });
        view
    }

    /// Opens the dialog on the log at `path`.
    pub fn show(&self, path: String) {
        self.path.set(Some(path));
        self.open.set(true);
    }
}

impl Default for LogView {
    fn default() -> Self {
        Self::new()
    }
}

/// The dialog of a [`LogView`]: the log's text, or what failed.
#[component]
pub fn LogDialog(log: LogView) -> impl IntoView {
    let fetch = RawFetch::new(Memo::new(move |_| log.path.get()), RwSignal::new(0));
    let title = Signal::derive(move || {
        let path = log.path.get().unwrap_or_default();
        format!("Log of {}", log_subject(&path))
    });
    // Closed: nothing (not "Loading…", which would say the page is still loading).
    let body = move || match fetch.with(|a| {
        a.as_ref()
            .map(|a| a.text().to_owned())
            .map_err(Clone::clone)
    }) {
        _ if log.path.with(Option::is_none) => ().into_any(),
        _ if fetch.loading() => loading_note(),
        None => loading_note(),
        Some(Err(e)) => error_banner(e.message),
        Some(Ok(text)) if text.is_empty() => {
            view! { <p class="hint">"The log is empty."</p> }.into_any()
        }
        Some(Ok(text)) => {
            view! { <pre class="job-log" data-testid="job-log">{text}</pre> }.into_any()
        }
    };
    view! {
        <Dialog open=log.open title=title>
            <div class="dialog-body">{body}</div>
            <footer class="dialog-footer">
                <button type="button" class="secondary" on:click=move |_| fetch.refetch()>"Refresh"</button>
                <button type="button" on:click=move |_| log.open.set(false)>"Close"</button>
            </footer>
        </Dialog>
    }
}

/// What a log path names, for the dialog's title: `/system/gc/7/log` → `run 7`, `/jobservice/jobs/7/log` →
/// `job 7`.
pub fn log_subject(path: &str) -> String {
    let mut parts = path.trim_end_matches("/log").rsplit('/');
    let id = parts.next().unwrap_or_default();
    let noun = if path.starts_with("/jobservice/") {
        "job"
    } else {
        "run"
    };
    format!("{noun} {id}")
}

/// Sends `PUT` (or `POST` when `post`) `path` with `body`; on success shows `done` and calls `then`, on failure
/// the server's message.
pub fn send_action(post: bool, path: String, body: Value, done: String, then: Callback<()>) {
    let toasts = use_toasts();
    spawn_local(async move {
        let sent = if post {
            api::post(&path, &body).await
        } else {
            api::put(&path, &body).await
        };
        match sent {
            Ok(()) => {
                toasts.success(done);
                then.run(());
            }
            Err(e) => toasts.error(e.message),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_titles_name_the_run_or_job() {
        assert_eq!(log_subject("/system/gc/7/log"), "run 7");
        assert_eq!(log_subject("/system/purgeaudit/12/log"), "run 12");
        assert_eq!(log_subject("/jobservice/jobs/3/log"), "job 3");
    }
}
