//! The project's artifacts view.

use leptos::prelude::*;

#[component]
pub fn ArtifactsPage() -> impl IntoView {
    super::coming("The repository's artifacts")
}
