//! Administration (system administrators only; the server refuses everyone else anyway): users, groups,
//! system robot accounts, the audit log and system information.

pub mod groups;
pub mod logs;
pub mod robots;
pub mod system;
pub mod users;
