//! Harbor's list query language: `q=k=v,k=~part,k=[min~max],k={a b},k=(a b)` filters and `sort=key,-key`
//! orders (`q` in `docs/reference/harbor-api-v2.0-swagger.yaml`, `#/parameters/query`).
//!
//! Parsing is in two steps: [`parse_terms`] reads the syntax into [`Pattern`]s, then [`list_query`] checks
//! each key against the endpoint's whitelist (`db::list`) and types its values by the key's [`Kind`]. Unknown
//! keys, malformed terms and values of the wrong type are a 400, never ignored. Terms are separated by `,`
//! (as in Harbor, a value cannot contain one); list items by spaces; a value may be quoted with `"` or `'`
//! (so a time in a list is `"2024-01-31 23:59:59"`). The axum `Query` extractor has already URL-decoded `q`.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

use super::error::ApiError;
use crate::db::list::{self, Condition, Field, Kind, ListQuery, Value};
use crate::db::timestamp;

/// One term's value, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// `k=v`.
    Exact(String),
    /// `k=~part`: a substring.
    Fuzzy(String),
    /// `k=[min~max]`: inclusive, either bound may be empty.
    Range(Option<String>, Option<String>),
    /// `k={a b c}`: any of them.
    AnyOf(Vec<String>),
    /// `k=(a b c)`: all of them.
    AllOf(Vec<String>),
}

/// Reads `q` into `(key, pattern)` terms, checking only the syntax.
pub fn parse_terms(q: &str) -> Result<Vec<(String, Pattern)>, ApiError> {
    if q.trim().is_empty() {
        return Ok(Vec::new());
    }
    q.split(',').map(parse_term).collect()
}

fn parse_term(term: &str) -> Result<(String, Pattern), ApiError> {
    let bad = |why: &str| ApiError::BadRequest(format!("invalid q term {term:?}: {why}"));
    let (key, value) = term
        .split_once('=')
        .ok_or_else(|| bad("terms are key=value"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(bad("the key is empty"));
    }
    let value = value.trim();
    let enclosed = |open: char, close: char, what: &str| -> Result<Option<&str>, ApiError> {
        match value.strip_prefix(open) {
            None => Ok(None),
            Some(rest) => rest.strip_suffix(close).map(Some).ok_or_else(|| {
                bad(&format!(
                    "a {what} starting with {open:?} must end with {close:?}"
                ))
            }),
        }
    };
    let pattern = if let Some(inner) = enclosed('[', ']', "range")? {
        let (min, max) = split_range(inner).ok_or_else(|| bad("a range is [min~max]"))?;
        let bound = |b: &str| -> Result<Option<String>, ApiError> {
            let b = b.trim();
            if b.is_empty() {
                Ok(None)
            } else {
                unquote(b).map(Some).ok_or_else(|| bad("unbalanced quotes"))
            }
        };
        Pattern::Range(bound(min)?, bound(max)?)
    } else if let Some(inner) = enclosed('{', '}', "list")? {
        Pattern::AnyOf(list_items(inner).map_err(&bad)?)
    } else if let Some(inner) = enclosed('(', ')', "list")? {
        Pattern::AllOf(list_items(inner).map_err(&bad)?)
    } else if let Some(part) = value.strip_prefix('~') {
        Pattern::Fuzzy(part.to_owned())
    } else {
        Pattern::Exact(unquote(value).ok_or_else(|| bad("unbalanced quotes"))?)
    };
    Ok((key.to_owned(), pattern))
}

/// Splits `min~max` at the one `~` outside quotes.
fn split_range(inner: &str) -> Option<(&str, &str)> {
    let mut quote = None;
    let mut split = None;
    for (i, c) in inner.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '~') if split.is_none() => split = Some(i),
            (None, '~') => return None,
            _ => {}
        }
    }
    let i = split?;
    Some((&inner[..i], &inner[i + 1..]))
}

/// The space-separated items of a list, each possibly quoted.
fn list_items(inner: &str) -> Result<Vec<String>, &'static str> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    let mut quoted = false;
    for c in inner.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                quoted = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() || quoted {
                    items.push(std::mem::take(&mut current));
                }
                quoted = false;
            }
            (_, c) => current.push(c),
        }
    }
    if quote.is_some() {
        return Err("unbalanced quotes");
    }
    if !current.is_empty() || quoted {
        items.push(current);
    }
    if items.is_empty() {
        return Err("a list needs at least one value");
    }
    Ok(items)
}

/// `v` without one pair of enclosing quotes; `None` if a quote is left open.
fn unquote(v: &str) -> Option<String> {
    for q in ['"', '\''] {
        if let Some(rest) = v.strip_prefix(q) {
            return rest.strip_suffix(q).map(str::to_owned);
        }
    }
    Some(v.to_owned())
}

/// Reads `sort` into `(key, descending)` pairs, checking only the syntax.
pub fn parse_sort_keys(sort: &str) -> Result<Vec<(&str, bool)>, ApiError> {
    if sort.trim().is_empty() {
        return Ok(Vec::new());
    }
    sort.split(',')
        .map(|key| {
            let key = key.trim();
            let (key, descending) = match key.strip_prefix('-') {
                Some(key) => (key.trim(), true),
                None => (key, false),
            };
            if key.is_empty() {
                return Err(ApiError::BadRequest(format!(
                    "invalid sort {sort:?}: a key is empty"
                )));
            }
            Ok((key, descending))
        })
        .collect()
}

/// The filters of `q` and the order of `sort` for a list whose keys are `fields`.
pub fn list_query(
    q: Option<&str>,
    sort: Option<&str>,
    fields: &'static [Field],
) -> Result<ListQuery, ApiError> {
    let mut query = ListQuery::default();
    for (key, pattern) in parse_terms(q.unwrap_or_default())? {
        add(&mut query, fields, &key, pattern)?;
    }
    for (key, descending) in parse_sort_keys(sort.unwrap_or_default())? {
        let field = list::field(fields, key)
            .filter(|f| f.sortable())
            .ok_or_else(|| {
                let keys: Vec<&str> = fields
                    .iter()
                    .filter(|f| f.sortable())
                    .map(|f| f.key)
                    .collect();
                ApiError::BadRequest(format!(
                    "cannot sort by {key:?} here; supported: {}",
                    keys.join(", ")
                ))
            })?;
        query.sort_by(field, descending);
    }
    Ok(query)
}

/// Adds the filter `key` `pattern` to `query` (for list parameters outside `q`, such as `name=`).
pub fn add(
    query: &mut ListQuery,
    fields: &'static [Field],
    key: &str,
    pattern: Pattern,
) -> Result<(), ApiError> {
    let field = list::field(fields, key).ok_or_else(|| {
        let keys: Vec<&str> = fields.iter().map(|f| f.key).collect();
        ApiError::BadRequest(format!(
            "q cannot filter by {key:?} here; supported: {}",
            keys.join(", ")
        ))
    })?;
    query.filter(field, condition(field, pattern)?);
    Ok(())
}

/// Types `pattern`'s values by `field`'s kind.
fn condition(field: &Field, pattern: Pattern) -> Result<Condition, ApiError> {
    let key = field.key;
    let typed = |v: &str| value(key, field.kind, v);
    let all = |items: Vec<String>| {
        items
            .iter()
            .map(|v| typed(v))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match pattern {
        Pattern::Exact(v) => Condition::Exact(typed(&v)?),
        Pattern::Fuzzy(part) if field.kind == Kind::Text => Condition::Fuzzy(part),
        Pattern::Fuzzy(_) => {
            return Err(ApiError::BadRequest(format!(
                "q {key} cannot be matched by substring (~); use an exact value, a range or a list"
            )));
        }
        Pattern::Range(min, max) => Condition::Range(
            min.as_deref().map(typed).transpose()?,
            max.as_deref().map(typed).transpose()?,
        ),
        Pattern::AnyOf(items) => Condition::AnyOf(all(items)?),
        Pattern::AllOf(items) => Condition::AllOf(all(items)?),
    })
}

fn value(key: &str, kind: Kind, v: &str) -> Result<Value, ApiError> {
    match kind {
        Kind::Text => Ok(Value::Text(v.to_owned())),
        Kind::Integer => v.parse().map(Value::Integer).map_err(|_| {
            ApiError::BadRequest(format!("q {key} takes an integer, not {v:?}"))
        }),
        Kind::Bool => super::query_bool::parse(v)
            .map(Value::Bool)
            .ok_or_else(|| ApiError::BadRequest(format!("q {key}: {}", super::query_bool::invalid(v)))),
        Kind::Time => time_span(v)
            .map(|(from, until)| Value::Time {
                from: timestamp(from),
                until: timestamp(until),
            })
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "q {key} takes a UTC time like \"2024-01-31 23:59:59\" (or RFC 3339, or a date), not {v:?}"
                ))
            }),
    }
}

/// The span `[from, until)` a time covers: a second for Harbor's `2024-01-31 23:59:59` (and for RFC 3339
/// without fractions), a day for a date, one microsecond (the stored precision) for a time with fractions.
/// `None` for a time whose span would end past what chrono can hold (`+262142-12-31 23:59:59`).
fn time_span(v: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let second = |t: DateTime<Utc>| Some((t, t.checked_add_signed(Duration::seconds(1))?));
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, format) {
            return second(t.and_utc());
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        let t = t.with_timezone(&Utc);
        return if t.timestamp_subsec_nanos() == 0 {
            second(t)
        } else {
            Some((t, t.checked_add_signed(Duration::microseconds(1))?))
        };
    }
    let day = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()?;
    let start = day.and_hms_opt(0, 0, 0)?.and_utc();
    Some((start, start.checked_add_signed(Duration::days(1))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &str) -> String {
        v.to_owned()
    }

    fn bad_request<T: std::fmt::Debug>(result: Result<T, ApiError>) -> bool {
        matches!(result, Err(ApiError::BadRequest(_)))
    }

    fn field(fields: &'static [Field], key: &str) -> Result<&'static Field, ApiError> {
        list::field(fields, key).ok_or_else(|| ApiError::NotFound(key.to_owned()))
    }

    #[test]
    fn every_form_parses() -> Result<(), ApiError> {
        let terms = parse_terms(
            "name=app, tags=~v1 ,size=[10~20],pull_count=[~5],push_time=[2024-01-01 00:00:00~],\
             digest={sha256:a  sha256:b},tags=(v1 v2),op_time={\"2024-01-01 00:00:00\" '2024-02-01'}",
        )?;
        assert_eq!(
            terms,
            [
                (text("name"), Pattern::Exact(text("app"))),
                (text("tags"), Pattern::Fuzzy(text("v1"))),
                (
                    text("size"),
                    Pattern::Range(Some(text("10")), Some(text("20")))
                ),
                (text("pull_count"), Pattern::Range(None, Some(text("5")))),
                (
                    text("push_time"),
                    Pattern::Range(Some(text("2024-01-01 00:00:00")), None)
                ),
                (
                    text("digest"),
                    Pattern::AnyOf(vec![text("sha256:a"), text("sha256:b")])
                ),
                (text("tags"), Pattern::AllOf(vec![text("v1"), text("v2")])),
                (
                    text("op_time"),
                    Pattern::AnyOf(vec![text("2024-01-01 00:00:00"), text("2024-02-01")])
                ),
            ]
        );
        assert_eq!(
            parse_terms("op_time=[2024-01-01 00:00:00~2024-12-31 23:59:59]")?,
            [(
                text("op_time"),
                Pattern::Range(
                    Some(text("2024-01-01 00:00:00")),
                    Some(text("2024-12-31 23:59:59"))
                )
            )]
        );
        assert_eq!(
            parse_terms("name=\"a b\",name='~x',name=")?,
            [
                (text("name"), Pattern::Exact(text("a b"))),
                (text("name"), Pattern::Exact(text("~x"))),
                (text("name"), Pattern::Exact(text(""))),
            ]
        );
        assert_eq!(
            parse_terms("name=[\"a~b\"~c]")?,
            [(
                text("name"),
                Pattern::Range(Some(text("a~b")), Some(text("c")))
            )]
        );
        assert!(parse_terms("")?.is_empty());
        assert!(parse_terms("  ")?.is_empty());
        Ok(())
    }

    #[test]
    fn malformed_terms_are_refused() {
        for q in [
            "name",
            "=x",
            " =x",
            "name=x,",
            "size=[1~2",
            "size=[1]",
            "size=[1~2~3]",
            "name={}",
            "name={  }",
            "name={a b",
            "name=(a b",
            "name=\"x",
            "name={\"a b}",
            "size=[\"1~2]",
        ] {
            assert!(bad_request(parse_terms(q)), "{q:?} should be refused");
        }
    }

    #[test]
    fn sort_keys_parse() -> Result<(), ApiError> {
        assert_eq!(
            parse_sort_keys("name, -pull_count")?,
            [("name", false), ("pull_count", true)]
        );
        assert!(parse_sort_keys("")?.is_empty());
        assert!(bad_request(parse_sort_keys("name,")));
        assert!(bad_request(parse_sort_keys("-")));
        Ok(())
    }

    #[test]
    fn values_are_typed_by_key() -> Result<(), ApiError> {
        let repositories = list::REPOSITORIES.as_slice();
        let query = list_query(
            Some("name=~app,pull_count=[1~],project_id={1 2}"),
            Some("-pull_count,name"),
            repositories,
        )?;
        let mut expected = ListQuery::default();
        expected.filter(field(repositories, "name")?, Condition::Fuzzy(text("app")));
        expected.filter(
            field(repositories, "pull_count")?,
            Condition::Range(Some(Value::Integer(1)), None),
        );
        expected.filter(
            field(repositories, "project_id")?,
            Condition::AnyOf(vec![Value::Integer(1), Value::Integer(2)]),
        );
        expected.sort_by(field(repositories, "pull_count")?, true);
        expected.sort_by(field(repositories, "name")?, false);
        assert_eq!(query, expected);

        let projects = list::PROJECTS.as_slice();
        assert!(list_query(Some("public=true"), None, projects)?.filters_on("public"));
        for (q, sort) in [
            (Some("color=red"), None),
            (Some("public=maybe"), None),
            (Some("project_id=x"), None),
            (Some("project_id=[1~x]"), None),
            (Some("project_id=~1"), None),
            (Some("creation_time=yesterday"), None),
            (Some("creation_time={2024-01-01 x}"), None),
            (None, Some("color")),
        ] {
            assert!(
                bad_request(list_query(q, sort, projects)),
                "{q:?} {sort:?} should be refused"
            );
        }
        // Tags are a related value: filtered, never sorted by.
        let artifacts = list::ARTIFACTS.as_slice();
        assert!(list_query(Some("tags=(a b)"), Some("-size"), artifacts).is_ok());
        assert!(bad_request(list_query(None, Some("tags"), artifacts)));
        Ok(())
    }

    #[test]
    fn times_cover_their_precision() -> Result<(), ApiError> {
        let span = |v: &str| -> Result<Condition, ApiError> {
            condition(
                field(&list::AUDIT_LOGS, "op_time")?,
                Pattern::Exact(v.to_owned()),
            )
        };
        let time = |from: &str, until: &str| {
            Condition::Exact(Value::Time {
                from: from.to_owned(),
                until: until.to_owned(),
            })
        };
        assert_eq!(
            span("2024-01-31 23:59:59")?,
            time("2024-01-31T23:59:59.000000Z", "2024-02-01T00:00:00.000000Z")
        );
        assert_eq!(
            span("2024-01-31T10:00:00+02:00")?,
            time("2024-01-31T08:00:00.000000Z", "2024-01-31T08:00:01.000000Z")
        );
        assert_eq!(
            span("2024-01-31T08:00:00.25Z")?,
            time("2024-01-31T08:00:00.250000Z", "2024-01-31T08:00:00.250001Z")
        );
        assert_eq!(
            span("2024-02-28")?,
            time("2024-02-28T00:00:00.000000Z", "2024-02-29T00:00:00.000000Z")
        );
        assert!(bad_request(span("2024-13-01")));
        assert!(bad_request(span("1706745599")));
        Ok(())
    }
}
