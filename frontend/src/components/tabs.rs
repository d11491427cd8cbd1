//! A page of tabs, as Harbor's: the page's title, a link per tab (each tab its own route, so it can be
//! bookmarked) and the tab in view. One copy for every such page (Configuration, Clean Up).

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

/// `title` over the tab links `tabs` (`(path, label)`) and the tab the route shows.
pub fn tabbed_page(title: &'static str, tabs: &'static [(&'static str, &'static str)]) -> AnyView {
    let links = tabs
        .iter()
        .map(|&(href, label)| view! { <A href=href>{label}</A> })
        .collect_view();
    view! {
        <section class="page">
            <h1>{title}</h1>
            <nav class="tabs" aria-label=title>{links}</nav>
            <div class="tab-panel">
                <Outlet/>
            </div>
        </section>
    }
    .into_any()
}
