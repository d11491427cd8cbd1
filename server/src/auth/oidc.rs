//! OpenID Connect sign-in (`oidc_auth`).

use crate::secret::StoredSecret;

/// OIDC settings, with Harbor's configuration keys (`oidc_<field>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// `oidc_name`: the provider's name, shown on the sign-in button.
    pub name: String,
    /// `oidc_endpoint`: the issuer URL (discovery at `/.well-known/openid-configuration`); empty when not
    /// configured.
    pub endpoint: String,
    /// `oidc_client_id`.
    pub client_id: String,
    /// `oidc_client_secret`.
    pub client_secret: StoredSecret,
    /// `oidc_groups_claim`: the claim listing the user's groups; empty for none.
    pub groups_claim: String,
    /// `oidc_admin_group`: members of this group are system admins; empty for none.
    pub admin_group: String,
    /// `oidc_group_filter`: a regular expression group names must match to count; empty for all.
    pub group_filter: String,
    /// `oidc_scope`: comma separated; must include `openid`.
    pub scope: String,
    /// `oidc_user_claim`: the claim holding the username; empty for the default.
    pub user_claim: String,
    /// `oidc_verify_cert`.
    pub verify_cert: bool,
    /// `oidc_auto_onboard`: create users at first sign-in without asking for a username.
    pub auto_onboard: bool,
    /// `oidc_extra_redirect_parms`: a JSON object of strings, as text (Harbor returns it so), added to the
    /// authorization request.
    pub extra_redirect_parms: String,
}

impl Default for OidcSettings {
    fn default() -> Self {
        OidcSettings {
            name: String::new(),
            endpoint: String::new(),
            client_id: String::new(),
            client_secret: StoredSecret::Unset,
            groups_claim: String::new(),
            admin_group: String::new(),
            group_filter: String::new(),
            scope: String::new(),
            user_claim: String::new(),
            verify_cert: true,
            auto_onboard: false,
            extra_redirect_parms: "{}".to_owned(),
        }
    }
}
