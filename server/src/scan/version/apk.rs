//! Alpine's apk version order (Alpine, Wolfi, Chainguard), written from the published rules: the Alpine wiki's
//! package policy (`digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}`) and the BSD-licensed comparator in
//! libsolv (`src/apk.c`). apk-tools' own `version.c` is GPL-2.0-only and was not used.
//!
//! A version is parsed into a list of tokens and two lists are compared token by token:
//! - the first number compares numerically; a later number compares numerically unless either side starts
//!   with `0`, in which case it compares as a decimal fraction (as text: `1.01 < 1.1`, `1.0 < 1.00`);
//! - a letter compares by its character; a suffix by its rank (`_alpha < _beta < _pre < _rc < _cvs < _svn <
//!   _git < _hg < _p`), then by its number (missing = 0); a `~hash` as text; `-rN` by N;
//! - when one list has a token of another kind at the same place (one side is longer, say), the kinds
//!   decide: a further number > a letter > a post-release suffix (`_cvs`…`_p`) > `~hash` > `-rN` > the end
//!   > a pre-release suffix (`_alpha`…`_rc`). So `1.2 < 1.2.1`, `1.2_rc1 < 1.2 < 1.2-r0 < 1.2_p1 < 1.2a`.
//!
//! Strings outside that grammar (an unknown suffix, an upper-case letter, a stray character) do not parse.

use std::cmp::Ordering;

/// The suffixes apk knows, lowest first; the first four are pre-releases (lower than no suffix at all).
const SUFFIXES: [&str; 9] = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
const PRE_RELEASE_SUFFIXES: usize = 4;

#[derive(Debug, Clone, Copy)]
enum Token<'a> {
    /// A run of digits after the first (the first is [`Token::First`]).
    Number(&'a str),
    Letter(u8),
    /// A suffix's rank in [`SUFFIXES`] and its digits (possibly empty).
    Suffix(usize, &'a str),
    Hash(&'a str),
    Revision(&'a str),
    End,
}

impl Token<'_> {
    /// Which kind wins when two different kinds meet at the same place: higher is the later version.
    fn kind_rank(&self) -> u8 {
        match self {
            Token::Suffix(rank, _) if *rank < PRE_RELEASE_SUFFIXES => 0,
            Token::End => 1,
            Token::Revision(_) => 2,
            Token::Hash(_) => 3,
            Token::Suffix(..) => 4,
            Token::Letter(_) => 5,
            Token::Number(_) => 6,
        }
    }
}

/// A parsed apk version: its first number and the tokens after it.
#[derive(Debug, Clone)]
pub(super) struct ApkVersion<'a> {
    first: &'a str,
    rest: Vec<Token<'a>>,
}

/// Takes the leading ASCII digits of `text`: (digits, rest).
fn digits(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

/// Parses `text` in apk's grammar, or `None`.
pub(super) fn parse(text: &str) -> Option<ApkVersion<'_>> {
    let (first, mut rest) = digits(text);
    if first.is_empty() {
        return None;
    }
    let mut tokens = Vec::new();
    // Numbers, then at most one letter, then suffixes, then a hash, then a revision, in that order.
    while let Some(after) = rest.strip_prefix('.') {
        let (number, after) = digits(after);
        if number.is_empty() {
            return None;
        }
        tokens.push(Token::Number(number));
        rest = after;
    }
    if let Some(&letter) = rest.as_bytes().first()
        && letter.is_ascii_lowercase()
    {
        tokens.push(Token::Letter(letter));
        rest = &rest[1..];
    }
    while let Some(after) = rest.strip_prefix('_') {
        let name_end = after
            .find(|c: char| !c.is_ascii_lowercase())
            .unwrap_or(after.len());
        let rank = SUFFIXES.iter().position(|s| *s == &after[..name_end])?;
        let (number, after) = digits(&after[name_end..]);
        tokens.push(Token::Suffix(rank, number));
        rest = after;
    }
    if let Some(after) = rest.strip_prefix('~') {
        let end = after
            .find(|c: char| !matches!(c, '0'..='9' | 'a'..='f'))
            .unwrap_or(after.len());
        if end == 0 {
            return None;
        }
        tokens.push(Token::Hash(&after[..end]));
        rest = &after[end..];
    }
    if let Some(after) = rest.strip_prefix("-r") {
        let (number, after) = digits(after);
        if number.is_empty() {
            return None;
        }
        tokens.push(Token::Revision(number));
        rest = after;
    }
    rest.is_empty().then_some(ApkVersion {
        first,
        rest: tokens,
    })
}

/// Compares two runs of digits as numbers, without parsing them (any length).
fn numeric(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// A later number: numeric, unless either starts with `0` (then as a decimal fraction, i.e. as text).
fn later_number(a: &str, b: &str) -> Ordering {
    if a.starts_with('0') || b.starts_with('0') {
        a.cmp(b)
    } else {
        numeric(a, b)
    }
}

fn compare_tokens(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match (a, b) {
        (Token::Number(x), Token::Number(y)) => later_number(x, y),
        (Token::Letter(x), Token::Letter(y)) => x.cmp(y),
        (Token::Suffix(rx, x), Token::Suffix(ry, y)) => rx.cmp(ry).then_with(|| numeric(x, y)),
        (Token::Hash(x), Token::Hash(y)) => x.cmp(y),
        (Token::Revision(x), Token::Revision(y)) => numeric(x, y),
        _ => a.kind_rank().cmp(&b.kind_rank()),
    }
}

/// apk's order of two parsed versions.
fn order(a: &ApkVersion<'_>, b: &ApkVersion<'_>) -> Ordering {
    let ordering = numeric(a.first, b.first);
    if ordering != Ordering::Equal {
        return ordering;
    }
    let longest = a.rest.len().max(b.rest.len());
    for i in 0..longest {
        let ordering = compare_tokens(
            a.rest.get(i).unwrap_or(&Token::End),
            b.rest.get(i).unwrap_or(&Token::End),
        );
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

/// Compares two apk versions, or `None` when either does not parse.
pub(super) fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(order(&parse(a)?, &parse(b)?))
}
