//! Administration (system administrators only; the server refuses everyone else anyway): users, groups,
//! system robot accounts, registry endpoints, the audit log and system information.

pub mod auth_config;
pub mod config;
pub mod config_form;
pub mod groups;
pub mod logs;
pub mod registries;
pub mod robots;
pub mod system;
pub mod users;
