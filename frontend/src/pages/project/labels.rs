//! The project's Labels tab (`/harbor/projects/{id}/labels`): the project's own labels
//! (`GET /labels?scope=p&project_id=N`), which only its artifacts may carry, with Harbor's actions for those
//! the project's role matrix allows (`label` create / update / delete: project admins and maintainers).

use leptos::prelude::*;

use super::use_project;
use crate::components::labels::{LabelList, LabelScope};
use crate::components::toast::loading_note;

#[component]
pub fn LabelsTab() -> impl IntoView {
    let ctx = use_project();
    // Only a change of project renders the list again, not every reload of the same project.
    let project_id = Memo::new(move |_| ctx.project.with(|p| p.as_ref().map(|p| p.project_id)));
    let can_create = Signal::derive(move || ctx.can("label", "create"));
    let can_update = Signal::derive(move || ctx.can("label", "update"));
    let can_delete = Signal::derive(move || ctx.can("label", "delete"));
    move || match project_id.get() {
        None => loading_note(),
        Some(id) => view! {
            <LabelList scope=LabelScope::Project(id) can_create=can_create can_update=can_update
                can_delete=can_delete/>
        }
        .into_any(),
    }
}
