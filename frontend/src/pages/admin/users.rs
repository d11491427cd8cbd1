//! Administration: Users.

use leptos::prelude::*;

use crate::pages::placeholder::Placeholder;

#[component]
pub fn UsersPage() -> impl IntoView {
    view! { <Placeholder title="Users"/> }
}
