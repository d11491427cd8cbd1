//! Who is calling, and what they may do.
//!
//! - [`client_address`] works out where a request comes from (the peer, or a trusted proxy's client).
//! - [`credentials`] reads the `Authorization` header (Basic, Bearer or none).
//! - [`password`] hashes and checks passwords (argon2id, off the async executor) and caches recent checks.
//! - [`policy`] is the one function that decides what a subject may do in a project.
//! - [`robots`] turns robot permission lists into registry actions and REST grants.
//! - [`throttle`] slows down, then locks, sign-ins after repeated failures; [`admission`] bounds how many
//!   password checks run and wait at once.
//! - [`session`] keeps browser sessions (cookie `sid`) and their CSRF tokens; [`login_endpoint`] serves
//!   `/c/login` and `/c/log_out`.
//! - [`directory`] checks passwords with the LDAP server and keeps the OIDC client; [`ldap`] and [`oidc`]
//!   are the clients, and [`oidc_endpoint`] serves `/c/oidc/login`, `/c/oidc/callback` and `/c/oidc/onboard`.
//! - [`token`] issues and verifies the registry's bearer tokens; [`token_endpoint`] serves `/service/token`.

pub mod admission;
pub mod client_address;
pub mod credentials;
pub mod directory;
pub mod ldap;
pub mod login_endpoint;
pub mod oidc;
pub mod oidc_endpoint;
pub mod password;
pub mod policy;
pub mod robots;
pub mod session;
pub mod throttle;
pub mod token;
pub mod token_endpoint;

pub use credentials::Credentials;
pub use policy::{Action, ActionSet, Subject};
