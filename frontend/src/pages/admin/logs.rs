//! Administration → Audit Log (`/harbor/logs`): every entry of the audit log (`GET /audit-logs`), for system
//! administrators; the server refuses everyone else and the table shows its message.

use leptos::prelude::*;

use crate::components::audit_log::AuditLog;

#[component]
pub fn AuditLogPage() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Audit Log"</h1>
            <AuditLog path="/audit-logs"/>
        </section>
    }
}
