//! What the console reads of the REST API's biggest answers: the fields of Harbor's `Project` and `Artifact`
//! (whose full shapes, for the server and for requests, are `berth_api`'s) that a page shows or uses, and
//! nothing else.
//!
//! Rule: parsing costs .wasm bytes per field, and these two answers carry many the console never reads
//! (parsing `berth_api`'s `Artifact` in full kept 32 KB of the module, its accessories alone 6 KB). Unknown
//! fields are skipped. Each shape here is checked against `berth_api`'s, serialised by the server's own
//! types, in the tests below, so a renamed or retyped field fails `cargo test -p berth-console`.

use std::collections::BTreeMap;

use berth_api::projects::ProjectSummaryQuota;
use serde::Deserialize;

/// A project, as `GET /projects` and `GET /projects/{id}` answer it (Harbor's `Project`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Project {
    pub project_id: i64,
    pub name: String,
    /// The registry endpoint of a proxy-cache project; `None` for a hosted project.
    #[serde(default)]
    pub registry_id: Option<i64>,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub current_user_role_id: Option<i64>,
    #[serde(default)]
    pub current_user_role_ids: Vec<i64>,
    #[serde(default)]
    pub repo_count: i64,
    #[serde(default)]
    pub metadata: ProjectMetadata,
    /// Only for callers who may read it.
    #[serde(default)]
    pub quota: Option<ProjectSummaryQuota>,
    /// The project's own CVE allowlist (used unless `reuse_sys_cve_allowlist` says the system's).
    #[serde(default)]
    pub cve_allowlist: Option<CveAllowlist>,
}

/// A project's CVE allowlist (Harbor's `CVEAllowlist`): its ids and when it stops counting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CveAllowlist {
    /// Unix seconds; `None`: never.
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub items: Vec<CveAllowlistItem>,
}

/// One id of an allowlist.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CveAllowlistItem {
    pub cve_id: String,
}

impl Project {
    /// Whether the project is public (Harbor keeps it as the metadata string `"true"`).
    pub fn is_public(&self) -> bool {
        self.metadata.public.as_deref() == Some("true")
    }

    /// Whether the project is a proxy cache of a registry endpoint (else it is hosted).
    pub fn is_proxy(&self) -> bool {
        self.registry_id.is_some()
    }
}

/// The project metadata the console shows (Harbor keeps every value as a string).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ProjectMetadata {
    /// `"true"` for a public project.
    #[serde(default)]
    pub public: Option<String>,
    /// A proxy-cache project's patterns (Berth's extension).
    #[serde(default)]
    pub proxy_include: Option<String>,
    #[serde(default)]
    pub proxy_exclude: Option<String>,
    /// The project's tag retention policy (its id, as a string), once it has one.
    #[serde(default)]
    pub retention_id: Option<String>,
    /// Vulnerability scanning: scan and generate an SBOM on push, refuse pulls of vulnerable images at or
    /// above `severity`, and use the system's CVE allowlist rather than the project's.
    #[serde(default)]
    pub auto_scan: Option<String>,
    #[serde(default)]
    pub auto_sbom_generation: Option<String>,
    #[serde(default)]
    pub prevent_vul: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub reuse_sys_cve_allowlist: Option<String>,
}

/// An artifact, as the artifacts list and an artifact's page read it (Harbor's `Artifact`, with Berth's
/// `pull_count`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Artifact {
    /// `IMAGE`, `CHART`, `CNAB`, `WASM` or `UNKNOWN`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub media_type: String,
    #[serde(default)]
    pub manifest_media_type: String,
    pub repository_name: String,
    pub digest: String,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub push_time: String,
    #[serde(default)]
    pub pull_time: String,
    #[serde(default)]
    pub pull_count: i64,
    #[serde(default)]
    pub extra_attrs: ExtraAttrs,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    /// An index's children.
    #[serde(default)]
    pub references: Option<Vec<Reference>>,
    #[serde(default)]
    pub tags: Option<Vec<Tag>>,
    #[serde(default)]
    pub addition_links: AdditionLinks,
    /// The latest vulnerability report's summary (asked for with `with_scan_overview=true`).
    #[serde(default)]
    pub scan_overview: Option<ScanOverview>,
    /// The latest SBOM generation (asked for with `with_sbom_overview=true`).
    #[serde(default)]
    pub sbom_overview: Option<SbomOverview>,
    /// The labels it carries (asked for with `with_label=true`).
    #[serde(default)]
    pub labels: Vec<ArtifactLabel>,
}

/// A label an artifact carries: what its chip shows, and its id to take it off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ArtifactLabel {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub color: String,
    #[serde(default)]
    pub description: String,
}

/// An artifact's `scan_overview`: of its reports (keyed by MIME type), only Harbor's native vulnerability
/// report, the one the console shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ScanOverview {
    #[serde(
        default,
        rename = "application/vnd.security.vulnerability.report; version=1.1"
    )]
    pub native: Option<ScanSummary>,
}

/// The summary of an artifact's latest scan (Harbor's `NativeReportSummary`), what the list shows of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ScanSummary {
    /// `Pending`, `Running`, `Success`, `Error` or `Stopped`.
    #[serde(default)]
    pub scan_status: String,
    /// The worst severity found (`None` when nothing was).
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub summary: Option<VulnerabilityCounts>,
}

/// How many findings a report has (Harbor's `VulnerabilitySummary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct VulnerabilityCounts {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub fixable: u64,
    /// Per severity (`{"Critical": 1, "High": 3}`), only those found.
    #[serde(default)]
    pub summary: BTreeMap<String, u64>,
}

/// An artifact's latest SBOM generation (Harbor's `SBOMOverview`), what the console uses of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SbomOverview {
    #[serde(default)]
    pub scan_status: String,
    /// The SBOM accessory's digest, once generated.
    #[serde(default)]
    pub sbom_digest: Option<String>,
    /// The generation's report, whose log `…/scan/{report_id}/log` serves.
    #[serde(default)]
    pub report_id: String,
}

/// The image config's attributes an artifact carries (`extra_attrs`), those the console shows. Each is JSON
/// as sent (a string for an image; anything else is not shown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ExtraAttrs {
    #[serde(default)]
    pub architecture: serde_json::Value,
    #[serde(default)]
    pub os: serde_json::Value,
    #[serde(default)]
    pub variant: serde_json::Value,
    #[serde(default)]
    pub author: serde_json::Value,
    #[serde(default)]
    pub created: serde_json::Value,
}

impl ExtraAttrs {
    /// The attribute called `key` when it is a non-empty string.
    pub fn text(&self, key: &str) -> Option<&str> {
        let value = match key {
            "architecture" => &self.architecture,
            "os" => &self.os,
            "variant" => &self.variant,
            "author" => &self.author,
            "created" => &self.created,
            _ => return None,
        };
        value.as_str().filter(|v| !v.is_empty())
    }
}

/// A child manifest of an index (Harbor's `Reference`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Reference {
    pub child_digest: String,
    #[serde(default)]
    pub platform: Option<Platform>,
}

/// The platform of an index's child.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
}

/// A tag of an artifact (Harbor's `Tag`), in an artifact's `tags` and in `GET …/tags`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Tag {
    pub name: String,
    #[serde(default)]
    pub push_time: String,
    #[serde(default)]
    pub pull_time: String,
    /// Locked by an immutable tag rule (asked for with `with_immutable_status=true`).
    #[serde(default)]
    pub immutable: bool,
}

/// Where the additions the artifact's page shows are served (`addition_links`), when the artifact has them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AdditionLinks {
    #[serde(default)]
    pub build_history: Option<Link>,
    #[serde(default)]
    pub layers: Option<Link>,
}

/// One addition's link (Harbor's `AdditionLink`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Link {
    pub href: String,
}

/// An immutable tag rule, as `GET /projects/{id}/immutabletagrules` lists it (Harbor's `ImmutableRule`): its
/// id, its switch, and its selectors (the server keeps one of each kind).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ImmutableRule {
    pub id: i64,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub tag_selectors: Vec<Selector>,
    #[serde(default)]
    pub scope_selectors: Scopes,
}

/// A rule's `scope_selectors`: only `repository` exists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Scopes {
    #[serde(default)]
    pub repository: Vec<Selector>,
}

/// One selector of a rule (Harbor's `ImmutableSelector`, whose `kind` is always `doublestar`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Selector {
    #[serde(default)]
    pub decoration: String,
    #[serde(default)]
    pub pattern: String,
}

#[cfg(test)]
mod tests {
    use berth_api::artifacts as full;
    use berth_api::projects as wire;
    use berth_api::quotas::ResourceList;

    use super::*;

    type Checked = Result<(), serde_json::Error>;

    /// `value` as the server sends it, read as the console reads it.
    fn read<T: serde::de::DeserializeOwned>(
        value: &impl serde::Serialize,
    ) -> Result<T, serde_json::Error> {
        serde_json::to_value(value).and_then(serde_json::from_value)
    }

    #[test]
    fn projects_read_as_the_server_writes_them() -> Checked {
        let sent = wire::Project {
            project_id: 3,
            owner_id: 1,
            name: "hub".to_owned(),
            registry_id: Some(2),
            creation_time: "2026-01-01T00:00:00Z".to_owned(),
            update_time: "2026-01-02T00:00:00Z".to_owned(),
            deleted: false,
            owner_name: "admin".to_owned(),
            togglable: true,
            current_user_role_id: Some(1),
            current_user_role_ids: vec![1, 4],
            repo_count: 7,
            metadata: wire::ProjectMetadata {
                public: Some("true".to_owned()),
                auto_scan: Some("false".to_owned()),
                proxy_include: Some("library/**".to_owned()),
                proxy_exclude: Some("library/old".to_owned()),
                retention_id: Some("4".to_owned()),
                auto_sbom_generation: Some("true".to_owned()),
                prevent_vul: Some("true".to_owned()),
                severity: Some("high".to_owned()),
                reuse_sys_cve_allowlist: Some("false".to_owned()),
                ..wire::ProjectMetadata::default()
            },
            cve_allowlist: Some(wire::CveAllowlist {
                id: 2,
                project_id: 3,
                expires_at: Some(1_900_000_000),
                items: vec![wire::CveAllowlistItem {
                    cve_id: "CVE-2024-0001".to_owned(),
                }],
                creation_time: "t".to_owned(),
                update_time: "t".to_owned(),
            }),
            quota: Some(wire::ProjectSummaryQuota {
                hard: ResourceList { storage: -1 },
                used: ResourceList { storage: 5 },
            }),
        };
        let project: Project = read(&sent)?;
        assert_eq!(
            project,
            Project {
                project_id: 3,
                name: "hub".to_owned(),
                registry_id: Some(2),
                creation_time: "2026-01-01T00:00:00Z".to_owned(),
                current_user_role_id: Some(1),
                current_user_role_ids: vec![1, 4],
                repo_count: 7,
                metadata: ProjectMetadata {
                    public: Some("true".to_owned()),
                    proxy_include: Some("library/**".to_owned()),
                    proxy_exclude: Some("library/old".to_owned()),
                    retention_id: Some("4".to_owned()),
                    auto_scan: Some("false".to_owned()),
                    auto_sbom_generation: Some("true".to_owned()),
                    prevent_vul: Some("true".to_owned()),
                    severity: Some("high".to_owned()),
                    reuse_sys_cve_allowlist: Some("false".to_owned()),
                },
                quota: sent.quota,
                cve_allowlist: Some(CveAllowlist {
                    expires_at: Some(1_900_000_000),
                    items: vec![CveAllowlistItem {
                        cve_id: "CVE-2024-0001".to_owned(),
                    }],
                }),
            }
        );
        Ok(())
    }

    #[test]
    fn artifacts_read_as_the_server_writes_them() -> Checked {
        let link = |href: &str| full::AdditionLink {
            href: href.to_owned(),
            absolute: false,
        };
        let sent = full::Artifact {
            id: 9,
            kind: "IMAGE".to_owned(),
            media_type: "application/vnd.oci.image.config.v1+json".to_owned(),
            manifest_media_type: "application/vnd.oci.image.manifest.v1+json".to_owned(),
            artifact_type: None,
            project_id: 1,
            repository_id: 2,
            repository_name: "library/app".to_owned(),
            digest: "sha256:abc".to_owned(),
            size: 1234,
            icon: Some("sha256:icon".to_owned()),
            push_time: "2026-01-01T00:00:00Z".to_owned(),
            pull_time: "0001-01-01T00:00:00.000Z".to_owned(),
            pull_count: 5,
            extra_attrs: [
                ("architecture", serde_json::json!("arm64")),
                ("os", serde_json::json!("linux")),
                ("variant", serde_json::json!("v8")),
                ("author", serde_json::json!("someone")),
                ("created", serde_json::json!("2026-01-01T00:00:00Z")),
                ("config", serde_json::json!({"Cmd": ["/bin/true"]})),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
            annotations: Some(BTreeMap::from([("a".to_owned(), "b".to_owned())])),
            references: Some(vec![full::Reference {
                parent_id: 9,
                child_id: Some(10),
                child_digest: "sha256:child".to_owned(),
                platform: Some(full::Platform {
                    architecture: "amd64".to_owned(),
                    os: "linux".to_owned(),
                    os_version: Some("10".to_owned()),
                    os_features: None,
                    variant: Some("v2".to_owned()),
                }),
                annotations: None,
                urls: None,
            }]),
            tags: Some(vec![full::Tag {
                id: 1,
                repository_id: 2,
                artifact_id: 9,
                name: "v1".to_owned(),
                push_time: "2026-01-01T00:00:00Z".to_owned(),
                pull_time: "2026-01-03T00:00:00Z".to_owned(),
                immutable: true,
            }]),
            addition_links: BTreeMap::from([
                ("build_history".to_owned(), link("/api/v2.0/history")),
                ("layers".to_owned(), link("/api/v2.0/layers")),
                (
                    "vulnerabilities".to_owned(),
                    link("/api/v2.0/vulnerabilities"),
                ),
            ]),
            labels: vec![berth_api::labels::Label {
                id: 4,
                name: "x".to_owned(),
                color: "#0095D3".to_owned(),
                scope: "g".to_owned(),
                ..Default::default()
            }],
            accessories: Some(Vec::new()),
            scan_overview: Some(BTreeMap::from([
                (
                    berth_api::vulnerabilities::NATIVE_REPORT_MIME.to_owned(),
                    berth_api::vulnerabilities::NativeReportSummary {
                        report_id: "r1".to_owned(),
                        scan_status: "Success".to_owned(),
                        severity: "High".to_owned(),
                        duration: 3,
                        summary: Some(berth_api::vulnerabilities::VulnerabilitySummary {
                            total: 4,
                            fixable: 2,
                            summary: BTreeMap::from([
                                ("High".to_owned(), 1),
                                ("Low".to_owned(), 3),
                            ]),
                        }),
                        complete_percent: 100,
                        ..Default::default()
                    },
                ),
                (
                    // Another scanner's report type is not the console's.
                    "application/vnd.other.report".to_owned(),
                    berth_api::vulnerabilities::NativeReportSummary::default(),
                ),
            ])),
            sbom_overview: Some(berth_api::vulnerabilities::SbomOverview {
                scan_status: "Success".to_owned(),
                sbom_digest: Some("sha256:sbom".to_owned()),
                report_id: "r2".to_owned(),
                ..Default::default()
            }),
        };
        let artifact: Artifact = read(&sent)?;
        assert_eq!(artifact.kind, "IMAGE");
        assert_eq!(artifact.media_type, sent.media_type);
        assert_eq!(artifact.manifest_media_type, sent.manifest_media_type);
        assert_eq!(artifact.repository_name, "library/app");
        assert_eq!(artifact.digest, "sha256:abc");
        assert_eq!(
            (artifact.size, artifact.pull_count),
            (sent.size, sent.pull_count)
        );
        assert_eq!(
            (artifact.push_time.as_str(), artifact.pull_time.as_str()),
            (sent.push_time.as_str(), sent.pull_time.as_str())
        );
        let attrs = &artifact.extra_attrs;
        assert_eq!(
            ["architecture", "os", "variant", "author", "created"].map(|k| attrs.text(k)),
            [
                Some("arm64"),
                Some("linux"),
                Some("v8"),
                Some("someone"),
                Some("2026-01-01T00:00:00Z")
            ]
        );
        assert_eq!(artifact.annotations, sent.annotations);
        assert_eq!(
            artifact.references,
            Some(vec![Reference {
                child_digest: "sha256:child".to_owned(),
                platform: Some(Platform {
                    architecture: "amd64".to_owned(),
                    os: "linux".to_owned(),
                    variant: Some("v2".to_owned()),
                }),
            }])
        );
        assert_eq!(
            artifact.tags,
            Some(vec![Tag {
                name: "v1".to_owned(),
                push_time: "2026-01-01T00:00:00Z".to_owned(),
                pull_time: "2026-01-03T00:00:00Z".to_owned(),
                immutable: true,
            }])
        );
        assert_eq!(
            artifact.addition_links.build_history.map(|l| l.href),
            Some("/api/v2.0/history".to_owned())
        );
        assert_eq!(
            artifact.addition_links.layers.map(|l| l.href),
            Some("/api/v2.0/layers".to_owned())
        );
        assert_eq!(
            artifact.scan_overview.and_then(|o| o.native),
            Some(ScanSummary {
                scan_status: "Success".to_owned(),
                severity: "High".to_owned(),
                summary: Some(VulnerabilityCounts {
                    total: 4,
                    fixable: 2,
                    summary: BTreeMap::from([("High".to_owned(), 1), ("Low".to_owned(), 3)]),
                }),
            })
        );
        assert_eq!(
            artifact.labels,
            [ArtifactLabel {
                id: 4,
                name: "x".to_owned(),
                color: "#0095D3".to_owned(),
                description: String::new(),
            }]
        );
        assert_eq!(
            artifact.sbom_overview,
            Some(SbomOverview {
                scan_status: "Success".to_owned(),
                sbom_digest: Some("sha256:sbom".to_owned()),
                report_id: "r2".to_owned(),
            })
        );
        Ok(())
    }

    #[test]
    fn attributes_that_are_not_text_are_not_shown() -> Checked {
        let attrs: ExtraAttrs = read(&serde_json::json!({"author": {"name": "x"}, "os": ""}))?;
        assert_eq!(attrs.text("author"), None);
        assert_eq!(attrs.text("os"), None);
        assert_eq!(attrs.text("nothing"), None);
        Ok(())
    }

    #[test]
    fn tags_read_as_the_server_writes_them() -> Checked {
        let sent = full::Tag {
            name: "latest".to_owned(),
            push_time: "t1".to_owned(),
            pull_time: "t2".to_owned(),
            ..full::Tag::default()
        };
        assert_eq!(
            read::<Tag>(&sent)?,
            Tag {
                name: "latest".to_owned(),
                push_time: "t1".to_owned(),
                pull_time: "t2".to_owned(),
                immutable: false,
            }
        );
        Ok(())
    }

    #[test]
    fn immutable_rules_read_as_the_server_writes_them() -> Checked {
        use berth_api::immutable as wire_rule;
        let selector = |decoration: &str, pattern: &str| wire_rule::ImmutableSelector {
            kind: "doublestar".to_owned(),
            decoration: decoration.to_owned(),
            pattern: pattern.to_owned(),
            extras: "{}".to_owned(),
        };
        let sent = wire_rule::ImmutableRule {
            id: 4,
            disabled: true,
            tag_selectors: vec![selector("excludes", "dev-*")],
            scope_selectors: BTreeMap::from([(
                "repository".to_owned(),
                vec![selector("repoMatches", "{a,b}")],
            )]),
            ..wire_rule::ImmutableRule::default()
        };
        let lean = |decoration: &str, pattern: &str| Selector {
            decoration: decoration.to_owned(),
            pattern: pattern.to_owned(),
        };
        assert_eq!(
            read::<ImmutableRule>(&sent)?,
            ImmutableRule {
                id: 4,
                disabled: true,
                tag_selectors: vec![lean("excludes", "dev-*")],
                scope_selectors: Scopes {
                    repository: vec![lean("repoMatches", "{a,b}")],
                },
            }
        );
        Ok(())
    }
}
