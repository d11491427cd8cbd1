//! A replication policy's settings: what Harbor's `ReplicationPolicy` says beyond its name and registries,
//! checked ([`validate`]), stored as JSON, and applied: which repositories and tags it selects
//! ([`Selection`]) and where a repository lands ([`destination`]).

use berth_api::replication::{
    FILTER_LABEL, FILTER_NAME, FILTER_RESOURCE, FILTER_TAG, ReplicationFilter, ReplicationPolicy,
    ReplicationTrigger, ReplicationTriggerSettings, TRIGGER_EVENT, TRIGGER_MANUAL,
    TRIGGER_SCHEDULED,
};
use serde::{Deserialize, Serialize};

use crate::patterns::Doublestar;

/// The most filters of a policy.
pub const MAX_FILTERS: usize = 10;
/// The most labels of a label filter.
pub const MAX_LABELS: usize = 20;
/// The longest name, description and namespace.
pub const MAX_NAME: usize = 255;
pub const MAX_DESCRIPTION: usize = 1024;
/// The fastest bandwidth limit, KiB/s (about 10 GiB/s: beyond it, no limit is meant).
pub const MAX_SPEED: i32 = 10 * 1024 * 1024;

/// What is stored in `settings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub dest_namespace: String,
    #[serde(default = "flatten_all")]
    pub dest_namespace_replace_count: i8,
    pub trigger: ReplicationTrigger,
    #[serde(default)]
    pub filters: Vec<ReplicationFilter>,
    #[serde(default)]
    pub replicate_deletion: bool,
    #[serde(default)]
    pub r#override: bool,
    /// KiB/s; 0 for no limit.
    #[serde(default)]
    pub speed: i32,
    #[serde(default)]
    pub copy_by_chunk: bool,
    #[serde(default)]
    pub single_active_replication: bool,
}

fn flatten_all() -> i8 {
    -1
}

/// A checked policy: its settings and, for a scheduled one, its cron.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub settings: Settings,
    pub cron: Option<String>,
}

/// Checks the body of `POST` or `PUT /replication/policies` (all but the registries, which the caller
/// resolves). `push_based`: Berth is the source.
pub fn validate(policy: &ReplicationPolicy, push_based: bool) -> Result<Checked, String> {
    let name = policy.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(format!(
            "the name is required, at most {MAX_NAME} characters"
        ));
    }
    if policy.description.chars().count() > MAX_DESCRIPTION {
        return Err(format!(
            "the description has at most {MAX_DESCRIPTION} characters"
        ));
    }
    let namespace = policy.dest_namespace.trim();
    if !namespace.is_empty()
        && (namespace.len() > MAX_NAME
            || !namespace
                .split('/')
                .all(crate::oci::name::is_valid_component))
    {
        return Err(format!(
            "dest_namespace {:?} is not a repository path (lowercase letters, digits and separators, components split by /)",
            crate::events::audit::clip(namespace)
        ));
    }
    let replace_count = policy.dest_namespace_replace_count.unwrap_or(-1);
    if !(-1..=10).contains(&replace_count) {
        return Err(
            "dest_namespace_replace_count is -1 (flatten all levels) or 0 to 10".to_owned(),
        );
    }
    let trigger = policy.trigger.clone().unwrap_or(ReplicationTrigger {
        trigger_type: TRIGGER_MANUAL.to_owned(),
        trigger_settings: None,
    });
    let mut cron = None;
    match trigger.trigger_type.as_str() {
        TRIGGER_MANUAL => {}
        TRIGGER_SCHEDULED => {
            let text = trigger
                .trigger_settings
                .as_ref()
                .map(|s| s.cron.trim())
                .filter(|c| !c.is_empty())
                .ok_or("a scheduled trigger needs trigger_settings.cron")?;
            crate::jobs::schedule::parse_cron(text)?;
            cron = Some(text.to_owned());
        }
        TRIGGER_EVENT if push_based => {}
        TRIGGER_EVENT => {
            return Err("an event_based trigger needs Berth as the source (a push-based policy): a remote registry's events do not reach Berth".to_owned());
        }
        other => {
            return Err(format!(
                "trigger type must be manual, scheduled or event_based, not {:?}",
                crate::events::audit::clip(other)
            ));
        }
    }
    if policy.filters.len() > MAX_FILTERS {
        return Err(format!("a policy has at most {MAX_FILTERS} filters"));
    }
    let mut filters = Vec::with_capacity(policy.filters.len());
    for filter in &policy.filters {
        filters.push(check_filter(filter, push_based)?);
    }
    let speed = policy.speed.unwrap_or(0);
    if !(-1..=MAX_SPEED).contains(&speed) {
        return Err(format!("speed is KiB/s, -1 or 0 (no limit) to {MAX_SPEED}"));
    }
    Ok(Checked {
        settings: Settings {
            dest_namespace: namespace.to_owned(),
            dest_namespace_replace_count: replace_count,
            trigger: ReplicationTrigger {
                trigger_type: trigger.trigger_type,
                trigger_settings: cron.clone().map(|cron| ReplicationTriggerSettings { cron }),
            },
            filters,
            replicate_deletion: policy.replicate_deletion || policy.deletion,
            r#override: policy.r#override,
            speed: speed.max(0),
            copy_by_chunk: policy.copy_by_chunk.unwrap_or(false),
            single_active_replication: policy.single_active_replication.unwrap_or(false),
        },
        cron,
    })
}

fn check_filter(filter: &ReplicationFilter, push_based: bool) -> Result<ReplicationFilter, String> {
    let decoration = match filter.decoration.as_str() {
        "" | "matches" => "matches",
        "excludes" => "excludes",
        other => {
            return Err(format!(
                "a filter's decoration is matches or excludes, not {:?}",
                crate::events::audit::clip(other)
            ));
        }
    };
    let value = match filter.filter_type.as_str() {
        FILTER_NAME | FILTER_TAG => {
            let pattern = filter.value.as_str().ok_or_else(|| {
                format!(
                    "the value of a {} filter is a pattern (a string)",
                    filter.filter_type
                )
            })?;
            Doublestar::new(pattern)?;
            serde_json::Value::from(pattern)
        }
        FILTER_RESOURCE => match filter.value.as_str() {
            Some(kind @ ("image" | "artifact")) => serde_json::Value::from(kind),
            _ => return Err("the value of a resource filter is image or artifact".to_owned()),
        },
        FILTER_LABEL if !push_based => {
            return Err(
                "a label filter needs Berth as the source: remote registries have no labels"
                    .to_owned(),
            );
        }
        FILTER_LABEL => {
            let labels: Vec<String> = serde_json::from_value(filter.value.clone())
                .map_err(|_| "the value of a label filter is a list of label names".to_owned())?;
            if labels.len() > MAX_LABELS || labels.iter().any(|l| l.is_empty() || l.len() > 128) {
                return Err(format!(
                    "a label filter names 1 to {MAX_LABELS} labels of at most 128 bytes"
                ));
            }
            serde_json::Value::from(labels)
        }
        other => {
            return Err(format!(
                "filter type must be name, tag, label or resource, not {:?}",
                crate::events::audit::clip(other)
            ));
        }
    };
    Ok(ReplicationFilter {
        filter_type: filter.filter_type.clone(),
        value,
        decoration: decoration.to_owned(),
    })
}

/// The repository `repository` of the source becomes at the destination: with a namespace, its first
/// `replace_count` path components (all but the last for -1) are replaced by the namespace.
pub fn destination(repository: &str, namespace: &str, replace_count: i8) -> Result<String, String> {
    if namespace.is_empty() {
        return Ok(repository.to_owned());
    }
    let components: Vec<&str> = repository.split('/').collect();
    let drop = if replace_count < 0 {
        components.len() - 1
    } else {
        usize::try_from(replace_count).unwrap_or(0)
    };
    if drop > components.len() - 1 {
        return Err(format!(
            "the repository {repository} has only {} path components before its name; the policy flattens {drop}",
            components.len() - 1
        ));
    }
    let mut name = namespace.to_owned();
    for component in &components[drop..] {
        name.push('/');
        name.push_str(component);
    }
    Ok(name)
}

/// The filters of a policy, compiled.
#[derive(Debug, Default)]
pub struct Selection {
    names: Vec<(Doublestar, bool)>,
    tags: Vec<(Doublestar, bool)>,
    /// The labels an artifact must all carry (`true`) or none of which it may carry (`false`).
    pub labels: Vec<(Vec<String>, bool)>,
    /// Only images (image manifests and indexes) when set.
    pub images_only: bool,
}

impl Selection {
    pub fn new(filters: &[ReplicationFilter]) -> Result<Selection, String> {
        let mut selection = Selection::default();
        for filter in filters {
            let matches = filter.decoration != "excludes";
            match filter.filter_type.as_str() {
                FILTER_NAME => selection.names.push((
                    Doublestar::new(filter.value.as_str().unwrap_or("**"))?,
                    matches,
                )),
                FILTER_TAG => selection.tags.push((
                    Doublestar::new(filter.value.as_str().unwrap_or("**"))?,
                    matches,
                )),
                FILTER_LABEL => selection.labels.push((
                    serde_json::from_value(filter.value.clone()).unwrap_or_default(),
                    matches,
                )),
                FILTER_RESOURCE => selection.images_only = filter.value.as_str() == Some("image"),
                _ => {}
            }
        }
        Ok(selection)
    }

    /// Whether the repository (its full name at the source) is selected.
    pub fn repository(&self, name: &str) -> bool {
        self.names
            .iter()
            .all(|(pattern, matches)| pattern.is_match(name) == *matches)
    }

    /// Whether a tag is selected (an untagged artifact only when no tag filter is set).
    pub fn tag(&self, tag: Option<&str>) -> bool {
        match tag {
            Some(tag) => self
                .tags
                .iter()
                .all(|(pattern, matches)| pattern.is_match(tag) == *matches),
            None => self.tags.is_empty(),
        }
    }

    /// Whether an artifact with these labels is selected.
    pub fn labelled(&self, labels: &[String]) -> bool {
        self.labels.iter().all(|(wanted, matches)| {
            if *matches {
                wanted.iter().all(|w| labels.contains(w))
            } else {
                !wanted.iter().any(|w| labels.contains(w))
            }
        })
    }

    /// Whether a literal repository list can stand in for a catalog: every name pattern that matches is a
    /// plain name or a `{a,b}` list of plain names. The names, if so.
    pub fn literal_repositories(&self) -> Option<Vec<String>> {
        let (pattern, _) = self.names.iter().find(|(_, matches)| *matches)?;
        let text = pattern.as_str();
        let inner = text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(text);
        let names: Vec<String> = inner.split(',').map(|n| n.trim().to_owned()).collect();
        names
            .iter()
            .all(|n| !n.is_empty() && !n.contains(['*', '?', '[', '{', '\\']))
            .then_some(names)
    }
}

/// Whether a manifest media type is an image (a manifest or index), as the `image` resource filter means.
pub fn is_image(media_type: &str, artifact_type: Option<&str>) -> bool {
    crate::service::artifacts::kind(media_type, artifact_type) == "IMAGE"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_names_follow_harbors_flattening() -> Result<(), String> {
        assert_eq!(destination("a/b/c/img", "", -1)?, "a/b/c/img");
        assert_eq!(destination("a/b/c/img", "ns", -1)?, "ns/img");
        assert_eq!(destination("a/b/c/img", "ns", 0)?, "ns/a/b/c/img");
        assert_eq!(destination("a/b/c/img", "ns", 1)?, "ns/b/c/img");
        assert_eq!(destination("a/b/c/img", "ns", 3)?, "ns/img");
        assert!(destination("a/img", "ns", 2).is_err());
        assert_eq!(destination("img", "ns", -1)?, "ns/img");
        Ok(())
    }

    fn filter(kind: &str, value: serde_json::Value, decoration: &str) -> ReplicationFilter {
        ReplicationFilter {
            filter_type: kind.to_owned(),
            value,
            decoration: decoration.to_owned(),
        }
    }

    #[test]
    fn filters_select_repositories_tags_and_labels() -> Result<(), String> {
        let selection = Selection::new(&[
            filter("name", "library/**".into(), ""),
            filter("tag", "v*".into(), "matches"),
            filter("tag", "*-rc".into(), "excludes"),
            filter("label", serde_json::json!(["prod"]), "matches"),
        ])?;
        assert!(selection.repository("library/a/b"));
        assert!(!selection.repository("other/a"));
        assert!(selection.tag(Some("v1")));
        assert!(!selection.tag(Some("v1-rc")));
        assert!(!selection.tag(Some("latest")));
        assert!(!selection.tag(None));
        assert!(selection.labelled(&["prod".to_owned(), "x".to_owned()]));
        assert!(!selection.labelled(&["x".to_owned()]));
        assert_eq!(selection.literal_repositories(), None);
        let literal = Selection::new(&[filter(
            "name",
            "{library/alpine,library/busybox}".into(),
            "",
        )])?;
        assert_eq!(
            literal.literal_repositories(),
            Some(vec![
                "library/alpine".to_owned(),
                "library/busybox".to_owned()
            ])
        );
        assert!(Selection::new(&[]).map(|s| s.tag(None))?);
        Ok(())
    }

    #[test]
    fn policies_are_checked() {
        let mut policy = ReplicationPolicy {
            name: "p".to_owned(),
            ..ReplicationPolicy::default()
        };
        assert!(validate(&policy, true).is_ok());
        policy.trigger = Some(ReplicationTrigger {
            trigger_type: TRIGGER_EVENT.to_owned(),
            trigger_settings: None,
        });
        assert!(validate(&policy, false).is_err(), "event-based pull");
        assert!(validate(&policy, true).is_ok());
        policy.trigger = Some(ReplicationTrigger {
            trigger_type: TRIGGER_SCHEDULED.to_owned(),
            trigger_settings: Some(ReplicationTriggerSettings {
                cron: "0 0 * * *".to_owned(),
            }),
        });
        assert!(validate(&policy, true).is_err(), "five cron fields");
        policy.trigger = None;
        policy.filters = vec![filter("label", serde_json::json!(["a"]), "")];
        assert!(
            validate(&policy, false).is_err(),
            "labels of a remote source"
        );
        policy.filters = vec![filter("tag", "[".into(), "")];
        assert!(validate(&policy, true).is_err(), "bad pattern");
        policy.filters = vec![filter("name", "a".into(), "sometimes")];
        assert!(validate(&policy, true).is_err(), "bad decoration");
        policy.filters = Vec::new();
        policy.dest_namespace = "Bad Name".to_owned();
        assert!(validate(&policy, true).is_err());
        policy.dest_namespace = "good/ns".to_owned();
        policy.speed = Some(-5);
        assert!(validate(&policy, true).is_err());
    }
}
