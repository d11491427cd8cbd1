//! Any path the console does not know.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <main class="centered-page">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <A href=crate::auth::HOME_PATH>"Go to Projects"</A>
        </main>
    }
}
