//! Administration → Configuration (`/harbor/configs`, Harbor's page, which opens on its first tab): tabs for
//! the authentication settings (`/harbor/configs/auth`) and Berth's system information
//! (`/harbor/configs/setting`).

use leptos::prelude::*;

use crate::components::tabs::tabbed_page;

#[component]
pub fn ConfigPage() -> impl IntoView {
    tabbed_page(
        "Configuration",
        &[
            ("/harbor/configs/auth", "Authentication"),
            ("/harbor/configs/setting", "System"),
        ],
    )
}
