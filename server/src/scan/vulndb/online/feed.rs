//! `<ECOSYSTEM>/modified_id.csv`, OSV's incremental feed: one line per record, `<RFC 3339 modified>,<ID>`,
//! newest first (design §1.6). [`Feed`] reads it line by line against the stored [`Watermark`] and decides the
//! [`Plan`]: nothing to do, the changed records one by one, or the whole `all.zip`. Pure: the HTTP side feeds it.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};

/// The longest line read (a timestamp, a comma and an id are far shorter).
pub const MAX_LINE_BYTES: usize = 1_024;
/// The most ids kept for the watermark's own second (see [`Watermark::ids`]).
const MAX_WATERMARK_IDS: usize = 10_000;

/// One line of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub modified: DateTime<Utc>,
    pub id: String,
}

/// Whether `id` can name a record file: OSV ids are letters, digits, `-`, `_` and `.` (`GHSA-…`,
/// `PYSEC-2021-1`, `DEBIAN-CVE-2024-1`, `RUSTSEC-2020-0071`); anything else (a `/`, `..`) is refused, since the
/// id becomes part of a URL and a file name.
pub fn valid_id(id: &str) -> bool {
    (1..=256).contains(&id.len())
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Reads one line (without its line end); `Ok(None)` for a blank one.
pub fn parse_line(line: &str) -> Result<Option<Line>, String> {
    let line = line.trim_end_matches('\r').trim();
    if line.is_empty() {
        return Ok(None);
    }
    let Some((modified, id)) = line.split_once(',') else {
        return Err(format!("{:?} is not `<modified>,<id>`", clip(line)));
    };
    let modified = DateTime::parse_from_rfc3339(modified.trim())
        .map_err(|e| format!("{:?} is not an RFC 3339 time: {e}", clip(modified)))?
        .with_timezone(&Utc);
    let id = id.trim();
    if !valid_id(id) {
        return Err(format!("{:?} is not an OSV id", clip(id)));
    }
    Ok(Some(Line {
        modified,
        id: id.to_owned(),
    }))
}

fn clip(text: &str) -> String {
    text.chars().take(80).collect()
}

/// How far the stored data reaches in the feed: every record modified before `at`, and those of `ids` modified
/// exactly at `at` (a record listed later with the same time as the newest one seen is still new).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    pub at: DateTime<Utc>,
    pub ids: BTreeSet<String>,
}

impl Watermark {
    /// Reads a stored watermark; `None` when its time does not parse (then the next refresh reads `all.zip`).
    pub fn parse(at: &str, ids: &[String]) -> Option<Watermark> {
        let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
        Some(Watermark {
            at,
            ids: ids.iter().cloned().collect(),
        })
    }

    /// The time as stored: RFC 3339 in UTC, with as many fraction digits as it has.
    pub fn time(&self) -> String {
        self.at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    /// Whether the stored data already holds `line`'s version of its record.
    pub fn covers(&self, line: &Line) -> bool {
        line.modified < self.at || (line.modified == self.at && self.ids.contains(&line.id))
    }

    fn start(line: &Line) -> Watermark {
        Watermark {
            at: line.modified,
            ids: BTreeSet::from([line.id.clone()]),
        }
    }
}

/// What one ecosystem's refresh does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// The feed lists nothing newer than the watermark.
    UpToDate,
    /// Fetch these records (newest first) and move the watermark to `watermark`.
    Records {
        ids: Vec<String>,
        watermark: Watermark,
    },
    /// Read the whole `all.zip`; the feed's head is `watermark` (`None`: an empty feed, or none at all).
    Dump {
        watermark: Option<Watermark>,
        reason: String,
    },
}

/// Reads the feed against a watermark, one line at a time, and stops as soon as the plan is known.
#[derive(Debug)]
pub struct Feed {
    stored: Option<Watermark>,
    max_changed: usize,
    /// The feed's newest time and the ids listed at it.
    head: Option<Watermark>,
    previous: Option<DateTime<Utc>>,
    changed: Vec<String>,
    seen: HashSet<String>,
    lines: u64,
    verdict: Option<String>,
}

impl Feed {
    /// A reader for data that reaches `stored` (`None`: nothing stored yet, the first refresh reads `all.zip`);
    /// more than `max_changed` changed records also mean `all.zip`.
    pub fn new(stored: Option<Watermark>, max_changed: usize) -> Feed {
        Feed {
            stored,
            max_changed,
            head: None,
            previous: None,
            changed: Vec::new(),
            seen: HashSet::new(),
            lines: 0,
            verdict: None,
        }
    }

    /// Reads the next line of the feed; `false` when no further line is needed.
    pub fn push(&mut self, line: &str) -> bool {
        if self.verdict.is_some() {
            return false;
        }
        self.lines += 1;
        let line = match parse_line(line) {
            Ok(Some(line)) => line,
            Ok(None) => return true,
            Err(e) => {
                self.verdict = Some(format!(
                    "line {} of modified_id.csv cannot be read ({e})",
                    self.lines
                ));
                return false;
            }
        };
        if self.previous.is_some_and(|p| line.modified > p) {
            self.verdict = Some(format!(
                "modified_id.csv is not sorted newest first (line {})",
                self.lines
            ));
            return false;
        }
        self.previous = Some(line.modified);
        match &mut self.head {
            None => self.head = Some(Watermark::start(&line)),
            Some(head) if head.at == line.modified => {
                if head.ids.len() < MAX_WATERMARK_IDS {
                    head.ids.insert(line.id.clone());
                }
            }
            Some(_) => {}
        }
        let Some(stored) = &self.stored else {
            // First refresh: only the feed's head is needed (it becomes the watermark of the dump).
            return self.head.as_ref().is_some_and(|h| h.at == line.modified);
        };
        if stored.covers(&line) {
            // Older than the watermark: everything below is stored. At its very time: look further.
            return line.modified == stored.at;
        }
        if self.seen.insert(line.id.clone()) {
            self.changed.push(line.id);
            if self.changed.len() > self.max_changed {
                self.verdict = Some(format!("more than {} records changed", self.max_changed));
                return false;
            }
        }
        true
    }

    /// The plan, once the lines needed were pushed (or the feed ended).
    pub fn finish(self) -> Plan {
        if let Some(reason) = self.verdict {
            return Plan::Dump {
                watermark: self.head.filter(|_| reason.starts_with("more than")),
                reason,
            };
        }
        let Some(stored) = self.stored else {
            return Plan::Dump {
                watermark: self.head,
                reason: "first refresh".to_owned(),
            };
        };
        if self.changed.is_empty() {
            return Plan::UpToDate;
        }
        let mut watermark = self.head.unwrap_or_else(|| stored.clone());
        if watermark.at == stored.at {
            watermark.ids.extend(stored.ids);
        }
        Plan::Records {
            ids: self.changed,
            watermark,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Result<DateTime<Utc>, String> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| e.to_string())
    }

    fn run(stored: Option<Watermark>, max: usize, lines: &[&str]) -> (Plan, usize) {
        let mut feed = Feed::new(stored, max);
        let mut read = 0;
        for line in lines {
            read += 1;
            if !feed.push(line) {
                break;
            }
        }
        (feed.finish(), read)
    }

    fn mark(at: &str, ids: &[&str]) -> Result<Watermark, String> {
        Ok(Watermark {
            at: t(at)?,
            ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    const FEED: [&str; 6] = [
        "2026-12-06T10:00:00.5Z,GHSA-new1-aaaa-bbbb",
        "2026-12-06T10:00:00.5Z,PYSEC-2026-7",
        "2026-12-05T08:00:00Z,RUSTSEC-2020-0071\r",
        "",
        "2026-12-01T00:00:00Z,GO-2022-0493",
        "2026-11-30T00:00:00+01:00,DLA-3008-1",
    ];

    #[test]
    fn lines_are_read_strictly() -> Result<(), String> {
        assert_eq!(
            parse_line("2024-08-15T00:00:00Z,PYSEC-2021-123")?,
            Some(Line {
                modified: t("2024-08-15T00:00:00Z")?,
                id: "PYSEC-2021-123".to_owned()
            })
        );
        assert_eq!(parse_line(" \r")?, None);
        assert_eq!(
            parse_line("2024-08-15T02:00:00+02:00,A-1\r")?.map(|l| l.modified),
            Some(t("2024-08-15T00:00:00Z")?)
        );
        for bad in [
            "2024-08-15,PYSEC-1",
            "PYSEC-1",
            "2024-08-15T00:00:00Z,../../etc/passwd",
            "2024-08-15T00:00:00Z,a/b",
            "2024-08-15T00:00:00Z,",
            "2024-08-15T00:00:00Z,.hidden",
            "2024-08-15T00:00:00Z,id with space",
        ] {
            assert!(parse_line(bad).is_err(), "{bad:?}");
        }
        Ok(())
    }

    #[test]
    fn the_first_refresh_reads_only_the_head_and_takes_the_dump() -> Result<(), String> {
        let (plan, read) = run(None, 5_000, &FEED);
        assert_eq!(read, 3, "stops at the first line older than the head");
        assert_eq!(
            plan,
            Plan::Dump {
                watermark: Some(mark(
                    "2026-12-06T10:00:00.5Z",
                    &["GHSA-new1-aaaa-bbbb", "PYSEC-2026-7"]
                )?),
                reason: "first refresh".to_owned()
            }
        );
        assert_eq!(
            run(None, 5_000, &[]).0,
            Plan::Dump {
                watermark: None,
                reason: "first refresh".to_owned()
            }
        );
        Ok(())
    }

    #[test]
    fn an_increment_lists_what_is_newer_than_the_watermark() -> Result<(), String> {
        let stored = mark("2026-12-01T00:00:00Z", &["GO-2022-0493"])?;
        let (plan, read) = run(Some(stored.clone()), 5_000, &FEED);
        assert_eq!(read, 6, "reads through the watermark's own second");
        assert_eq!(
            plan,
            Plan::Records {
                ids: vec![
                    "GHSA-new1-aaaa-bbbb".to_owned(),
                    "PYSEC-2026-7".to_owned(),
                    "RUSTSEC-2020-0071".to_owned()
                ],
                watermark: mark(
                    "2026-12-06T10:00:00.5Z",
                    &["GHSA-new1-aaaa-bbbb", "PYSEC-2026-7"]
                )?
            }
        );
        assert_eq!(stored.time(), "2026-12-01T00:00:00Z");
        assert_eq!(
            mark("2026-12-06T10:00:00.5Z", &[])?.time(),
            "2026-12-06T10:00:00.500Z"
        );

        // Nothing newer: up to date, after one line.
        let head = mark(
            "2026-12-06T10:00:00.5Z",
            &["GHSA-new1-aaaa-bbbb", "PYSEC-2026-7"],
        )?;
        assert_eq!(run(Some(head), 5_000, &FEED), (Plan::UpToDate, 3));
        Ok(())
    }

    #[test]
    fn a_record_of_the_watermarks_own_second_listed_later_is_still_fetched() -> Result<(), String> {
        let stored = mark("2026-12-06T10:00:00.5Z", &["GHSA-new1-aaaa-bbbb"])?;
        let (plan, _) = run(Some(stored), 5_000, &FEED);
        assert_eq!(
            plan,
            Plan::Records {
                ids: vec!["PYSEC-2026-7".to_owned()],
                watermark: mark(
                    "2026-12-06T10:00:00.5Z",
                    &["GHSA-new1-aaaa-bbbb", "PYSEC-2026-7"]
                )?
            }
        );
        Ok(())
    }

    #[test]
    fn too_many_changes_or_a_bad_feed_fall_back_to_the_dump() -> Result<(), String> {
        let stored = mark("2026-11-01T00:00:00Z", &[])?;
        let (plan, read) = run(Some(stored.clone()), 2, &FEED);
        assert_eq!(read, 3, "stops at the third change");
        assert_eq!(
            plan,
            Plan::Dump {
                watermark: Some(mark(
                    "2026-12-06T10:00:00.5Z",
                    &["GHSA-new1-aaaa-bbbb", "PYSEC-2026-7"]
                )?),
                reason: "more than 2 records changed".to_owned()
            }
        );
        // A record listed twice counts once.
        let twice = [
            "2026-12-06T00:00:00Z,A-1",
            "2026-12-05T00:00:00Z,A-1",
            "2026-12-04T00:00:00Z,A-2",
        ];
        assert!(
            matches!(run(Some(stored.clone()), 2, &twice).0, Plan::Records { ids, .. } if ids == ["A-1", "A-2"])
        );

        let unsorted = ["2026-12-01T00:00:00Z,A-1", "2026-12-02T00:00:00Z,A-2"];
        assert!(matches!(
            run(Some(stored.clone()), 10, &unsorted).0,
            Plan::Dump { watermark: None, reason } if reason.contains("not sorted newest first (line 2)")
        ));
        let garbage = ["2026-12-01T00:00:00Z,A-1", "<html>"];
        assert!(matches!(
            run(Some(stored), 10, &garbage).0,
            Plan::Dump { watermark: None, reason } if reason.starts_with("line 2 of modified_id.csv cannot be read")
        ));
        Ok(())
    }

    #[test]
    fn stored_watermarks_parse_back() -> Result<(), String> {
        let w = mark("2026-12-06T10:00:00.5Z", &["A-1"])?;
        assert_eq!(
            Watermark::parse(&w.time(), &["A-1".to_owned()]),
            Some(w.clone())
        );
        assert_eq!(Watermark::parse("yesterday", &[]), None);
        assert!(w.covers(&Line {
            modified: w.at,
            id: "A-1".to_owned()
        }));
        assert!(!w.covers(&Line {
            modified: w.at,
            id: "A-2".to_owned()
        }));
        Ok(())
    }
}
