//! Repository names, tags and references.
//!
//! <https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pulling-manifests>
//! A repository name is `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
//! In Berth its first path component is the project, so a name needs at least two components.

use std::fmt;
use std::str::FromStr;

use super::digest::{Digest, DigestError};

/// The longest repository name accepted (distribution's limit).
const MAX_NAME_LEN: usize = 255;

/// A validated repository name: `project/repository[/more]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepositoryName(String);

/// Why a repository name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("repository name is longer than {MAX_NAME_LEN} characters")]
    TooLong,
    #[error(
        "invalid repository name component {0:?}: use lowercase letters and digits, separated by '.', '_', '__' or '-'"
    )]
    BadComponent(String),
    #[error("repository name {0:?} has no project: use PROJECT/REPOSITORY")]
    NoProject(String),
}

impl RepositoryName {
    /// The project: the first path component.
    pub fn project(&self) -> &str {
        self.0.split('/').next().unwrap_or(&self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks one path component against `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
pub fn is_valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) if alnum(first) && alnum(last) => {}
        _ => return false,
    }
    let mut separator = String::new();
    for &b in bytes {
        if alnum(b) {
            let ok = match separator.as_str() {
                "" | "." | "_" | "__" => true,
                s => s.bytes().all(|c| c == b'-'),
            };
            if !ok {
                return false;
            }
            separator.clear();
        } else if matches!(b, b'.' | b'_' | b'-') {
            separator.push(b as char);
        } else {
            return false;
        }
    }
    true
}

impl FromStr for RepositoryName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > MAX_NAME_LEN {
            return Err(NameError::TooLong);
        }
        if let Some(bad) = s.split('/').find(|c| !is_valid_component(c)) {
            return Err(NameError::BadComponent(bad.to_owned()));
        }
        if !s.contains('/') {
            return Err(NameError::NoProject(s.to_owned()));
        }
        Ok(RepositoryName(s.to_owned()))
    }
}

impl fmt::Display for RepositoryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag(String);

impl Tag {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl FromStr for Tag {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        let valid = !bytes.is_empty()
            && bytes.len() <= 128
            && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
            && bytes
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if valid {
            Ok(Tag(s.to_owned()))
        } else {
            Err(())
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A manifest reference: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Tag(Tag),
    Digest(Digest),
}

/// Why a reference was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("invalid tag {0:?}: use up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'")]
    BadTag(String),
    #[error("invalid digest: {0}")]
    BadDigest(#[from] DigestError),
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains(':') {
            Ok(Reference::Digest(s.parse()?))
        } else {
            s.parse()
                .map(Reference::Tag)
                .map_err(|()| ReferenceError::BadTag(s.to_owned()))
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Tag(t) => t.fmt(f),
            Reference::Digest(d) => d.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_nested_names_and_separators() {
        for ok in ["library/app", "proj/a/b/c", "p-1/a.b_c__d---e", "a0/b"] {
            assert!(ok.parse::<RepositoryName>().is_ok(), "{ok}");
        }
        let name: Result<RepositoryName, _> = "proj/a/b/c".parse();
        assert_eq!(name.map(|n| n.project().to_owned()), Ok("proj".to_owned()));
    }

    #[test]
    fn refuses_bad_names() {
        for bad in [
            "Library/app",
            "proj//app",
            "proj/app/",
            "proj/-app",
            "proj/a...b",
            "proj/a___b",
            "p/a.-b",
        ] {
            assert!(
                matches!(
                    bad.parse::<RepositoryName>(),
                    Err(NameError::BadComponent(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(
            "app".parse::<RepositoryName>(),
            Err(NameError::NoProject("app".into()))
        );
        let long = format!("p/{}", "a".repeat(300));
        assert_eq!(long.parse::<RepositoryName>(), Err(NameError::TooLong));
    }

    #[test]
    fn tags_and_references() {
        assert!("latest".parse::<Tag>().is_ok());
        assert!("_v1.0-rc".parse::<Tag>().is_ok());
        assert!(".hidden".parse::<Tag>().is_err());
        assert!("a".repeat(129).parse::<Tag>().is_err());
        assert!(matches!("v1".parse::<Reference>(), Ok(Reference::Tag(_))));
        assert!(matches!(
            "sha256:nothex".parse::<Reference>(),
            Err(ReferenceError::BadDigest(_))
        ));
    }
}
