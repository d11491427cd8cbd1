//! What the console shows instead of a page: an address it does not know, a page the signed-in user may not
//! use (a direct link to an administration page or a project tab their role lacks), and a project that does
//! not exist or is hidden from them. Each says so once, sets the document's title, and links back to Projects.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::title;

#[component]
pub fn NotFound() -> impl IntoView {
    title::show_instead("Page not found");
    view! {
        <main class="centered-page">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <A href=crate::auth::HOME_PATH>"Go to Projects"</A>
        </main>
    }
}

/// A page the user's role does not allow (Harbor's role matrix; the server would refuse it anyway).
#[component]
pub fn NoPermission() -> impl IntoView {
    notice(
        "No permission",
        "Your account may not use this page. Ask a system or project administrator if you need it.",
        "no-permission",
    )
}

/// A project address whose project does not exist, or is private and the user is not a member (the server
/// answers both alike, so as not to reveal private projects).
#[component]
pub fn ProjectNotFound() -> impl IntoView {
    notice(
        "Project not found",
        "There is no such project, or it is private and you are not one of its members.",
        "project-not-found",
    )
}

/// A page shown in place of another inside the console's layout: what, why, and the way back.
fn notice(heading: &'static str, why: &'static str, test_id: &'static str) -> impl IntoView {
    title::show_instead(heading);
    view! {
        <section class="page centered-page" data-testid=test_id>
            <h1>{heading}</h1>
            <p>{why}</p>
            <A href=crate::auth::HOME_PATH>"Go to Projects"</A>
        </section>
    }
}
