//! Doublestar include/exclude patterns of proxy-cache projects (`patterns.rs`).

use berth::patterns::{RepositoryFilter, normalize, split};
use proptest::prelude::*;

use super::{budget, config, input, measure};

const LISTS: &[&str] = &[
    "library/**",
    "library/**, bitnami/*",
    "**/internal/**,library/*-rc",
    "app?,a\\*b",
    "[abc]/x,lib[!r]ary/*",
    "",
];
const NAMES: &[&str] = &[
    "library/nginx",
    "bitnami/charts/redis",
    "a/b/c/internal/d",
    "nginx",
];

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn pattern_lists(include in input(LISTS), exclude in input(LISTS), name in input(NAMES)) {
        let ((filter, normalized), peak) = measure(|| {
            (RepositoryFilter::new(Some(&include), Some(&exclude)), normalize(&include))
        });
        // Compiling globs builds regular expressions: more memory per input byte than the other parsers.
        let len = include.len() + exclude.len();
        prop_assert!(peak <= budget(len, 2048), "{peak} bytes for {len} input bytes");
        if let Ok(filter) = filter {
            let (_, peak) = measure(|| filter.allows(&name));
            prop_assert!(peak <= budget(name.len(), 64));
        }
        // The stored form is a fixed point: normalizing it again changes nothing.
        if let Ok(normalized) = normalized {
            prop_assert_eq!(normalize(&normalized).ok(), Some(normalized.clone()));
            prop_assert_eq!(split(&normalized).collect::<Vec<_>>(), split(&include).collect::<Vec<_>>());
        }
    }

    #[test]
    fn literal_patterns_match_themselves(name in "[a-z0-9]{1,8}(/[a-z0-9._-]{1,8}){0,4}") {
        let filter = RepositoryFilter::new(Some(&name), None).map_err(TestCaseError::fail)?;
        prop_assert!(filter.allows(&name));
        let deeper = format!("{name}/x");
        prop_assert!(!filter.allows(&deeper));
        let filter = RepositoryFilter::new(Some(&format!("{name}/**")), Some(&name)).map_err(TestCaseError::fail)?;
        prop_assert!(filter.allows(&deeper) && !filter.allows(&name));
    }
}
