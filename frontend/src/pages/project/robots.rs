//! The project's robots view.

use leptos::prelude::*;

#[component]
pub fn RobotsTab() -> impl IntoView {
    super::coming("Robot accounts")
}
