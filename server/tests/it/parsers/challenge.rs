//! The `WWW-Authenticate` challenge of a proxy-cache upstream (`proxy/upstream.rs`): a hostile upstream
//! controls it entirely.

use axum::http::header;
use berth::proxy::upstream::{Challenge, parse_challenge};
use proptest::prelude::*;

use super::{budget, config, input, measure, one_header};

const CHALLENGES: &[&str] = &[
    "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/nginx:pull\"",
    "Bearer realm=http://h/t, service=s",
    "bearer REALM=\"x\", scope=\"a:b:pull,push\"",
    "Basic realm=\"registry\"",
    "Negotiate",
    "Bearer realm=\"unterminated",
];

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn challenges(s in input(CHALLENGES)) {
        let Some(headers) = one_header(header::WWW_AUTHENTICATE, &s) else {
            return Ok(());
        };
        let (parsed, peak) = measure(|| parse_challenge(&headers));
        prop_assert!(peak <= budget(s.len(), 8));
        if let Challenge::Bearer { realm, service, scope } = parsed {
            let total = realm.len() + service.map_or(0, |v| v.len()) + scope.map_or(0, |v| v.len());
            prop_assert!(total <= s.len());
        }
    }

    #[test]
    fn bearer_challenges_round_trip(
        realm in "[ -!#-~]{1,40}",
        service in proptest::option::of("[ -!#-~]{0,20}"),
        scope in proptest::option::of("[ -!#-~]{0,40}"),
        spaces in "[ \t]{0,2}",
    ) {
        let mut text = format!("Bearer realm=\"{realm}\"");
        for (key, value) in [("service", &service), ("scope", &scope)] {
            if let Some(value) = value {
                text.push_str(&format!(",{spaces}{key}=\"{value}\""));
            }
        }
        let headers = one_header(header::WWW_AUTHENTICATE, &text)
            .ok_or_else(|| TestCaseError::fail("not a header value"))?;
        prop_assert_eq!(
            parse_challenge(&headers),
            Challenge::Bearer { realm, service, scope }
        );
    }
}
