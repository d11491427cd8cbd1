//! Deciding, for one repository, which tags and untagged artifacts a policy keeps, and why.
//!
//! Berth decides per tag, where Harbor decides per artifact (and so deletes every tag of a digest when one of
//! them expires): each tag is a candidate with its own push time; an untagged artifact listed on its own is a
//! candidate too. A candidate's last pull is the later of its tag's and its artifact's (a digest pinned by a
//! deployment and pulled by digest is in use, so its tags are too). Each rule that covers the repository
//! chooses candidates by its tag selectors and keeps some of them by its template, independently of the other
//! rules ("or"); a candidate is kept by the first rule, in policy order, that keeps it.
//!
//! The candidates arrive newest push first ([`crate::db::Db::retention_candidates`]), so `latestPushedK`
//! needs a counter per rule, not the whole list. `latestPulledN` needs the N most recently pulled, which the
//! caller finds in a first pass ([`Evaluator::observe_pull`]) keeping only N keys per rule.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use chrono::{DateTime, Utc};

use super::policy::{Policy, Rule, Template};
use crate::db::retention::CandidateRow;

/// A tag (or an untagged artifact) to decide on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub tag: Option<String>,
    pub artifact_id: i64,
    pub digest: String,
    pub pushed: String,
    /// The last pull of the tag or of its artifact; `None`: never pulled.
    pub pulled: Option<String>,
}

impl From<CandidateRow> for Candidate {
    fn from(row: CandidateRow) -> Self {
        let pulled = match (row.tag_pulled, row.artifact_pulled) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
        .filter(|t| !t.is_empty());
        Candidate {
            tag: row.tag,
            artifact_id: row.artifact_id,
            digest: row.digest,
            pushed: row.pushed,
            pulled,
        }
    }
}

/// What was decided for a candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub retained: bool,
    /// The rule that kept it.
    pub rule: Option<usize>,
    pub reason: String,
}

type Key = (i64, Option<String>);
/// A candidate's rank for `latestPulledN`: last pull, then push, then identity (greatest first).
type PullRank = (Option<String>, String, i64, Option<String>);

/// One rule's state over one repository.
#[derive(Debug)]
struct RuleState<'a> {
    rule: &'a Rule,
    /// Candidates chosen so far (latestPushedK).
    chosen: usize,
    /// The N most recently pulled (latestPulledN), while observing: a min-heap of at most N.
    top_pulled: BinaryHeap<Reverse<PullRank>>,
    pulled_keys: HashSet<Key>,
    /// Times at or after which a push or pull is recent enough (nDays templates).
    cutoff: String,
    /// The rule's description, for reasons.
    text: String,
}

/// Decides the candidates of one repository.
#[derive(Debug)]
pub struct Evaluator<'a> {
    rules: Vec<RuleState<'a>>,
}

/// The time `days` before `now`, as stored timestamps are written; "" (before everything) when that is out of
/// range.
fn cutoff(now: DateTime<Utc>, days: i64) -> String {
    chrono::TimeDelta::try_days(days)
        .and_then(|d| now.checked_sub_signed(d))
        .filter(|t| t.timestamp() > -62_135_596_800) // 0001-01-01
        .map(crate::db::timestamp)
        .unwrap_or_default()
}

impl<'a> Evaluator<'a> {
    /// The evaluator of `policy` for a repository (its name without the project); `None` when no enabled rule
    /// covers it (Harbor runs no task there, and nothing in it is removed).
    pub fn new(policy: &'a Policy, relative: &str, now: DateTime<Utc>) -> Option<Evaluator<'a>> {
        let rules: Vec<RuleState<'a>> = policy
            .rules
            .iter()
            .filter(|r| r.covers(relative))
            .map(|rule| RuleState {
                rule,
                chosen: 0,
                top_pulled: BinaryHeap::new(),
                pulled_keys: HashSet::new(),
                cutoff: match rule.template {
                    Template::DaysSincePush(n) | Template::DaysSincePull(n) => cutoff(now, n),
                    _ => String::new(),
                },
                text: rule.describe(),
            })
            .collect();
        (!rules.is_empty()).then_some(Evaluator { rules })
    }

    /// Whether a first pass over the candidates ([`Self::observe_pull`]) is needed.
    pub fn needs_pull_pass(&self) -> bool {
        self.rules
            .iter()
            .any(|r| matches!(r.rule.template, Template::LatestPulled(_)))
    }

    /// First pass: notes a candidate for the `latestPulledN` rules that choose it.
    pub fn observe_pull(&mut self, c: &Candidate) {
        for state in &mut self.rules {
            let Template::LatestPulled(n) = state.rule.template else {
                continue;
            };
            if n == 0 || !state.rule.chooses(c.tag.as_deref()) {
                continue;
            }
            state.top_pulled.push(Reverse((
                c.pulled.clone(),
                c.pushed.clone(),
                c.artifact_id,
                c.tag.clone(),
            )));
            if state.top_pulled.len() > n {
                state.top_pulled.pop();
            }
        }
    }

    /// Ends the first pass.
    pub fn finish_pull_pass(&mut self) {
        for state in &mut self.rules {
            state.pulled_keys = std::mem::take(&mut state.top_pulled)
                .into_iter()
                .map(|Reverse((_, _, id, tag))| (id, tag))
                .collect();
        }
    }

    /// Second pass, in push order (newest first): decides a candidate. `immutable` names the immutable tag
    /// rule that locks it, if one does: such a tag is always kept.
    pub fn decide(&mut self, c: &Candidate, immutable: Option<i64>) -> Decision {
        let mut kept_by: Option<(usize, String)> = None;
        let mut in_scope_of: Vec<usize> = Vec::new();
        for state in &mut self.rules {
            if !state.rule.chooses(c.tag.as_deref()) {
                continue;
            }
            let keeps = match state.rule.template {
                Template::LatestPushed(k) => {
                    state.chosen += 1;
                    state.chosen <= k
                }
                Template::LatestPulled(_) => {
                    state.pulled_keys.contains(&(c.artifact_id, c.tag.clone()))
                }
                Template::DaysSincePush(_) => c.pushed >= state.cutoff,
                Template::DaysSincePull(_) => c.pulled.as_ref().is_some_and(|p| *p >= state.cutoff),
                Template::Always => true,
            };
            if !keeps {
                in_scope_of.push(state.rule.number);
                continue;
            }
            if kept_by.is_none() {
                let detail = match state.rule.template {
                    Template::DaysSincePush(_) => format!(" (pushed {})", c.pushed),
                    Template::DaysSincePull(_) | Template::LatestPulled(_) => c
                        .pulled
                        .as_ref()
                        .map(|p| format!(" (last pulled {p})"))
                        .unwrap_or_else(|| " (never pulled)".to_owned()),
                    _ => String::new(),
                };
                kept_by = Some((state.rule.number, format!("{}{detail}", state.text)));
            }
        }
        if let Some((rule, text)) = kept_by {
            return Decision {
                retained: true,
                rule: Some(rule),
                reason: format!("kept by rule {rule}: {text}"),
            };
        }
        if let Some(locked) = immutable {
            return Decision {
                retained: true,
                rule: None,
                reason: format!("kept: immutable tag (immutability rule {locked})"),
            };
        }
        let why = match in_scope_of.as_slice() {
            [] => "no rule's tag selectors choose it".to_owned(),
            [one] => format!(
                "rule {one} ({}) chooses it but does not keep it{}",
                self.text_of(*one),
                self.when(c, *one)
            ),
            many => format!(
                "rules {} choose it but none keeps it",
                many.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Decision {
            retained: false,
            rule: None,
            reason: format!("removed: matched no retain rule ({why})"),
        }
    }

    fn text_of(&self, number: usize) -> &str {
        self.rules
            .iter()
            .find(|s| s.rule.number == number)
            .map_or("", |s| s.text.as_str())
    }

    /// The time a rule looked at, for a removal's reason.
    fn when(&self, c: &Candidate, number: usize) -> String {
        match self
            .rules
            .iter()
            .find(|s| s.rule.number == number)
            .map(|s| s.rule.template)
        {
            Some(Template::DaysSincePush(_)) => format!("; pushed {}", c.pushed),
            Some(Template::DaysSincePull(_) | Template::LatestPulled(_)) => {
                c.pulled.as_ref().map_or_else(
                    || "; never pulled".to_owned(),
                    |p| format!("; last pulled {p}"),
                )
            }
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retention::policy::check;

    fn policy(rules: serde_json::Value) -> Policy {
        let p = serde_json::from_value(serde_json::json!({
            "algorithm": "or", "rules": rules,
            "trigger": {"kind": "Schedule", "settings": {"cron": ""}},
            "scope": {"level": "project", "ref": 1}
        }))
        .unwrap_or_default();
        check(&p).map(|(_, p)| p).unwrap_or(Policy {
            project_id: 0,
            rules: Vec::new(),
            cron: None,
        })
    }

    fn candidate(tag: &str, pushed: &str, pulled: Option<&str>) -> Candidate {
        Candidate {
            tag: Some(tag.to_owned()),
            artifact_id: 1,
            digest: "sha256:x".to_owned(),
            pushed: pushed.to_owned(),
            pulled: pulled.map(str::to_owned),
        }
    }

    #[test]
    fn latest_pulled_ranks_never_pulled_last_and_reasons_name_the_rule() {
        let p = policy(
            serde_json::json!([{"action": "retain", "template": "latestPulledN",
            "params": {"latestPulledN": 2},
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
            "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "app/**"}]}}]),
        );
        assert!(Evaluator::new(&p, "web", Utc::now()).is_none());
        let covered = Evaluator::new(&p, "app/web", Utc::now());
        assert!(covered.is_some(), "app/web is covered");
        let Some(mut e) = covered else { return };
        let cs = [
            candidate("c", "2026-01-03", None),
            candidate("b", "2026-01-02", Some("2026-02-01")),
            candidate("a", "2026-01-01", None),
        ];
        assert!(e.needs_pull_pass());
        cs.iter().for_each(|c| e.observe_pull(c));
        e.finish_pull_pass();
        let d: Vec<Decision> = cs.iter().map(|c| e.decide(c, None)).collect();
        assert_eq!(
            d.iter().map(|d| d.retained).collect::<Vec<_>>(),
            [true, true, false]
        );
        assert_eq!(
            d[1].reason,
            "kept by rule 1: the latest 2 pulled in app/** (last pulled 2026-02-01)"
        );
        assert!(
            d[2].reason
                .starts_with("removed: matched no retain rule (rule 1"),
            "{}",
            d[2].reason
        );
        assert_eq!(
            e.decide(&candidate("z", "2025", None), Some(4)).reason,
            "kept: immutable tag (immutability rule 4)"
        );
    }
}
