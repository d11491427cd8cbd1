//! The `Authorization` header. RFC 7617 (Basic) and RFC 6750 (Bearer).

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::secret::Secret;

/// What a request presented.
#[derive(Debug, Clone)]
pub enum Credentials {
    Anonymous,
    Basic { username: String, password: Secret },
    Bearer(Secret),
}

/// A malformed `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed Authorization header")]
pub struct MalformedAuthorization;

impl Credentials {
    /// Reads the request's credentials. An unknown scheme counts as anonymous; a broken Basic or Bearer
    /// value is an error.
    pub fn from_headers(headers: &HeaderMap) -> Result<Credentials, MalformedAuthorization> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Ok(Credentials::Anonymous);
        };
        let value = value.to_str().map_err(|_| MalformedAuthorization)?.trim();
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = STANDARD.decode(rest).map_err(|_| MalformedAuthorization)?;
            let decoded = String::from_utf8(decoded).map_err(|_| MalformedAuthorization)?;
            let (username, password) = decoded.split_once(':').ok_or(MalformedAuthorization)?;
            Ok(Credentials::Basic {
                username: username.to_owned(),
                password: Secret::new(password),
            })
        } else if scheme.eq_ignore_ascii_case("bearer") {
            if rest.is_empty() {
                return Err(MalformedAuthorization);
            }
            Ok(Credentials::Bearer(Secret::new(rest)))
        } else {
            Ok(Credentials::Anonymous)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn parses_basic_bearer_and_absent() {
        match Credentials::from_headers(&with("Basic YWRtaW46cGE6c3M=")) {
            Ok(Credentials::Basic { username, password }) => {
                assert_eq!((username.as_str(), password.expose()), ("admin", "pa:ss"));
            }
            other => unreachable!("{other:?}"),
        }
        assert!(matches!(
            Credentials::from_headers(&with("Bearer abc")),
            Ok(Credentials::Bearer(_))
        ));
        assert!(matches!(
            Credentials::from_headers(&HeaderMap::new()),
            Ok(Credentials::Anonymous)
        ));
        assert!(Credentials::from_headers(&with("Basic !!!")).is_err());
        assert!(Credentials::from_headers(&with("Basic bm9jb2xvbg==")).is_err());
        assert!(Credentials::from_headers(&with("Bearer ")).is_err());
    }
}
