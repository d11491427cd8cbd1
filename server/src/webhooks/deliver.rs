//! The WEBHOOK job: one event posted to one target. A receiver that does not answer 2xx (or cannot be reached)
//! fails the attempt, and the job system tries again with backoff, [`KIND`]`.max_attempts` times in all. Each
//! attempt's outcome is a line of the job's log (the task log of Harbor's API) and the receiver's last status
//! code is kept with the execution.

use berth_api::webhooks::Payload;
use serde::{Deserialize, Serialize};

use super::{EventType, payload};
use crate::jobs::{JobContext, JobError, JobFuture, Kind};

pub const NAME: &str = "WEBHOOK";

/// The first attempt and three retries, as Harbor's default `WEBHOOK_JOB_MAX_RETRY`.
pub const KIND: Kind = Kind {
    name: NAME,
    idempotent: true,
    max_attempts: 4,
    max_pending: super::MAX_PENDING,
    handler: run,
};

/// The executions each policy keeps (older finished ones are forgotten, with their logs).
pub const KEEP_EXECUTIONS: i64 = 100;

/// The job's parameters: which policy and target, and what to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameters {
    pub policy_id: i64,
    pub project_id: i64,
    pub event_type: String,
    /// The target's address when the event happened: the delivery goes to the policy's target with this
    /// address (with its current Authorization header), and fails if the policy no longer has one.
    pub address: String,
    pub payload: Payload,
}

fn run(ctx: JobContext) -> JobFuture {
    Box::pin(deliver(ctx))
}

async fn deliver(ctx: JobContext) -> Result<(), JobError> {
    let params: Parameters = serde_json::from_value(ctx.parameters.clone())
        .map_err(|e| JobError::Failed(format!("bad parameters: {e}")))?;
    let state = &ctx.state;
    let event_type = EventType::parse(&params.event_type)
        .ok_or_else(|| JobError::Failed(format!("unknown event type {}", params.event_type)))?;
    if ctx.attempt == 1
        && let Err(e) = state
            .db
            .prune_webhook_executions(params.policy_id, KEEP_EXECUTIONS)
            .await
    {
        tracing::warn!(policy = params.policy_id, error = %e, "could not forget old webhook executions");
    }
    let target = state
        .db
        .webhook_targets(params.project_id)
        .await?
        .into_iter()
        .find(|t| t.policy_id == params.policy_id && t.address == params.address)
        .ok_or_else(|| {
            JobError::Failed(format!(
                "webhook policy {} no longer sends to {}",
                params.policy_id, params.address
            ))
        })?;
    let body = payload::render(
        &target.notify_type,
        &target.payload_format,
        event_type,
        &params.payload,
        params.project_id,
        params.policy_id,
    )
    .map_err(|e| JobError::Failed(format!("encoding the payload: {e}")))?;
    let url = url::Url::parse(&target.address)
        .map_err(|_| JobError::Failed(format!("{} is not a URL", target.address)))?;
    let clients = &state.webhooks.clients;
    if let Some(why) = super::egress::refusal(&url, clients.allow_local) {
        ctx.log.error(format!("refused: {why}")).await;
        return Err(JobError::Failed(why));
    }
    let mut request = clients
        .get(target.skip_cert_verify)
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, body.content_type)
        .body(body.bytes);
    if let Some(sealed) = &target.auth_header {
        let header = state
            .secrets
            .open(sealed)
            .map_err(|_| JobError::Failed("the stored auth header cannot be opened".to_owned()))?;
        request = request.header(reqwest::header::AUTHORIZATION, header.expose());
    }
    ctx.check_stop()?;
    let what = format!(
        "attempt {}: {} {} to {} ({})",
        ctx.attempt, params.event_type, target.notify_type, target.address, target.payload_format
    );
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            // The body is never read into the log: see the module rule in `webhooks`.
            drop(response);
            if let Err(e) = state
                .db
                .record_webhook_status(ctx.id, status.as_u16())
                .await
            {
                tracing::warn!(job = ctx.id, error = %e, "could not record a webhook's status code");
            }
            if status.is_success() {
                ctx.log.info(format!("{what}: answered {status}")).await;
                tracing::info!(job = ctx.id, policy = params.policy_id, event = %params.event_type,
                    status = status.as_u16(), "webhook delivered");
                Ok(())
            } else {
                ctx.log.error(format!("{what}: answered {status}")).await;
                tracing::warn!(job = ctx.id, policy = params.policy_id, event = %params.event_type,
                    status = status.as_u16(), attempt = ctx.attempt, "webhook receiver refused the event");
                Err(JobError::Failed(format!("the receiver answered {status}")))
            }
        }
        Err(e) => {
            let why = if e.is_timeout() {
                "it did not answer in time"
            } else if e.is_connect() {
                "it could not be reached"
            } else {
                "the request failed"
            };
            ctx.log.error(format!("{what}: {why}")).await;
            tracing::warn!(job = ctx.id, policy = params.policy_id, event = %params.event_type,
                attempt = ctx.attempt, error = %e, "webhook delivery failed");
            Err(JobError::Failed(format!("the receiver failed: {why}")))
        }
    }
}
