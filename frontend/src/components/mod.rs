//! Building blocks shared by the pages. Each keeps its logic in plain functions with unit tests; the
//! components are markup over them.

pub mod action_menu;
pub mod audit_log;
pub mod copy_button;
pub mod dialog;
pub mod fetch;
pub mod job_log;
pub mod json_table;
pub mod labels;
pub mod pulls_chart;
pub mod push_commands;
pub mod quota_bar;
pub mod robot_form;
pub mod sbom_bar;
pub mod schedule;
pub mod select_table;
pub mod table;
pub mod tabs;
pub mod toast;
pub mod vulnerability_bar;
pub mod when;
