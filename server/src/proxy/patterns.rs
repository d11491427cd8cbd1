//! Which upstream repositories a proxy-cache project may pull: the project's `proxy_include` and
//! `proxy_exclude` metadata (a Berth extension), each a comma-separated list of doublestar globs such as
//! `library/**,bitnami/*`.
//!
//! `*` matches within one path segment, `**` across segments, `?` one character, `{a,b}` alternatives are not
//! available (the comma separates patterns). No include list allows everything; an exclude match always wins.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// The include and exclude patterns of one proxy project, compiled.
#[derive(Debug, Clone)]
pub struct RepositoryFilter {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl RepositoryFilter {
    /// Compiles the two lists (`None` or blank: no list). The error names the bad pattern.
    pub fn new(include: Option<&str>, exclude: Option<&str>) -> Result<Self, String> {
        Ok(RepositoryFilter {
            include: compile(include)?,
            exclude: compile(exclude)?,
        })
    }

    /// Whether `upstream_repository` (e.g. `library/nginx`) may be pulled through the project.
    pub fn allows(&self, upstream_repository: &str) -> bool {
        if self
            .exclude
            .as_ref()
            .is_some_and(|set| set.is_match(upstream_repository))
        {
            return false;
        }
        self.include
            .as_ref()
            .is_none_or(|set| set.is_match(upstream_repository))
    }
}

/// The patterns of a list, trimmed, blanks dropped.
pub fn split(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|p| !p.is_empty())
}

/// Checks a list and returns it as stored: its patterns joined by `,` without spaces.
pub fn normalize(list: &str) -> Result<String, String> {
    compile(Some(list))?;
    Ok(split(list).collect::<Vec<_>>().join(","))
}

fn compile(list: Option<&str>) -> Result<Option<GlobSet>, String> {
    let Some(list) = list else {
        return Ok(None);
    };
    let mut builder = GlobSetBuilder::new();
    let mut any = false;
    for pattern in split(list) {
        if pattern.contains(['{', '}']) {
            return Err(format!(
                "invalid repository pattern {pattern:?}: {{a,b}} alternatives are not supported; list the patterns separated by commas"
            ));
        }
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| format!("invalid repository pattern {pattern:?}: {}", e.kind()))?;
        builder.add(glob);
        any = true;
    }
    if !any {
        return Ok(None);
    }
    builder
        .build()
        .map(Some)
        .map_err(|e| format!("invalid repository patterns {list:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the filter of `include` and `exclude` allows each of `repositories`; `None` if it does not compile.
    fn allows(
        include: Option<&str>,
        exclude: Option<&str>,
        repositories: &[&str],
    ) -> Option<Vec<bool>> {
        let filter = RepositoryFilter::new(include, exclude).ok()?;
        Some(repositories.iter().map(|r| filter.allows(r)).collect())
    }

    #[test]
    fn no_lists_allow_everything() {
        assert_eq!(
            allows(None, None, &["library/nginx", "a/b/c"]),
            Some(vec![true, true])
        );
        assert_eq!(
            allows(Some(" , "), Some(""), &["library/nginx"]),
            Some(vec![true])
        );
    }

    #[test]
    fn one_star_stays_in_a_segment_two_cross_them() {
        assert_eq!(
            allows(
                Some("library/**, bitnami/*"),
                None,
                &[
                    "library/nginx",
                    "library/a/b",
                    "bitnami/redis",
                    "bitnami/charts/redis",
                    "other/nginx",
                    "library",
                ]
            ),
            Some(vec![true, true, true, false, false, false])
        );
        assert_eq!(
            allows(Some("*"), None, &["nginx", "library/nginx"]),
            Some(vec![true, false])
        );
        assert_eq!(
            allows(Some("app?"), None, &["app1", "app12"]),
            Some(vec![true, false])
        );
    }

    #[test]
    fn exclude_wins() {
        assert_eq!(
            allows(
                Some("library/**"),
                Some("library/*-rc,**/internal/**"),
                &["library/nginx", "library/nginx-rc", "library/internal/x"]
            ),
            Some(vec![true, false, false])
        );
        assert_eq!(
            allows(None, Some("secret/**"), &["library/nginx", "secret/x"]),
            Some(vec![true, false])
        );
    }

    #[test]
    fn bad_patterns_are_named() {
        let error = RepositoryFilter::new(Some("library/**,lib[rary"), None)
            .err()
            .unwrap_or_default();
        assert!(error.contains("lib[rary"), "{error}");
        assert!(RepositoryFilter::new(None, Some("a/{b,c}")).is_err());
        assert!(RepositoryFilter::new(Some("a\\"), None).is_err());
        assert_eq!(
            normalize(" library/** , bitnami/* ,").ok().as_deref(),
            Some("library/**,bitnami/*")
        );
        assert!(normalize("[").is_err());
    }
}
