//! Domain services: validation and rules above the data layer, shared by the CLI and (later) the REST API.

pub mod artifacts;
pub mod configurations;
pub mod immutable;
pub mod labels;
pub mod oidc;
pub mod projects;
pub mod registries;
pub mod robots;
pub mod scanners;
pub mod setup;
pub mod sign_up;
pub mod users;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    /// The state of a resource forbids the change (an immutable tag, for one): 412.
    #[error("{0}")]
    Precondition(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("password hashing failed")]
    Hash,
}
