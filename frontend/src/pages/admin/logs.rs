//! Administration: Audit Log.

use leptos::prelude::*;

use crate::pages::placeholder::Placeholder;

#[component]
pub fn AuditLogPage() -> impl IntoView {
    view! { <Placeholder title="Audit Log"/> }
}
