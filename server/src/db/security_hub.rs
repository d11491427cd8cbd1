//! Harbor's Security Hub over the stored scan reports: the system's counts by severity, its most dangerous
//! CVEs and artifacts, and the search of findings (`/security/summary`, `/security/vul`).
//!
//! Rule: only each artifact's current report counts. A report row is keyed by (digest, registration, MIME
//! type) and a rescan replaces its findings in one transaction ([`Db::finish_scan_report`]), so the findings of
//! the row whose last scan succeeded (`summary IS NOT NULL`) are the artifact's latest successful report; a
//! rescan never adds a second set. Every query is scoped to one registration (the default scanner, as in
//! Harbor) and one report MIME type, and counts per artifact row, as Harbor does: the same digest in two
//! repositories is two artifacts.
//!
//! Portable SQL: `$N` placeholders through [`SqlBuilder`], no SQLite-only functions; `(x IS NULL)` orders
//! missing scores last on both backends.

use super::sql_builder::SqlBuilder;
use sqlx::FromRow;

use super::Db;

/// The rows every query here reads: each artifact with the findings of its current successful report.
/// Binds: registration, MIME type.
const FINDINGS: &str = " FROM artifacts a
    JOIN repositories r ON r.id = a.repository_id
    JOIN scan_reports s ON s.artifact_digest = a.digest AND s.registration_uuid = ";

/// A severity's rank, highest first (Harbor orders dangerous CVEs by it after the score).
const SEVERITY_RANK: &str =
    "CASE c.severity WHEN 'Critical' THEN 6 WHEN 'High' THEN 5 WHEN 'Medium' THEN 4
    WHEN 'Low' THEN 3 WHEN 'Negligible' THEN 2 WHEN 'None' THEN 1 ELSE 0 END";

/// The system's counts of findings by severity (each artifact's current report once).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeverityCounts {
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    /// `Low` and `Negligible` (Harbor's summary has no count of its own for `Negligible`).
    pub low: i64,
    pub none: i64,
    pub unknown: i64,
    /// Findings with a fixed version.
    pub fixable: i64,
}

impl SeverityCounts {
    pub fn total(&self) -> i64 {
        self.critical + self.high + self.medium + self.low + self.none + self.unknown
    }
}

/// One of the most dangerous CVEs: a (CVE, package, version) with a CVSS v3 score.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct DangerousCveRow {
    pub cve_id: String,
    pub package: String,
    pub version: String,
    pub severity: String,
    pub cvss_v3_score: f64,
    pub description: Option<String>,
}

/// One of the most dangerous artifacts, with its counts of the three worst severities.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct DangerousArtifactRow {
    pub project_id: i64,
    pub repository_name: String,
    pub digest: String,
    pub critical_cnt: i64,
    pub high_cnt: i64,
    pub medium_cnt: i64,
    pub low_cnt: i64,
}

/// One finding of one artifact, as `/security/vul` lists it.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct VulnerabilityRow {
    pub artifact_id: i64,
    pub project_id: i64,
    pub repository_name: String,
    pub digest: String,
    pub cve_id: String,
    pub severity: String,
    pub cvss_v3_score: Option<f64>,
    pub package: String,
    pub version: String,
    pub fix_version: String,
    pub description: Option<String>,
    /// JSON array of URLs.
    pub links: Option<String>,
}

/// The filters of `/security/vul` (Harbor's `q` keys), each optional; all must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VulnerabilityFilter {
    pub cve_id: Option<String>,
    /// Harbor's spelling (`Critical`, …).
    pub severity: Option<String>,
    /// Inclusive bounds of the CVSS v3 score; a finding without a score never matches a bound.
    pub cvss_min: Option<f64>,
    pub cvss_max: Option<f64>,
    pub project_id: Option<i64>,
    /// The full repository name (`project/repository`).
    pub repository_name: Option<String>,
    pub package: Option<String>,
    /// An artifact tagged so.
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl VulnerabilityFilter {
    fn push_where(&self, query: &mut SqlBuilder<'_>) {
        if let Some(v) = &self.cve_id {
            query.push(" AND c.cve_id = ").push_bind(v.clone());
        }
        if let Some(v) = &self.severity {
            query.push(" AND c.severity = ").push_bind(v.clone());
        }
        if let Some(v) = self.cvss_min {
            query.push(" AND c.cvss_v3_score >= ").push_bind(v);
        }
        if let Some(v) = self.cvss_max {
            query.push(" AND c.cvss_v3_score <= ").push_bind(v);
        }
        if let Some(v) = self.project_id {
            query.push(" AND r.project_id = ").push_bind(v);
        }
        if let Some(v) = &self.repository_name {
            query.push(" AND r.name = ").push_bind(v.clone());
        }
        if let Some(v) = &self.package {
            query.push(" AND c.package = ").push_bind(v.clone());
        }
        if let Some(v) = &self.tag {
            query
                .push(" AND a.id IN (SELECT t.artifact_id FROM tags t WHERE t.name = ")
                .push_bind(v.clone())
                .push(")");
        }
        if let Some(v) = &self.digest {
            query.push(" AND a.digest = ").push_bind(v.clone());
        }
    }
}

/// A query over [`FINDINGS`] of `registration` and `mime_type`, starting with `select`.
fn findings_query<'a>(select: &str, registration: &str, mime_type: &str) -> SqlBuilder<'a> {
    let mut query = SqlBuilder::new(select);
    query
        .push(FINDINGS)
        .push_bind(registration.to_owned())
        .push(" AND s.mime_type = ")
        .push_bind(mime_type.to_owned())
        .push(
            " AND s.summary IS NOT NULL
              JOIN report_cves c ON c.report_uuid = s.uuid
              LEFT JOIN cve_details d ON d.cve_id = c.cve_id
              WHERE 1 = 1",
        );
    query
}

impl Db {
    /// The counts by severity of the findings of every artifact's current report by `registration`.
    pub async fn security_counts(
        &self,
        registration: &str,
        mime_type: &str,
    ) -> Result<SeverityCounts, sqlx::Error> {
        let mut query = findings_query(
            "SELECT c.severity, COUNT(*), SUM(CASE WHEN c.fix_version <> '' THEN 1 ELSE 0 END)",
            registration,
            mime_type,
        );
        query.push(" GROUP BY c.severity");
        let rows: Vec<(String, i64, i64)> = query.build_query_as()?.fetch_all(&self.read).await?;
        let mut counts = SeverityCounts::default();
        for (severity, count, fixable) in rows {
            let slot = match severity.as_str() {
                "Critical" => &mut counts.critical,
                "High" => &mut counts.high,
                "Medium" => &mut counts.medium,
                "Low" | "Negligible" => &mut counts.low,
                "None" => &mut counts.none,
                _ => &mut counts.unknown,
            };
            *slot += count;
            counts.fixable += fixable;
        }
        Ok(counts)
    }

    /// How many artifacts there are.
    pub async fn artifact_total(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM artifacts")
            .fetch_one(&self.read)
            .await
    }

    /// How many artifacts have a successful report by `registration` of `mime_type`.
    pub async fn scanned_artifact_total(
        &self,
        registration: &str,
        mime_type: &str,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM artifacts a WHERE EXISTS (SELECT 1 FROM scan_reports s
                WHERE s.artifact_digest = a.digest AND s.registration_uuid = $1 AND s.mime_type = $2
                  AND s.summary IS NOT NULL)",
        )
        .bind(registration)
        .bind(mime_type)
        .fetch_one(&self.read)
        .await
    }

    /// The `limit` most dangerous (CVE, package, version) of the current reports: those with a CVSS v3
    /// score, highest score first, then worst severity (Harbor's order), then by id.
    pub async fn dangerous_cves(
        &self,
        registration: &str,
        mime_type: &str,
        limit: i64,
    ) -> Result<Vec<DangerousCveRow>, sqlx::Error> {
        let mut query = findings_query(
            &format!(
                "SELECT c.cve_id, c.package, c.version, c.severity, MAX(c.cvss_v3_score) AS cvss_v3_score,
                    MAX(d.description) AS description, {SEVERITY_RANK} AS severity_rank"
            ),
            registration,
            mime_type,
        );
        query
            .push(
                " AND c.cvss_v3_score IS NOT NULL
                  GROUP BY c.cve_id, c.package, c.version, c.severity
                  ORDER BY cvss_v3_score DESC, severity_rank DESC, c.cve_id, c.package, c.version
                  LIMIT ",
            )
            .push_bind(limit);
        query.build_query_as()?.fetch_all(&self.read).await
    }

    /// The `limit` artifacts with the most Critical findings, then High, Medium and Low (Harbor's order;
    /// artifacts with none of the four are left out).
    pub async fn dangerous_artifacts(
        &self,
        registration: &str,
        mime_type: &str,
        limit: i64,
    ) -> Result<Vec<DangerousArtifactRow>, sqlx::Error> {
        let mut query = findings_query(
            "SELECT r.project_id, r.name AS repository_name, a.digest,
                SUM(CASE WHEN c.severity = 'Critical' THEN 1 ELSE 0 END) AS critical_cnt,
                SUM(CASE WHEN c.severity = 'High' THEN 1 ELSE 0 END) AS high_cnt,
                SUM(CASE WHEN c.severity = 'Medium' THEN 1 ELSE 0 END) AS medium_cnt,
                SUM(CASE WHEN c.severity IN ('Low', 'Negligible') THEN 1 ELSE 0 END) AS low_cnt",
            registration,
            mime_type,
        );
        query
            .push(
                " GROUP BY a.id, r.project_id, r.name, a.digest
                  HAVING SUM(CASE WHEN c.severity IN ('Critical', 'High', 'Medium', 'Low', 'Negligible')
                                  THEN 1 ELSE 0 END) > 0
                  ORDER BY critical_cnt DESC, high_cnt DESC, medium_cnt DESC, low_cnt DESC, a.id
                  LIMIT ",
            )
            .push_bind(limit);
        query.build_query_as()?.fetch_all(&self.read).await
    }

    /// One page of the findings matching `filter`, highest CVSS v3 score first (those without one last).
    pub async fn list_vulnerabilities(
        &self,
        registration: &str,
        mime_type: &str,
        filter: &VulnerabilityFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<VulnerabilityRow>, sqlx::Error> {
        let mut query = findings_query(
            "SELECT a.id AS artifact_id, r.project_id, r.name AS repository_name, a.digest, c.cve_id,
                c.severity, c.cvss_v3_score, c.package, c.version, c.fix_version, d.description, d.links",
            registration,
            mime_type,
        );
        filter.push_where(&mut query);
        query
            .push(
                " ORDER BY (c.cvss_v3_score IS NULL), c.cvss_v3_score DESC, a.id, c.cve_id, c.package,
                    c.version LIMIT ",
            )
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        query.build_query_as()?.fetch_all(&self.read).await
    }

    /// How many findings match `filter`; with `cap`, counts at most `cap + 1` (so a caller can say "more
    /// than `cap`" without counting every row).
    pub async fn count_vulnerabilities(
        &self,
        registration: &str,
        mime_type: &str,
        filter: &VulnerabilityFilter,
        cap: Option<i64>,
    ) -> Result<i64, sqlx::Error> {
        let mut query = findings_query("SELECT COUNT(*) FROM (SELECT 1", registration, mime_type);
        filter.push_where(&mut query);
        if let Some(cap) = cap {
            query.push(" LIMIT ").push_bind(cap.saturating_add(1));
        }
        query.push(") AS matching");
        query.build_query_scalar()?.fetch_one(&self.read).await
    }

    /// The tag names of each of `artifact_ids`, at most `per_artifact` each, by name.
    pub async fn tags_of_artifacts(
        &self,
        artifact_ids: &[i64],
        per_artifact: usize,
    ) -> Result<std::collections::HashMap<i64, Vec<String>>, sqlx::Error> {
        let mut tags: std::collections::HashMap<i64, Vec<String>> =
            std::collections::HashMap::new();
        if artifact_ids.is_empty() {
            return Ok(tags);
        }
        let mut query =
            SqlBuilder::new("SELECT artifact_id, name FROM tags WHERE artifact_id IN (");
        let mut list = query.separated(", ");
        for id in artifact_ids {
            list.push_bind(*id);
        }
        query.push(") ORDER BY artifact_id, name");
        let rows: Vec<(i64, String)> = query.build_query_as()?.fetch_all(&self.read).await?;
        for (id, name) in rows {
            let names = tags.entry(id).or_default();
            if names.len() < per_artifact {
                names.push(name);
            }
        }
        Ok(tags)
    }
}
