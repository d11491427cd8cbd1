//! One module per page. Pages read and change data only through [`crate::api`].

pub mod admin;
pub mod not_found;
pub mod placeholder;
pub mod profile;
pub mod project;
pub mod projects;
pub mod search;
pub mod sign_in;
