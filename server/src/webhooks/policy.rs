//! A webhook policy as the API takes it, checked and turned into rows, and back into Harbor's shape.
//!
//! Rules: a name (at most [`MAX_NAME`] characters, unique in the project); one to [`MAX_EVENT_TYPES`] known
//! event types; one to [`MAX_TARGETS`] targets with distinct addresses. A target is `http` (payload format
//! `Default`, the default, or `CloudEvents`) or `slack` (no payload format, as in Harbor), with an `http://`
//! or `https://` address without credentials in it. The Authorization header is sealed; it is never
//! returned, and a `PUT` that sends none for an address the policy already had keeps the stored one.

use berth_api::webhooks::{
    FORMAT_CLOUDEVENTS, FORMAT_DEFAULT, NOTIFY_HTTP, NOTIFY_SLACK, WebhookPolicy, WebhookTarget,
};

use super::EventType;
use crate::crypto::SecretBox;
use crate::db::webhooks::{WebhookPolicyRow, WebhookTargetRow};

pub const MAX_NAME: usize = 256;
pub const MAX_DESCRIPTION: usize = 1024;
pub const MAX_EVENT_TYPES: usize = EventType::ALL.len();
pub const MAX_TARGETS: usize = 10;
pub const MAX_ADDRESS: usize = 2048;
pub const MAX_AUTH_HEADER: usize = 4096;
/// The most policies one project holds.
pub const MAX_POLICIES: i64 = 100;

/// A policy's checked fields, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub name: String,
    pub description: String,
    /// JSON array text.
    pub event_types: String,
    pub enabled: bool,
    pub targets: Vec<WebhookTargetRow>,
}

/// Checks `policy`, sealing the targets' Authorization headers; `stored` are the policy's current targets
/// (empty for a new policy), whose headers are kept for an unchanged address that sends none.
pub fn check(
    policy: &WebhookPolicy,
    stored: &[WebhookTargetRow],
    secrets: &SecretBox,
    allow_local: bool,
) -> Result<Checked, String> {
    let name = policy.name.trim();
    if name.is_empty() {
        return Err("a webhook policy needs a name".to_owned());
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(format!(
            "a webhook policy's name is at most {MAX_NAME} characters, without control characters"
        ));
    }
    if policy.description.chars().count() > MAX_DESCRIPTION {
        return Err(format!(
            "a webhook policy's description is at most {MAX_DESCRIPTION} characters"
        ));
    }
    if policy.event_types.is_empty() {
        return Err("a webhook policy needs at least one event type".to_owned());
    }
    let mut event_types: Vec<&str> = Vec::new();
    for event in &policy.event_types {
        let known = EventType::parse(event).ok_or_else(|| {
            format!(
                "unsupported event type {:?}; GET …/webhook/events lists the supported ones",
                crate::events::audit::truncate(event)
            )
        })?;
        if !event_types.contains(&known.as_str()) {
            event_types.push(known.as_str());
        }
    }
    if policy.targets.is_empty() {
        return Err(format!("empty notification target with policy {name}"));
    }
    if policy.targets.len() > MAX_TARGETS {
        return Err(format!(
            "a webhook policy has at most {MAX_TARGETS} targets"
        ));
    }
    let mut targets: Vec<WebhookTargetRow> = Vec::with_capacity(policy.targets.len());
    for target in &policy.targets {
        let row = check_target(target, stored, secrets, allow_local)?;
        if targets.iter().any(|t| t.address == row.address) {
            return Err(format!(
                "the address {} is given twice; each target needs its own",
                row.address
            ));
        }
        targets.push(row);
    }
    Ok(Checked {
        name: name.to_owned(),
        description: policy.description.clone(),
        event_types: serde_json::to_string(&event_types).map_err(|e| e.to_string())?,
        enabled: policy.enabled,
        targets,
    })
}

fn check_target(
    target: &WebhookTarget,
    stored: &[WebhookTargetRow],
    secrets: &SecretBox,
    allow_local: bool,
) -> Result<WebhookTargetRow, String> {
    let notify_type = target.notify_type.as_str();
    if notify_type != NOTIFY_HTTP && notify_type != NOTIFY_SLACK {
        return Err(format!(
            "unsupported target type {:?}: http or slack",
            crate::events::audit::truncate(notify_type)
        ));
    }
    let payload_format = match (notify_type, target.payload_format.as_str()) {
        (NOTIFY_SLACK, "") => "",
        (NOTIFY_SLACK, _) => return Err("set payload format is not allowed for slack".to_owned()),
        (_, "" | FORMAT_DEFAULT) => FORMAT_DEFAULT,
        (_, FORMAT_CLOUDEVENTS) => FORMAT_CLOUDEVENTS,
        (_, other) => {
            return Err(format!(
                "unsupported payload format type {:?}: Default or CloudEvents",
                crate::events::audit::truncate(other)
            ));
        }
    };
    let address = check_address(&target.address, allow_local)?;
    let auth_header = match target.auth_header.as_deref().map(str::trim) {
        Some(header) if !header.is_empty() => {
            if header.len() > MAX_AUTH_HEADER
                || !header
                    .bytes()
                    .all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic())
            {
                return Err(format!(
                    "auth_header is at most {MAX_AUTH_HEADER} bytes of printable ASCII"
                ));
            }
            Some(
                secrets
                    .seal(header)
                    .map_err(|_| "the auth header could not be sealed".to_owned())?,
            )
        }
        _ => stored
            .iter()
            .find(|t| t.address == address)
            .and_then(|t| t.auth_header.clone()),
    };
    Ok(WebhookTargetRow {
        policy_id: 0,
        position: 0,
        notify_type: notify_type.to_owned(),
        address,
        auth_header,
        skip_cert_verify: target.skip_cert_verify,
        payload_format: payload_format.to_owned(),
    })
}

/// An `http://` or `https://` URL with a host and no credentials, without its fragment, not on this machine
/// unless `allow_local` (see [`super::egress`]).
fn check_address(address: &str, allow_local: bool) -> Result<String, String> {
    let address = address.trim();
    if address.len() > MAX_ADDRESS {
        return Err(format!("a target address is at most {MAX_ADDRESS} bytes"));
    }
    let bad = || {
        format!(
            "invalid target address {:?}: an http:// or https:// URL",
            crate::events::audit::truncate(address)
        )
    };
    let mut url = url::Url::parse(address).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "a target address may not hold credentials; send them as auth_header".to_owned(),
        );
    }
    if let Some(why) = super::egress::refusal(&url, allow_local) {
        return Err(why);
    }
    url.set_fragment(None);
    Ok(url.to_string())
}

/// A stored policy in Harbor's shape (Authorization headers left out).
pub fn to_wire(row: WebhookPolicyRow, targets: &[WebhookTargetRow]) -> WebhookPolicy {
    WebhookPolicy {
        id: row.id,
        name: row.name,
        description: row.description,
        project_id: row.project_id,
        targets: targets
            .iter()
            .filter(|t| t.policy_id == row.id)
            .map(|t| WebhookTarget {
                notify_type: t.notify_type.clone(),
                address: t.address.clone(),
                auth_header: None,
                skip_cert_verify: t.skip_cert_verify,
                payload_format: t.payload_format.clone(),
            })
            .collect(),
        event_types: serde_json::from_str(&row.event_types).unwrap_or_default(),
        creator: row.creator,
        creation_time: row.creation_time,
        update_time: row.update_time,
        enabled: row.enabled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> SecretBox {
        SecretBox::new([7; 32])
    }

    fn policy(targets: Vec<WebhookTarget>) -> WebhookPolicy {
        WebhookPolicy {
            name: "ci".to_owned(),
            event_types: vec!["PUSH_ARTIFACT".to_owned(), "PUSH_ARTIFACT".to_owned()],
            targets,
            enabled: true,
            ..WebhookPolicy::default()
        }
    }

    fn http(address: &str, header: Option<&str>) -> WebhookTarget {
        WebhookTarget {
            notify_type: "http".to_owned(),
            address: address.to_owned(),
            auth_header: header.map(str::to_owned),
            ..WebhookTarget::default()
        }
    }

    #[test]
    fn a_good_policy_is_normalised_and_its_header_sealed() -> Result<(), String> {
        let checked = check(
            &policy(vec![http(
                "http://ci.example:9000/hook#x",
                Some("Bearer t"),
            )]),
            &[],
            &secrets(),
            false,
        )?;
        assert_eq!(checked.event_types, r#"["PUSH_ARTIFACT"]"#);
        let target = &checked.targets[0];
        assert_eq!(target.address, "http://ci.example:9000/hook");
        assert_eq!(target.payload_format, "Default");
        let sealed = target.auth_header.clone().unwrap_or_default();
        assert!(!sealed.windows(8).any(|w| w == b"Bearer t"));
        let opened = secrets().open(&sealed).map_err(|e| e.to_string())?;
        assert_eq!(opened.expose(), "Bearer t");
        Ok(())
    }

    #[test]
    fn an_update_without_a_header_keeps_the_stored_one_for_the_same_address_only()
    -> Result<(), String> {
        let first = check(
            &policy(vec![http("http://ci.example/hook", Some("Bearer t"))]),
            &[],
            &secrets(),
            false,
        )?;
        let same = check(
            &policy(vec![http("http://ci.example/hook", None)]),
            &first.targets,
            &secrets(),
            false,
        )?;
        assert_eq!(same.targets[0].auth_header, first.targets[0].auth_header);
        let moved = check(
            &policy(vec![http("http://elsewhere.example/hook", None)]),
            &first.targets,
            &secrets(),
            false,
        )?;
        assert_eq!(moved.targets[0].auth_header, None);
        Ok(())
    }

    #[test]
    fn bad_policies_are_refused_with_a_reason() {
        let cases: Vec<(WebhookPolicy, &str)> = vec![
            (policy(vec![]), "empty notification target"),
            (
                policy(vec![http("ftp://x.example/", None)]),
                "invalid target address",
            ),
            (
                policy(vec![http("http://u:p@x.example/", None)]),
                "credentials",
            ),
            (
                policy(vec![http("http://x.example/", Some("a\r\nX-Injected: 1"))]),
                "printable ASCII",
            ),
            (
                policy(vec![
                    http("http://x.example/", None),
                    http("http://x.example/", None),
                ]),
                "given twice",
            ),
            (
                WebhookPolicy {
                    event_types: vec!["DOWNLOAD_CHART".to_owned()],
                    ..policy(vec![http("http://x.example/", None)])
                },
                "unsupported event type",
            ),
            (
                policy(vec![WebhookTarget {
                    notify_type: "slack".to_owned(),
                    address: "https://hooks.slack.example/T".to_owned(),
                    payload_format: "CloudEvents".to_owned(),
                    ..WebhookTarget::default()
                }]),
                "not allowed for slack",
            ),
            (
                WebhookPolicy {
                    name: " ".to_owned(),
                    ..policy(vec![http("http://x.example/", None)])
                },
                "needs a name",
            ),
        ];
        let mut wrong = Vec::new();
        for (policy, reason) in cases {
            match check(&policy, &[], &secrets(), false) {
                Err(e) if e.contains(reason) => {}
                other => wrong.push(format!("expected {reason:?}, got {other:?}")),
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
