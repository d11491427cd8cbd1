//! `SCAN_DATA_EXPORT`: writes one CVE export's CSV (Harbor's job type of the same name).
//!
//! The job reads the project's artifacts that have a current successful report by the default scanner, page
//! by page, keeps those whose repository and tags match the criteria, and writes one row per finding of each
//! (CVE patterns applied), in artifact order. The CSV is bounded ([`MAX_CSV_BYTES`]): a larger export fails
//! with a message that says how to narrow it. Running it again rewrites the same export, so it is idempotent.

use std::collections::{HashMap, HashSet};

use berth_api::vulnerabilities::NATIVE_REPORT_MIME;
use chrono::Utc;

use super::csv::{HEADER, additional_data, write_row};
use super::{Criteria, may_export};
use crate::auth::Subject;
use crate::db::timestamp;
use crate::jobs::{JobContext, JobError, JobFuture, Kind, MAX_PENDING_PER_KIND};

/// Harbor's job type.
pub const NAME: &str = "SCAN_DATA_EXPORT";

pub const KIND: Kind = Kind {
    name: NAME,
    idempotent: true,
    max_attempts: 2,
    max_pending: MAX_PENDING_PER_KIND,
    handler: run,
};

/// The most bytes of an export's CSV (before compression).
pub const MAX_CSV_BYTES: usize = 32 * 1024 * 1024;

/// Artifacts read per page.
const PAGE: i64 = 200;

fn run(ctx: JobContext) -> JobFuture {
    Box::pin(execute(ctx))
}

/// Why an export did not produce a file: said to its user as the execution's status text.
enum Failure {
    Stopped,
    Refused(String),
    Job(JobError),
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Job(e.into())
    }
}

async fn execute(ctx: JobContext) -> Result<(), JobError> {
    let criteria: Criteria = serde_json::from_value(ctx.parameters.clone())
        .map_err(|e| JobError::Failed(format!("bad export parameters: {e}")))?;
    let db = &ctx.state.db;
    let id = criteria.export_id;
    let removed = db
        .delete_expired_cve_exports(&timestamp(Utc::now()))
        .await?;
    if removed > 0 {
        ctx.log
            .info(format!("deleted {removed} expired CVE exports"))
            .await;
    }
    if !db.set_cve_export_status(id, "Running", "").await? {
        ctx.log
            .warn(format!("export {id} is gone (expired?): nothing to do"))
            .await;
        return Ok(());
    }
    match write(&ctx, &criteria).await {
        Ok((csv, rows)) => {
            let compressed = zstd::encode_all(csv.as_bytes(), 3)
                .map_err(|e| JobError::Failed(format!("compressing the CSV: {e}")))?;
            let bytes = i64::try_from(csv.len()).unwrap_or(i64::MAX);
            db.finish_cve_export(id, &compressed, rows, bytes).await?;
            ctx.log
                .info(format!("export {id}: {rows} rows, {bytes} bytes"))
                .await;
            tracing::info!(export = id, rows, bytes, "CVE export written");
            Ok(())
        }
        Err(Failure::Stopped) => {
            db.set_cve_export_status(id, "Stopped", "stopped").await?;
            Err(JobError::Stopped)
        }
        Err(Failure::Refused(why)) => {
            ctx.log.error(&why).await;
            db.set_cve_export_status(id, "Error", &why).await?;
            Ok(())
        }
        Err(Failure::Job(e)) => {
            ctx.log.error(e.to_string()).await;
            db.set_cve_export_status(id, "Error", "").await?;
            Err(e)
        }
    }
}

/// The CSV of `criteria` and its number of rows.
async fn write(ctx: &JobContext, criteria: &Criteria) -> Result<(String, i64), Failure> {
    let state = &ctx.state;
    let db = &state.db;
    let patterns = criteria
        .patterns()
        .map_err(|e| Failure::Refused(e.to_string()))?;
    let mut csv = String::new();
    write_row(&mut csv, &HEADER);
    let mut rows = 0i64;
    // The user's standing now, not when they asked.
    let Some(user) = db.user_by_id(criteria.user_id).await? else {
        return Err(Failure::Refused(
            "the user who asked for it no longer exists".to_owned(),
        ));
    };
    let subject = Subject::from(user);
    let Some(project) = db.find_project_by_id(criteria.project_id).await? else {
        return Err(Failure::Refused(format!(
            "project {} no longer exists",
            criteria.project_id
        )));
    };
    if let Err(e) = may_export(state, &subject, &project, "create").await {
        return Err(Failure::Refused(e.to_string()));
    }
    let Some(scanner) = db.default_scanner().await? else {
        ctx.log
            .info("no scanner is the default: nothing to export")
            .await;
        return Ok((csv, rows));
    };
    let prefix = format!("{}/", project.name);
    let mut after = 0;
    loop {
        if ctx.should_stop() {
            return Err(Failure::Stopped);
        }
        let page = db
            .export_artifacts(project.id, &scanner.uuid, NATIVE_REPORT_MIME, after, PAGE)
            .await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.artifact_id;
        let mut kept: Vec<_> = page
            .into_iter()
            .filter(|a| {
                let relative = a
                    .repository_name
                    .strip_prefix(&prefix)
                    .unwrap_or(&a.repository_name);
                patterns
                    .repositories
                    .as_ref()
                    .is_none_or(|p| p.is_match(relative))
            })
            .collect();
        if let Some(tags) = &patterns.tags {
            let ids: Vec<i64> = kept.iter().map(|a| a.artifact_id).collect();
            let names = db.tags_of_artifacts(&ids, usize::MAX).await?;
            kept.retain(|a| {
                names
                    .get(&a.artifact_id)
                    .is_some_and(|n| n.iter().any(|t| tags.is_match(t)))
            });
        }
        if !criteria.labels.is_empty() {
            let ids: Vec<i64> = kept.iter().map(|a| a.artifact_id).collect();
            let labelled = db.carrying_any_label(&ids, &criteria.labels).await?;
            kept.retain(|a| labelled.contains(&a.artifact_id));
        }
        let uuids: Vec<String> = kept
            .iter()
            .map(|a| a.report_uuid.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut findings: HashMap<String, Vec<crate::db::ReportCve>> = HashMap::new();
        for (uuid, cve) in db.findings_of_reports(&uuids).await? {
            findings.entry(uuid).or_default().push(cve);
        }
        for artifact in &kept {
            for f in findings.get(&artifact.report_uuid).into_iter().flatten() {
                if patterns
                    .cve_ids
                    .as_ref()
                    .is_some_and(|p| !p.is_match(&f.cve_id))
                {
                    continue;
                }
                write_row(
                    &mut csv,
                    &[
                        artifact.repository_name.as_str(),
                        &artifact.digest,
                        &f.cve_id,
                        &f.package,
                        &f.version,
                        &f.fix_version,
                        &f.severity,
                        &f.cwe_ids,
                        &additional_data(f.cvss_v3_score, f.cvss_v3_vector.as_deref()),
                        &scanner.name,
                    ],
                );
                rows += 1;
                if csv.len() > MAX_CSV_BYTES {
                    return Err(Failure::Refused(format!(
                        "the export is larger than {} MiB; narrow it with repositories, tags or cveIds",
                        MAX_CSV_BYTES / (1024 * 1024)
                    )));
                }
            }
        }
    }
    Ok((csv, rows))
}
