//! Administration → Configuration (`/harbor/configs`, Harbor's page, which opens on its first tab): tabs for
//! the authentication settings (`/harbor/configs/auth`) and Berth's system information
//! (`/harbor/configs/setting`).

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

#[component]
pub fn ConfigPage() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Configuration"</h1>
            <nav class="tabs" aria-label="Configuration">
                <A href="/harbor/configs/auth">"Authentication"</A>
                <A href="/harbor/configs/setting">"System"</A>
            </nav>
            <div class="tab-panel">
                <Outlet/>
            </div>
        </section>
    }
}
