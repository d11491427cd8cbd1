//! Labels: Harbor's `Label` (`/labels`, and `labels` of an artifact with `with_label=true`).
//!
//! A label's `scope` is `g` (global: `project_id` 0, managed by system administrators, usable on any artifact)
//! or `p` (of project `project_id`, usable on that project's artifacts only).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The scope of global labels.
pub const GLOBAL: &str = "g";
/// The scope of project labels.
pub const PROJECT: &str = "p";

/// Harbor's `Label`. In a request only `name`, `description`, `color`, `scope` and `project_id` are read
/// (and only `id` when a label is put on an artifact).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Label {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A CSS hex colour such as `#0095D3`, or empty.
    #[serde(default)]
    pub color: String,
    /// `g` or `p`.
    #[serde(default)]
    pub scope: String,
    /// The project of a `p` label; 0 for a global one.
    #[serde(default)]
    pub project_id: i64,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub update_time: String,
}
