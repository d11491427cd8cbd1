//! Building blocks shared by the pages. Each keeps its logic in plain functions with unit tests; the
//! components are markup over them.

pub mod copy_button;
pub mod dialog;
pub mod quota_bar;
pub mod table;
pub mod toast;
