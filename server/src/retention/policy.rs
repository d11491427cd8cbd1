//! A retention policy as Harbor spells it (`RetentionPolicy`), checked and compiled: its enabled rules, each
//! with its template, tag selectors and repository selectors, and its schedule.
//!
//! Harbor's rule model (`src/pkg/retention/policy`, `src/lib/selector/selectors/doublestar`):
//! - rules combine with "or": a tag is kept if any enabled rule keeps it; at most [`MAX_RULES`];
//! - a rule's selectors combine with "and"; a repository selector matches the repository's name without its
//!   project (`app/web` in project `team`); a tag selector matches a tag, and decides for untagged artifacts
//!   by its `extras` (`{"untagged": true}`): for `matches` they are in scope when true, for `excludes` they
//!   are excluded when true. Without extras, `matches` takes untagged artifacts in and `excludes` leaves them in;
//! - `latestPushedK` and `latestPulledN` take a count below 32767; `nDaysSinceLastPush` and
//!   `nDaysSinceLastPull` a number of days up to 20190904 (Harbor's own bounds).
//!
//! Patterns are doublestar globs: `*` within a path segment, `**` (a whole segment) across segments, `?`, `[..]`
//! and `{a,b}`.

use std::collections::BTreeMap;

use berth_api::retention::{
    RetentionMetadata, RetentionPolicy, RetentionRule, RetentionRuleMetadata,
    RetentionRuleParamMetadata, RetentionSelector, RetentionSelectorMetadata,
};

use crate::events::audit::clip;
use crate::patterns::Doublestar;

/// The most rules a policy holds (Harbor's limit).
pub const MAX_RULES: usize = 15;
/// The most tag selectors, and repository selectors, of one rule.
pub const MAX_SELECTORS: usize = 8;
/// The longest `extras`, in bytes.
pub const MAX_EXTRAS_BYTES: usize = 256;
/// `latestPushedK` and `latestPulledN` take fewer than this (Harbor: below `math.MaxInt16`).
pub const MAX_COUNT: i64 = i16::MAX as i64;
/// The most days `nDaysSinceLastPush` and `nDaysSinceLastPull` take (Harbor's bound).
pub const MAX_DAYS: i64 = 20_190_904;

/// Harbor's template names.
pub const LATEST_PUSHED: &str = "latestPushedK";
pub const LATEST_PULLED: &str = "latestPulledN";
pub const DAYS_SINCE_PUSH: &str = "nDaysSinceLastPush";
pub const DAYS_SINCE_PULL: &str = "nDaysSinceLastPull";
pub const ALWAYS: &str = "always";

/// What a rule keeps of the tags its selectors choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// The `k` most recently pushed.
    LatestPushed(usize),
    /// The `n` most recently pulled (never pulled ones last).
    LatestPulled(usize),
    /// Those pushed within the last `n` days.
    DaysSincePush(i64),
    /// Those pulled within the last `n` days (never pulled ones are not kept).
    DaysSincePull(i64),
    /// All of them.
    Always,
}

/// A selector: a pattern, whether it excludes, and (tags) whether untagged artifacts count as matching.
#[derive(Debug, Clone)]
pub struct Selector {
    pub pattern: Doublestar,
    pub excludes: bool,
    pub untagged: bool,
}

impl Selector {
    /// Whether a tag (`None`: an untagged artifact) is chosen.
    pub fn chooses_tag(&self, tag: Option<&str>) -> bool {
        let matched = tag.map_or(self.untagged, |t| self.pattern.is_match(t));
        matched != self.excludes
    }

    /// Whether a repository (its name without the project) is chosen.
    pub fn chooses_repository(&self, relative: &str) -> bool {
        self.pattern.is_match(relative) != self.excludes
    }
}

/// An enabled rule, compiled.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its position in the policy, from 1 (as the console numbers rules).
    pub number: usize,
    pub template: Template,
    pub tags: Vec<Selector>,
    pub repositories: Vec<Selector>,
}

impl Rule {
    /// Whether the rule applies to a repository (its name without the project).
    pub fn covers(&self, relative: &str) -> bool {
        self.repositories
            .iter()
            .all(|s| s.chooses_repository(relative))
    }

    /// Whether the rule's tag selectors choose a tag (`None`: an untagged artifact).
    pub fn chooses(&self, tag: Option<&str>) -> bool {
        self.tags.iter().all(|s| s.chooses_tag(tag))
    }

    /// What the rule keeps, for reasons: `the latest 5 pushed of tags matching v* in app/**`.
    pub fn describe(&self) -> String {
        let mut text = match self.template {
            Template::LatestPushed(k) => format!("the latest {k} pushed"),
            Template::LatestPulled(n) => format!("the latest {n} pulled"),
            Template::DaysSincePush(n) => format!("pushed within the last {n} days"),
            Template::DaysSincePull(n) => format!("pulled within the last {n} days"),
            Template::Always => "always".to_owned(),
        };
        for s in self
            .tags
            .iter()
            .filter(|s| s.excludes || s.pattern.as_str() != "**")
        {
            let verb = if s.excludes { "excluding" } else { "matching" };
            text.push_str(&format!(" of tags {verb} {}", s.pattern.as_str()));
        }
        for s in self
            .repositories
            .iter()
            .filter(|s| s.excludes || s.pattern.as_str() != "**")
        {
            if s.excludes {
                text.push_str(&format!(" in repositories except {}", s.pattern.as_str()));
            } else {
                text.push_str(&format!(" in {}", s.pattern.as_str()));
            }
        }
        text
    }
}

/// A policy, checked: its enabled rules and its schedule.
#[derive(Debug, Clone)]
pub struct Policy {
    pub project_id: i64,
    pub rules: Vec<Rule>,
    /// The schedule's six-field cron; `None`: run only on demand.
    pub cron: Option<String>,
}

/// Why a policy was refused: the message names the rule and field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Bad input: a 400.
    #[error("{0}")]
    Invalid(String),
    /// Two rules say the same: a 409, as in Harbor.
    #[error("{0}")]
    Conflict(String),
}

impl From<String> for PolicyError {
    fn from(message: String) -> Self {
        PolicyError::Invalid(message)
    }
}

/// Checks a policy as sent to `POST`/`PUT /retentions`, and returns it as stored (rule ids numbered from 1)
/// with its compiled form.
pub fn check(policy: &RetentionPolicy) -> Result<(RetentionPolicy, Policy), PolicyError> {
    if policy.algorithm != "or" {
        return Err(PolicyError::Invalid(format!(
            "algorithm must be \"or\", not {:?}",
            clip(&policy.algorithm)
        )));
    }
    if policy.rules.len() > MAX_RULES {
        return Err(PolicyError::Invalid(format!(
            "only {MAX_RULES} rules are allowed at most, not {}",
            policy.rules.len()
        )));
    }
    let scope = policy.scope.as_ref().ok_or_else(|| {
        PolicyError::Invalid(
            "scope is required: {\"level\": \"project\", \"ref\": <project id>}".to_owned(),
        )
    })?;
    if scope.level != "project" {
        return Err(PolicyError::Invalid(format!(
            "scope {} is not supported; the scope level is \"project\"",
            clip(&scope.level)
        )));
    }
    if scope.reference <= 0 {
        return Err(PolicyError::Invalid(format!(
            "invalid Project id {}",
            scope.reference
        )));
    }
    let trigger = policy.trigger.as_ref().ok_or_else(|| {
        PolicyError::Invalid(
            "trigger is required: {\"kind\": \"Schedule\", \"settings\": {\"cron\": \"\"}}"
                .to_owned(),
        )
    })?;
    if trigger.kind != "Schedule" {
        return Err(PolicyError::Invalid(format!(
            "trigger kind must be \"Schedule\", not {:?}",
            clip(&trigger.kind)
        )));
    }
    let cron = match trigger.settings.get("cron") {
        None => {
            return Err(PolicyError::Invalid(
                "trigger.settings.cron is required (\"\" for no schedule)".to_owned(),
            ));
        }
        Some(serde_json::Value::String(c)) if c.trim().is_empty() => None,
        Some(serde_json::Value::String(c)) => {
            crate::jobs::schedule::parse_cron(c.trim())
                .map_err(|e| PolicyError::Invalid(format!("trigger.settings.cron: {e}")))?;
            Some(c.trim().to_owned())
        }
        Some(_) => {
            return Err(PolicyError::Invalid(
                "trigger.settings.cron must be a string".to_owned(),
            ));
        }
    };
    let mut stored = policy.clone();
    let mut rules = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, rule) in stored.rules.iter_mut().enumerate() {
        let number = i + 1;
        rule.id = i64::try_from(number).unwrap_or(0);
        let compiled = check_rule(rule, number)
            .map_err(|e| PolicyError::Invalid(format!("rule {number}: {e}")))?;
        let mut same = rule.clone();
        same.id = 0;
        let key = serde_json::to_string(&same).unwrap_or_default();
        if let Some(first) = seen.insert(key, number) {
            return Err(PolicyError::Conflict(format!(
                "rule {number} is conflict with rule {first}"
            )));
        }
        if !rule.disabled {
            rules.push(compiled);
        }
    }
    Ok((
        stored,
        Policy {
            project_id: scope.reference,
            rules,
            cron,
        },
    ))
}

/// Reads a stored policy (checked when it was saved; checked again, since the rules of checking may change).
pub fn parse_stored(json: &str) -> Result<Policy, String> {
    let policy: RetentionPolicy = serde_json::from_str(json)
        .map_err(|e| format!("the stored policy is not valid JSON: {e}"))?;
    check(&policy)
        .map(|(_, compiled)| compiled)
        .map_err(|e| e.to_string())
}

fn check_rule(rule: &RetentionRule, number: usize) -> Result<Rule, String> {
    if rule.action != "retain" {
        return Err(format!(
            "action must be \"retain\", not {:?}",
            clip(&rule.action)
        ));
    }
    let template = match rule.template.as_str() {
        LATEST_PUSHED => Template::LatestPushed(count(rule, LATEST_PUSHED)?),
        LATEST_PULLED => Template::LatestPulled(count(rule, LATEST_PULLED)?),
        DAYS_SINCE_PUSH => Template::DaysSincePush(days(rule, DAYS_SINCE_PUSH)?),
        DAYS_SINCE_PULL => Template::DaysSincePull(days(rule, DAYS_SINCE_PULL)?),
        ALWAYS => {
            if let Some(key) = rule.params.keys().next() {
                return Err(format!(
                    "template always takes no params, not {:?}",
                    clip(key)
                ));
            }
            Template::Always
        }
        other => {
            return Err(format!(
                "unknown template {:?}; the templates are {LATEST_PUSHED}, {LATEST_PULLED}, {DAYS_SINCE_PUSH}, \
                 {DAYS_SINCE_PULL} and {ALWAYS}",
                clip(other)
            ));
        }
    };
    if rule.tag_selectors.is_empty() {
        return Err("tag_selectors needs a selector (pattern ** matches every tag)".to_owned());
    }
    if rule.tag_selectors.len() > MAX_SELECTORS {
        return Err(format!("at most {MAX_SELECTORS} tag selectors"));
    }
    let tags = rule
        .tag_selectors
        .iter()
        .map(|s| selector(s, "matches", "excludes"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("tag_selectors: {e}"))?;
    if let Some(key) = rule.scope_selectors.keys().find(|k| *k != "repository") {
        return Err(format!(
            "scope_selectors: only \"repository\" is supported, not {:?}",
            clip(key)
        ));
    }
    let repository = rule
        .scope_selectors
        .get("repository")
        .map(Vec::as_slice)
        .unwrap_or_default();
    if repository.is_empty() {
        return Err(
            "scope_selectors.repository needs a selector (pattern ** matches every repository)"
                .to_owned(),
        );
    }
    if repository.len() > MAX_SELECTORS {
        return Err(format!("at most {MAX_SELECTORS} repository selectors"));
    }
    let repositories = repository
        .iter()
        .map(|s| selector(s, "repoMatches", "repoExcludes"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("scope_selectors.repository: {e}"))?;
    Ok(Rule {
        number,
        template,
        tags,
        repositories,
    })
}

/// The rule's one parameter, named as its template, a whole number in `0..=max`.
fn param(rule: &RetentionRule, name: &str, max: i64) -> Result<i64, String> {
    if let Some(key) = rule.params.keys().find(|k| *k != name) {
        return Err(format!(
            "template {name} takes the param {name}, not {:?}",
            clip(key)
        ));
    }
    let value = rule
        .params
        .get(name)
        .ok_or_else(|| format!("params.{name} is required"))?;
    let n = match value {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| format!("params.{name} must be a whole number"))?;
    if n < 0 {
        return Err(format!("params.{name} is less than zero"));
    }
    if n > max {
        return Err(format!("params.{name} is too large (at most {max})"));
    }
    Ok(n)
}

fn count(rule: &RetentionRule, name: &str) -> Result<usize, String> {
    param(rule, name, MAX_COUNT - 1).map(|n| usize::try_from(n).unwrap_or(0))
}

fn days(rule: &RetentionRule, name: &str) -> Result<i64, String> {
    param(rule, name, MAX_DAYS)
}

fn selector(s: &RetentionSelector, matches: &str, excludes: &str) -> Result<Selector, String> {
    if s.kind != "doublestar" {
        return Err(format!(
            "kind must be \"doublestar\", not {:?}",
            clip(&s.kind)
        ));
    }
    let excluding = if s.decoration == matches {
        false
    } else if s.decoration == excludes {
        true
    } else {
        return Err(format!(
            "decoration must be {matches} or {excludes}, not {:?}",
            clip(&s.decoration)
        ));
    };
    let pattern = Doublestar::new(&s.pattern)?;
    if s.extras.len() > MAX_EXTRAS_BYTES {
        return Err(format!("extras is longer than {MAX_EXTRAS_BYTES} bytes"));
    }
    // Harbor's default: `matches` takes untagged artifacts in, `excludes` does not exclude them.
    let mut untagged = !excluding;
    if !s.extras.trim().is_empty() {
        let extras: serde_json::Value = serde_json::from_str(&s.extras)
            .map_err(|_| "extras must be JSON such as {\"untagged\": true}".to_owned())?;
        match extras.get("untagged") {
            None => {}
            Some(serde_json::Value::Bool(b)) => untagged = *b,
            Some(_) => return Err("extras.untagged must be true or false".to_owned()),
        }
    }
    Ok(Selector {
        pattern,
        excludes: excluding,
        untagged,
    })
}

/// Harbor's `GET /retentions/metadatas`.
pub fn metadata() -> RetentionMetadata {
    let template = |name: &str, text: &str, unit: Option<&str>| RetentionRuleMetadata {
        rule_template: name.to_owned(),
        display_text: text.to_owned(),
        action: "retain".to_owned(),
        params: unit
            .map(|unit| RetentionRuleParamMetadata {
                kind: "int".to_owned(),
                unit: unit.to_owned(),
                required: true,
            })
            .into_iter()
            .collect(),
    };
    let selectors = |text: &str, decorations: [&str; 2]| RetentionSelectorMetadata {
        display_text: text.to_owned(),
        kind: "doublestar".to_owned(),
        decorations: decorations.iter().map(|d| (*d).to_owned()).collect(),
    };
    RetentionMetadata {
        templates: vec![
            template(
                LATEST_PUSHED,
                "the most recently pushed # artifacts",
                Some("COUNT"),
            ),
            template(
                LATEST_PULLED,
                "the most recently pulled # artifacts",
                Some("COUNT"),
            ),
            template(
                DAYS_SINCE_PUSH,
                "pushed within the last # days",
                Some("DAYS"),
            ),
            template(
                DAYS_SINCE_PULL,
                "pulled within the last # days",
                Some("DAYS"),
            ),
            template(ALWAYS, "always", None),
        ],
        scope_selectors: vec![selectors("Repositories", ["repoMatches", "repoExcludes"])],
        tag_selectors: vec![selectors("Tags", ["matches", "excludes"])],
    }
}

/// Harbor's default policy for a proxy-cache project (`policy.WithNDaysSinceLastPull(project, 7)`): keep what
/// was pulled in the last 7 days, checked daily at midnight UTC.
pub fn proxy_default(project_id: i64) -> RetentionPolicy {
    serde_json::from_value(serde_json::json!({
        "id": 0,
        "algorithm": "or",
        "rules": [{
            "id": 1, "priority": 1, "disabled": false, "action": "retain",
            "template": DAYS_SINCE_PULL, "params": {DAYS_SINCE_PULL: 7},
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**",
                               "extras": "{\"untagged\":true}"}],
            "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches",
                                                "pattern": "**"}]}
        }],
        "trigger": {"kind": "Schedule", "settings": {"cron": "0 0 0 * * *"}},
        "scope": {"level": "project", "ref": project_id}
    }))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patterns::MAX_PATTERN_BYTES;

    fn rule(template: &str, params: serde_json::Value) -> serde_json::Value {
        serde_json::json!({"action": "retain", "template": template, "params": params,
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
            "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]}})
    }

    fn policy(rules: Vec<serde_json::Value>) -> Result<(RetentionPolicy, Policy), String> {
        let p: RetentionPolicy = serde_json::from_value(serde_json::json!({
            "algorithm": "or", "rules": rules,
            "trigger": {"kind": "Schedule", "settings": {"cron": ""}},
            "scope": {"level": "project", "ref": 1}
        }))
        .map_err(|e| e.to_string())?;
        check(&p).map_err(|e| e.to_string())
    }

    #[test]
    fn harbor_bounds() {
        assert!(
            policy(vec![rule(
                LATEST_PUSHED,
                serde_json::json!({LATEST_PUSHED: 32766})
            )])
            .is_ok()
        );
        let e = policy(vec![rule(
            LATEST_PUSHED,
            serde_json::json!({LATEST_PUSHED: 32767}),
        )]);
        assert!(e.is_err_and(|e| e.contains("too large")));
        let e = policy(vec![rule(
            DAYS_SINCE_PULL,
            serde_json::json!({DAYS_SINCE_PULL: -1}),
        )]);
        assert!(e.is_err_and(|e| e.contains("less than zero")));
        assert!(
            policy(vec![rule(
                DAYS_SINCE_PUSH,
                serde_json::json!({DAYS_SINCE_PUSH: "7"})
            )])
            .is_ok()
        );
        assert!(policy(vec![rule(DAYS_SINCE_PUSH, serde_json::json!({}))]).is_err());
        assert!(policy(vec![rule(ALWAYS, serde_json::json!({"x": 1}))]).is_err());
        let sixteen = (0..16)
            .map(|i| rule(LATEST_PUSHED, serde_json::json!({LATEST_PUSHED: i})))
            .collect();
        assert!(policy(sixteen).is_err_and(|e| e.contains("15 rules")));
        let twice = vec![
            rule(ALWAYS, serde_json::json!({})),
            rule(ALWAYS, serde_json::json!({})),
        ];
        assert!(policy(twice).is_err_and(|e| e.contains("conflict")));
    }

    #[test]
    fn doublestar_and_untagged() {
        let p = |s: &str| Doublestar::new(s);
        assert!(p("app/**").is_ok_and(|m| m.is_match("app/a/b") && !m.is_match("web")));
        assert!(p("*").is_ok_and(|m| m.is_match("web") && !m.is_match("app/web")));
        assert!(p("v**").is_ok_and(|m| m.is_match("v1.2") && !m.is_match("x")));
        assert!(p("{v1,latest}").is_ok_and(|m| m.is_match("latest") && !m.is_match("v2")));
        assert!(Doublestar::new("").is_err());
        assert!(Doublestar::new(&"a".repeat(MAX_PATTERN_BYTES + 1)).is_err());
        let tag = |decoration: &str, extras: &str| {
            selector(
                &RetentionSelector {
                    kind: "doublestar".into(),
                    decoration: decoration.into(),
                    pattern: "v*".into(),
                    extras: extras.into(),
                },
                "matches",
                "excludes",
            )
        };
        let m = tag("matches", "");
        assert!(m.is_ok_and(|s| s.chooses_tag(Some("v1"))
            && !s.chooses_tag(Some("x"))
            && s.chooses_tag(None)));
        let m = tag("matches", r#"{"untagged":false}"#);
        assert!(m.is_ok_and(|s| !s.chooses_tag(None)));
        let e = tag("excludes", "");
        assert!(e.is_ok_and(|s| !s.chooses_tag(Some("v1"))
            && s.chooses_tag(Some("x"))
            && s.chooses_tag(None)));
        let e = tag("excludes", r#"{"untagged":true}"#);
        assert!(e.is_ok_and(|s| !s.chooses_tag(None)));
        assert!(tag("excludes", "nope").is_err());
        assert!(tag("repoMatches", "").is_err());
    }

    #[test]
    fn the_proxy_default_checks() {
        let checked = check(&proxy_default(3));
        assert!(
            checked.is_ok_and(|(_, p)| p.cron.as_deref() == Some("0 0 0 * * *")
                && p.rules.len() == 1
                && p.rules[0].template == Template::DaysSincePull(7))
        );
    }
}
