//! Webhooks: a project's policies send its events (push, pull, delete, scans, quota, retention) to receivers,
//! as Harbor does: HTTP POST of Harbor's JSON or CloudEvents, or a Slack message.
//!
//! Rule: an event never waits for a receiver. [`Notifier::notify`] consults the project's enabled policies
//! (cached, so a project without webhooks costs nothing) and enqueues one WEBHOOK job per matching target
//! ([`deliver`]); the job posts the payload, records the receiver's status code, and is retried with backoff
//! when the receiver fails. Pushes and deletes hand their event to a spawned task; pulls are notified by the
//! batching pull writer ([`crate::stats`]), off the request path.
//!
//! What a delivery records is the receiver's status code only, never its body: a policy's address is chosen by
//! a project admin, and its answer must not become a way to read what the server can reach.

pub mod deliver;
pub mod egress;
pub mod payload;
pub mod policy;

use std::sync::Arc;

use berth_api::webhooks::{EventData, EventRepository, EventResource, Payload};

use crate::config::WebhooksConfig;
use crate::db::Db;
use crate::db::jobs::NewJob;
use crate::db::webhooks::ActiveWebhookPolicy;
use crate::db::{Project, timestamp};
use crate::events::audit::truncate;
use crate::jobs::Jobs;

/// The event types Berth sends (Harbor's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    PushArtifact,
    PullArtifact,
    DeleteArtifact,
    ScanningCompleted,
    ScanningFailed,
    ScanningStopped,
    QuotaExceed,
    QuotaWarning,
    TagRetention,
    Replication,
}

impl EventType {
    pub const ALL: [EventType; 10] = [
        EventType::PushArtifact,
        EventType::PullArtifact,
        EventType::DeleteArtifact,
        EventType::ScanningCompleted,
        EventType::ScanningFailed,
        EventType::ScanningStopped,
        EventType::QuotaExceed,
        EventType::QuotaWarning,
        EventType::TagRetention,
        EventType::Replication,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PushArtifact => "PUSH_ARTIFACT",
            EventType::PullArtifact => "PULL_ARTIFACT",
            EventType::DeleteArtifact => "DELETE_ARTIFACT",
            EventType::ScanningCompleted => "SCANNING_COMPLETED",
            EventType::ScanningFailed => "SCANNING_FAILED",
            EventType::ScanningStopped => "SCANNING_STOPPED",
            EventType::QuotaExceed => "QUOTA_EXCEED",
            EventType::QuotaWarning => "QUOTA_WARNING",
            EventType::TagRetention => "TAG_RETENTION",
            EventType::Replication => "REPLICATION",
        }
    }

    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// The CloudEvents `type` Harbor gives this event.
    pub fn cloudevents_type(self) -> &'static str {
        match self {
            EventType::PushArtifact => "harbor.artifact.pushed",
            EventType::PullArtifact => "harbor.artifact.pulled",
            EventType::DeleteArtifact => "harbor.artifact.deleted",
            EventType::ScanningCompleted => "harbor.scan.completed",
            EventType::ScanningFailed => "harbor.scan.failed",
            EventType::ScanningStopped => "harbor.scan.stopped",
            EventType::QuotaExceed => "harbor.quota.exceeded",
            EventType::QuotaWarning => "harbor.quota.warned",
            EventType::TagRetention => "harbor.tag_retention.finished",
            EventType::Replication => "harbor.replication.status.changed",
        }
    }
}

/// Something that happened in a project, to be sent to the policies that want it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub project_id: i64,
    pub event_type: EventType,
    pub payload: Payload,
}

/// The most WEBHOOK jobs that may wait at once, across the cluster; events past it are dropped, with a warning
/// (a receiver that is down for long, with a busy project, must not grow the job table without bound).
pub const MAX_PENDING: i64 = 10_000;

/// Sends events to the policies that want them. Cheap to share; lives in the app state.
#[derive(Debug)]
pub struct Notifier {
    db: Db,
    jobs: Arc<Jobs>,
    /// `host[:port]` of the registry as clients name it, for `resource_url`.
    registry_host: String,
    /// What deliveries post with, and whether they may go to local addresses.
    pub clients: egress::Clients,
}

impl Notifier {
    pub fn new(
        db: Db,
        jobs: Arc<Jobs>,
        registry_host: String,
        config: &WebhooksConfig,
    ) -> Result<Notifier, reqwest::Error> {
        Ok(Notifier {
            db,
            jobs,
            registry_host,
            clients: egress::Clients::new(config.allow_local_targets)?,
        })
    }

    /// The registry's `host[:port]` as resource URLs name it.
    pub fn registry_host(&self) -> &str {
        &self.registry_host
    }

    /// An event about one artifact of `repository` (`project/name`): `tag` when it was named by tag (else the
    /// digest stands in for it, as in Harbor).
    pub fn artifact_event(
        &self,
        event_type: EventType,
        project: &Project,
        repository: &str,
        digest: &str,
        tag: Option<&str>,
        operator: &str,
    ) -> Event {
        let resource_url = match tag {
            Some(tag) => format!("{}/{repository}:{tag}", self.registry_host),
            None => format!("{}/{repository}@{digest}", self.registry_host),
        };
        let name = repository
            .strip_prefix(&format!("{}/", project.name))
            .unwrap_or(repository);
        Event {
            project_id: project.id,
            event_type,
            payload: Payload {
                event_type: event_type.as_str().to_owned(),
                occur_at: chrono::Utc::now().timestamp(),
                operator: truncate(operator).to_owned(),
                event_data: EventData {
                    resources: vec![EventResource {
                        digest: digest.to_owned(),
                        tag: tag.unwrap_or(digest).to_owned(),
                        resource_url,
                        scan_overview: None,
                    }],
                    repository: Some(EventRepository {
                        date_created: 0,
                        name: name.to_owned(),
                        namespace: project.name.clone(),
                        repo_full_name: repository.to_owned(),
                        repo_type: if project.public { "public" } else { "private" }.to_owned(),
                    }),
                    ..EventData::default()
                },
            },
        }
    }

    /// Enqueues a delivery of `event` to every target of every enabled policy of its project that wants it.
    /// Never fails: what cannot be enqueued is logged and dropped.
    pub async fn notify(&self, event: Event) {
        let policies = match self.db.active_webhook_policies(event.project_id).await {
            Ok(policies) => policies,
            Err(e) => {
                tracing::warn!(project = event.project_id, event = event.event_type.as_str(), error = %e,
                    "could not read the project's webhook policies; the event is not sent");
                return;
            }
        };
        let wanted: Vec<&ActiveWebhookPolicy> = policies
            .iter()
            .filter(|p| p.wants(event.event_type.as_str()))
            .collect();
        if wanted.is_empty() {
            return;
        }
        let now = timestamp(chrono::Utc::now());
        for policy in wanted {
            for target in &policy.targets {
                let parameters = deliver::Parameters {
                    policy_id: policy.id,
                    project_id: event.project_id,
                    event_type: event.event_type.as_str().to_owned(),
                    address: target.address.clone(),
                    payload: event.payload.clone(),
                };
                let Ok(parameters) = serde_json::to_string(&parameters) else {
                    continue;
                };
                let job = NewJob {
                    kind: deliver::NAME,
                    parameters: &parameters,
                    max_attempts: deliver::KIND.max_attempts,
                    triggered_by: crate::jobs::EVENT,
                    operator: &event.payload.operator,
                    schedule_id: None,
                    run_after: &now,
                };
                match self
                    .db
                    .enqueue_webhook(
                        &job,
                        MAX_PENDING,
                        policy.id,
                        event.event_type.as_str(),
                        target,
                    )
                    .await
                {
                    Ok(Some(id)) => tracing::debug!(
                        job = id,
                        policy = policy.id,
                        event = event.event_type.as_str(),
                        "webhook delivery enqueued"
                    ),
                    Ok(None) => tracing::warn!(
                        policy = policy.id,
                        event = event.event_type.as_str(),
                        pending = MAX_PENDING,
                        "webhook queue full; this event is not sent"
                    ),
                    Err(e) => tracing::warn!(policy = policy.id, event = event.event_type.as_str(),
                        error = %e, "could not enqueue a webhook delivery; this event is not sent"),
                }
            }
        }
        self.jobs.wake();
    }

    /// Whether an enabled policy of project `project_id` wants `event_type` (the policies are cached). A
    /// failed read answers yes: [`Notifier::notify`] then meets the failure and logs it.
    async fn wanted(&self, project_id: i64, event_type: &str) -> bool {
        match self.db.active_webhook_policies(project_id).await {
            Ok(policies) => policies.iter().any(|p| p.wants(event_type)),
            Err(_) => true,
        }
    }

    /// Whether an enabled policy of the project named `project` wants `event_type`, for a caller with many
    /// events to sort. A failed read answers yes, as [`Notifier::wanted`] does; a missing project no.
    pub async fn wants(&self, project: &str, event_type: EventType) -> bool {
        match self.db.find_project(project).await {
            Ok(Some(project)) => self.wanted(project.id, event_type.as_str()).await,
            Ok(None) => false,
            Err(_) => true,
        }
    }

    /// Sends an event about one artifact of `repository` (`project/name`), after `adjust` has added what the
    /// event type carries (a scan overview, for example); nothing when the project is gone.
    pub async fn notify_artifact(
        &self,
        event_type: EventType,
        repository: &str,
        digest: &str,
        tag: Option<&str>,
        operator: &str,
        adjust: impl FnOnce(&mut Event),
    ) {
        let Some((project_name, _)) = repository.split_once('/') else {
            return;
        };
        let project = match self.db.find_project(project_name).await {
            Ok(Some(project)) => project,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(repository, error = %e, event = event_type.as_str(),
                    "could not read the project of an event; it is not sent");
                return;
            }
        };
        // Most projects have no policy for most events (every pull comes here): build nothing for them.
        if !self.wanted(project.id, event_type.as_str()).await {
            return;
        }
        let mut event =
            self.artifact_event(event_type, &project, repository, digest, tag, operator);
        adjust(&mut event);
        self.notify(event).await;
    }

    /// Sends `QUOTA_EXCEED` for a push into `repository` that the project's quota refused, on a task of its
    /// own: the blob or manifest when known, and Harbor's `custom_attributes.Details` saying why.
    pub fn quota_exceeded(
        self: &Arc<Self>,
        project: &Project,
        repository: &str,
        digest: Option<&str>,
        operator: &str,
        details: String,
    ) {
        let mut event = self.artifact_event(
            EventType::QuotaExceed,
            project,
            repository,
            digest.unwrap_or_default(),
            None,
            operator,
        );
        if digest.is_none() {
            event.payload.event_data.resources.clear();
        }
        event
            .payload
            .event_data
            .custom
            .insert("Details".to_owned(), details);
        self.notify_soon(event);
    }

    /// Sends `QUOTA_WARNING` after a push of `digest` into `repository` that left its project at or above
    /// [`QUOTA_WARNING_PERCENT`] of its storage limit, with Harbor's `custom_attributes.Details` ("quota usage
    /// reach 85%: …"), on every such push. On a task of its own; the project's usage is read
    /// only when one of its policies wants the event (the policies are cached).
    pub fn quota_warning_soon(
        self: &Arc<Self>,
        project: &Project,
        repository: &str,
        digest: &str,
        operator: &str,
    ) {
        let mut event = self.artifact_event(
            EventType::QuotaWarning,
            project,
            repository,
            digest,
            None,
            operator,
        );
        let notifier = self.clone();
        tokio::spawn(async move {
            if !notifier
                .wanted(event.project_id, event.event_type.as_str())
                .await
            {
                return;
            }
            let quota = match notifier.db.quota(event.project_id).await {
                Ok(Some(quota)) => quota,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(project = event.project_id, error = %e,
                        "could not read the project's quota; QUOTA_WARNING is not sent");
                    return;
                }
            };
            let Some(details) = quota_warning(quota.used, quota.limit) else {
                return;
            };
            event
                .payload
                .event_data
                .custom
                .insert("Details".to_owned(), details);
            notifier.notify(event).await;
        });
    }

    /// [`Self::notify`] on a task of its own, so the caller (a push, a delete) never waits for it.
    pub fn notify_soon(self: &Arc<Self>, event: Event) {
        let notifier = self.clone();
        tokio::spawn(async move { notifier.notify(event).await });
    }
}

/// The share of its storage limit a project may use before a push into it sends `QUOTA_WARNING` (Harbor's).
pub const QUOTA_WARNING_PERCENT: i64 = 85;

/// Harbor's `Details` of a `QUOTA_WARNING` when `used` bytes of `limit` (-1: none) reach
/// [`QUOTA_WARNING_PERCENT`]; `None` below it or without a limit.
fn quota_warning(used: i64, limit: i64) -> Option<String> {
    (limit > 0 && i128::from(used) * 100 >= i128::from(limit) * i128::from(QUOTA_WARNING_PERCENT))
        .then(|| {
            format!(
                "quota usage reach {QUOTA_WARNING_PERCENT}%: resource storage used {} of {}",
                size_text(used),
                size_text(limit)
            )
        })
}

/// A size in binary units with one decimal, as Harbor's messages give them: `512 B`, `12.6 MiB`.
fn size_text(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `host[:port]` of `external_url`, else of the listen address (`localhost` for an unspecified one).
pub fn registry_host(external_url: Option<&str>, listen: std::net::SocketAddr) -> String {
    if let Some(host) = external_url
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| {
            u.host_str().map(|h| {
                u.port()
                    .map_or_else(|| h.to_owned(), |p| format!("{h}:{p}"))
            })
        })
    {
        return host;
    }
    if listen.ip().is_unspecified() {
        format!("localhost:{}", listen.port())
    } else {
        listen.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip_through_their_harbor_names() {
        for event in EventType::ALL {
            assert_eq!(EventType::parse(event.as_str()), Some(event));
        }
        assert_eq!(EventType::parse("quota_warning"), None);
        assert_eq!(EventType::parse("push_artifact"), None);
    }

    #[test]
    fn a_quota_warning_starts_at_85_percent_of_a_limit() {
        assert_eq!(quota_warning(84, 100), None);
        assert_eq!(quota_warning(10, -1), None, "no limit");
        assert_eq!(quota_warning(0, 0), None);
        assert_eq!(
            quota_warning(85, 100).as_deref(),
            Some("quota usage reach 85%: resource storage used 85 B of 100 B")
        );
        assert_eq!(
            quota_warning(13_212_057, 14_680_064).as_deref(),
            Some("quota usage reach 85%: resource storage used 12.6 MiB of 14.0 MiB")
        );
        assert!(quota_warning(i64::MAX, i64::MAX).is_some(), "no overflow");
        assert_eq!(size_text(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn resource_urls_name_the_external_host() {
        let listen: std::net::SocketAddr = ([0, 0, 0, 0], 8080).into();
        assert_eq!(
            registry_host(Some("https://registry.example:8443/"), listen),
            "registry.example:8443"
        );
        assert_eq!(
            registry_host(Some("https://registry.example"), listen),
            "registry.example"
        );
        assert_eq!(registry_host(None, listen), "localhost:8080");
        let local: std::net::SocketAddr = ([127, 0, 0, 1], 5000).into();
        assert_eq!(registry_host(None, local), "127.0.0.1:5000");
    }
}
