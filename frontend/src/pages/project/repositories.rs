//! The project's repositories view.

use leptos::prelude::*;

#[component]
pub fn RepositoriesTab() -> impl IntoView {
    super::coming("Repositories")
}
