//! Harbor's `q=` query language and `sort=` (`api/query.rs`), on every list's whitelist.

use berth::api::query::{Pattern, list_query, parse_sort_keys, parse_terms};
use berth::db::list::{self, Field};
use proptest::prelude::*;

use super::{budget, config, input, measure};

const QUERIES: &[&str] = &[
    "name=app",
    "name=~app,tags=~v1",
    "size=[10~20],pull_count=[~5]",
    "push_time=[2024-01-01 00:00:00~2024-12-31 23:59:59]",
    "digest={sha256:a sha256:b},tags=(v1 v2)",
    "op_time={\"2024-01-01 00:00:00\" '2024-02-01'}",
    "creation_time=2024-01-31T10:00:00+02:00",
    "update_time=[2024-01-31T08:00:00.25Z~2024-02-28]",
    "public=true,project_id={1 2 3},name=\"a b\"",
    "name=[\"a~b\"~c]",
];
const SORTS: &[&str] = &[
    "name",
    "-creation_time,name",
    "-pull_count, update_time",
    "-",
];

/// Every list whose `q` and `sort` a caller can reach.
fn lists() -> [&'static [Field]; 9] {
    [
        list::PROJECTS.as_slice(),
        list::QUOTAS.as_slice(),
        list::REPOSITORIES.as_slice(),
        list::ARTIFACTS.as_slice(),
        list::TAGS.as_slice(),
        list::AUDIT_LOGS.as_slice(),
        list::ROBOTS.as_slice(),
        list::USERS.as_slice(),
        list::MEMBERS.as_slice(),
    ]
}

/// Regression cases: times at the edge of what chrono can hold, where adding the span would overflow.
#[test]
fn times_at_the_end_of_chrono_range_are_refused_not_overflowed() {
    for q in [
        "op_time=+262142-12-31 23:59:59",
        "op_time=+262142-12-31T23:59:59",
        "op_time=+262142-12-31",
        "op_time=[~+262142-12-31 23:59:59]",
    ] {
        let _ = list_query(Some(q), None, list::AUDIT_LOGS.as_slice());
    }
}

/// A value without `,` (which separates terms) or quotes.
const VALUE: &str = "[a-zA-Z0-9:._~ -]{0,12}";

fn pattern() -> impl Strategy<Value = Pattern> {
    let items = || proptest::collection::vec(VALUE, 1..4);
    prop_oneof![
        VALUE.prop_map(Pattern::Exact),
        "[a-zA-Z0-9:._-]{0,10}".prop_map(Pattern::Fuzzy),
        (proptest::option::of(VALUE), proptest::option::of(VALUE))
            .prop_map(|(min, max)| Pattern::Range(min, max)),
        items().prop_map(Pattern::AnyOf),
        items().prop_map(Pattern::AllOf),
    ]
}

/// `v` in quotes of a kind it does not hold; `None` if it holds both (the syntax has no escapes).
fn quoted(v: &str) -> Option<String> {
    ['"', '\'']
        .into_iter()
        .find(|q| !v.contains(*q))
        .map(|q| format!("{q}{v}{q}"))
}

/// The `q` text of one term: the display form the parser reads back (`None` if a value holds both quotes).
fn render(key: &str, pattern: &Pattern) -> Option<String> {
    let bound = |b: &Option<String>| b.as_deref().map_or(Some(String::new()), quoted);
    let list = |items: &[String]| -> Option<String> {
        Some(
            items
                .iter()
                .map(|i| quoted(i))
                .collect::<Option<Vec<_>>>()?
                .join(" "),
        )
    };
    let value = match pattern {
        Pattern::Exact(v) => quoted(v)?,
        Pattern::Fuzzy(part) => format!("~{part}"),
        Pattern::Range(min, max) => format!("[{}~{}]", bound(min)?, bound(max)?),
        Pattern::AnyOf(items) => format!("{{{}}}", list(items)?),
        Pattern::AllOf(items) => format!("({})", list(items)?),
    };
    Some(format!("{key}={value}"))
}

/// The `q` text of `terms`.
fn render_all(terms: &[(String, Pattern)]) -> Option<String> {
    Some(
        terms
            .iter()
            .map(|(k, p)| render(k, p))
            .collect::<Option<Vec<_>>>()?
            .join(","),
    )
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn queries(q in input(QUERIES)) {
        let (terms, peak) = measure(|| parse_terms(&q));
        prop_assert!(peak <= budget(q.len(), 8), "{peak} bytes for {} input bytes", q.len());
        for fields in lists() {
            let (_, peak) = measure(|| list_query(Some(&q), None, fields));
            prop_assert!(peak <= budget(q.len(), 16), "{peak} bytes for {} input bytes", q.len());
        }
        if let Some(shown) = terms.as_ref().ok().and_then(|t| render_all(t)) {
            prop_assert_eq!(parse_terms(&shown).ok(), terms.ok());
        }
    }

    #[test]
    fn terms_round_trip(terms in proptest::collection::vec(("[a-z_]{1,12}", pattern()), 1..5)) {
        let text = render_all(&terms).ok_or_else(|| TestCaseError::fail("unquotable"))?;
        prop_assert_eq!(parse_terms(&text).ok(), Some(terms));
    }

    #[test]
    fn sorts(sort in input(SORTS)) {
        let (keys, peak) = measure(|| parse_sort_keys(&sort));
        prop_assert!(peak <= budget(sort.len(), 8));
        for fields in lists() {
            let _ = list_query(None, Some(&sort), fields);
        }
        if let Ok(keys) = keys {
            let shown: Vec<String> =
                keys.iter().map(|(k, desc)| format!("{}{k}", if *desc { "-" } else { "" })).collect();
            let text = shown.join(",");
            prop_assert_eq!(parse_sort_keys(&text).ok(), Some(keys));
        }
    }

    #[test]
    fn sorts_round_trip(keys in proptest::collection::vec(("[a-z_]{1,12}", any::<bool>()), 1..5)) {
        let text: Vec<String> =
            keys.iter().map(|(k, desc)| format!("{}{k}", if *desc { "-" } else { "" })).collect();
        let text = text.join(",");
        let parsed = parse_sort_keys(&text).ok();
        let expected: Vec<(&str, bool)> = keys.iter().map(|(k, d)| (k.as_str(), *d)).collect();
        prop_assert_eq!(parsed, Some(expected));
    }
}
