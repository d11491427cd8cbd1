//! Replication: copying artifacts between Berth and other registries, as Harbor's replication policies do.
//!
//! - [`policy`]: a policy's settings, filters and destination naming.
//! - [`registry`]: the two sides of a copy, Berth itself and a registry endpoint.
//! - [`copy`]: copying one artifact with its manifest tree, blobs and referrers.
//! - [`run`]: the `REPLICATION` job: one execution, one task per source repository.
//!
//! Triggers: manual (`POST /replication/executions`), scheduled (a `job_schedules` row), and event-based
//! ([`on_push`], [`on_delete`]: a push or deletion in Berth enqueues an execution of each enabled
//! event-based push policy whose filters select it).

pub mod copy;
pub mod policy;
pub mod registry;
pub mod run;

use berth_api::replication::TRIGGER_EVENT;

use crate::app::AppState;
use policy::{Selection, Settings};
use run::EventResource;

/// Enqueues an execution of every enabled event-based push policy that selects `repository` (and `tag`)
/// after a push there.
/// Runs in the background: a push never waits for it.
pub fn on_push(state: &AppState, repository: &str, digest: &str, tag: Option<&str>) {
    let event = EventResource {
        operation: "copy".to_owned(),
        repository: repository.to_owned(),
        digest: digest.to_owned(),
        tag: tag.map(str::to_owned),
    };
    let state = state.clone();
    tokio::spawn(async move { trigger(&state, &event, false).await });
}

/// As [`on_push`], after artifact `digest` of `repository` was deleted; only policies that replicate
/// deletions.
pub fn on_delete(state: &AppState, repository: &str, digest: &str) {
    let event = EventResource {
        operation: "deletion".to_owned(),
        repository: repository.to_owned(),
        digest: digest.to_owned(),
        tag: None,
    };
    let state = state.clone();
    tokio::spawn(async move { trigger(&state, &event, true).await });
}

async fn trigger(state: &AppState, event: &EventResource, deletion: bool) {
    let policies = match state.db.event_replication_policies().await {
        Ok(policies) => policies,
        Err(e) => {
            tracing::error!(error = %e, "replication: could not read the event-based policies");
            return;
        }
    };
    for row in policies.iter() {
        let Ok(settings) = serde_json::from_str::<Settings>(&row.settings) else {
            continue;
        };
        if deletion && !settings.replicate_deletion {
            continue;
        }
        let Ok(selection) = Selection::new(&settings.filters) else {
            continue;
        };
        if !selection.repository(&event.repository)
            || (!deletion && !selection.tag(event.tag.as_deref()))
        {
            continue;
        }
        if !deletion && !selection.labels.is_empty() {
            // A new push carries no labels yet: a label filter never matches it.
            continue;
        }
        let parameters = run::parameters(row.id, TRIGGER_EVENT, Some(event));
        match state
            .jobs
            .enqueue(
                &state.db,
                run::NAME,
                &parameters,
                crate::jobs::EVENT,
                &row.creator,
            )
            .await
        {
            Ok(id) => {
                if let Err(e) = state
                    .db
                    .record_replication_execution(id, row.id, TRIGGER_EVENT)
                    .await
                {
                    tracing::warn!(error = %e, job = id, "replication: could not record an execution");
                }
                tracing::info!(policy = %row.name, repository = %event.repository, job = id, "replication: event-based execution enqueued");
            }
            Err(e) => {
                tracing::warn!(policy = %row.name, repository = %event.repository, error = %e, "replication: event-based execution not enqueued");
            }
        }
    }
}
