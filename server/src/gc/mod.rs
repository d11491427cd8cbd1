//! `GARBAGE_COLLECTION`: online garbage collection, Harbor's job type, run by the job system.
//!
//! Rule: nothing stops for it. Pushes and pulls go on; what is deleted is decided row by row in the database
//! (`db::gc`), never from a snapshot held in memory: a blob is first claimed by a conditional UPDATE that
//! re-checks "no link, no reference, not linked since the grace cutoff" (`live` → `deleting`), then its file
//! is deleted, then its row. Every path that links a blob refuses a `deleting` one ([`after_deletion`] waits
//! for the deletion to finish, then records the blob anew), so a push either sees its blob or uploads it again.
//! A run killed at any point leaves `deleting` rows, which the next run finishes first, or files with no row,
//! which it removes once they are older than the grace: never a live row without its file.
//!
//! The phases ([`sweep`]): finish interrupted deletions; with `delete_untagged`, delete untagged artifacts
//! that nothing needs ([`crate::service::artifacts::delete`], as the REST API does); remove repository links
//! older than the grace that no artifact references (uploads whose manifest never came); delete unreferenced
//! blobs; delete files of the store that have no row; purge abandoned upload sessions. Each works in bounded
//! batches, each batch its own short transaction, and a stop is honoured between batches. A dry run reports
//! what each phase would delete and deletes nothing.

mod sweep;

use std::future::Future;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::db::ChargeError;
use crate::jobs::{JobContext, JobFuture, Kind};

/// Harbor's job type and schedule vendor type.
pub const NAME: &str = "GARBAGE_COLLECTION";

pub const KIND: Kind = Kind {
    name: NAME,
    idempotent: true,
    max_attempts: 3,
    max_pending: crate::jobs::MAX_PENDING_PER_KIND,
    handler: run,
};

/// Harbor's bounds on `workers`.
pub const MAX_WORKERS: i64 = 5;

/// The collection's parameters, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GcParameters {
    pub delete_untagged: bool,
    pub dry_run: bool,
    /// 1 to [`MAX_WORKERS`]: how many file deletions run at once (times four).
    pub workers: i64,
}

impl GcParameters {
    /// The parameters as stored with the job (and shown in its history, as Harbor's `job_parameters`).
    pub fn to_json(self) -> Value {
        serde_json::json!({
            "delete_untagged": self.delete_untagged,
            "dry_run": self.dry_run,
            "workers": self.workers,
        })
    }
}

/// Reads Harbor's parameters: `delete_untagged` and `dry_run` (default false), `workers` (1 to 5, default 1).
/// Booleans and numbers may also come as strings. Harbor's own extra keys (`redis_url_reg`, `time_window`)
/// are accepted and ignored; anything else is refused.
pub fn parse(parameters: &Map<String, Value>) -> Result<GcParameters, String> {
    let flag = |key: &str| match parameters.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" => Ok(true),
        Some(Value::String(s)) if s == "false" => Ok(false),
        _ => Err(format!("{key} must be true or false")),
    };
    for key in parameters.keys() {
        if !matches!(
            key.as_str(),
            "delete_untagged" | "dry_run" | "workers" | "redis_url_reg" | "time_window"
        ) {
            return Err(format!(
                "unknown garbage collection parameter {:?}; the parameters are delete_untagged, dry_run and workers",
                crate::events::audit::clip(key)
            ));
        }
    }
    let workers = match parameters.get("workers") {
        None | Some(Value::Null) => Some(1),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|w| (1..=MAX_WORKERS).contains(w))
    .ok_or_else(|| format!("workers must be a whole number from 1 to {MAX_WORKERS}"))?;
    Ok(GcParameters {
        delete_untagged: flag("delete_untagged")?,
        dry_run: flag("dry_run")?,
        workers,
    })
}

fn run(ctx: JobContext) -> JobFuture {
    Box::pin(sweep::collect(ctx))
}

/// How long a link waits for garbage collection to finish deleting an old copy of its blob.
const DELETION_WAIT: Duration = Duration::from_secs(10);
const DELETION_POLL: Duration = Duration::from_millis(20);

/// Runs `link` (a transaction that records or links a blob) and, while it is refused because garbage
/// collection is deleting the blob, runs it again once the deletion is done (a sweep deletes a claimed
/// blob's file, then its row, within one batch), for up to [`DELETION_WAIT`]. Then the link records the
/// blob anew and its caller moves its own file in: a sweep never deletes a file it did not claim.
pub async fn after_deletion<T, F, Fut>(mut link: F) -> Result<T, ChargeError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ChargeError>>,
{
    let mut waited = Duration::ZERO;
    loop {
        match link().await {
            Err(ChargeError::BlobDeleting(digest)) if waited < DELETION_WAIT => {
                tracing::debug!(%digest, "waiting for garbage collection to finish deleting a blob before recording it again");
                tokio::time::sleep(DELETION_POLL).await;
                waited += DELETION_POLL;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Result<GcParameters, String> {
        parse(v.as_object().cloned().as_ref().unwrap_or(&Map::new()))
    }

    #[test]
    fn harbor_parameters() {
        assert_eq!(
            params(serde_json::json!({"delete_untagged": true, "dry_run": "true", "workers": 3})),
            Ok(GcParameters {
                delete_untagged: true,
                dry_run: true,
                workers: 3
            })
        );
        assert_eq!(
            params(serde_json::json!({})),
            Ok(GcParameters {
                delete_untagged: false,
                dry_run: false,
                workers: 1
            })
        );
        assert!(params(serde_json::json!({"workers": 0})).is_err());
        assert!(params(serde_json::json!({"workers": 6})).is_err());
        assert!(params(serde_json::json!({"dry_run": 1})).is_err());
        assert!(params(serde_json::json!({"shred": true})).is_err());
        assert!(params(serde_json::json!({"time_window": 2, "redis_url_reg": "x"})).is_ok());
    }
}
