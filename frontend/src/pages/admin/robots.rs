//! Administration → Robot Accounts (`/harbor/robot-accounts`): the system robots (`GET /robots?q=Level=system`),
//! for system administrators (the server refuses everyone else).

use leptos::prelude::*;

use crate::auth::use_current_user;
use crate::components::robot_form::{RobotList, RobotScope};
use crate::components::when::When;

#[component]
pub fn RobotsPage() -> impl IntoView {
    let user = use_current_user();
    let admin = Signal::derive(move || user.is_sysadmin());
    view! {
        <section class="page">
            <h1>"Robot Accounts"</h1>
            <p class="hint">
                "System robot accounts hold project permissions in the projects they cover, or in all projects."
            </p>
            <When when=move || admin.get()
                fallback=|| view! { <p class="empty">"Only system administrators manage system robot accounts."</p> }>
                <RobotList scope=RobotScope::System can_create=admin can_update=admin can_delete=admin/>
            </When>
        </section>
    }
}
