//! `Range` on blob GETs (`registry/blobs.rs::parse_range`) and `Content-Range` on upload chunks
//! (`registry/uploads.rs::content_range_start`).

use axum::http::{HeaderMap, HeaderValue, header};
use berth::registry::{RegistryError, content_range_start, parse_range};
use proptest::prelude::*;

use super::{budget, config, input, measure, one_header};

const RANGES: &[&str] = &[
    "bytes=0-9",
    "bytes=90-",
    "bytes=-10",
    "bytes=0-18446744073709551615",
    "bytes=5-2",
    "items=0-1",
];
const CONTENT_RANGES: &[&str] = &[
    "0-41",
    "22-41",
    "bytes 0-99/100",
    "bytes=5-8",
    "0-18446744073709551615",
];

fn sizes() -> impl Strategy<Value = u64> {
    prop_oneof![0..300u64, any::<u64>(), Just(u64::MAX)]
}

/// Upload chunk headers: a Content-Range, and a Content-Length that may or may not agree.
fn chunk_headers(range: &str, length: Option<u64>) -> Option<HeaderMap> {
    let mut headers = one_header(header::CONTENT_RANGE, range)?;
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    Some(headers)
}

/// Regression: `Content-Range: 0-18446744073709551615` with a Content-Length overflowed `end - start + 1`
/// (a panic in debug builds, a wrapped length in release). Found by `content_ranges` below.
#[test]
fn a_content_range_to_the_last_u64_is_refused_not_overflowed() {
    for length in [0, 1, u64::MAX] {
        let headers = chunk_headers("0-18446744073709551615", Some(length)).unwrap();
        assert!(matches!(
            content_range_start(&headers),
            Err(RegistryError::BlobUploadInvalid(_))
        ));
    }
}

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn ranges(s in input(RANGES), size in sizes()) {
        let (parsed, peak) = measure(|| parse_range(&s, size));
        prop_assert!(peak <= budget(s.len(), 4));
        match parsed {
            Ok(Some(range)) => {
                prop_assert!(range.start < range.end && range.end <= size, "{:?} of {}", range, size);
                // Display form: `bytes=<first>-<last>` parses back to the same range.
                let shown = format!("bytes={}-{}", range.start, range.end - 1);
                prop_assert_eq!(parse_range(&shown, size).ok().flatten(), Some(range));
            }
            Ok(None) => prop_assert!(!s.trim().starts_with("bytes=")),
            Err(e) => prop_assert!(
                matches!(e, RegistryError::RangeNotSatisfiable { size: s } if s == size),
                "{:?}", e
            ),
        }
    }

    #[test]
    fn satisfiable_ranges_are_what_they_say(size in 1..u64::MAX, a in any::<u64>(), b in any::<u64>()) {
        let (first, last) = (a % size, b.max(a % size));
        let range = parse_range(&format!("bytes={first}-{last}"), size).ok().flatten();
        prop_assert_eq!(range, Some(first..last.min(size - 1) + 1));
        let suffix = b % size + 1;
        let range = parse_range(&format!("bytes=-{suffix}"), size).ok().flatten();
        prop_assert_eq!(range, Some(size - suffix..size));
    }

    #[test]
    fn content_ranges(
        s in input(CONTENT_RANGES),
        length in proptest::option::of(prop_oneof![0..100u64, any::<u64>()]),
    ) {
        let Some(headers) = chunk_headers(&s, length) else {
            return Ok(());
        };
        let (parsed, peak) = measure(|| content_range_start(&headers));
        prop_assert!(peak <= budget(s.len(), 4));
        if let Ok(start) = parsed {
            prop_assert!(start.is_some());
        }
    }

    #[test]
    fn content_ranges_round_trip(start in any::<u64>(), len in 1..u64::MAX, agree in any::<bool>()) {
        let end = start.saturating_add(len - 1);
        let Some(length) = (end - start).checked_add(1) else {
            return Ok(()); // 0-18446744073709551615: the regression case above
        };
        let headers = chunk_headers(&format!("{start}-{end}"), agree.then_some(length)).unwrap();
        prop_assert_eq!(content_range_start(&headers).ok(), Some(Some(start)));
        if length > 1 {
            let headers = chunk_headers(&format!("{start}-{end}"), Some(length - 1)).unwrap();
            prop_assert!(content_range_start(&headers).is_err());
        }
    }
}
