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
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
