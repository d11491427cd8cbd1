//! OSV range evaluation (<https://ossf.github.io/osv-schema/#evaluation>): a version is affected when it lies in
//! any range (`introduced ≤ v < fixed`, or `introduced ≤ v ≤ last_affected`, below the range's `limit`s if it
//! has any) or is listed in `versions`. `introduced: "0"` is the lowest version of every scheme. `ECOSYSTEM`
//! ranges use the ecosystem's order, `SEMVER` ranges semver's ([`Scheme::for_semver_range`]); `GIT` ranges name
//! commits and are never matched against an installed version.

use std::cmp::Ordering;

use super::Scheme;
use crate::scan::model::{AffectedRange, RangeEvent, RangeKind};

/// At most this many events of one range are evaluated; OSV records have a handful, a hostile import could
/// have millions.
pub const MAX_EVENTS: usize = 1024;

/// Whether an installed version is affected by one advisory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Outside every range and not listed.
    NotAffected,
    /// Inside a range or listed. `fix` is the lowest `fixed` above the installed version among the ranges
    /// that contain it; `None` when those ranges have no fix (`last_affected`, an open range, only `versions`).
    Affected { fix: Option<String> },
    /// The installed version does not parse in the scheme: nothing can be said (the caller logs it).
    Unparsable,
}

/// The OSV sentinel for "the lowest version".
const ZERO: &str = "0";

/// `v` against an event's version: `"0"` is below everything; `None` when the event's version does not parse.
fn cmp_event(scheme: Scheme, v: &str, event: &str) -> Option<Ordering> {
    if event == ZERO {
        return Some(Ordering::Greater);
    }
    scheme.compare(v, event)
}

fn event_version(event: &RangeEvent) -> &str {
    match event {
        RangeEvent::Introduced(v)
        | RangeEvent::Fixed(v)
        | RangeEvent::LastAffected(v)
        | RangeEvent::Limit(v) => v,
    }
}

/// What one range says about a version.
enum RangeHit {
    /// A version in the range does not parse in the scheme, or it is a `GIT` range: it says nothing.
    Unusable,
    Outside,
    /// Inside, with the lowest `fixed` above the version, if any.
    Inside(Option<String>),
}

/// One range, evaluated as OSV's pseudocode does (events sorted by version, walked in order), but without
/// sorting: the walk's result is decided by the highest event that applies to `v` (an `introduced` or `fixed`
/// at or below it, a `last_affected` below it; at equal versions an `introduced` comes first, so
/// `introduced: X, fixed: X` is empty). Linear scans only, so a comparator that is not a strict total order on
/// odd input cannot make it panic.
fn in_range(scheme: Scheme, v: &str, range: &AffectedRange) -> RangeHit {
    let scheme = match range.kind {
        RangeKind::Ecosystem => scheme,
        RangeKind::Semver => scheme.for_semver_range(),
        RangeKind::Git => return RangeHit::Unusable,
    };
    let events = &range.events[..range.events.len().min(MAX_EVENTS)];
    if events.iter().any(|e| {
        let version = event_version(e);
        version != ZERO && !scheme.parses(version)
    }) {
        return RangeHit::Unusable;
    }
    let mut limits = events.iter().filter_map(|e| match e {
        RangeEvent::Limit(l) => Some(l.as_str()),
        _ => None,
    });
    let mut any_limit = false;
    let below_a_limit = limits.any(|l| {
        any_limit = true;
        cmp_event(scheme, v, l) == Some(Ordering::Less)
    });
    if any_limit && !below_a_limit {
        return RangeHit::Outside;
    }
    // The highest applicable event so far: (its version, whether it is an `introduced`).
    let mut highest: Option<(&str, bool)> = None;
    for event in events {
        let (version, introduces) = match event {
            RangeEvent::Introduced(e) => (e.as_str(), true),
            RangeEvent::Fixed(e) => (e.as_str(), false),
            RangeEvent::LastAffected(e) => (e.as_str(), false),
            RangeEvent::Limit(_) => continue,
        };
        let applies = match (event, cmp_event(scheme, v, version)) {
            (RangeEvent::LastAffected(_), Some(ordering)) => ordering.is_gt(),
            (_, Some(ordering)) => ordering.is_ge(),
            (_, None) => false,
        };
        if !applies {
            continue;
        }
        let later = match highest {
            None => true,
            Some((current, current_introduces)) => match event_order(scheme, version, current) {
                Ordering::Greater => true,
                Ordering::Less => false,
                // At equal versions, anything after an `introduced` closes it.
                Ordering::Equal => current_introduces && !introduces,
            },
        };
        if later {
            highest = Some((version, introduces));
        }
    }
    if !matches!(highest, Some((_, true))) {
        return RangeHit::Outside;
    }
    // The fix: the lowest `fixed` above `v`.
    let mut fix: Option<&str> = None;
    for event in events {
        if let RangeEvent::Fixed(f) = event
            && cmp_event(scheme, v, f) == Some(Ordering::Less)
            && fix.is_none_or(|current| event_order(scheme, f, current).is_lt())
        {
            fix = Some(f);
        }
    }
    RangeHit::Inside(fix.map(str::to_owned))
}

/// Orders two event versions (`"0"` lowest); unparsable pairs count as equal (they were checked before).
fn event_order(scheme: Scheme, a: &str, b: &str) -> Ordering {
    match (a == ZERO, b == ZERO) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => scheme.compare(a, b).unwrap_or(Ordering::Equal),
    }
}

/// Evaluates one advisory entry's `ranges` and `versions` for the installed version `installed`.
///
/// A range whose versions do not parse in the scheme is skipped (the rest still count); an explicit `versions`
/// entry matches when it equals `installed` in the scheme's order (or as text).
pub fn affected(
    scheme: Scheme,
    installed: &str,
    ranges: &[AffectedRange],
    versions: &[String],
) -> Verdict {
    if !scheme.parses(installed) {
        return Verdict::Unparsable;
    }
    let mut hit = false;
    let mut fix: Option<String> = None;
    for range in ranges {
        let RangeHit::Inside(range_fix) = in_range(scheme, installed, range) else {
            continue;
        };
        hit = true;
        if let Some(candidate) = range_fix {
            let lower = match &fix {
                None => true,
                Some(current) => scheme.compare(&candidate, current) == Some(Ordering::Less),
            };
            if lower {
                fix = Some(candidate);
            }
        }
    }
    if !hit {
        hit = versions.iter().take(MAX_EVENTS * 16).any(|listed| {
            listed == installed || scheme.compare(installed, listed) == Some(Ordering::Equal)
        });
    }
    if hit {
        Verdict::Affected { fix }
    } else {
        Verdict::NotAffected
    }
}
