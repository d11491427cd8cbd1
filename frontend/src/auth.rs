//! Who is signed in: the user from `GET /users/current`, shared as a context. The server decides what a user
//! may do; the console only hides what would be refused.

use berth_api::users::UserResp;
use leptos::prelude::*;

/// Harbor's portal paths for signing in.
pub const SIGN_IN_PATH: &str = "/account/sign-in";
/// Where the console goes after sign-in when nothing else was asked for.
pub const HOME_PATH: &str = "/harbor/projects";

/// The signed-in user, once known.
#[derive(Debug, Clone, Copy)]
pub struct CurrentUser(pub RwSignal<Option<UserResp>>);

impl CurrentUser {
    /// A system admin by flag, or by the LDAP or OIDC admin group at sign-in (`admin_role_in_auth`), as Harbor's
    /// portal reads it.
    pub fn is_sysadmin(&self) -> bool {
        self.0.with(|u| {
            u.as_ref()
                .is_some_and(|u| u.sysadmin_flag || u.admin_role_in_auth)
        })
    }
}

pub fn provide() -> CurrentUser {
    let user = CurrentUser(RwSignal::new(None));
    provide_context(user);
    user
}

pub fn use_current_user() -> CurrentUser {
    use_context::<CurrentUser>().unwrap_or_else(provide)
}

/// The sign-in page's address, asking to come back to `here` afterwards.
pub fn sign_in_url(here: &str) -> String {
    if here.is_empty() || here == "/" || here.starts_with(SIGN_IN_PATH) {
        SIGN_IN_PATH.to_owned()
    } else {
        format!(
            "{SIGN_IN_PATH}?redirect_url={}",
            crate::api::encode_component(here)
        )
    }
}

/// Where to go after sign-in: `redirect_url` if it is a path on this site by the server's rule
/// ([`berth_api::oidc::is_local_path`]: never another origin, so a link cannot bounce a user elsewhere),
/// else the projects list.
pub fn after_sign_in(redirect_url: Option<&str>) -> String {
    match redirect_url {
        Some(path) if berth_api::oidc::is_local_path(path) && !path.starts_with(SIGN_IN_PATH) => {
            path.to_owned()
        }
        _ => HOME_PATH.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_remembers_where_the_user_was() {
        assert_eq!(
            sign_in_url("/harbor/projects/3?x=1"),
            "/account/sign-in?redirect_url=%2Fharbor%2Fprojects%2F3%3Fx%3D1"
        );
        assert_eq!(sign_in_url("/"), "/account/sign-in");
        assert_eq!(
            sign_in_url("/account/sign-in?redirect_url=x"),
            "/account/sign-in"
        );
    }

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(
            after_sign_in(Some("/harbor/projects/3")),
            "/harbor/projects/3"
        );
        assert_eq!(after_sign_in(Some("//evil.example")), HOME_PATH);
        assert_eq!(after_sign_in(Some("/\\evil.example")), HOME_PATH);
        assert_eq!(after_sign_in(Some("/\t/evil.example/x")), HOME_PATH);
        assert_eq!(after_sign_in(Some("https://evil.example")), HOME_PATH);
        assert_eq!(after_sign_in(None), HOME_PATH);
    }
}
