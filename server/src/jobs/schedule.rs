//! Harbor's schedule object, `{"type": "None|Hourly|Daily|Weekly|Custom|Manual", "cron": "0 0 * * * *"}`, and
//! its cron: six fields with seconds first (`sec min hour day-of-month month day-of-week`), as Harbor's
//! robfig/cron parser takes them; day-of-week 0 and 7 are Sunday. Parsed by `croner`.
//!
//! A schedule fires at its next time after now: a node that was down over several firings runs it once,
//! not once per firing missed.

use std::str::FromStr as _;

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// The longest cron text accepted.
pub const MAX_CRON_LEN: usize = 128;

/// What a schedule object asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleRequest {
    /// Run once, now.
    Manual,
    /// Remove the schedule.
    None,
    /// Run on `cron`; `kind` is Harbor's type name (`Hourly`, `Daily`, `Weekly`, `Custom`).
    Periodic { kind: &'static str, cron: String },
}

/// Reads Harbor's schedule object: its `type` and `cron`. Hourly, Daily and Weekly take Harbor's cron when
/// none is given; Custom needs one. Every cron is checked to fire at some time.
pub fn parse_request(kind: &str, cron: Option<&str>) -> Result<ScheduleRequest, String> {
    let cron = cron.map(str::trim).filter(|c| !c.is_empty());
    let (kind, default): (&'static str, Option<&str>) = match kind {
        "Manual" => return Ok(ScheduleRequest::Manual),
        "None" => return Ok(ScheduleRequest::None),
        "Hourly" => ("Hourly", Some("0 0 * * * *")),
        "Daily" => ("Daily", Some("0 0 0 * * *")),
        "Weekly" => ("Weekly", Some("0 0 0 * * 0")),
        "Custom" | "Schedule" => ("Custom", None),
        other => {
            return Err(format!(
                "schedule type must be one of None, Hourly, Daily, Weekly, Custom, Manual; not {:?}",
                crate::events::audit::clip(other)
            ));
        }
    };
    let Some(cron) = cron.or(default) else {
        return Err(format!("a {kind} schedule needs a cron expression"));
    };
    parse_cron(cron)?;
    Ok(ScheduleRequest::Periodic {
        kind,
        cron: cron.to_owned(),
    })
}

/// Parses a six-field cron expression and checks that it fires at some time after now.
pub fn parse_cron(text: &str) -> Result<Cron, String> {
    if text.len() > MAX_CRON_LEN {
        return Err(format!(
            "a cron expression has at most {MAX_CRON_LEN} characters"
        ));
    }
    let fields = text.split_whitespace().count();
    if fields != 6 {
        return Err(format!(
            "a cron expression has six fields (second minute hour day-of-month month day-of-week), not {fields}: {:?}",
            crate::events::audit::clip(text)
        ));
    }
    if text.contains('@') {
        return Err("cron nicknames (@daily, …) are not accepted; use six fields".to_owned());
    }
    let cron = CronParser::builder()
        .seconds(Seconds::Required)
        .year(Year::Disallowed)
        .build()
        .parse(text)
        .map_err(|e| {
            format!(
                "invalid cron expression {:?}: {e}",
                crate::events::audit::clip(text)
            )
        })?;
    if next_after(&cron, Utc::now()).is_none() {
        return Err(format!(
            "the cron expression {:?} never fires",
            crate::events::audit::clip(text)
        ));
    }
    Ok(cron)
}

/// The first time strictly after `t` that `cron` names, if any before the parser's year limit.
pub fn next_after(cron: &Cron, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&t, false).ok()
}

/// The next firing of a stored cron text after `t` (`None` if it no longer parses or never fires).
pub fn next_of(cron: &str, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let parsed = CronParser::builder()
        .seconds(Seconds::Required)
        .year(Year::Disallowed)
        .build()
        .parse(cron)
        .or_else(|_| Cron::from_str(cron))
        .ok()?;
    next_after(&parsed, t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harbor_schedule_types_and_crons() {
        assert_eq!(parse_request("Manual", None), Ok(ScheduleRequest::Manual));
        assert_eq!(
            parse_request("None", Some("junk")),
            Ok(ScheduleRequest::None)
        );
        assert_eq!(
            parse_request("Weekly", None),
            Ok(ScheduleRequest::Periodic {
                kind: "Weekly",
                cron: "0 0 0 * * 0".to_owned()
            })
        );
        assert!(parse_request("Custom", None).is_err());
        assert!(
            parse_request("Custom", Some("0 0 * * *")).is_err(),
            "five fields"
        );
        assert!(
            parse_request("Custom", Some("0 0 0 31 2 *")).is_err(),
            "never"
        );
        assert!(parse_request("Yearly", Some("0 0 0 1 1 *")).is_err());
        let every_second = parse_cron("* * * * * *").map_err(|e| e.to_string());
        let t = Utc::now();
        let next = every_second
            .ok()
            .and_then(|c| next_after(&c, t))
            .map(|n| (n - t).num_milliseconds());
        assert!(next.is_some_and(|ms| (0..=1000).contains(&ms)), "{next:?}");
        // Sunday is 0 and 7.
        assert!(parse_cron("0 0 0 * * 7").is_ok());
    }
}
