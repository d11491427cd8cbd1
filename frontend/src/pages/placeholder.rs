//! Pages that a later phase of the console fills in.

use leptos::prelude::*;

#[component]
pub fn Placeholder(#[prop(into)] title: String) -> impl IntoView {
    view! {
        <section class="page">
            <h1>{title}</h1>
            <p class="empty">"This page is not available in the console yet; the REST API already offers it."</p>
        </section>
    }
}
