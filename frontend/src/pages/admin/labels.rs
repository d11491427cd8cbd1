//! Administration → Labels (`/harbor/labels`): the global labels (`GET /labels?scope=g`), which any project's
//! artifacts may carry; system administrators create, edit and delete them.

use leptos::prelude::*;

use crate::auth::use_current_user;
use crate::components::labels::{LabelList, LabelScope};

#[component]
pub fn LabelsPage() -> impl IntoView {
    let user = use_current_user();
    let admin = Signal::derive(move || user.is_sysadmin());
    view! {
        <section class="page">
            <h1>"Labels"</h1>
            <p class="hint">"Global labels may be put on the artifacts of every project."</p>
            <LabelList scope=LabelScope::Global can_create=admin can_update=admin can_delete=admin/>
        </section>
    }
}
