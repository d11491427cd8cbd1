//! Harbor's six-field cron expressions of schedules (`jobs/schedule.rs`, `croner`): nothing panics, memory
//! stays within a fixed multiple of the input, and an accepted expression fires, at later and later times.

use berth::jobs::schedule::{next_of, parse_cron, parse_request};
use chrono::Utc;
use proptest::prelude::*;

use super::{budget, config, input, measure};

const CRONS: &[&str] = &[
    "0 0 * * * *",
    "0 0 0 * * *",
    "0 0 0 * * 0",
    "* * * * * *",
    "*/5 1-10/2 3,4,5 ? * MON-FRI",
    "0 30 2 L * *",
    "0 0 12 15W * *",
    "0 0 0 1 JAN,JUL 5#2",
    "59 59 23 31 12 7",
    "0 0 0 29 2 *",
];
const TYPES: &[&str] = &[
    "Hourly", "Daily", "Weekly", "Custom", "Manual", "None", "Schedule",
];

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn cron_expressions(text in input(CRONS)) {
        let (parsed, peak) = measure(|| parse_cron(&text));
        prop_assert!(peak <= budget(text.len(), 256), "{peak} bytes for {} input bytes", text.len());
        if parsed.is_ok() {
            // Accepted means it fires, and the next firing after that is later still.
            let now = Utc::now();
            let first = next_of(&text, now);
            prop_assert!(first.is_some_and(|t| t > now), "{text:?} accepted but never fires");
            if let Some(first) = first {
                prop_assert!(next_of(&text, first).is_none_or(|t| t > first));
            }
        }
    }

    #[test]
    fn schedule_objects(kind in input(TYPES), cron in input(CRONS)) {
        let (request, peak) = measure(|| parse_request(&kind, Some(&cron)));
        prop_assert!(peak <= budget(kind.len() + cron.len(), 256));
        if let Ok(berth::jobs::schedule::ScheduleRequest::Periodic { cron, .. }) = request {
            prop_assert!(parse_cron(&cron).is_ok());
        }
    }
}
