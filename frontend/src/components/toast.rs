//! Feedback: short-lived toasts for finished actions, and error banners for what failed.

use std::time::Duration;

use leptos::prelude::*;

use crate::api::ApiError;

/// How long a toast stays.
const TOAST_FOR: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    id: u32,
    text: String,
    error: bool,
}

/// The app's toasts (a context, see [`provide`]).
#[derive(Debug, Clone, Copy)]
pub struct Toasts(RwSignal<Vec<Toast>>);

impl Toasts {
    pub fn success(&self, text: impl Into<String>) {
        self.push(text.into(), false);
    }

    pub fn error(&self, text: impl Into<String>) {
        self.push(text.into(), true);
    }

    fn push(&self, text: String, error: bool) {
        let id = super::dialog::next_id();
        let list = self.0;
        list.update(|l| l.push(Toast { id, text, error }));
        set_timeout(move || list.update(|l| l.retain(|t| t.id != id)), TOAST_FOR);
    }
}

/// Makes [`Toasts`] available to every page.
pub fn provide() -> Toasts {
    let toasts = Toasts(RwSignal::new(Vec::new()));
    provide_context(toasts);
    toasts
}

/// The toasts, where [`Toasts`] was provided.
pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().unwrap_or_else(provide)
}

/// Where toasts appear (a polite live region, so screen readers announce them).
#[component]
pub fn ToastArea() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.0.get() key=|t| t.id let:toast>
                <div class="toast" class:toast-error=toast.error>{toast.text}</div>
            </For>
        </div>
    }
}

/// An error banner, shown while `error` holds a message.
#[component]
pub fn ErrorBanner(#[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    move || error.get().map(error_banner)
}

/// What failed, as a banner (the server's message). One copy of the markup for every page (the .wasm budget).
pub fn error_banner(message: String) -> AnyView {
    view! { <div class="banner banner-error" role="alert">{message}</div> }.into_any()
}

/// "Loading…", where a page or a part of it waits for its answer.
pub fn loading_note() -> AnyView {
    view! { <p class="loading">"Loading…"</p> }.into_any()
}

/// What a page shows of an answer: "Loading…" until it comes, the server's message if it failed, else `ok` of
/// it.
pub fn answered<T>(answer: Option<Result<T, ApiError>>, ok: impl FnOnce(T) -> AnyView) -> AnyView {
    match answer {
        None => loading_note(),
        Some(Err(e)) => error_banner(e.message),
        Some(Ok(value)) => ok(value),
    }
}
