//! Basic and Bearer credentials in the `Authorization` header (`auth/credentials.rs`).

use axum::http::{HeaderMap, HeaderValue, header::AUTHORIZATION};
use base64::Engine as _;
use berth::auth::Credentials;
use proptest::prelude::*;

use super::{budget, config, input, measure};

const HEADERS: &[&str] = &[
    "Basic YWRtaW46cGE6c3M=",
    "basic YWxpY2U6QWxpY2UtcGFzczE=",
    "Basic Ym9iOg==",
    "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln",
    "Negotiate abc",
    "Basic ",
];

fn headers(value: HeaderValue) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, value);
    headers
}

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn authorization_headers(s in input(HEADERS)) {
        // Header values are bytes; one hyper accepts may be any visible ASCII or obs-text.
        let Ok(value) = HeaderValue::from_bytes(s.as_bytes()) else {
            return Ok(());
        };
        let headers = headers(value);
        let (parsed, peak) = measure(|| Credentials::from_headers(&headers));
        prop_assert!(peak <= budget(s.len(), 4));
        if let Ok(Credentials::Basic { username, .. }) = parsed {
            prop_assert!(!username.contains(':'));
        }
    }

    #[test]
    fn basic_credentials_round_trip(username in "[^:\u{0}]{0,24}", password in any::<String>()) {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        let value = HeaderValue::from_str(&format!("Basic {encoded}")).map_err(|e| TestCaseError::fail(e.to_string()))?;
        match Credentials::from_headers(&headers(value)) {
            Ok(Credentials::Basic { username: u, password: p }) => {
                prop_assert_eq!(u, username);
                prop_assert_eq!(p.expose(), password.as_str());
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }
}
