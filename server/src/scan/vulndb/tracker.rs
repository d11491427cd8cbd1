//! The Debian security tracker's JSON (<https://security-tracker.debian.org/tracker/data/json>):
//! `{source package: {CVE: {description, releases: {codename: {status, fixed_version, urgency, nodsa_reason}}}}}`.
//!
//! The live file is about 70 MB, so it is read as a stream: one source package's entries at a time. Each
//! (package, CVE) is one record; each release in it one affected entry in `Debian:<n>` (`sid` and unknown
//! codenames are skipped): `resolved` with `fixed_version` V → `introduced 0, fixed V` (V `"0"`: not affected, no
//! row); `open`/`undetermined` → `introduced 0` with no fix and the vendor status (`no-dsa`, `ignored`,
//! `postponed`, `end-of-life`, else `open`). The urgency becomes the entry's severity, the description the
//! advisory's summary.

use std::collections::BTreeMap;
use std::fmt;
use std::io::BufReader;
use std::path::Path;

use anyhow::Context as _;
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::import::{Item, Sink};
use super::record::{Record, VulnRow, VulnWrite, severity_word};
use crate::scan::model::{Advisory, AffectedEntry, AffectedRange, RangeEvent, RangeKind};

pub const SOURCE: &str = "debian-tracker";

/// Debian's release codenames and their numbers (OSV's `Debian:<n>`).
const RELEASES: [(&str, &str); 7] = [
    ("jessie", "8"),
    ("stretch", "9"),
    ("buster", "10"),
    ("bullseye", "11"),
    ("bookworm", "12"),
    ("trixie", "13"),
    ("forky", "14"),
];

#[derive(Deserialize)]
struct TrackerCve {
    #[serde(default)]
    description: Option<String>,
    /// An object of releases; the live feed writes `[]` for an entry with none.
    #[serde(default)]
    releases: Value,
}

#[derive(Deserialize)]
struct TrackerRelease {
    #[serde(default)]
    status: String,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    nodsa_reason: Option<String>,
}

/// Whether a JSON document looks like the tracker's (used by format detection).
pub fn looks_like(head: &str) -> bool {
    head.contains("\"releases\"")
        && (head.contains("\"status\"") || head.contains("\"fixed_version\""))
}

/// Converts one (package, CVE) entry.
fn convert(package: &str, cve: &str, entry: Value) -> Item {
    let at = format!("{package}/{cve}");
    let entry: TrackerCve = match serde_json::from_value(entry) {
        Ok(e) => e,
        Err(e) => {
            return Item::Malformed {
                at,
                reason: format!("not a tracker entry: {e}"),
            };
        }
    };
    let releases: BTreeMap<String, TrackerRelease> = match entry.releases {
        Value::Object(map) => match serde_json::from_value(Value::Object(map)) {
            Ok(r) => r,
            Err(e) => {
                return Item::Malformed {
                    at,
                    reason: format!("not a tracker entry: {e}"),
                };
            }
        },
        _ => BTreeMap::new(),
    };
    let mut affected = Vec::new();
    for (codename, release) in releases {
        let Some((_, number)) = RELEASES.iter().find(|(name, _)| *name == codename) else {
            continue;
        };
        let urgency = release.urgency.as_deref().unwrap_or("").trim();
        let severity = severity_word(urgency);
        let end_of_life = urgency == "end-of-life";
        let events = match release.status.as_str() {
            "resolved" => match release.fixed_version.as_deref().map(str::trim) {
                Some("0") | Some("") | None => continue,
                Some(v) => vec![
                    RangeEvent::Introduced("0".to_owned()),
                    RangeEvent::Fixed(v.to_owned()),
                ],
            },
            "open" | "undetermined" => vec![RangeEvent::Introduced("0".to_owned())],
            _ => continue,
        };
        let status = (events.len() == 1).then(|| {
            if end_of_life {
                "end-of-life".to_owned()
            } else if release.status == "undetermined" {
                "undetermined".to_owned()
            } else {
                match release.nodsa_reason.as_deref() {
                    Some("") => "no-dsa".to_owned(),
                    Some(reason) => reason.to_owned(),
                    None => "open".to_owned(),
                }
            }
        });
        affected.push(AffectedEntry {
            vuln_id: cve.to_owned(),
            ecosystem: format!("Debian:{number}"),
            package: package.to_owned(),
            ranges: vec![AffectedRange {
                kind: RangeKind::Ecosystem,
                events,
            }],
            versions: Vec::new(),
            severity,
            status,
        });
    }
    let vulns = vec![VulnRow {
        advisory: Advisory {
            id: cve.to_owned(),
            summary: entry.description.filter(|d| !d.trim().is_empty()),
            ..Advisory::default()
        },
        withdrawn: None,
        cvss4_vector: None,
        cvss4_score: None,
        write: VulnWrite::Fill,
    }];
    Item::Record(Box::new(Record::new(
        SOURCE.to_owned(),
        at,
        Some(cve.to_owned()),
        None,
        vulns,
        Vec::new(),
        affected,
    )))
}

/// Reads the top-level map one package at a time and hands each (package, CVE) to the sink.
struct Packages<'s, 'a> {
    sink: &'s mut Sink<'a>,
}

const STOPPED: &str = "import stopped";

impl<'de> Visitor<'de> for Packages<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of source packages")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(package) = map.next_key::<String>()? {
            let cves: BTreeMap<String, Value> = map.next_value()?;
            for (cve, entry) in cves {
                if !(self.sink)(convert(&package, &cve, entry)) {
                    return Err(serde::de::Error::custom(STOPPED));
                }
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Packages<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

/// Streams a tracker JSON file.
pub fn read_file(path: &Path, sink: &mut Sink<'_>) -> anyhow::Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::new(file));
    match (Packages { sink }).deserialize(&mut de) {
        Ok(()) => de
            .end()
            .with_context(|| format!("{} has trailing data", path.display())),
        Err(e) if e.to_string().starts_with(STOPPED) => Ok(()),
        Err(e) => Err(anyhow::anyhow!(
            "{} is not Debian security tracker JSON: {e}",
            path.display()
        )),
    }
}
