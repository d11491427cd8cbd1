//! OIDC sign-in (issue 6): the OIDC client against a real OpenID Provider (the npm package `oidc-provider`)
//! started by the tests.
//!
//! `provider` is the fixture (start, stop, and a scripted browser for its login and consent pages); `client`
//! drives `berth::auth::oidc::OidcClient` directly.

mod client;
pub mod provider;
mod signin;
