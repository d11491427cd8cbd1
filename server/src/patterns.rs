//! Doublestar patterns, as Harbor's selectors spell them (`bmatcuk/doublestar`): `*` matches within one path
//! segment, `**` (a whole segment) across segments, `?` one character, `[abc]` a class, `{a,b}` alternatives,
//! and `\` escapes. Two users share this matcher:
//!
//! - [`RepositoryFilter`]: the `proxy_include` and `proxy_exclude` metadata of a proxy-cache project (a Berth
//!   extension), each a comma-separated list such as `library/**,bitnami/*`. There the comma separates
//!   patterns, so `{a,b}` alternatives are refused. No include list allows everything; an exclude match
//!   always wins.
//! - [`Doublestar`]: one pattern of an immutable tag rule's (and later a retention rule's) selector, with
//!   `{a,b}` alternatives, exactly as Harbor evaluates it.

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};

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
        let glob = glob(pattern)
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

/// The longest pattern [`Doublestar::new`] accepts, in bytes: room for a brace list of many long repository
/// names, small enough that compiling it stays cheap.
pub const MAX_PATTERN_BYTES: usize = 1024;

/// One doublestar pattern, compiled once.
#[derive(Debug, Clone)]
pub struct Doublestar {
    pattern: String,
    matcher: GlobMatcher,
}

impl Doublestar {
    /// Compiles `pattern`; the error says what is wrong with it. An empty pattern is refused (Harbor's
    /// selectors require one; `**` matches everything).
    pub fn new(pattern: &str) -> Result<Doublestar, String> {
        if pattern.is_empty() {
            return Err("the pattern is empty; use ** to match everything".to_owned());
        }
        if pattern.len() > MAX_PATTERN_BYTES {
            return Err(format!(
                "the pattern is {} bytes long; at most {MAX_PATTERN_BYTES} are allowed",
                pattern.len()
            ));
        }
        let matcher = glob(&collapse_inner_stars(pattern))
            .map_err(|e| format!("invalid pattern {pattern:?}: {}", e.kind()))?
            .compile_matcher();
        Ok(Doublestar {
            pattern: pattern.to_owned(),
            matcher,
        })
    }

    /// Whether `value` (a repository name or a tag) matches the pattern.
    pub fn is_match(&self, value: &str) -> bool {
        self.matcher.is_match(value)
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }
}

/// The one glob dialect of both users: `*` stops at `/`, `\` escapes.
fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

/// doublestar treats `**` as "across segments" only when it is a whole segment; inside one (`v**`, `a**b`)
/// it is a plain `*`, where the glob crate would refuse it. Runs of stars are rewritten accordingly.
fn collapse_inner_stars(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            out.push(c);
            if let Some(next) = chars.get(i + 1) {
                out.push(*next);
            }
            i += 2;
            continue;
        }
        if c != '*' {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i;
        while chars.get(i) == Some(&'*') {
            i += 1;
        }
        let whole_segment =
            (start == 0 || chars[start - 1] == '/') && (i == chars.len() || chars[i] == '/');
        out.push_str(if i - start > 1 && whole_segment {
            "**"
        } else {
            "*"
        });
    }
    out
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

    fn doublestar(pattern: &str, values: &[&str]) -> Vec<bool> {
        let Ok(compiled) = Doublestar::new(pattern) else {
            return Vec::new();
        };
        values.iter().map(|v| compiled.is_match(v)).collect()
    }

    #[test]
    fn doublestar_follows_harbors_dialect() {
        assert_eq!(doublestar("**", &["app", "a/b/c", ""]), [true, true, true]);
        assert_eq!(doublestar("*", &["app", "a/b"]), [true, false]);
        assert_eq!(
            doublestar("team/**", &["team/app", "team/a/b", "other/app"]),
            [true, true, false]
        );
        assert_eq!(
            doublestar("{app,web}", &["app", "web", "api"]),
            [true, true, false]
        );
        assert_eq!(
            doublestar("v{1,2}.*", &["v1.0", "v2.3", "v3.0"]),
            [true, true, false]
        );
        // `**` inside a segment is a plain star, as in doublestar.
        assert_eq!(doublestar("v**", &["v1", "v1/x"]), [true, false]);
        assert_eq!(doublestar("a***/b", &["ax/b"]), [true]);
        assert_eq!(doublestar("\\*", &["*", "a"]), [true, false]);
        assert_eq!(
            doublestar("release-?", &["release-1", "release-12"]),
            [true, false]
        );
    }

    #[test]
    fn doublestar_refuses_what_it_cannot_compile_or_bound() {
        assert!(Doublestar::new("").is_err());
        assert!(Doublestar::new("[").is_err());
        assert!(Doublestar::new(&"a".repeat(MAX_PATTERN_BYTES + 1)).is_err());
        assert!(Doublestar::new(&"a".repeat(MAX_PATTERN_BYTES)).is_ok());
    }
}
