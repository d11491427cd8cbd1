//! From findings to Harbor's report shapes, and the decisions taken on a report: which findings a CVE allowlist
//! exempts, and whether "prevent vulnerable images" refuses a pull.

use std::collections::{BTreeMap, HashSet};

use berth_api::vulnerabilities::{
    CvssDetails, ReportArtifact, ScannerIdentity, VulnerabilityItem, VulnerabilityReport,
    VulnerabilitySummary,
};
use serde_json::{Map, Value};

use super::model::{Finding, Severity};

/// The effective CVE allowlist of a project: its own, or the system's when the project reuses it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    /// Vulnerability ids as written by the operator (compared case-insensitively).
    pub items: HashSet<String>,
    /// Unix seconds after which the list no longer applies; `None` never expires.
    pub expires_at: Option<i64>,
}

impl Allowlist {
    /// A list from its stored items.
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(
        items: I,
        expires_at: Option<i64>,
    ) -> Self {
        Allowlist {
            items: items
                .into_iter()
                .map(|s| s.as_ref().trim().to_ascii_uppercase())
                .filter(|s| !s.is_empty())
                .collect(),
            expires_at,
        }
    }

    /// Whether the list applies at `now` (Unix seconds).
    pub fn in_force(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }

    /// Whether the list, in force at `now`, exempts `finding` (by its id or any of its aliases).
    pub fn exempts(&self, finding: &Finding, now: i64) -> bool {
        self.in_force(now)
            && std::iter::once(&finding.id)
                .chain(&finding.aliases)
                .any(|id| self.items.contains(&id.to_ascii_uppercase()))
    }
}

/// The highest severity among `findings`, [`Severity::None`] when there are none.
pub fn overall_severity(findings: &[Finding]) -> Severity {
    findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::None)
}

/// Harbor's counts of a report's findings.
pub fn summarize(findings: &[Finding]) -> VulnerabilitySummary {
    let mut summary = BTreeMap::new();
    for f in findings {
        *summary.entry(f.severity.as_str().to_owned()).or_insert(0) += 1;
    }
    VulnerabilitySummary {
        total: findings.len() as u64,
        fixable: findings.iter().filter(|f| f.fix_version.is_some()).count() as u64,
        summary,
    }
}

/// Harbor's full report of `findings`, marking those `allowlist` exempts at `now`.
pub fn vulnerability_report(
    artifact: ReportArtifact,
    scanner: ScannerIdentity,
    findings: &[Finding],
    allowlist: &Allowlist,
    generated_at: String,
    now: i64,
) -> VulnerabilityReport {
    VulnerabilityReport {
        generated_at,
        artifact,
        scanner,
        severity: overall_severity(findings).as_str().to_owned(),
        vulnerabilities: findings
            .iter()
            .map(|f| item(f, allowlist.exempts(f, now)))
            .collect(),
    }
}

fn item(f: &Finding, allowlisted: bool) -> VulnerabilityItem {
    let mut vendor = Map::new();
    if !f.aliases.is_empty() {
        vendor.insert("aliases".into(), Value::from(f.aliases.clone()));
    }
    if let Some(source) = &f.source_package {
        vendor.insert("source_package".into(), Value::from(source.clone()));
    }
    if let Some(status) = &f.status {
        vendor.insert("status".into(), Value::from(status.clone()));
    }
    vendor.insert("ecosystem".into(), Value::from(f.ecosystem.clone()));
    vendor.insert("layer".into(), Value::from(f.layer.clone()));
    if allowlisted {
        vendor.insert("allowlisted".into(), Value::Bool(true));
    }
    let cvss = (f.cvss3_score.is_some() || f.cvss3_vector.is_some()).then(|| CvssDetails {
        score_v3: f.cvss3_score,
        vector_v3: f.cvss3_vector.clone(),
        ..CvssDetails::default()
    });
    VulnerabilityItem {
        id: f.id.clone(),
        package: f.package.clone(),
        version: f.version.clone(),
        fix_version: f.fix_version.clone().unwrap_or_default(),
        severity: f.severity.as_str().to_owned(),
        description: f.description.clone().unwrap_or_default(),
        links: f.links.clone(),
        preferred_cvss: cvss,
        cwe_ids: f.cwe_ids.clone(),
        vendor_attributes: vendor,
    }
}

/// Why "prevent vulnerable images" refuses a pull (Harbor answers `412 PROJECTPOLICYVIOLATION`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Findings at or above the threshold that the allowlist does not exempt.
    pub count: usize,
    /// The project's threshold.
    pub threshold: Severity,
    /// Up to five of their ids, most severe first, to name in the message.
    pub examples: Vec<String>,
}

impl Refusal {
    /// The message a refused client sees (Harbor's wording, with the ids that decided it).
    pub fn message(&self) -> String {
        format!(
            "current image with {} {} cannot be pulled due to configured policy in 'Prevent images with \
             vulnerability severity of \"{}\" or higher from running.' ({}{}) To continue with pull, please \
             contact your project administrator to exempt matched vulnerabilities through configuring the CVE \
             allowlist.",
            self.count,
            if self.count == 1 {
                "vulnerability"
            } else {
                "vulnerabilities"
            },
            self.threshold.as_str(),
            self.examples.join(", "),
            if self.count > self.examples.len() {
                ", …"
            } else {
                ""
            },
        )
    }
}

/// Whether a project that prevents images with findings of `threshold` or higher refuses an artifact whose
/// latest successful report found `findings`. `Negligible` and `Unknown` findings count only when the threshold
/// is that low.
pub fn prevent_verdict(
    findings: &[Finding],
    threshold: Severity,
    allowlist: &Allowlist,
    now: i64,
) -> Option<Refusal> {
    let mut blocking: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity >= threshold && !allowlist.exempts(f, now))
        .collect();
    if blocking.is_empty() {
        return None;
    }
    blocking.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    let mut examples: Vec<String> = Vec::new();
    for f in &blocking {
        if examples.len() == 5 {
            break;
        }
        if !examples.contains(&f.id) {
            examples.push(f.id.clone());
        }
    }
    Some(Refusal {
        count: blocking.len(),
        threshold,
        examples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::model::PackageKind;

    fn finding(id: &str, aliases: &[&str], severity: Severity, fix: Option<&str>) -> Finding {
        Finding {
            id: id.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            package: "libssl3".into(),
            version: "3.0.9-1".into(),
            kind: PackageKind::Dpkg,
            source_package: Some("openssl".into()),
            ecosystem: "Debian:12".into(),
            fix_version: fix.map(str::to_owned),
            severity,
            status: None,
            description: None,
            links: vec![],
            cvss3_vector: None,
            cvss3_score: None,
            cwe_ids: vec![],
            layer: "sha256:aa".into(),
        }
    }

    #[test]
    fn summary_counts_each_severity_and_the_fixable_ones() {
        let findings = [
            finding("CVE-1", &[], Severity::High, Some("1")),
            finding("CVE-2", &[], Severity::High, None),
            finding("CVE-3", &[], Severity::Negligible, None),
        ];
        let s = summarize(&findings);
        assert_eq!((s.total, s.fixable), (3, 1));
        assert_eq!(s.summary.get("High"), Some(&2));
        assert_eq!(s.summary.get("Negligible"), Some(&1));
        assert_eq!(s.summary.get("Critical"), None);
        assert_eq!(overall_severity(&findings), Severity::High);
        assert_eq!(overall_severity(&[]), Severity::None);
    }

    #[test]
    fn an_allowlist_exempts_by_id_or_alias_until_it_expires() {
        let dsa = finding("CVE-2023-5363", &["DSA-5532-1"], Severity::High, None);
        let by_alias = Allowlist::new(["dsa-5532-1"], Some(100));
        assert!(by_alias.exempts(&dsa, 99));
        assert!(!by_alias.exempts(&dsa, 100), "expired at 100");
        let other = Allowlist::new(["CVE-2023-5678"], None);
        assert!(!other.exempts(&dsa, 0));
        assert!(Allowlist::new([" cve-2023-5363 "], None).exempts(&dsa, i64::MAX));
    }

    #[test]
    fn prevention_counts_what_reaches_the_threshold_and_is_not_allowlisted() {
        let findings = [
            finding("CVE-A", &[], Severity::Critical, Some("2")),
            finding("CVE-B", &[], Severity::High, None),
            finding("CVE-C", &[], Severity::Medium, None),
            finding("CVE-D", &[], Severity::Negligible, None),
        ];
        let none = Allowlist::default();
        let refusal = prevent_verdict(&findings, Severity::High, &none, 0);
        assert_eq!(
            refusal.as_ref().map(|r| (r.count, r.examples.clone())),
            Some((2, vec!["CVE-A".to_string(), "CVE-B".to_string()]))
        );
        assert!(refusal.is_some_and(|r| r.message().contains("\"High\" or higher")));
        assert_eq!(
            prevent_verdict(&findings, Severity::Critical, &none, 0).map(|r| r.count),
            Some(1)
        );
        let allow_a = Allowlist::new(["CVE-A"], None);
        assert_eq!(
            prevent_verdict(&findings, Severity::Critical, &allow_a, 0),
            None
        );
        assert_eq!(
            prevent_verdict(&findings, Severity::Negligible, &none, 0).map(|r| r.count),
            Some(4)
        );
        assert_eq!(prevent_verdict(&[], Severity::Low, &none, 0), None);
    }

    #[test]
    fn the_report_marks_allowlisted_findings_and_keeps_unfixed_ones() {
        let mut unfixed = finding("CVE-2025-9230", &[], Severity::Unknown, None);
        unfixed.status = Some("open".into());
        let findings = [
            finding("CVE-A", &["DSA-1"], Severity::High, Some("2")),
            unfixed,
        ];
        let report = vulnerability_report(
            ReportArtifact::default(),
            ScannerIdentity::default(),
            &findings,
            &Allowlist::new(["DSA-1"], None),
            "2026-12-06T00:00:00Z".into(),
            0,
        );
        assert_eq!(report.severity, "High");
        assert_eq!(report.vulnerabilities.len(), 2);
        let first = &report.vulnerabilities[0];
        assert_eq!(
            first.vendor_attributes.get("allowlisted"),
            Some(&Value::Bool(true))
        );
        assert_eq!(first.fix_version, "2");
        let second = &report.vulnerabilities[1];
        assert_eq!(second.fix_version, "");
        assert_eq!(
            second.vendor_attributes.get("status"),
            Some(&Value::from("open"))
        );
        assert_eq!(second.vendor_attributes.get("allowlisted"), None);
    }
}
