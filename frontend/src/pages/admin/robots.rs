//! Administration: Robot Accounts.

use leptos::prelude::*;

use crate::pages::placeholder::Placeholder;

#[component]
pub fn RobotsPage() -> impl IntoView {
    view! { <Placeholder title="Robot Accounts"/> }
}
