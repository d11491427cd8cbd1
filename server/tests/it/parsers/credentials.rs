//! Basic and Bearer credentials in the `Authorization` header (`auth/credentials.rs`).

use axum::http::header::AUTHORIZATION;
use base64::Engine as _;
use berth::auth::Credentials;
use proptest::prelude::*;

use super::{budget, config, input, measure, one_header};

const HEADERS: &[&str] = &[
    "Basic YWRtaW46cGE6c3M=",
    "basic YWxpY2U6QWxpY2UtcGFzczE=",
    "Basic Ym9iOg==",
    "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln",
    "Negotiate abc",
    "Basic ",
];

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn authorization_headers(s in input(HEADERS)) {
        // Header values are bytes; one hyper accepts may be any visible ASCII or obs-text.
        let Some(headers) = one_header(AUTHORIZATION, &s) else {
            return Ok(());
        };
        let (parsed, peak) = measure(|| Credentials::from_headers(&headers));
        prop_assert!(peak <= budget(s.len(), 4));
        if let Ok(Credentials::Basic { username, .. }) = parsed {
            prop_assert!(!username.contains(':'));
        }
    }

    #[test]
    fn basic_credentials_round_trip(username in "[^:\u{0}]{0,24}", password in any::<String>()) {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        let headers = one_header(AUTHORIZATION, &format!("Basic {encoded}"))
            .ok_or_else(|| TestCaseError::fail("not a header value"))?;
        match Credentials::from_headers(&headers) {
            Ok(Credentials::Basic { username: u, password: p }) => {
                prop_assert_eq!(u, username);
                prop_assert_eq!(p.expose(), password.as_str());
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }
}
