//! `PURGE_AUDIT_LOG`: Harbor's audit-log purge (Administration → Clean Up → Log Rotation). Deletes the audit
//! entries older than `audit_retention_hour` of the operations in `include_operations` (comma separated;
//! empty purges nothing, as in Harbor), oldest first, in short batches (`[jobs] purge_batch` rows per
//! transaction), so pushes and pulls keep writing meanwhile and a stop is seen between batches. With
//! `dry_run` it counts what it would delete and deletes nothing. Each batch commits on its own, so running
//! it again after a crash simply deletes the rest: the kind is idempotent.

use chrono::Utc;
use serde_json::{Map, Value};

use super::{JobContext, JobError, JobFuture, Kind};
use crate::events::audit::{Audit, ClientIp, Operation};

/// Harbor's job type and schedule vendor type.
pub const NAME: &str = "PURGE_AUDIT_LOG";

pub const KIND: Kind = Kind {
    name: NAME,
    idempotent: true,
    max_attempts: 3,
    max_pending: super::MAX_PENDING_PER_KIND,
    handler: run,
};

/// The longest retention accepted: a hundred years.
pub const MAX_RETENTION_HOURS: i64 = 100 * 366 * 24;

/// The purge's parameters, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeParameters {
    pub retention_hours: i64,
    /// Distinct, in the order given.
    pub operations: Vec<String>,
    pub dry_run: bool,
}

impl PurgeParameters {
    /// The parameters as stored with the job (and shown in its history).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "audit_retention_hour": self.retention_hours,
            "include_operations": self.operations.join(","),
            "dry_run": self.dry_run,
        })
    }
}

/// Reads Harbor's parameters: `audit_retention_hour` (a number of hours, at least 1), `include_operations`
/// (comma separated) and `dry_run` (default false). Numbers and booleans may also come as strings, as some
/// clients send them.
pub fn parse(parameters: &Map<String, Value>) -> Result<PurgeParameters, String> {
    for key in parameters.keys() {
        if !matches!(
            key.as_str(),
            "audit_retention_hour" | "include_operations" | "dry_run"
        ) {
            return Err(format!(
                "unknown purge parameter {:?}; the parameters are audit_retention_hour, include_operations and dry_run",
                crate::events::audit::clip(key)
            ));
        }
    }
    let retention_hours = match parameters.get("audit_retention_hour") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        None => return Err("audit_retention_hour is required".to_owned()),
        _ => None,
    }
    .filter(|h| (1..=MAX_RETENTION_HOURS).contains(h))
    .ok_or_else(|| {
        format!(
            "audit_retention_hour must be a whole number of hours from 1 to {MAX_RETENTION_HOURS}"
        )
    })?;
    let operations = match parameters.get("include_operations") {
        Some(Value::String(s)) => s,
        None => {
            return Err("include_operations is required (e.g. \"create,delete,pull\")".to_owned());
        }
        _ => return Err("include_operations must be a comma-separated string".to_owned()),
    };
    let mut chosen: Vec<String> = Vec::new();
    for op in operations
        .split(',')
        .map(str::trim)
        .filter(|op| !op.is_empty())
    {
        let op = op.to_ascii_lowercase();
        if !Operation::ALL.iter().any(|o| o.as_str() == op) {
            let all: Vec<&str> = Operation::ALL.iter().map(|o| o.as_str()).collect();
            return Err(format!(
                "include_operations: {:?} is not an operation; they are {}",
                crate::events::audit::clip(&op),
                all.join(", ")
            ));
        }
        if !chosen.contains(&op) {
            chosen.push(op);
        }
    }
    let dry_run = match parameters.get("dry_run") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "true" => true,
        Some(Value::String(s)) if s == "false" => false,
        _ => return Err("dry_run must be true or false".to_owned()),
    };
    Ok(PurgeParameters {
        retention_hours,
        operations: chosen,
        dry_run,
    })
}

fn run(ctx: JobContext) -> JobFuture {
    Box::pin(purge(ctx))
}

async fn purge(ctx: JobContext) -> Result<(), JobError> {
    let parameters = ctx
        .parameters
        .as_object()
        .ok_or_else(|| JobError::Failed("the job's parameters are not an object".to_owned()))
        .and_then(|p| parse(p).map_err(JobError::Failed))?;
    let before =
        crate::db::timestamp(Utc::now() - chrono::Duration::hours(parameters.retention_hours));
    let db = &ctx.state.db;
    ctx.log
        .info(format!(
            "purging audit log entries older than {} h (before {before}) of operations [{}]{}",
            parameters.retention_hours,
            parameters.operations.join(","),
            if parameters.dry_run { ", dry run" } else { "" }
        ))
        .await;
    if parameters.dry_run {
        let counts = db
            .count_audit_before(&parameters.operations, &before)
            .await?;
        let mut total = 0;
        for (op, n) in counts {
            ctx.log
                .info(format!(
                    "dry run: would delete {n} entries of operation {op}"
                ))
                .await;
            total += n;
        }
        ctx.log
            .info(format!(
                "dry run: would delete {total} entries in all; nothing was deleted"
            ))
            .await;
        return Ok(());
    }
    let batch = ctx.state.jobs.config.purge_batch();
    let mut total = 0u64;
    for op in &parameters.operations {
        let mut deleted = 0u64;
        loop {
            if ctx.should_stop() {
                ctx.log
                    .info(format!(
                        "deleted {deleted} entries of operation {op} before stopping ({total} in all)"
                    ))
                    .await;
                total += deleted;
                record(&ctx, &parameters, total, true).await;
                return Err(JobError::Stopped);
            }
            let n = db.purge_audit_batch(op, &before, batch).await?;
            deleted += n;
            if n < u64::try_from(batch).unwrap_or(u64::MAX) {
                break;
            }
            // Let other writers (pushes, pull counts) take the write lock between batches.
            tokio::task::yield_now().await;
        }
        ctx.log
            .info(format!("deleted {deleted} entries of operation {op}"))
            .await;
        total += deleted;
    }
    ctx.log
        .info(format!("deleted {total} audit log entries in all"))
        .await;
    record(&ctx, &parameters, total, false).await;
    Ok(())
}

/// The purge's own audit entry, by its operator.
async fn record(ctx: &JobContext, parameters: &PurgeParameters, deleted: u64, stopped: bool) {
    let resource = format!(
        "audit log purge {}: {deleted} entries older than {} h of [{}]{}",
        ctx.id,
        parameters.retention_hours,
        parameters.operations.join(","),
        if stopped { " (stopped)" } else { "" }
    );
    Audit::new(Operation::Delete, "audit_log", resource)
        .by(&ctx.operator, &ClientIp::default())
        .record(&ctx.state.db)
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Result<PurgeParameters, String> {
        parse(v.as_object().cloned().as_ref().unwrap_or(&Map::new()))
    }

    #[test]
    fn harbor_parameters() {
        let p = params(
            serde_json::json!({"audit_retention_hour": 168, "include_operations": "create, Delete,pull,create", "dry_run": true}),
        );
        assert_eq!(
            p,
            Ok(PurgeParameters {
                retention_hours: 168,
                operations: vec!["create".into(), "delete".into(), "pull".into()],
                dry_run: true
            })
        );
        assert!(
            params(serde_json::json!({"audit_retention_hour": "24", "include_operations": ""}))
                .is_ok()
        );
        assert!(
            params(serde_json::json!({"audit_retention_hour": 0, "include_operations": "pull"}))
                .is_err()
        );
        assert!(
            params(serde_json::json!({"audit_retention_hour": 1, "include_operations": "push"}))
                .is_err()
        );
        assert!(params(serde_json::json!({"include_operations": "pull"})).is_err());
        // Every operation the audit log records can be purged, immutability refusals included.
        for op in Operation::ALL {
            assert!(
                params(serde_json::json!({"audit_retention_hour": 1, "include_operations": op.as_str()}))
                    .is_ok(),
                "{}",
                op.as_str()
            );
        }
        assert!(
            params(
                serde_json::json!({"audit_retention_hour": 1, "include_operations": "pull", "x": 1})
            )
            .is_err()
        );
    }
}
