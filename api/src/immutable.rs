//! Immutable tag rules: Harbor's `ImmutableRule` and `ImmutableSelector`
//! (`/projects/{project_name_or_id}/immutabletagrules`).
//!
//! A rule has one repository selector (`scope_selectors.repository[0]`, decoration `repoMatches` or
//! `repoExcludes`) and one tag selector (`tag_selectors[0]`, decoration `matches` or `excludes`), each a
//! doublestar pattern of kind `doublestar`. A tag is immutable when an enabled rule selects both its
//! repository (the name without the project) and the tag.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The `action` of every immutable tag rule.
pub const ACTION: &str = "immutable";
/// The `template` Harbor's portal gives every immutable tag rule.
pub const TEMPLATE: &str = "immutable_template";
/// The one selector `kind`.
pub const DOUBLESTAR: &str = "doublestar";
/// The key of the repository selectors in `scope_selectors`.
pub const REPOSITORY_SCOPE: &str = "repository";

/// Harbor's `ImmutableRule`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImmutableRule {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub priority: i64,
    #[serde(default)]
    pub disabled: bool,
    /// Always `immutable`.
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub template: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub tag_selectors: Vec<ImmutableSelector>,
    /// `{"repository": [selector]}`.
    #[serde(default)]
    pub scope_selectors: BTreeMap<String, Vec<ImmutableSelector>>,
}

/// Harbor's `ImmutableSelector`: `kind` `doublestar`; `decoration` `matches`/`excludes` for tags,
/// `repoMatches`/`repoExcludes` for repositories; `extras` is kept as given and not evaluated (as in Harbor).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImmutableSelector {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub decoration: String,
    #[serde(default)]
    pub pattern: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub extras: String,
}

impl ImmutableRule {
    /// The first repository selector, the one that is evaluated.
    pub fn repository_selector(&self) -> Option<&ImmutableSelector> {
        self.scope_selectors
            .get(REPOSITORY_SCOPE)
            .and_then(|s| s.first())
    }

    /// The first tag selector, the one that is evaluated.
    pub fn tag_selector(&self) -> Option<&ImmutableSelector> {
        self.tag_selectors.first()
    }
}
