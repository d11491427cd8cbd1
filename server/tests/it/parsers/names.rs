//! Repository names, tags, references and digests (`berth::oci`).

use berth::oci::{Digest, Reference, RepositoryName, Tag};
use proptest::prelude::*;

use super::{budget, config, input, measure};

const NAMES: &[&str] = &[
    "library/app",
    "team/backend/api",
    "p-1/a.b_c__d---e",
    "a0/b",
    "proj/a/b/c/d/e/f",
    "x/y.z",
];
const DIGESTS: &[&str] = &[
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
];
const REFERENCES: &[&str] = &[
    "latest",
    "v1.2.3-rc.1",
    "_under",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
];

/// A name component by the spec's grammar: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
const COMPONENT: &str = "[a-z0-9]{1,6}((\\.|_|__|-{1,3})[a-z0-9]{1,6}){0,2}";

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn repository_names(s in input(NAMES)) {
        let (parsed, peak) = measure(|| s.parse::<RepositoryName>());
        prop_assert!(peak <= budget(s.len(), 4), "{peak} bytes for {} input bytes", s.len());
        if let Ok(name) = parsed {
            prop_assert_eq!(name.as_str(), s.as_str());
            prop_assert_eq!(name.to_string().parse::<RepositoryName>().ok(), Some(name.clone()));
            prop_assert!(!name.project().is_empty() && name.project().len() < name.as_str().len());
        }
    }

    #[test]
    fn names_by_the_grammar_parse(
        components in proptest::collection::vec(COMPONENT, 2..6)
    ) {
        let name = components.join("/");
        let parsed = name.parse::<RepositoryName>();
        if name.len() <= 255 {
            prop_assert_eq!(parsed.map(|n| n.to_string()).ok(), Some(name));
        } else {
            prop_assert!(parsed.is_err());
        }
    }

    #[test]
    fn tags(s in input(REFERENCES)) {
        let (parsed, peak) = measure(|| s.parse::<Tag>());
        prop_assert!(peak <= budget(s.len(), 4));
        if let Ok(tag) = parsed {
            prop_assert_eq!(tag.as_str(), s.as_str());
            prop_assert_eq!(tag.to_string().parse::<Tag>().ok(), Some(tag));
        }
    }

    #[test]
    fn tags_by_the_grammar_parse(s in "[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}") {
        prop_assert_eq!(s.parse::<Tag>().map(|t| t.to_string()).ok(), Some(s));
    }

    #[test]
    fn digests(s in input(DIGESTS)) {
        let (parsed, peak) = measure(|| s.parse::<Digest>());
        prop_assert!(peak <= budget(s.len(), 4));
        if let Ok(digest) = parsed {
            prop_assert_eq!(digest.to_string(), s.clone());
            prop_assert_eq!(s.parse::<Digest>().ok(), Some(digest));
        }
    }

    #[test]
    fn digests_by_the_grammar_parse(s in "sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}") {
        prop_assert_eq!(s.parse::<Digest>().map(|d| d.to_string()).ok(), Some(s));
    }

    #[test]
    fn references(s in input(REFERENCES)) {
        let (parsed, peak) = measure(|| s.parse::<Reference>());
        prop_assert!(peak <= budget(s.len(), 4));
        if let Ok(reference) = parsed {
            prop_assert_eq!(reference.to_string(), s.clone());
            prop_assert_eq!(reference.to_string().parse::<Reference>().ok(), Some(reference));
        }
    }
}
