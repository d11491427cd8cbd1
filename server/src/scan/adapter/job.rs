//! `ADAPTER_SCAN`: one scan requested through Berth's adapter API, as a job, so it survives a restart and runs
//! on any node. It pulls the image manifest from the caller's registry, streams each layer through the
//! inventory reader (nothing is stored but the result), merges, matches against the vulnerability database,
//! and keeps the inventory and findings with the request for [`RETENTION`]. Each run also deletes the scans that
//! expired.

use base64::Engine as _;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::fetch::RemoteRegistry;
use crate::app::AppState;
use crate::jobs::{JobContext, JobError, JobFuture, Kind};
use crate::scan::inventory::{Limits, merge};
use crate::scan::layers::{Scannable, scannable};
use crate::scan::model::{Finding, Inventory};
use crate::scan::run::match_inventory;

/// The job type.
pub const NAME: &str = "ADAPTER_SCAN";

/// How long a finished scan's result is kept.
pub const RETENTION: chrono::Duration = chrono::Duration::hours(24);

/// The most adapter scans waiting at once; the next request is refused (503) until some finish.
pub const MAX_PENDING: i64 = 64;

/// Idempotent: a scan interrupted by a crash simply runs again.
pub const KIND: Kind = Kind {
    name: NAME,
    idempotent: true,
    max_attempts: 2,
    max_pending: MAX_PENDING,
    handler: run,
};

/// The job's parameters. The caller's `Authorization` is sealed with the installation's secret key, so the
/// jobs table never holds it in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterScanJob {
    pub id: String,
    pub registry_url: String,
    /// base64 of the sealed `Authorization` value; empty without one.
    #[serde(default)]
    pub sealed_authorization: String,
    pub repository: String,
    pub digest: String,
}

/// What a finished scan keeps: enough to write the report and both SBOM formats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanResult {
    pub inventory: Inventory,
    pub findings: Vec<Finding>,
}

/// Seals `authorization` for the job's parameters.
pub fn seal_authorization(state: &AppState, authorization: &str) -> Result<String, String> {
    if authorization.is_empty() {
        return Ok(String::new());
    }
    let sealed = state
        .secrets
        .seal(authorization)
        .map_err(|e| format!("sealing the registry authorization: {e}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
}

fn open_authorization(state: &AppState, sealed: &str) -> Result<String, String> {
    if sealed.is_empty() {
        return Ok(String::new());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .map_err(|_| "the sealed registry authorization is damaged".to_owned())?;
    state
        .secrets
        .open(&bytes)
        .map(|s| s.expose().to_owned())
        .map_err(|e| format!("the registry authorization does not open ({e})"))
}

/// Decodes a stored result.
pub fn decode_result(bytes: &[u8]) -> Option<ScanResult> {
    let json = zstd::decode_all(bytes).ok()?;
    serde_json::from_slice(&json).ok()
}

fn run(ctx: JobContext) -> JobFuture {
    Box::pin(execute(ctx))
}

async fn execute(ctx: JobContext) -> Result<(), JobError> {
    let job: AdapterScanJob = serde_json::from_value(ctx.parameters.clone())
        .map_err(|e| JobError::Failed(format!("bad adapter scan parameters: {e}")))?;
    let state = ctx.state.clone();
    let now = crate::db::timestamp(Utc::now());
    let expired = state.db.delete_expired_adapter_scans(&now).await?;
    if expired > 0 {
        ctx.log
            .info(format!("deleted {expired} expired adapter scans"))
            .await;
    }
    if !state.db.run_adapter_scan(&job.id).await? {
        ctx.log.warn("the scan request is gone (expired)").await;
        return Ok(());
    }
    ctx.log
        .info(format!(
            "scanning {}@{} from {}",
            job.repository, job.digest, job.registry_url
        ))
        .await;
    let outcome = scan(&state, &job, &|| ctx.should_stop()).await;
    let stored = outcome.and_then(|result| {
        let json = serde_json::to_vec(&result).map_err(|e| format!("encoding the result: {e}"))?;
        zstd::encode_all(json.as_slice(), 3).map_err(|e| format!("compressing the result: {e}"))
    });
    match stored {
        Ok(bytes) => {
            state.db.finish_adapter_scan(&job.id, Ok(&bytes)).await?;
            ctx.log.info("done").await;
            Ok(())
        }
        Err(reason) => {
            tracing::warn!(scan = %job.id, repository = %job.repository, digest = %job.digest, %reason, "adapter scan failed");
            ctx.log.warn(format!("scan failed: {reason}")).await;
            state.db.finish_adapter_scan(&job.id, Err(&reason)).await?;
            // Not a job failure to retry: the request's outcome is recorded.
            Ok(())
        }
    }
}

async fn scan(
    state: &AppState,
    job: &AdapterScanJob,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<ScanResult, String> {
    let authorization = open_authorization(state, &job.sealed_authorization)?;
    let registry = RemoteRegistry::new(&job.registry_url, &authorization, &state.config.proxy)?;
    let (manifest, media_type) = registry.manifest(&job.repository, &job.digest).await?;
    let actual = crate::oci::Digest::sha256_of(&manifest).to_string();
    if job.digest.starts_with("sha256:") && actual != job.digest {
        return Err(format!(
            "the registry's manifest does not match the digest {}",
            job.digest
        ));
    }
    let layers = match scannable(&manifest, &media_type) {
        Scannable::Image(layers) => layers,
        Scannable::Index(_) => {
            return Err("the artifact is an index: scan each of its images".to_owned());
        }
        Scannable::No(reason) => return Err(reason),
    };
    let limits = Limits::default();
    let mut read = Vec::with_capacity(layers.len());
    for layer in &layers {
        if stop() {
            return Err("stopped".to_owned());
        }
        let inventory = registry.analyze(&job.repository, layer, &limits).await?;
        read.push((layer.digest.to_string(), inventory));
    }
    let inventory = merge(&read);
    let (findings, _) = match_inventory(&state.vulndb, &inventory)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ScanResult {
        inventory,
        findings,
    })
}
