//! Every parser a caller can reach, under random and mutated input (issue 13): nothing panics, nothing
//! allocates more than a fixed multiple of its input, and what parses round-trips (parse → display → parse
//! gives the same value) where the parser has a display form, or a test-side rendering stands in for one.
//!
//! Inputs are random strings and, to reach the deep paths, valid examples with random edits ([`mutated`]).
//! Each property runs [`config`]'s case count: a few thousand by default, `PROPTEST_CASES` when set
//! (`bench/fuzz.sh` runs a million each in a release build). A failing input found here is kept as a
//! regression case in its file.

mod challenge;
mod credentials;
mod crons;
mod manifests;
mod names;
mod patterns;
mod query;
mod ranges;
mod routes;
mod scopes;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

/// The case count of each property: `PROPTEST_CASES` if set, else `default`.
pub fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Fragments that matter to one parser or another: separators, quotes, brackets, signs, numbers at the
/// edges of the integer types, prefixes, and characters outside ASCII.
const FRAGMENTS: &[&str] = &[
    "",
    ":",
    "/",
    "//",
    "-",
    "--",
    "_",
    "__",
    ".",
    "..",
    ",",
    ",,",
    "=",
    "~",
    "\"",
    "'",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\0",
    "%",
    "%2F",
    "@",
    "*",
    "**",
    "?",
    "\\",
    "+",
    ";",
    "#",
    "bytes=",
    "bytes ",
    "sha256:",
    "sha512:",
    "Basic ",
    "Bearer ",
    "realm=",
    "\"\"",
    "0",
    "1",
    "-1",
    "00000000000000000000001",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "+262143",
    "262143-12-31",
    "+262142-12-31",
    "9999-12-31 23:59:59",
    "1e309",
    "NaN",
    "é",
    "ß",
    "😀",
    "\u{fffd}",
    "\u{202e}",
    "A",
    "z",
    "9",
];

/// One random edit of a string.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, String),
    /// Replaces up to `n` characters.
    Replace(usize, usize, String),
    Delete(usize, usize),
    Duplicate(usize, usize),
    /// Appends part of another example.
    Splice(usize),
    Truncate(usize),
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(FRAGMENTS).prop_map(str::to_owned),
        2 => any::<char>().prop_map(String::from),
        1 => "[ -~]{1,6}",
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), piece()).prop_map(|(at, p)| Edit::Insert(at, p)),
        (any::<usize>(), 1..12usize, piece()).prop_map(|(at, n, p)| Edit::Replace(at, n, p)),
        (any::<usize>(), 1..8usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), 1..16usize).prop_map(|(at, n)| Edit::Duplicate(at, n)),
        any::<usize>().prop_map(Edit::Splice),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

/// The char boundary at or before `at % (len + 1)`.
fn boundary(s: &str, at: usize) -> usize {
    let mut i = at % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl Edit {
    fn apply(&self, s: &mut String, other: &str) {
        match self {
            Edit::Insert(at, p) => s.insert_str(boundary(s, *at), p),
            Edit::Replace(at, n, p) => {
                let start = boundary(s, *at);
                let end = s[start..]
                    .char_indices()
                    .nth(*n)
                    .map_or(s.len(), |(i, _)| start + i);
                s.replace_range(start..end, p);
            }
            Edit::Delete(at, n) => {
                let start = boundary(s, *at);
                let end = boundary(s, start + n).max(start);
                s.replace_range(start..end, "");
            }
            Edit::Duplicate(at, n) => {
                let start = boundary(s, *at);
                let end = boundary(s, start + n).max(start);
                let copy = s[start..end].to_owned();
                s.insert_str(end, &copy);
            }
            Edit::Splice(at) => s.push_str(&other[boundary(other, *at)..]),
            Edit::Truncate(at) => s.truncate(boundary(s, *at)),
        }
    }
}

/// Valid `examples` with up to eight random edits each.
pub fn mutated(examples: &'static [&'static str]) -> impl Strategy<Value = String> {
    let n = examples.len();
    (0..n, 0..n, proptest::collection::vec(edit(), 0..8)).prop_map(move |(i, j, edits)| {
        let mut s = examples[i].to_owned();
        for edit in &edits {
            edit.apply(&mut s, examples[j]);
        }
        s
    })
}

/// Mutated examples most of the time, random text otherwise.
pub fn input(examples: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        6 => mutated(examples),
        2 => "[ -~]{0,80}",
        1 => any::<String>(),
        1 => proptest::collection::vec(piece(), 0..24).prop_map(|p| p.concat()),
    ]
}

/// Bytes allocated (and not yet freed) by this thread, and the most seen since [`measure`] last reset it.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

#[expect(
    unsafe_code,
    reason = "GlobalAlloc is an unsafe trait; every call is passed to System unchanged"
)]
// SAFETY: each method forwards to `System` with the caller's own arguments, so `System`'s guarantees hold;
// the counting touches only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result with the most bytes it held allocated at once on this thread.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(start));
    let result = f();
    let peak = PEAK.with(Cell::get);
    (result, usize::try_from(peak - start).unwrap_or(0))
}

/// A header map holding one header, or `None` when `value` is not a valid header value.
pub fn one_header(name: HeaderName, value: &str) -> Option<HeaderMap> {
    let mut headers = HeaderMap::new();
    headers.insert(name, HeaderValue::from_bytes(value.as_bytes()).ok()?);
    Some(headers)
}

/// The allocation a parser may make for an input of `len` bytes: `factor` times the input, plus 64 KiB.
pub fn budget(len: usize, factor: usize) -> usize {
    factor * len + 64 * 1024
}
