//! What a delivery sends: Harbor's JSON ([`Payload`] as is), CloudEvents 1.0 in structured mode, or a Slack
//! message (an incoming webhook's `text` with Block Kit `blocks`).

use berth_api::webhooks::{FORMAT_CLOUDEVENTS, NOTIFY_SLACK, Payload};
use serde_json::json;

use super::EventType;

/// The most characters of a Slack section's text (Slack refuses longer ones: 3,000), with room to spare.
const SLACK_SECTION_MAX: usize = 2900;

/// A request body and its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The body for a target of `notify_type` (`http`, `slack`) and `format` (`Default`, `CloudEvents`).
pub fn render(
    notify_type: &str,
    format: &str,
    event_type: EventType,
    payload: &Payload,
    project_id: i64,
    policy_id: i64,
) -> Result<Body, serde_json::Error> {
    if notify_type == NOTIFY_SLACK {
        return Ok(Body {
            content_type: "application/json",
            bytes: serde_json::to_vec(&slack(payload)?)?,
        });
    }
    if format == FORMAT_CLOUDEVENTS {
        return Ok(Body {
            content_type: "application/cloudevents+json",
            bytes: serde_json::to_vec(&cloudevents(event_type, payload, project_id, policy_id))?,
        });
    }
    Ok(Body {
        content_type: "application/json",
        bytes: serde_json::to_vec(payload)?,
    })
}

/// A CloudEvents 1.0 event in structured JSON mode, shaped as Harbor's: its `source` names the policy, its
/// `data` is the payload's `event_data`, and `operator` is an extension attribute.
fn cloudevents(
    event_type: EventType,
    payload: &Payload,
    project_id: i64,
    policy_id: i64,
) -> serde_json::Value {
    let time = chrono::DateTime::from_timestamp(payload.occur_at, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "specversion": "1.0",
        "id": uuid::Uuid::new_v4().to_string(),
        "source": format!("/projects/{project_id}/webhook/policies/{policy_id}"),
        "type": event_type.cloudevents_type(),
        "datacontenttype": "application/json",
        "time": time,
        "data": payload.event_data,
        "operator": payload.operator,
    })
}

/// A Slack incoming-webhook message: a `text` fallback (what notifications show) and `mrkdwn` sections for
/// the event type, its time, the operator and the event data (as a code block, cut to fit a section).
fn slack(payload: &Payload) -> Result<serde_json::Value, serde_json::Error> {
    let mut data = serde_json::to_string_pretty(&payload.event_data)?;
    if data.len() > SLACK_SECTION_MAX {
        let mut end = SLACK_SECTION_MAX;
        while !data.is_char_boundary(end) {
            end -= 1;
        }
        data.truncate(end);
        data.push('…');
    }
    let section =
        |text: String| json!({"type": "section", "text": {"type": "mrkdwn", "text": text}});
    let fallback_time = chrono::DateTime::from_timestamp(payload.occur_at, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Ok(json!({
        "text": format!("Harbor webhook event {} by {}", payload.event_type, operator(payload)),
        "blocks": [
            section("*Harbor webhook events*".to_owned()),
            section(format!("*event_type:* {}", payload.event_type)),
            section(format!(
                "*occur_at:* <!date^{}^{{date}} at {{time}}|{fallback_time}>",
                payload.occur_at
            )),
            section(format!("*operator:* {}", operator(payload))),
            section("*event_data:*".to_owned()),
            section(format!("```{data}```")),
        ],
    }))
}

fn operator(payload: &Payload) -> &str {
    if payload.operator.is_empty() {
        "anonymous"
    } else {
        &payload.operator
    }
}

#[cfg(test)]
mod tests {
    use berth_api::webhooks::{EventData, EventResource, FORMAT_DEFAULT, NOTIFY_HTTP};

    use super::*;

    fn payload(data_len: usize) -> Payload {
        Payload {
            event_type: "PUSH_ARTIFACT".to_owned(),
            occur_at: 1_700_000_000,
            operator: "alice".to_owned(),
            event_data: EventData {
                resources: vec![EventResource {
                    digest: "sha256:ab".to_owned(),
                    tag: "x".repeat(data_len),
                    resource_url: "localhost:8080/p/r:v1".to_owned(),
                    scan_overview: None,
                }],
                ..EventData::default()
            },
        }
    }

    #[test]
    fn the_default_format_is_the_payload_itself() -> Result<(), serde_json::Error> {
        let body = render(
            NOTIFY_HTTP,
            FORMAT_DEFAULT,
            EventType::PushArtifact,
            &payload(2),
            1,
            2,
        )?;
        assert_eq!(body.content_type, "application/json");
        let value: serde_json::Value = serde_json::from_slice(&body.bytes)?;
        assert_eq!(value["type"], "PUSH_ARTIFACT");
        assert_eq!(value["occur_at"], 1_700_000_000);
        assert_eq!(value["event_data"]["resources"][0]["tag"], "xx");
        Ok(())
    }

    #[test]
    fn cloudevents_carry_the_event_data_and_name_the_policy() -> Result<(), serde_json::Error> {
        let body = render(
            NOTIFY_HTTP,
            FORMAT_CLOUDEVENTS,
            EventType::PullArtifact,
            &payload(2),
            7,
            9,
        )?;
        assert_eq!(body.content_type, "application/cloudevents+json");
        let value: serde_json::Value = serde_json::from_slice(&body.bytes)?;
        assert_eq!(value["specversion"], "1.0");
        assert_eq!(value["type"], "harbor.artifact.pulled");
        assert_eq!(value["source"], "/projects/7/webhook/policies/9");
        assert_eq!(value["time"], "2023-11-14T22:13:20Z");
        assert_eq!(value["operator"], "alice");
        assert_eq!(value["data"]["resources"][0]["digest"], "sha256:ab");
        assert!(value["id"].as_str().is_some_and(|id| id.len() == 36));
        Ok(())
    }

    #[test]
    fn slack_sections_stay_within_slacks_limit() -> Result<(), serde_json::Error> {
        let body = render("slack", "", EventType::PushArtifact, &payload(10_000), 1, 2)?;
        let value: serde_json::Value = serde_json::from_slice(&body.bytes)?;
        let blocks = value["blocks"].as_array().cloned().unwrap_or_default();
        assert_eq!(blocks.len(), 6);
        for block in &blocks {
            assert_eq!(block["type"], "section");
            assert_eq!(block["text"]["type"], "mrkdwn");
            let text = block["text"]["text"].as_str().unwrap_or_default();
            assert!(text.chars().count() <= 3000, "{} characters", text.len());
        }
        assert!(
            value["text"]
                .as_str()
                .is_some_and(|t| t.contains("PUSH_ARTIFACT"))
        );
        Ok(())
    }
}
