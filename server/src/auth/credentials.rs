//! The `Authorization` header. RFC 7617 (Basic) and RFC 6750 (Bearer).
//!
//! A username longer than [`MAX_USERNAME_BYTES`] is refused here, before anything is checked, counted,
//! logged or audited: no account can have such a name (Harbor's limit is 255 characters), and accepting it
//! would let a caller write arbitrarily large values to the audit table and the log.

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

/// The longest username any sign-in accepts, in bytes.
pub const MAX_USERNAME_BYTES: usize = 255;

/// The longest bearer token accepted, in bytes. Berth's own tokens stay far below it (the token service grants
/// at most [`super::token_endpoint::MAX_SCOPES`] scopes).
pub const MAX_BEARER_BYTES: usize = 16 * 1024;

/// An `Authorization` header that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedAuthorization {
    #[error("malformed Authorization header")]
    Malformed,
    #[error("the username is longer than {MAX_USERNAME_BYTES} bytes")]
    UsernameTooLong,
    #[error("the bearer token is longer than {MAX_BEARER_BYTES} bytes")]
    TokenTooLong,
}

fn malformed<E>(_: E) -> MalformedAuthorization {
    MalformedAuthorization::Malformed
}

/// Whether `username` is short enough to be any account's name (see [`MAX_USERNAME_BYTES`]).
pub fn username_fits(username: &str) -> bool {
    username.len() <= MAX_USERNAME_BYTES
}

impl Credentials {
    /// Reads the request's credentials. An unknown scheme counts as anonymous; a broken Basic or Bearer
    /// value is an error.
    pub fn from_headers(headers: &HeaderMap) -> Result<Credentials, MalformedAuthorization> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Ok(Credentials::Anonymous);
        };
        let value = value.to_str().map_err(malformed)?.trim();
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = STANDARD.decode(rest).map_err(malformed)?;
            let decoded = String::from_utf8(decoded).map_err(malformed)?;
            let (username, password) = decoded
                .split_once(':')
                .ok_or(MalformedAuthorization::Malformed)?;
            if !username_fits(username) {
                return Err(MalformedAuthorization::UsernameTooLong);
            }
            Ok(Credentials::Basic {
                username: username.to_owned(),
                password: Secret::new(password),
            })
        } else if scheme.eq_ignore_ascii_case("bearer") {
            if rest.is_empty() {
                return Err(MalformedAuthorization::Malformed);
            }
            if rest.len() > MAX_BEARER_BYTES {
                return Err(MalformedAuthorization::TokenTooLong);
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

    #[test]
    fn oversized_usernames_and_tokens_are_refused() {
        let basic = |user: &str| {
            let mut headers = HeaderMap::new();
            let value = format!("Basic {}", STANDARD.encode(format!("{user}:pw")));
            headers.insert(
                AUTHORIZATION,
                HeaderValue::from_str(&value).unwrap_or_else(|_| unreachable!()),
            );
            Credentials::from_headers(&headers)
        };
        assert!(basic(&"a".repeat(MAX_USERNAME_BYTES)).is_ok());
        assert_eq!(
            basic(&"a".repeat(MAX_USERNAME_BYTES + 1)).err(),
            Some(MalformedAuthorization::UsernameTooLong)
        );
        let mut headers = HeaderMap::new();
        let token = format!("Bearer {}", "t".repeat(MAX_BEARER_BYTES + 1));
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&token).unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(
            Credentials::from_headers(&headers).err(),
            Some(MalformedAuthorization::TokenTooLong)
        );
    }
}
