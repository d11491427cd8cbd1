//! Tag immutability: which tags the enabled immutable tag rules of a project lock, evaluated as Harbor does
//! (`src/pkg/immutable/match/rule/match.go` and its doublestar selector):
//!
//! - a rule has one repository selector and one tag selector (Harbor evaluates only the first of each; Berth's
//!   API refuses a rule with more, so what is shown is what counts);
//! - `repoMatches P` selects a repository whose name without the project (`app`, `team/app`) matches `P`;
//!   `repoExcludes P` one whose name does not;
//! - `matches P` selects a tag that matches `P`; `excludes P` a tag that does not (so `excludes dev-*` locks
//!   every tag but the `dev-*` ones);
//! - a tag is locked when any enabled rule selects both its repository and its name ("or" across rules); a
//!   disabled rule locks nothing.
//!
//! A locked tag may not be moved to another digest (pushing the same digest again is fine, as is pushing a
//! new tag that a rule selects) or removed (deleting the tag, its artifact or its repository). Rule: this
//! module is pure. The data layer reads a project's rules inside the transaction of every write that moves or
//! removes a tag, and [`RuleCache::locks`] turns them into [`TagLocks`], compiling each rule's patterns once
//! per revision of the rule.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::patterns::Doublestar;

/// A rule as stored, for [`RuleCache::locks`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRule {
    pub id: i64,
    /// Grows on every change of the rule, so a cached compilation of an older revision is never used.
    pub revision: i64,
    /// `repoMatches` or `repoExcludes`.
    pub repo_decoration: String,
    pub repo_pattern: String,
    /// `matches` or `excludes`.
    pub tag_decoration: String,
    pub tag_pattern: String,
}

/// Harbor's decorations.
pub const REPO_MATCHES: &str = "repoMatches";
pub const REPO_EXCLUDES: &str = "repoExcludes";
pub const TAG_MATCHES: &str = "matches";
pub const TAG_EXCLUDES: &str = "excludes";

/// One rule, compiled.
#[derive(Debug)]
struct CompiledRule {
    id: i64,
    /// `None` when a stored pattern does not compile (which validation prevents): such a rule locks every
    /// tag of the project, so that nothing is lost while an operator looks at it.
    selectors: Option<Selectors>,
}

#[derive(Debug)]
struct Selectors {
    repository: Doublestar,
    repository_excluded: bool,
    tag: Doublestar,
    tag_excluded: bool,
}

impl CompiledRule {
    fn compile(rule: &StoredRule) -> CompiledRule {
        let selectors = (|| {
            Ok::<_, String>(Selectors {
                repository: Doublestar::new(&rule.repo_pattern)?,
                repository_excluded: rule.repo_decoration == REPO_EXCLUDES,
                tag: Doublestar::new(&rule.tag_pattern)?,
                tag_excluded: rule.tag_decoration == TAG_EXCLUDES,
            })
        })();
        let selectors = match selectors {
            Ok(selectors) => Some(selectors),
            Err(error) => {
                tracing::error!(rule = rule.id, %error,
                    "an immutable tag rule has a pattern that does not compile; it locks every tag of its project until it is fixed");
                None
            }
        };
        CompiledRule {
            id: rule.id,
            selectors,
        }
    }

    /// Whether the rule selects `tag` of `repository` (named without its project).
    fn locks(&self, repository: &str, tag: &str) -> bool {
        let Some(s) = &self.selectors else {
            return true;
        };
        s.repository.is_match(repository) != s.repository_excluded
            && s.tag.is_match(tag) != s.tag_excluded
    }
}

/// The enabled rules of one project, compiled: which of its tags are locked.
#[derive(Debug, Clone, Default)]
pub struct TagLocks {
    rules: Vec<Arc<CompiledRule>>,
}

impl TagLocks {
    /// The id of the first rule (by id) that locks `tag` of `repository` (its full name, `project/app`).
    pub fn locked_by(&self, repository: &str, tag: &str) -> Option<i64> {
        let relative = repository
            .split_once('/')
            .map_or(repository, |(_, rest)| rest);
        self.rules
            .iter()
            .find(|rule| rule.locks(relative, tag))
            .map(|rule| rule.id)
    }

    /// Whether no rule is enabled (nothing is locked).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// How many compiled rules the cache holds before it starts over (each project has at most 15 rules).
const CACHE_CAPACITY: usize = 10_000;

/// Compiled rules by id, each for the revision it was compiled from.
#[derive(Debug, Default)]
pub struct RuleCache {
    compiled: Mutex<HashMap<i64, (i64, Arc<CompiledRule>)>>,
}

impl RuleCache {
    /// The locks of `enabled`, the enabled rules of one project as just read: each rule compiled once per
    /// revision and reused until it changes.
    pub fn locks(&self, enabled: &[StoredRule]) -> TagLocks {
        let mut rules = Vec::with_capacity(enabled.len());
        let mut missing = Vec::new();
        if let Ok(compiled) = self.compiled.lock() {
            for rule in enabled {
                match compiled.get(&rule.id) {
                    Some((revision, c)) if *revision == rule.revision => rules.push(c.clone()),
                    _ => missing.push(rule),
                }
            }
        } else {
            missing.extend(enabled);
        }
        if !missing.is_empty() {
            let fresh: Vec<(i64, Arc<CompiledRule>)> = missing
                .iter()
                .map(|rule| (rule.revision, Arc::new(CompiledRule::compile(rule))))
                .collect();
            if let Ok(mut compiled) = self.compiled.lock() {
                if compiled.len() + fresh.len() > CACHE_CAPACITY {
                    compiled.clear();
                }
                for (revision, rule) in &fresh {
                    compiled.insert(rule.id, (*revision, rule.clone()));
                }
            }
            rules.extend(fresh.into_iter().map(|(_, rule)| rule));
        }
        rules.sort_by_key(|rule| rule.id);
        TagLocks { rules }
    }

    /// How many rules are compiled (for tests).
    pub fn len(&self) -> usize {
        self.compiled.lock().map_or(0, |c| c.len())
    }

    /// Whether no rule is compiled.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A write refused because it would move or remove a locked tag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tag {tag} of {repository} is immutable (immutable tag rule {rule_id})")]
pub struct TagLocked {
    /// The full repository name.
    pub repository: String,
    pub tag: String,
    pub rule_id: i64,
}

impl TagLocked {
    fn relative_repository(&self) -> &str {
        self.repository
            .split_once('/')
            .map_or(self.repository.as_str(), |(_, rest)| rest)
    }

    /// Harbor's message for a push or tag change refused by a rule, naming the rule.
    pub fn push_message(&self) -> String {
        format!(
            "Failed to process request due to '{}:{}' configured as immutable (immutable tag rule {}).",
            self.relative_repository(),
            self.tag,
            self.rule_id
        )
    }

    /// Harbor's message for a deletion refused by a rule, naming the rule.
    pub fn delete_message(&self) -> String {
        format!(
            "the tag {} configured as immutable, cannot be deleted (repository {}, immutable tag rule {})",
            self.tag,
            self.relative_repository(),
            self.rule_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: i64, repo: (&str, &str), tag: (&str, &str)) -> StoredRule {
        StoredRule {
            id,
            revision: 1,
            repo_decoration: repo.0.to_owned(),
            repo_pattern: repo.1.to_owned(),
            tag_decoration: tag.0.to_owned(),
            tag_pattern: tag.1.to_owned(),
        }
    }

    #[test]
    fn rules_follow_harbors_selectors() {
        let cache = RuleCache::default();
        let locks = cache.locks(&[
            rule(2, (REPO_MATCHES, "app"), (TAG_MATCHES, "v*")),
            rule(
                5,
                (REPO_EXCLUDES, "{app,scratch/**}"),
                (TAG_EXCLUDES, "dev-*"),
            ),
        ]);
        // The repository is matched without its project.
        assert_eq!(locks.locked_by("p/app", "v1"), Some(2));
        assert_eq!(locks.locked_by("p/app", "latest"), None);
        assert_eq!(locks.locked_by("p/app", "dev-1"), None);
        // Rule 5: every repository but app and scratch/**, every tag but dev-*.
        assert_eq!(locks.locked_by("p/web", "latest"), Some(5));
        assert_eq!(locks.locked_by("p/web", "dev-3"), None);
        assert_eq!(locks.locked_by("p/scratch/x", "latest"), None);
        assert_eq!(locks.locked_by("p/team/web", "v1"), Some(5));
        assert!(RuleCache::default().locks(&[]).is_empty());
    }

    #[test]
    fn compiled_rules_are_reused_until_their_revision_changes() {
        let cache = RuleCache::default();
        let first = rule(1, (REPO_MATCHES, "**"), (TAG_MATCHES, "v1"));
        assert_eq!(
            cache
                .locks(std::slice::from_ref(&first))
                .locked_by("p/a", "v1"),
            Some(1)
        );
        let again = cache.locks(std::slice::from_ref(&first));
        assert_eq!(cache.len(), 1);
        assert_eq!(again.locked_by("p/a", "v2"), None);
        let changed = StoredRule {
            revision: 2,
            tag_pattern: "v2".to_owned(),
            ..first
        };
        let locks = cache.locks(&[changed]);
        assert_eq!(locks.locked_by("p/a", "v1"), None);
        assert_eq!(locks.locked_by("p/a", "v2"), Some(1));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_rule_that_does_not_compile_locks_everything() {
        let cache = RuleCache::default();
        let locks = cache.locks(&[rule(9, (REPO_MATCHES, "["), (TAG_MATCHES, "v1"))]);
        assert_eq!(locks.locked_by("p/any", "thing"), Some(9));
    }

    #[test]
    fn messages_name_the_tag_and_the_rule() {
        let locked = TagLocked {
            repository: "p/team/app".to_owned(),
            tag: "v1".to_owned(),
            rule_id: 3,
        };
        assert_eq!(
            locked.push_message(),
            "Failed to process request due to 'team/app:v1' configured as immutable (immutable tag rule 3)."
        );
        assert!(
            locked
                .delete_message()
                .starts_with("the tag v1 configured as immutable, cannot be deleted")
        );
    }
}
