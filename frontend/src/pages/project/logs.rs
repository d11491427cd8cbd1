//! The project's logs view.

use leptos::prelude::*;

#[component]
pub fn LogsTab() -> impl IntoView {
    super::coming("The project's audit log")
}
