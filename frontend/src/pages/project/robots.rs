//! The project's Robot Accounts tab (`/harbor/projects/{id}/robot-account`): the project's robots
//! (`GET /robots?q=Level=project,ProjectID=N`) with Harbor's actions, for those the project's role matrix
//! allows (`robot` create / update / delete).

use leptos::prelude::*;

use super::use_project;
use crate::components::robot_form::{RobotList, RobotScope};
use crate::components::toast::loading_note;

#[component]
pub fn RobotsTab() -> impl IntoView {
    let ctx = use_project();
    // Only a change of project renders the list again, not every reload of the same project.
    let scope = Memo::new(move |_| {
        ctx.project.with(|p| {
            p.as_ref().map(|p| RobotScope::Project {
                id: p.project_id,
                name: p.name.clone(),
            })
        })
    });
    let can_create = Signal::derive(move || ctx.can("robot", "create"));
    let can_update = Signal::derive(move || ctx.can("robot", "update"));
    let can_delete = Signal::derive(move || ctx.can("robot", "delete"));
    let can_list = move || ctx.can("robot", "list");
    move || {
        match scope.get() {
        // The permissions arrive after the project; an empty list would flash the refusal.
        None => loading_note(),
        Some(_) if ctx.permissions.with(|p| *p == Default::default()) => loading_note(),
        Some(_) if !can_list() => view! {
            <p class="empty">"Your role in this project does not show its robot accounts."</p>
        }
        .into_any(),
        Some(scope) => view! {
            <RobotList scope=scope can_create=can_create can_update=can_update can_delete=can_delete/>
        }
        .into_any(),
    }
    }
}
