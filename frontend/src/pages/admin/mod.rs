//! Administration (system administrators only; the server refuses everyone else anyway): users, groups,
//! system robot accounts, registry endpoints, replication rules, global labels, Interrogation Services (the Security Hub, scanners and scan-all), the audit log, Clean Up (garbage collection and log rotation), the
//! job service dashboard and system information.

pub mod auth_config;
pub mod cleanup;
pub mod config;
pub mod config_form;
pub mod groups;
pub mod jobs;
pub mod labels;
pub mod logs;
pub mod registries;
pub mod replications;
pub mod robots;
pub mod scanners;
pub mod security_hub;
pub mod system;
pub mod users;
pub mod vulnerability;
