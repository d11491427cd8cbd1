//! The online refresh of the vulnerability database (`[scan] vulndb_url`, `vulndb_ecosystems`,
//! `vulndb_refresh_interval`, `vulndb_max_download_bytes`): the value types that read both TOML and
//! `BERTH_SCAN__*` variables. What the values mean is checked by
//! [`crate::scan::vulndb::online::Settings::from_config`], at start-up and by `berth vulndb update`.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The OSV ecosystems Berth's inventory produces, which the online refresh fetches by default: the distros
/// of `matcher::os_ecosystem` and the language ecosystems of `matcher::query_for`.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "Debian",
    "Ubuntu",
    "Alpine",
    "Wolfi",
    "Chainguard",
    "AlmaLinux",
    "Rocky Linux",
    "PyPI",
    "npm",
    "Go",
    "crates.io",
];

/// `url` with its password (if any) replaced by `***`, for `Debug`; text that is not a URL is shown as is.
pub fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only URLs that cannot hold credentials refuse a password; this one has one.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The ecosystems to refresh: a list in TOML (`["Debian", "PyPI"]`), a list or one comma-separated string in
/// the environment (`BERTH_SCAN__VULNDB_ECOSYSTEMS="Debian,PyPI"`; names may hold spaces: `Rocky Linux`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ecosystems(pub Vec<String>);

impl Default for Ecosystems {
    fn default() -> Self {
        Ecosystems(DEFAULT_ECOSYSTEMS.iter().map(|e| (*e).to_owned()).collect())
    }
}

impl Ecosystems {
    fn from_entries<'a>(entries: impl IntoIterator<Item = &'a str>) -> Ecosystems {
        Ecosystems(
            entries
                .into_iter()
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }
}

impl Serialize for Ecosystems {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter())
    }
}

impl<'de> Deserialize<'de> for Ecosystems {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;

        impl<'de> Visitor<'de> for Entries {
            type Value = Ecosystems;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a list of OSV ecosystem names, or one string of them separated by commas",
                )
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Ecosystems, E> {
                Ok(Ecosystems::from_entries(value.split(',')))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ecosystems, A::Error> {
                let mut entries: Vec<String> = Vec::new();
                while let Some(entry) = seq.next_element::<String>()? {
                    entries.push(entry);
                }
                Ok(Ecosystems::from_entries(entries.iter().map(String::as_str)))
            }
        }

        deserializer.deserialize_any(Entries)
    }
}

/// A duration written as a number of seconds (`3600`) or with a unit: `90m`, `6h`, `1d`, `3600s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval(pub Duration);

impl Interval {
    /// Reads `24h`, `90m`, `45s`, `2d` or a plain number of seconds.
    pub fn parse(text: &str) -> Result<Interval, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let bad = || {
            format!(
                "{text:?} is not a duration: write a number of seconds, or a number with s, m, h or d (\"24h\")"
            )
        };
        let number: u64 = number.parse().map_err(|_| bad())?;
        let unit_secs = match unit.trim() {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            _ => return Err(bad()),
        };
        number
            .checked_mul(unit_secs)
            .map(|secs| Interval(Duration::from_secs(secs)))
            .ok_or_else(bad)
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        match secs {
            s if s != 0 && s % 86_400 == 0 => write!(f, "{}d", s / 86_400),
            s if s != 0 && s % 3_600 == 0 => write!(f, "{}h", s / 3_600),
            s if s != 0 && s % 60 == 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;

        impl Visitor<'_> for Text {
            type Value = Interval;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"24h\", \"90m\" or a number of seconds")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Interval, E> {
                Interval::parse(value).map_err(E::custom)
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Interval, E> {
                Ok(Interval(Duration::from_secs(value)))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Interval, E> {
                u64::try_from(value)
                    .map(|v| Interval(Duration::from_secs(v)))
                    .map_err(|_| E::custom("a duration cannot be negative"))
            }
        }

        deserializer.deserialize_any(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_units_and_plain_seconds() -> Result<(), String> {
        assert_eq!(Interval::parse("24h")?.0, Duration::from_secs(86_400));
        assert_eq!(Interval::parse("90m")?.0, Duration::from_secs(5_400));
        assert_eq!(Interval::parse("3600")?.0, Duration::from_secs(3_600));
        assert_eq!(Interval::parse("2d")?.0, Duration::from_secs(172_800));
        assert_eq!(Interval::parse(" 45s ")?.0, Duration::from_secs(45));
        for bad in ["", "h", "1.5h", "-1h", "1w", "99999999999999999999d"] {
            assert!(Interval::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Interval::parse("24h")?.to_string(), "1d");
        assert_eq!(Interval::parse("90m")?.to_string(), "90m");
        Ok(())
    }

    #[test]
    fn ecosystems_read_a_list_or_a_comma_separated_string() -> Result<(), String> {
        let from_env: Ecosystems = serde_json::from_str("\"Debian, Rocky Linux,,crates.io\"")
            .map_err(|e| e.to_string())?;
        assert_eq!(from_env.0, ["Debian", "Rocky Linux", "crates.io"]);
        let from_toml: Ecosystems =
            serde_json::from_str("[\"PyPI\", \" npm \"]").map_err(|e| e.to_string())?;
        assert_eq!(from_toml.0, ["PyPI", "npm"]);
        assert!(Ecosystems::default().0.contains(&"Rocky Linux".to_owned()));
        Ok(())
    }
}
