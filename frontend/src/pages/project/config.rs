//! The project's config view.

use leptos::prelude::*;

#[component]
pub fn ConfigTab() -> impl IntoView {
    super::coming("The project's configuration")
}
