//! The project's summary view.

use leptos::prelude::*;

#[component]
pub fn SummaryTab() -> impl IntoView {
    super::coming("The project's quota, counts and pulls")
}
