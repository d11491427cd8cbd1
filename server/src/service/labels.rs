//! Labels: validating Harbor's `Label`, the limits, and the rule of which artifacts a label may go on.
//!
//! Harbor's rules (`src/pkg/label/model`, `src/server/v2.0/handler/label.go`): a name is required and at most
//! 128 characters; the scope is `g` or `p`; a `p` label names its project. Berth also bounds the description
//! and requires a colour to be a CSS hex colour (Harbor's portal only offers those).

use berth_api::labels::{GLOBAL, Label, PROJECT};

use super::ServiceError;
use crate::db::{AttachLabelError, LabelRow, SaveLabelError};

/// The longest name, in characters (Harbor's limit).
pub const MAX_NAME_CHARS: usize = 128;
/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// The most labels one scope (the global labels, or one project's) may hold.
pub const MAX_PER_SCOPE: i64 = 1000;
/// The most labels one artifact may carry.
pub const MAX_PER_ARTIFACT: i64 = 100;

/// A label's name, description and colour, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelText {
    pub name: String,
    pub description: String,
    pub color: String,
}

/// Checks the name, description and colour of `label`.
pub fn validate(label: &Label) -> Result<LabelText, ServiceError> {
    let invalid = |message: String| Err(ServiceError::Invalid(message));
    let name = label.name.as_str();
    if name.trim().is_empty() {
        return invalid("a label needs a name".to_owned());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return invalid(format!(
            "a label's name is at most {MAX_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return invalid("a label's name cannot hold control characters".to_owned());
    }
    if label.description.chars().count() > MAX_DESCRIPTION_CHARS {
        return invalid(format!(
            "a label's description is at most {MAX_DESCRIPTION_CHARS} characters"
        ));
    }
    if !is_color(&label.color) {
        return invalid(format!(
            "invalid color {:?}: a hex colour such as #0095D3 (or #09D), or empty",
            label.color.chars().take(32).collect::<String>()
        ));
    }
    Ok(LabelText {
        name: name.to_owned(),
        description: label.description.clone(),
        color: label.color.clone(),
    })
}

/// Empty, or `#` and 3 or 6 hex digits.
fn is_color(color: &str) -> bool {
    if color.is_empty() {
        return true;
    }
    color
        .strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The scope a request names: `Some(project_id)` for `p`, `None` for `g`.
pub fn scope(label: &Label) -> Result<Option<i64>, ServiceError> {
    match label.scope.as_str() {
        GLOBAL => Ok(None),
        PROJECT if label.project_id > 0 => Ok(Some(label.project_id)),
        PROJECT => Err(ServiceError::Invalid(
            "a project label (scope p) needs the project_id of its project".to_owned(),
        )),
        other => Err(ServiceError::Invalid(format!(
            "invalid scope {:?}: g (global) or p (project)",
            other.chars().take(16).collect::<String>()
        ))),
    }
}

/// Whether `label` may go on an artifact of project `project_id`: a global label on any, a project label on
/// its own project's only.
pub fn usable_in(label: &LabelRow, project_id: i64) -> Result<(), ServiceError> {
    match label.project_id {
        Some(own) if own != project_id => Err(ServiceError::Invalid(format!(
            "label {} is a label of another project; only that project's artifacts may carry it",
            label.id
        ))),
        _ => Ok(()),
    }
}

/// Harbor's `Label` for a row.
pub fn to_wire(row: LabelRow) -> Label {
    Label {
        id: row.id,
        name: row.name,
        description: row.description,
        color: row.color,
        scope: row.scope,
        project_id: row.project_id.unwrap_or(0),
        creation_time: row.created_at,
        update_time: row.updated_at,
    }
}

impl From<SaveLabelError> for ServiceError {
    fn from(error: SaveLabelError) -> Self {
        match error {
            SaveLabelError::TooMany(max) => ServiceError::Invalid(format!(
                "at most {max} labels may exist in one scope (the global labels, or one project's)"
            )),
            SaveLabelError::Duplicate => ServiceError::Conflict(
                "a label with this name already exists in this scope".to_owned(),
            ),
            SaveLabelError::NotFound => ServiceError::NotFound("label not found".to_owned()),
            SaveLabelError::Db(e) => ServiceError::Db(e),
        }
    }
}

impl From<AttachLabelError> for ServiceError {
    fn from(error: AttachLabelError) -> Self {
        match error {
            AttachLabelError::Attached => {
                ServiceError::Conflict("the artifact already carries this label".to_owned())
            }
            AttachLabelError::TooMany(max) => {
                ServiceError::Invalid(format!("an artifact carries at most {max} labels"))
            }
            AttachLabelError::Db(e) => ServiceError::Db(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(name: &str, color: &str) -> Label {
        Label {
            name: name.to_owned(),
            color: color.to_owned(),
            scope: GLOBAL.to_owned(),
            ..Label::default()
        }
    }

    #[test]
    fn names_and_colours_are_bounded() {
        assert!(validate(&label("release", "#0095D3")).is_ok());
        assert!(validate(&label("release", "#abc")).is_ok());
        assert!(validate(&label("release", "")).is_ok());
        assert!(validate(&label("", "")).is_err());
        assert!(validate(&label("  ", "")).is_err());
        assert!(validate(&label("a\nb", "")).is_err());
        assert!(validate(&label(&"x".repeat(128), "")).is_ok());
        assert!(validate(&label(&"x".repeat(129), "")).is_err());
        for bad in ["red", "#12345", "#GGGGGG", "0095D3", "#0095D3;"] {
            assert!(validate(&label("x", bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_are_g_or_p_with_a_project() -> Result<(), ServiceError> {
        let mut l = label("x", "");
        assert_eq!(scope(&l)?, None);
        l.scope = PROJECT.to_owned();
        assert!(scope(&l).is_err());
        l.project_id = 7;
        assert_eq!(scope(&l)?, Some(7));
        l.scope = "x".to_owned();
        assert!(scope(&l).is_err());
        Ok(())
    }
}
