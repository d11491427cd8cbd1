//! Scan reports (`scan_reports`, `report_cves`) and the stored package inventories (`layer_inventories`,
//! `artifact_inventories`, `inventory_packages`). The report and inventory bytes arrive compressed; this layer
//! only moves them.
//!
//! A report is keyed by (artifact digest, registration, MIME type), as Harbor keys it: one current report per
//! key. A new scan of the key starts with [`Db::start_scan_report`], which keeps the previous result (summary,
//! report, findings) in force until [`Db::finish_scan_report`] replaces it in one transaction, so a reader never
//! sees a half-written report or loses the last good one while a rescan runs.

use super::Db;

/// A stored report, without its (large) report bytes and log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScanReportRow {
    pub uuid: String,
    pub artifact_digest: String,
    pub registration_uuid: String,
    pub mime_type: String,
    /// `Pending`, `Running`, `Success`, `Error` or `Stopped`.
    pub status: String,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub vulndb_generation: Option<i64>,
    pub severity: Option<String>,
    /// Harbor's `VulnerabilitySummary` as JSON.
    pub summary: Option<String>,
    pub job_id: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

/// One finding of a report, as indexed for search (and for the Security Hub and the CVE export).
#[derive(Debug, Clone, PartialEq, Default, sqlx::FromRow)]
pub struct ReportCve {
    pub cve_id: String,
    pub package: String,
    pub version: String,
    pub fix_version: String,
    pub severity: String,
    pub cvss_v3_score: Option<f64>,
    pub cvss_v3_vector: Option<String>,
    /// Comma-separated CWE ids; empty when none.
    pub cwe_ids: String,
    /// The vulnerability's description and links (a JSON array of URLs), stored once per id in
    /// `cve_details` (the last report written wins; empty ones are not stored); not read back here.
    #[sqlx(default)]
    pub description: String,
    #[sqlx(default)]
    pub links: String,
}

/// The result of a finished scan.
#[derive(Debug, Clone)]
pub struct NewScanReport<'a> {
    /// `Success`, `Error` or `Stopped`. Only `Success` replaces the stored findings and report.
    pub status: &'a str,
    pub vulndb_generation: Option<i64>,
    pub severity: Option<&'a str>,
    pub summary: Option<&'a str>,
    /// Compressed report bytes and their codec (`zstd` or `gzip`).
    pub report: Option<(&'a [u8], &'a str)>,
    pub cves: &'a [ReportCve],
}

impl<'a> NewScanReport<'a> {
    /// A scan that ended without a report (`Error` or `Stopped`): the stored findings stay as they were.
    pub fn ended(status: &'a str) -> Self {
        NewScanReport {
            status,
            vulndb_generation: None,
            severity: None,
            summary: None,
            report: None,
            cves: &[],
        }
    }
}

const SELECT: &str =
    "SELECT uuid, artifact_digest, registration_uuid, mime_type, status, start_time, end_time,
    vulndb_generation, severity, summary, job_id, created_at, updated_at FROM scan_reports";

impl Db {
    /// Marks the report of (`digest`, `registration`, `mime_type`) `Pending` for job `job_id`, creating it
    /// with `new_uuid` if there is none; returns the report's uuid. The previous result stays readable.
    pub async fn start_scan_report(
        &self,
        new_uuid: &str,
        digest: &str,
        registration: &str,
        mime_type: &str,
        job_id: Option<i64>,
    ) -> Result<String, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO scan_reports (uuid, artifact_digest, registration_uuid, mime_type, status, job_id,
                created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'Pending', $5, $6, $6)
             ON CONFLICT (artifact_digest, registration_uuid, mime_type) DO UPDATE
                SET status = 'Pending', job_id = excluded.job_id, log = '', updated_at = excluded.updated_at
             RETURNING uuid",
        )
        .bind(new_uuid)
        .bind(digest)
        .bind(registration)
        .bind(mime_type)
        .bind(job_id)
        .bind(super::now())
        .fetch_one(&self.write)
        .await
    }

    /// Marks report `uuid` as running since now. `false` if there is no such report.
    pub async fn run_scan_report(&self, uuid: &str) -> Result<bool, sqlx::Error> {
        let now = super::now();
        let updated = sqlx::query(
            "UPDATE scan_reports SET status = 'Running', start_time = $1, end_time = NULL, updated_at = $1
             WHERE uuid = $2",
        )
        .bind(&now)
        .bind(uuid)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(updated > 0)
    }

    /// Ends report `uuid` as `status` (`Stopped` or `Error`) with `log` only if it is still pending or
    /// running: for a report whose job will never end it. `false` when it had ended meanwhile (its job's own
    /// outcome stands).
    pub async fn end_active_scan_report(
        &self,
        uuid: &str,
        status: &str,
        log: &str,
    ) -> Result<bool, sqlx::Error> {
        let now = super::now();
        let updated = sqlx::query(
            "UPDATE scan_reports SET status = $1, end_time = $2, updated_at = $2, log = $3
             WHERE uuid = $4 AND status IN ('Pending', 'Running')",
        )
        .bind(status)
        .bind(&now)
        .bind(log)
        .bind(uuid)
        .execute(&self.write)
        .await?
        .rows_affected();
        Ok(updated > 0)
    }

    /// Writes the outcome of report `uuid`'s scan with its `log`, in one transaction: a `Success` replaces the
    /// findings, summary and report bytes; another outcome keeps the previous ones. `false` if there is no
    /// such report.
    pub async fn finish_scan_report(
        &self,
        uuid: &str,
        result: &NewScanReport<'_>,
        log: &str,
    ) -> Result<bool, sqlx::Error> {
        let now = super::now();
        let mut tx = self.write.begin().await?;
        let updated = sqlx::query(
            "UPDATE scan_reports SET status = $1, end_time = $2, updated_at = $2, log = $3 WHERE uuid = $4",
        )
        .bind(result.status)
        .bind(&now)
        .bind(log)
        .bind(uuid)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        if result.status == "Success" {
            let (report, compression) = result.report.unzip();
            sqlx::query(
                "UPDATE scan_reports SET vulndb_generation = $1, severity = $2, summary = $3, report = $4,
                    compression = $5 WHERE uuid = $6",
            )
            .bind(result.vulndb_generation)
            .bind(result.severity)
            .bind(result.summary)
            .bind(report)
            .bind(compression)
            .bind(uuid)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM report_cves WHERE report_uuid = $1")
                .bind(uuid)
                .execute(&mut *tx)
                .await?;
            for cve in result.cves {
                sqlx::query(
                    "INSERT INTO report_cves (report_uuid, cve_id, package, version, fix_version, severity,
                        cvss_v3_score, cvss_v3_vector, cwe_ids)
                     VALUES ($1, $2, $3, $4, $5, $6, CAST($7 AS DOUBLE PRECISION), $8, $9)
                     ON CONFLICT DO NOTHING",
                )
                .bind(uuid)
                .bind(&cve.cve_id)
                .bind(&cve.package)
                .bind(&cve.version)
                .bind(&cve.fix_version)
                .bind(&cve.severity)
                // As text: sqlx 0.8's `Any` sends a missing f64 as a float4 NULL, and PostgreSQL's cached
                // statement then refuses the next, present score's eight bytes.
                .bind(cve.cvss_v3_score.map(|score| score.to_string()))
                .bind(&cve.cvss_v3_vector)
                .bind(&cve.cwe_ids)
                .execute(&mut *tx)
                .await?;
            }
            let mut described = std::collections::HashSet::new();
            for details in result.cves {
                if details.description.is_empty() && matches!(details.links.as_str(), "" | "[]")
                    || !described.insert(details.cve_id.as_str())
                {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO cve_details (cve_id, description, links, updated_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (cve_id) DO UPDATE
                        SET description = excluded.description, links = excluded.links,
                            updated_at = excluded.updated_at
                        WHERE cve_details.description <> excluded.description
                           OR cve_details.links <> excluded.links",
                )
                .bind(&details.cve_id)
                .bind(&details.description)
                .bind(&details.links)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Records the job that runs report `uuid` (queued after the report row, so that the job never starts
    /// without its row). `Ok(false)` if the report is gone.
    pub async fn set_scan_report_job(&self, uuid: &str, job_id: i64) -> Result<bool, sqlx::Error> {
        let updated = sqlx::query("UPDATE scan_reports SET job_id = $1 WHERE uuid = $2")
            .bind(job_id)
            .bind(uuid)
            .execute(&self.write)
            .await?
            .rows_affected();
        Ok(updated > 0)
    }

    /// The reports of `digests` by registration `registration` of MIME type `mime_type` (at most one each),
    /// for the scan overviews of an artifact page.
    pub async fn scan_reports_of(
        &self,
        digests: &[String],
        registration: &str,
        mime_type: &str,
    ) -> Result<Vec<ScanReportRow>, sqlx::Error> {
        if digests.is_empty() {
            return Ok(Vec::new());
        }
        let list = (3..3 + digests.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "{SELECT} WHERE registration_uuid = $1 AND mime_type = $2 AND artifact_digest IN ({list})"
        );
        let mut query = sqlx::query_as(&sql).bind(registration).bind(mime_type);
        for digest in digests {
            query = query.bind(digest);
        }
        query.fetch_all(&self.read).await
    }

    /// Report `uuid`.
    pub async fn scan_report(&self, uuid: &str) -> Result<Option<ScanReportRow>, sqlx::Error> {
        sqlx::query_as(&format!("{SELECT} WHERE uuid = $1"))
            .bind(uuid)
            .fetch_optional(&self.read)
            .await
    }

    /// The reports of artifact `digest` by registration `registration`, one per MIME type.
    pub async fn artifact_scan_reports(
        &self,
        digest: &str,
        registration: &str,
    ) -> Result<Vec<ScanReportRow>, sqlx::Error> {
        sqlx::query_as(&format!(
            "{SELECT} WHERE artifact_digest = $1 AND registration_uuid = $2 ORDER BY mime_type"
        ))
        .bind(digest)
        .bind(registration)
        .fetch_all(&self.read)
        .await
    }

    /// Report `uuid`'s compressed bytes and their codec, if it has any.
    pub async fn scan_report_bytes(
        &self,
        uuid: &str,
    ) -> Result<Option<(Vec<u8>, String)>, sqlx::Error> {
        let row: Option<(Option<Vec<u8>>, Option<String>)> =
            sqlx::query_as("SELECT report, compression FROM scan_reports WHERE uuid = $1")
                .bind(uuid)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.and_then(|(bytes, codec)| bytes.zip(codec)))
    }

    /// Report `uuid`'s log (`None`: no such report).
    pub async fn scan_report_log(&self, uuid: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT log FROM scan_reports WHERE uuid = $1")
            .bind(uuid)
            .fetch_optional(&self.read)
            .await
    }

    /// The findings of report `uuid`, by CVE and package.
    pub async fn report_cves(&self, uuid: &str) -> Result<Vec<ReportCve>, sqlx::Error> {
        sqlx::query_as(
            "SELECT cve_id, package, version, fix_version, severity, cvss_v3_score, cvss_v3_vector, cwe_ids
             FROM report_cves WHERE report_uuid = $1 ORDER BY cve_id, package, version",
        )
        .bind(uuid)
        .fetch_all(&self.read)
        .await
    }

    /// The uuids of the reports with a finding of `cve_id`, at most `limit`.
    pub async fn reports_with_cve(
        &self,
        cve_id: &str,
        limit: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT DISTINCT report_uuid FROM report_cves WHERE cve_id = $1 ORDER BY report_uuid LIMIT $2",
        )
        .bind(cve_id)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }

    /// Stores layer `digest`'s inventory read by analyzer `version` (compressed), unless stored already.
    pub async fn put_layer_inventory(
        &self,
        digest: &str,
        version: i64,
        inventory: &[u8],
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO layer_inventories (layer_digest, analyzer_version, inventory, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(digest)
        .bind(version)
        .bind(inventory)
        .bind(super::now())
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Layer `digest`'s stored inventory by analyzer `version`.
    pub async fn layer_inventory(
        &self,
        digest: &str,
        version: i64,
    ) -> Result<Option<Vec<u8>>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT inventory FROM layer_inventories WHERE layer_digest = $1 AND analyzer_version = $2",
        )
        .bind(digest)
        .bind(version)
        .fetch_optional(&self.read)
        .await
    }

    /// Stores artifact `digest`'s inventory by analyzer `version`: its layers in order (JSON array), its OS
    /// (JSON) and the `(ecosystem, package)` keys it holds, replacing what was stored, in one transaction.
    pub async fn put_artifact_inventory(
        &self,
        digest: &str,
        version: i64,
        layer_digests: &str,
        os: Option<&str>,
        packages: &[(String, String)],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO artifact_inventories (artifact_digest, analyzer_version, layer_digests, os, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (artifact_digest, analyzer_version) DO UPDATE
                SET layer_digests = excluded.layer_digests, os = excluded.os, created_at = excluded.created_at",
        )
        .bind(digest)
        .bind(version)
        .bind(layer_digests)
        .bind(os)
        .bind(super::now())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM inventory_packages WHERE artifact_digest = $1")
            .bind(digest)
            .execute(&mut *tx)
            .await?;
        for (ecosystem, package) in packages {
            sqlx::query(
                "INSERT INTO inventory_packages (ecosystem, package, artifact_digest) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
            )
            .bind(ecosystem)
            .bind(package)
            .bind(digest)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Artifact `digest`'s stored inventory by analyzer `version`: `(layer digests JSON, os JSON)`.
    pub async fn artifact_inventory(
        &self,
        digest: &str,
        version: i64,
    ) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT layer_digests, os FROM artifact_inventories
             WHERE artifact_digest = $1 AND analyzer_version = $2",
        )
        .bind(digest)
        .bind(version)
        .fetch_optional(&self.read)
        .await
    }

    /// The artifacts holding `package` of `ecosystem`, after `after` (a digest; "" from the start), at most
    /// `limit`, by digest: a new database generation re-matches them page by page.
    pub async fn artifacts_with_package(
        &self,
        ecosystem: &str,
        package: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT artifact_digest FROM inventory_packages
             WHERE ecosystem = $1 AND package = $2 AND artifact_digest > $3
             ORDER BY artifact_digest LIMIT $4",
        )
        .bind(ecosystem)
        .bind(package)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::BUILT_IN_UUID;
    use super::*;

    const MIME: &str = "application/vnd.security.vulnerability.report; version=1.1";

    fn cve(id: &str, package: &str) -> ReportCve {
        ReportCve {
            cve_id: id.to_owned(),
            package: package.to_owned(),
            version: "1.0".to_owned(),
            fix_version: "1.1".to_owned(),
            severity: "High".to_owned(),
            ..ReportCve::default()
        }
    }

    #[tokio::test]
    async fn only_an_active_report_is_ended_from_outside_its_job()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(&format!("sqlite://{}", dir.path().join("b.db").display())).await?;
        db.start_scan_report("r1", "sha256:a", BUILT_IN_UUID, MIME, None)
            .await?;
        assert!(
            db.end_active_scan_report("r1", "Stopped", "stopped")
                .await?
        );
        assert_eq!(
            db.scan_report("r1").await?.ok_or("missing")?.status,
            "Stopped"
        );
        // A report its job has ended keeps the job's outcome.
        db.start_scan_report("r2", "sha256:b", BUILT_IN_UUID, MIME, None)
            .await?;
        let empty: [ReportCve; 0] = [];
        let ok = NewScanReport {
            status: "Success",
            vulndb_generation: Some(1),
            severity: Some("None"),
            summary: Some("{}"),
            report: None,
            cves: &empty,
        };
        assert!(db.finish_scan_report("r2", &ok, "done").await?);
        assert!(!db.end_active_scan_report("r2", "Stopped", "late").await?);
        let row = db.scan_report("r2").await?.ok_or("missing")?;
        assert_eq!(row.status, "Success");
        Ok(())
    }

    #[tokio::test]
    async fn a_rescan_keeps_the_last_good_result_until_it_succeeds()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(&format!("sqlite://{}", dir.path().join("b.db").display())).await?;
        let uuid = db
            .start_scan_report("r1", "sha256:a", BUILT_IN_UUID, MIME, Some(7))
            .await?;
        assert_eq!(uuid, "r1");
        assert!(db.run_scan_report(&uuid).await?);
        let cves = [cve("CVE-1", "openssl"), cve("CVE-2", "zlib")];
        let ok = NewScanReport {
            status: "Success",
            vulndb_generation: Some(3),
            severity: Some("High"),
            summary: Some(r#"{"total":2}"#),
            report: Some((b"zz", "gzip")),
            cves: &cves,
        };
        assert!(db.finish_scan_report(&uuid, &ok, "done").await?);
        // A second scan of the same key reuses the row and keeps the findings while it runs and if it fails.
        let again = db
            .start_scan_report("r2", "sha256:a", BUILT_IN_UUID, MIME, Some(8))
            .await?;
        assert_eq!(again, "r1");
        let row = db.scan_report("r1").await?.ok_or("missing")?;
        assert_eq!((row.status.as_str(), row.job_id), ("Pending", Some(8)));
        assert_eq!(row.severity.as_deref(), Some("High"));
        let failed = NewScanReport::ended("Error");
        assert!(db.finish_scan_report("r1", &failed, "boom").await?);
        assert_eq!(db.report_cves("r1").await?.len(), 2);
        assert_eq!(
            db.scan_report_bytes("r1").await?,
            Some((b"zz".to_vec(), "gzip".to_owned()))
        );
        assert_eq!(db.scan_report_log("r1").await?.as_deref(), Some("boom"));
        assert_eq!(db.reports_with_cve("CVE-2", 10).await?, vec!["r1"]);
        assert!(!db.finish_scan_report("nope", &failed, "").await?);
        assert_eq!(
            db.artifact_scan_reports("sha256:a", BUILT_IN_UUID)
                .await?
                .len(),
            1
        );
        Ok(())
    }

    #[tokio::test]
    async fn inventories_are_stored_once_and_found_by_package()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = Db::open(&format!("sqlite://{}", dir.path().join("b.db").display())).await?;
        db.put_layer_inventory("sha256:l1", 1, b"one").await?;
        db.put_layer_inventory("sha256:l1", 1, b"two").await?;
        assert_eq!(
            db.layer_inventory("sha256:l1", 1).await?.as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(db.layer_inventory("sha256:l1", 2).await?, None);
        let packages = vec![
            ("Debian:12".to_owned(), "openssl".to_owned()),
            ("Debian:12".to_owned(), "zlib".to_owned()),
        ];
        for digest in ["sha256:b", "sha256:a", "sha256:c"] {
            db.put_artifact_inventory(digest, 1, r#"["sha256:l1"]"#, None, &packages)
                .await?;
        }
        db.put_artifact_inventory("sha256:c", 1, r#"["sha256:l1"]"#, None, &packages[1..])
            .await?;
        let first = db
            .artifacts_with_package("Debian:12", "openssl", "", 1)
            .await?;
        assert_eq!(first, vec!["sha256:a"]);
        let rest = db
            .artifacts_with_package("Debian:12", "openssl", "sha256:a", 10)
            .await?;
        assert_eq!(rest, vec!["sha256:b"]);
        assert_eq!(
            db.artifact_inventory("sha256:c", 1).await?,
            Some((r#"["sha256:l1"]"#.to_owned(), None))
        );
        Ok(())
    }
}
