//! Administration: Groups.

use leptos::prelude::*;

use crate::pages::placeholder::Placeholder;

#[component]
pub fn GroupsPage() -> impl IntoView {
    view! { <Placeholder title="Groups"/> }
}
