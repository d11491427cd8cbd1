//! The project's members view.

use leptos::prelude::*;

#[component]
pub fn MembersTab() -> impl IntoView {
    super::coming("Members")
}
