//! Harbor's list query language: `q=key=value,key=~part` filters and `sort=key,-key` orders.
//!
//! Harbor also has ranges (`k=[a~b]`) and value lists (`k={a b}`, `k=(a b)`); Berth refuses them with a 400
//! rather than ignore them, as it refuses keys an endpoint does not support.

use super::error::ApiError;

/// One `q` term's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Exact(String),
    /// `~part`: a substring match.
    Fuzzy(String),
}

/// Parses `q` into `(key, value)` terms, refusing keys other than `allowed`.
pub fn parse_q(q: Option<&str>, allowed: &[&str]) -> Result<Vec<(String, Match)>, ApiError> {
    let Some(q) = q.filter(|q| !q.is_empty()) else {
        return Ok(Vec::new());
    };
    q.split(',')
        .map(|term| {
            let (key, value) = term.split_once('=').ok_or_else(|| {
                ApiError::BadRequest(format!("q terms are key=value, not {term:?}"))
            })?;
            let key = key.trim();
            if !allowed.contains(&key) {
                return Err(ApiError::BadRequest(format!(
                    "q cannot filter by {key:?} here; supported: {}",
                    allowed.join(", ")
                )));
            }
            if value.starts_with(['[', '{', '(']) {
                return Err(ApiError::BadRequest(format!(
                    "q ranges and value lists are not supported ({term:?})"
                )));
            }
            let value = match value.strip_prefix('~') {
                Some(part) => Match::Fuzzy(part.to_owned()),
                None => Match::Exact(value.to_owned()),
            };
            Ok((key.to_owned(), value))
        })
        .collect()
}

/// Parses `sort` into `(key, descending)` pairs, refusing keys other than `allowed`.
pub fn parse_sort<'a>(
    sort: Option<&str>,
    allowed: &[&'a str],
) -> Result<Vec<(&'a str, bool)>, ApiError> {
    let Some(sort) = sort.filter(|s| !s.is_empty()) else {
        return Ok(Vec::new());
    };
    sort.split(',')
        .map(|key| {
            let (key, descending) = match key.trim().strip_prefix('-') {
                Some(key) => (key, true),
                None => (key.trim(), false),
            };
            allowed
                .iter()
                .find(|a| **a == key)
                .map(|a| (*a, descending))
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "cannot sort by {key:?}; supported: {}",
                        allowed.join(", ")
                    ))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_and_sort_parse() {
        let terms = parse_q(Some("name=~app,tags=*"), &["name", "tags"]).unwrap_or_default();
        assert_eq!(
            terms,
            [
                ("name".to_owned(), Match::Fuzzy("app".to_owned())),
                ("tags".to_owned(), Match::Exact("*".to_owned()))
            ]
        );
        assert!(parse_q(Some("owner=x"), &["name"]).is_err());
        assert!(parse_q(Some("name=[a~b]"), &["name"]).is_err());
        assert!(parse_q(Some("name"), &["name"]).is_err());
        assert!(parse_q(None, &["name"]).is_ok_and(|t| t.is_empty()));
        assert_eq!(
            parse_sort(Some("name,-pull_count"), &["name", "pull_count"]).unwrap_or_default(),
            [("name", false), ("pull_count", true)]
        );
        assert!(parse_sort(Some("size"), &["name"]).is_err());
    }
}
