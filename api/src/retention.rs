//! Tag retention: Harbor's `RetentionPolicy`, `RetentionRule`, `RetentionSelector`, `RetentionRuleTrigger`,
//! `RetentionPolicyScope`, `RetentionMetadata` (`/retentions*`), `RetentionExecution` and
//! `RetentionExecutionTask`; and Berth's addition `RetentionReason`, each tag's fate in a task.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Harbor's `RetentionPolicy`: the rules of one project, combined with "or" (a tag is kept if any rule keeps it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
pub struct RetentionPolicy {
    #[serde(default)]
    pub id: i64,
    /// `or`, the only algorithm.
    #[serde(default)]
    pub algorithm: String,
    #[serde(default)]
    pub rules: Vec<RetentionRule>,
    #[serde(default)]
    pub trigger: Option<RetentionRuleTrigger>,
    #[serde(default)]
    pub scope: Option<RetentionPolicyScope>,
}

/// Harbor's `RetentionRule`: which tags (selectors) a template keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
pub struct RetentionRule {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub priority: i64,
    #[serde(default)]
    pub disabled: bool,
    /// `retain`, the only action.
    #[serde(default)]
    pub action: String,
    /// `latestPushedK`, `latestPulledN`, `nDaysSinceLastPush`, `nDaysSinceLastPull` or `always`.
    #[serde(default)]
    pub template: String,
    /// The template's parameter under its own name, e.g. `{"latestPushedK": 5}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub tag_selectors: Vec<RetentionSelector>,
    /// `{"repository": [selectors]}`.
    #[serde(default)]
    pub scope_selectors: BTreeMap<String, Vec<RetentionSelector>>,
}

/// Harbor's `RetentionSelector`: a doublestar pattern and how it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct RetentionSelector {
    /// `doublestar`.
    #[serde(default)]
    pub kind: String,
    /// Tags: `matches` or `excludes`; repositories: `repoMatches` or `repoExcludes`.
    #[serde(default)]
    pub decoration: String,
    #[serde(default)]
    pub pattern: String,
    /// JSON text; for tags `{"untagged": true}` puts untagged artifacts in the selector's scope.
    #[serde(default)]
    pub extras: String,
}

/// Harbor's `RetentionRuleTrigger`: `{"kind": "Schedule", "settings": {"cron": "0 0 0 * * *"}}`; an empty cron
/// means no schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, Default)]
pub struct RetentionRuleTrigger {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub references: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Harbor's `RetentionPolicyScope`: `{"level": "project", "ref": <project id>}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct RetentionPolicyScope {
    #[serde(default)]
    pub level: String,
    #[serde(default, rename = "ref")]
    pub reference: i64,
}

/// Harbor's `RetentionMetadata`: the templates and selectors a rule may use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RetentionMetadata {
    pub templates: Vec<RetentionRuleMetadata>,
    pub scope_selectors: Vec<RetentionSelectorMetadata>,
    pub tag_selectors: Vec<RetentionSelectorMetadata>,
}

/// Harbor's `RetentionRuleMetadata`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RetentionRuleMetadata {
    pub rule_template: String,
    pub display_text: String,
    pub action: String,
    pub params: Vec<RetentionRuleParamMetadata>,
}

/// Harbor's `RetentionRuleParamMetadata`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RetentionRuleParamMetadata {
    #[serde(rename = "type")]
    pub kind: String,
    pub unit: String,
    pub required: bool,
}

/// Harbor's `RetentionSelectorMetadata`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RetentionSelectorMetadata {
    pub display_text: String,
    pub kind: String,
    pub decorations: Vec<String>,
}

/// The body of `POST /retentions/{id}/executions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct RetentionRun {
    #[serde(default)]
    pub dry_run: bool,
}

/// The body of `PATCH /retentions/{id}/executions/{eid}`: `{"action": "stop"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
pub struct RetentionExecutionAction {
    #[serde(default)]
    pub action: String,
}

/// Harbor's `RetentionExecution`: one run of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RetentionExecution {
    pub id: i64,
    pub policy_id: i64,
    pub start_time: String,
    pub end_time: String,
    /// `Pending`, `Running`, `Success`, `Error` or `Stopped`.
    pub status: String,
    /// `MANUAL` or `SCHEDULE`.
    pub trigger: String,
    pub dry_run: bool,
}

/// Harbor's `RetentionExecutionTask`: one repository of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RetentionExecutionTask {
    pub id: i64,
    pub execution_id: i64,
    pub repository: String,
    /// The job that ran it (the execution's).
    pub job_id: String,
    pub status: String,
    /// Harbor's job status code: 0 pending, 2 running, 3 ended.
    pub status_code: i64,
    pub status_revision: i64,
    pub start_time: String,
    pub end_time: String,
    /// Tags and untagged artifacts looked at.
    pub total: i64,
    /// Of which kept.
    pub retained: i64,
}

/// Berth's addition (`GET /retentions/{id}/executions/{eid}/tasks/{tid}/reasons`): what a run decided for one
/// tag, or for one untagged artifact, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RetentionReason {
    /// The tag; absent for an untagged artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    pub digest: String,
    /// Kept (`true`) or removed.
    pub retained: bool,
    /// The retention rule that kept it (its position in the policy, from 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<i64>,
    /// Removed, and its artifact deleted with it (no kept tag and no index needed it); otherwise only the tag
    /// went.
    pub artifact_deleted: bool,
    /// Why, e.g. `kept by rule 2: the latest 5 pushed` or `removed: matched no retain rule`.
    pub reason: String,
}
