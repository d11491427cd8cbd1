//! Berth's admin console: a Leptos app rendered in the browser, a client of Berth's REST API and nothing else.
//!
//! Layout: [`app`] (routes and the app shell), [`pages`] (one module per page), [`components`] (shared
//! building blocks), [`api`] (the one HTTP client), [`answers`] (what it reads of the biggest answers),
//! [`auth`] (who is signed in), [`permissions`] (what they may do in a project), [`system_info`] (what the
//! installation says about itself), [`title`] (the document's title), [`theme`] and [`format`].
//! Logic beyond markup lives in plain functions with host unit tests (`cargo test -p berth-console`).

pub mod answers;
pub mod api;
pub mod app;
pub mod auth;
pub mod components;
pub mod format;
pub mod pages;
pub mod permissions;
pub mod system_info;
pub mod theme;
pub mod title;

use wasm_bindgen::prelude::wasm_bindgen;

/// Runs once the module is instantiated (`index.html` calls the generated `init`).
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(on_panic));
    leptos::mount::mount_to_body(app::App);
}

/// What a lazy page panics with when its module could not be fetched (`wasm_split_macros`' loader): most often
/// a tab left open across an upgrade of Berth, whose fingerprinted modules are gone.
const LAZY_MODULE_FAILED: &str = "load callback should succeed";
/// When the console last reloaded itself for that (milliseconds since the epoch, in the tab's session storage).
const RELOADED_AT: &str = "berth-reloaded-for-lazy-module";
/// At most one such reload a minute: a module that stays missing must not reload the tab in a loop.
const RELOAD_AT_MOST_EVERY_MS: f64 = 60_000.0;

/// Logs the panic to the browser console; if a lazy page's module could not be fetched, reloads the page once
/// (the new `index.html` names the modules the server has now), instead of leaving a dead page.
fn on_panic(info: &std::panic::PanicHookInfo<'_>) {
    console_error_panic_hook::hook(info);
    if !info.to_string().contains(LAZY_MODULE_FAILED) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let storage = window.session_storage().ok().flatten();
    let previous = storage
        .as_ref()
        .and_then(|s| s.get_item(RELOADED_AT).ok().flatten())
        .and_then(|at| at.parse::<f64>().ok());
    let now = js_sys::Date::now();
    if should_reload(previous, now) {
        if let Some(storage) = &storage {
            let _ = storage.set_item(RELOADED_AT, &now.to_string());
        }
        let _ = window.location().reload();
    }
}

/// Whether to reload now, given when the console last reloaded itself for a missing module.
fn should_reload(previous: Option<f64>, now: f64) -> bool {
    previous.is_none_or(|at| now - at >= RELOAD_AT_MOST_EVERY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_module_reloads_at_most_once_a_minute() {
        assert!(should_reload(None, 1_000.0));
        assert!(!should_reload(Some(1_000.0), 30_000.0));
        assert!(should_reload(Some(1_000.0), 61_000.0));
    }
}
