//! Immutable tag rules: validating Harbor's `ImmutableRule`, saving it within the per-project limit, and
//! recording the writes rules refuse. Which tags a rule locks is [`crate::immutable`]'s; the writes that
//! move or remove tags check it in their own transactions (see `db::immutable`).
//!
//! Retention (and anything else that plans deletions) asks [`immutable_tags`] which tags it must keep; the
//! deletes it then issues are checked again and refused if a rule locked a tag in the meantime.

use std::collections::{BTreeMap, HashSet};

use berth_api::immutable::{
    ACTION, DOUBLESTAR, ImmutableRule, ImmutableSelector, REPOSITORY_SCOPE, TEMPLATE,
};

use super::ServiceError;
use crate::db::{Db, ImmutableRuleRow, NewImmutableRule, SaveRuleError};
use crate::events::audit::{self, Audit, ClientIp, Operation};
use crate::immutable::{
    REPO_EXCLUDES, REPO_MATCHES, TAG_EXCLUDES, TAG_MATCHES, TagLocked, TagLocks,
};
use crate::patterns::Doublestar;

/// The most rules a project may have (Harbor's portal stops at 15).
pub const MAX_RULES: i64 = 15;
/// The longest `template`, selector `extras` and serialised `params` accepted, in bytes.
const MAX_TEMPLATE_BYTES: usize = 128;
const MAX_EXTRAS_BYTES: usize = 256;
const MAX_PARAMS_BYTES: usize = 4096;

/// Checks a rule as sent and returns it as stored. A rule has exactly one repository selector
/// (`scope_selectors.repository`) and one tag selector: Harbor evaluates only the first of each, so more
/// would be shown but ignored, and are refused instead.
pub fn validate(rule: &ImmutableRule) -> Result<NewImmutableRule, ServiceError> {
    let invalid = |message: String| ServiceError::Invalid(message);
    if !(rule.action.is_empty() || rule.action == ACTION) {
        return Err(invalid(format!(
            "the action of an immutable tag rule is {ACTION:?}, not {:?}",
            clipped(&rule.action)
        )));
    }
    if rule.template.len() > MAX_TEMPLATE_BYTES {
        return Err(invalid(format!(
            "template is longer than {MAX_TEMPLATE_BYTES} bytes"
        )));
    }
    let params = serde_json::to_string(&rule.params).unwrap_or_else(|_| "{}".to_owned());
    if params.len() > MAX_PARAMS_BYTES {
        return Err(invalid(format!(
            "params is longer than {MAX_PARAMS_BYTES} bytes"
        )));
    }
    if let Some(scope) = rule.scope_selectors.keys().find(|k| *k != REPOSITORY_SCOPE) {
        return Err(invalid(format!(
            "unknown scope selector {:?}: an immutable tag rule has only {REPOSITORY_SCOPE:?}",
            clipped(scope)
        )));
    }
    let repository = one_selector(
        rule.scope_selectors
            .get(REPOSITORY_SCOPE)
            .map_or(&[][..], Vec::as_slice),
        "scope_selectors.repository",
        &[REPO_MATCHES, REPO_EXCLUDES],
    )?;
    let tag = one_selector(
        &rule.tag_selectors,
        "tag_selectors",
        &[TAG_MATCHES, TAG_EXCLUDES],
    )?;
    Ok(NewImmutableRule {
        disabled: rule.disabled,
        priority: rule.priority,
        template: if rule.template.is_empty() {
            TEMPLATE.to_owned()
        } else {
            rule.template.clone()
        },
        params,
        repo_decoration: repository.decoration.clone(),
        repo_pattern: repository.pattern.clone(),
        repo_extras: repository.extras.clone(),
        tag_decoration: tag.decoration.clone(),
        tag_pattern: tag.pattern.clone(),
        tag_extras: tag.extras.clone(),
    })
}

/// The one selector of `selectors` (named `what`), checked.
fn one_selector<'a>(
    selectors: &'a [ImmutableSelector],
    what: &str,
    decorations: &[&str],
) -> Result<&'a ImmutableSelector, ServiceError> {
    let invalid = |message: String| Err(ServiceError::Invalid(message));
    let [selector] = selectors else {
        return invalid(format!(
            "{what} must hold exactly one selector, not {}: Harbor evaluates only the first; put alternatives \
             in one pattern ({{a,b}}) or add another rule",
            selectors.len()
        ));
    };
    if !(selector.kind.is_empty() || selector.kind == DOUBLESTAR) {
        return invalid(format!(
            "{what}: kind must be {DOUBLESTAR:?}, not {:?}",
            clipped(&selector.kind)
        ));
    }
    if !decorations.contains(&selector.decoration.as_str()) {
        return invalid(format!(
            "{what}: decoration must be one of {}, not {:?}",
            decorations.join(", "),
            clipped(&selector.decoration)
        ));
    }
    if selector.extras.len() > MAX_EXTRAS_BYTES {
        return invalid(format!(
            "{what}: extras is longer than {MAX_EXTRAS_BYTES} bytes"
        ));
    }
    Doublestar::new(&selector.pattern)
        .map_err(|e| ServiceError::Invalid(format!("{what}: {e}")))?;
    Ok(selector)
}

/// At most 64 characters of a value for an error message.
fn clipped(value: &str) -> String {
    value.chars().take(64).collect()
}

/// Harbor's `ImmutableRule` for a stored rule.
pub fn to_wire(row: ImmutableRuleRow) -> ImmutableRule {
    let ImmutableRuleRow { id, rule: row, .. } = row;
    let selector = |decoration: String, pattern: String, extras: String| ImmutableSelector {
        kind: DOUBLESTAR.to_owned(),
        decoration,
        pattern,
        extras,
    };
    ImmutableRule {
        id,
        priority: row.priority,
        disabled: row.disabled,
        action: ACTION.to_owned(),
        template: row.template,
        params: serde_json::from_str(&row.params).unwrap_or_default(),
        tag_selectors: vec![selector(
            row.tag_decoration,
            row.tag_pattern,
            row.tag_extras,
        )],
        scope_selectors: BTreeMap::from([(
            REPOSITORY_SCOPE.to_owned(),
            vec![selector(
                row.repo_decoration,
                row.repo_pattern,
                row.repo_extras,
            )],
        )]),
    }
}

/// A short description of a rule for the audit log: `rule 3 (repoMatches **, matches v*)`.
pub fn describe(id: i64, rule: &NewImmutableRule) -> String {
    format!(
        "rule {id} ({} {}, {} {})",
        rule.repo_decoration, rule.repo_pattern, rule.tag_decoration, rule.tag_pattern
    )
}

/// Adds a rule to `project_id`; returns its id. 400 past [`MAX_RULES`], 409 for a rule with the same selectors.
pub async fn create(
    db: &Db,
    project_id: i64,
    rule: &NewImmutableRule,
) -> Result<i64, ServiceError> {
    db.create_immutable_rule(project_id, rule, MAX_RULES)
        .await
        .map_err(save_error)
}

/// Replaces rule `id` of `project_id`; it applies from the next request.
pub async fn update(
    db: &Db,
    project_id: i64,
    id: i64,
    rule: &NewImmutableRule,
) -> Result<(), ServiceError> {
    db.update_immutable_rule(project_id, id, rule)
        .await
        .map_err(save_error)
}

fn save_error(error: SaveRuleError) -> ServiceError {
    match error {
        SaveRuleError::TooMany(max) => ServiceError::Invalid(format!(
            "a project has at most {max} immutable tag rules; delete or edit one instead"
        )),
        SaveRuleError::Duplicate => {
            ServiceError::Conflict("immutable rule already exists".to_owned())
        }
        SaveRuleError::NotFound => {
            ServiceError::NotFound("immutable tag rule not found".to_owned())
        }
        SaveRuleError::Db(e) => ServiceError::Db(e),
    }
}

/// The tags of `tags` in `repository` (a full name) that the rules of `project_id` lock now: retention keeps
/// them whatever its rules say.
pub async fn immutable_tags(
    db: &Db,
    project_id: i64,
    repository: &str,
    tags: &[String],
) -> Result<HashSet<String>, ServiceError> {
    let locks = locks(db, project_id).await?;
    Ok(tags
        .iter()
        .filter(|tag| locks.locked_by(repository, tag).is_some())
        .cloned()
        .collect())
}

/// The locks of `project_id` as its rules stand now (for showing `immutable`).
pub async fn locks(db: &Db, project_id: i64) -> Result<TagLocks, ServiceError> {
    Ok(db.tag_locks(project_id).await?)
}

/// Logs and audits a push or delete that a rule refused (`attempt`: what was tried, e.g. `push`).
pub async fn record_refusal(
    db: &Db,
    locked: &TagLocked,
    attempt: &str,
    username: &str,
    client: &ClientIp,
) {
    tracing::warn!(repository = %locked.repository, tag = %locked.tag, rule = locked.rule_id, attempt,
        by = %audit::clip(username), "refused by an immutable tag rule");
    let project = locked
        .repository
        .split('/')
        .next()
        .unwrap_or(&locked.repository);
    Audit::new(
        Operation::Refused,
        "tag",
        format!(
            "{} ({attempt}; immutable tag rule {})",
            audit::resource(&locked.repository, &locked.tag),
            locked.rule_id
        ),
    )
    .project(project)
    .by(username, client)
    .record(db)
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(repo: (&str, &str), tags: &[(&str, &str)]) -> ImmutableRule {
        let selector = |(decoration, pattern): (&str, &str)| ImmutableSelector {
            kind: DOUBLESTAR.to_owned(),
            decoration: decoration.to_owned(),
            pattern: pattern.to_owned(),
            extras: String::new(),
        };
        ImmutableRule {
            tag_selectors: tags.iter().copied().map(selector).collect(),
            scope_selectors: BTreeMap::from([(REPOSITORY_SCOPE.to_owned(), vec![selector(repo)])]),
            ..ImmutableRule::default()
        }
    }

    #[test]
    fn rules_are_validated_and_round_trip() {
        let good = rule(("repoMatches", "**"), &[("matches", "v*")]);
        let stored = validate(&good).ok();
        assert_eq!(
            stored
                .as_ref()
                .map(|s| (s.template.as_str(), s.params.as_str())),
            Some((TEMPLATE, "{}"))
        );
        let refused = |rule: ImmutableRule| validate(&rule).err().map(|e| e.to_string());
        let two = refused(rule(
            ("repoMatches", "**"),
            &[("matches", "v*"), ("excludes", "x")],
        ));
        assert!(two.is_some_and(|m| m.contains("exactly one selector")));
        assert!(refused(rule(("repoMatches", "**"), &[])).is_some());
        assert!(refused(rule(("matches", "**"), &[("matches", "v*")])).is_some());
        assert!(refused(rule(("repoMatches", "**"), &[("repoMatches", "v*")])).is_some());
        assert!(refused(rule(("repoMatches", ""), &[("matches", "v*")])).is_some());
        assert!(refused(rule(("repoMatches", "**"), &[("matches", "[")])).is_some());
        let mut other_scope = good.clone();
        other_scope
            .scope_selectors
            .insert("namespace".to_owned(), Vec::new());
        assert!(refused(other_scope).is_some());
        let mut action = good.clone();
        action.action = "retain".to_owned();
        assert!(refused(action).is_some());
    }
}
