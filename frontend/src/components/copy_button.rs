//! A button that copies a text to the clipboard and says so for a moment.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

/// Copies `text`; `label` names what is copied for screen readers (e.g. "Copy digest").
#[component]
pub fn CopyButton(
    #[prop(into)] text: Signal<String>,
    #[prop(into)] label: String,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        let value = text.get_untracked();
        spawn_local(async move {
            if write_clipboard(&value).await {
                copied.set(true);
                set_timeout(move || copied.set(false), Duration::from_millis(1500));
            }
        });
    };
    view! {
        <button type="button" class="copy secondary" aria-label=label title="Copy" on:click=copy>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

async fn write_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}
