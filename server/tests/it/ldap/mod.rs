//! LDAP sign-in (issue 6): the LDAP client against a private OpenLDAP `slapd` started by the tests.
//!
//! `slapd` is the fixture (configuration, directory data, start and stop); `client` drives
//! `berth::auth::ldap::LdapClient` directly.

mod client;
mod signin;
pub mod slapd;
