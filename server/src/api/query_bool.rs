//! Boolean query parameters, read as leniently as Harbor's server does, so that swagger-generated clients
//! work unchanged: Python's generated client sends `True` and `False`, others `1` and `0`.
//!
//! Case-insensitively, `true 1 t yes y on` are true and `false 0 f no n off` are false (Harbor's go-openapi
//! server takes at least these). Anything else is refused: [`super::extract::Query`] answers 400 naming the
//! parameter. Every boolean query parameter of every endpoint is declared with [`optional`], and the boolean
//! values of `q` go through [`parse`] too, so there is one rule.

use serde::{Deserialize, Deserializer};

/// The words read as true, lowercase.
const TRUE: [&str; 6] = ["true", "1", "t", "yes", "y", "on"];
/// The words read as false, lowercase.
const FALSE: [&str; 6] = ["false", "0", "f", "no", "n", "off"];

/// `value` as a boolean, or `None` if it is not one of the accepted words.
pub fn parse(value: &str) -> Option<bool> {
    let value = value.trim();
    if TRUE.iter().any(|w| w.eq_ignore_ascii_case(value)) {
        Some(true)
    } else if FALSE.iter().any(|w| w.eq_ignore_ascii_case(value)) {
        Some(false)
    } else {
        None
    }
}

/// The message for a value that is not a boolean.
pub fn invalid(value: &str) -> String {
    let shown: String = value.chars().take(32).collect();
    format!(
        "{shown:?} is not a boolean; use true or false (1/0, yes/no, on/off, t/f and y/n also work)"
    )
}

/// For `#[serde(default, deserialize_with = "query_bool::optional")]` on an `Option<bool>` query field.
pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    let raw = String::deserialize(deserializer)?;
    parse(&raw)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(invalid(&raw)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harbor_client_spellings_are_booleans() {
        for word in [
            "true", "True", "TRUE", "1", "t", "T", "yes", "Yes", "y", "on", "ON",
        ] {
            assert_eq!(parse(word), Some(true), "{word}");
        }
        for word in [
            "false", "False", "0", "f", "F", "no", "NO", "n", "off", "Off",
        ] {
            assert_eq!(parse(word), Some(false), "{word}");
        }
        for word in ["", "maybe", "2", "-1", "truee", "nope", "o"] {
            assert_eq!(parse(word), None, "{word}");
        }
        assert!(invalid(&"x".repeat(100)).len() < 150, "long values are cut");
    }
}
