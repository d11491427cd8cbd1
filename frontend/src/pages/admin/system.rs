//! Administration: System.

use leptos::prelude::*;

use crate::pages::placeholder::Placeholder;

#[component]
pub fn SystemPage() -> impl IntoView {
    view! { <Placeholder title="System"/> }
}
