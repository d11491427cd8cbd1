//! Browser sessions: a `sid` cookie naming a row of the `tower_sessions` table (tower-sessions with its SQLite
//! store, on the database's write pool).
//!
//! A session holds the signed-in user's id, its CSRF token, when it started and was last refreshed, and a
//! stamp of the user's password hash — never the user's name or role, which are read again on every request,
//! so a removed or demoted user loses access at once. A session ends:
//! - after `session_idle_minutes` without a request, and `session_lifetime_minutes` after its sign-in
//!   however active (default 12 hours);
//! - when the user's password changes, by the user or an administrator ([`credential_matches`]); the session
//!   the user changed it from goes on ([`keep_after_password_change`]);
//! - when the user is removed, or signs out (`POST /c/log_out`).
//!
//! A cookie-authenticated request with an unsafe method must repeat the CSRF token in the
//! `X-Harbor-CSRF-Token` header, as Harbor's portal does
//! (<https://owasp.org/www-community/attacks/csrf>; SameSite=Lax is the second line).

use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use tower_sessions::cookie::SameSite;
use tower_sessions::session::Expiry;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store;
use tower_sessions::{Session, SessionManagerLayer};

use crate::config::Config;
use crate::db::{Db, User};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "sid";
/// Harbor's CSRF header, on requests (to prove the token) and on responses (to hand it out).
pub const CSRF_HEADER: &str = "x-harbor-csrf-token";
/// How often a live session's expiry is pushed back; between refreshes nothing is written.
const REFRESH_EVERY: Duration = Duration::from_secs(60);
/// How often expired sessions are deleted from the table.
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

const USER_ID: &str = "user_id";
const CSRF_TOKEN: &str = "csrf_token";
const REFRESHED_AT: &str = "refreshed_at";
const SIGNED_IN_AT: &str = "signed_in_at";
const CREDENTIAL: &str = "credential";

pub use tower_sessions::session::Error as SessionError;

/// The console's session store: Berth's own `sessions` table, on whichever backend the database runs, so
/// every node behind a load balancer sees every session.
#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: &Db) -> DbSessionStore {
        DbSessionStore { db: db.clone() }
    }
}

fn backend_error(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

#[async_trait::async_trait]
impl session_store::SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        let expires = record.expiry_date.unix_timestamp();
        while !self
            .db
            .create_session(&record.id.to_string(), &data, expires)
            .await
            .map_err(backend_error)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = encode(record)?;
        self.db
            .save_session(
                &record.id.to_string(),
                &data,
                record.expiry_date.unix_timestamp(),
            )
            .await
            .map_err(backend_error)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(data) = self
            .db
            .session(&id.to_string(), unix_now())
            .await
            .map_err(backend_error)?
        else {
            return Ok(None);
        };
        // A record this build cannot read (an older format) is no session: the user signs in again.
        Ok(serde_json::from_str(&data).ok())
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.db
            .delete_session(&id.to_string())
            .await
            .map_err(backend_error)
    }
}

/// The layer that loads and saves sessions: cookie `sid`, HttpOnly, SameSite=Lax, `Secure` when Berth is
/// reached over https, ending after the configured idle time.
pub fn layer(store: DbSessionStore, config: &Config) -> SessionManagerLayer<DbSessionStore> {
    let secure = config
        .external_url()
        .is_some_and(|url| url.starts_with("https://"));
    let idle = tower_sessions::cookie::time::Duration::try_from(config.session_idle())
        .unwrap_or(tower_sessions::cookie::time::Duration::minutes(30));
    SessionManagerLayer::new(store)
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Deletes expired sessions every few minutes, until the task is aborted. Every node may run it: the
/// delete is idempotent.
pub async fn sweep_expired(store: DbSessionStore) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    loop {
        every.tick().await;
        if let Err(e) = store.db.delete_expired_sessions(unix_now()).await {
            tracing::warn!(error = %e, "deleting expired sessions failed; retrying later");
        }
    }
}

/// Starts a session for `user` under a fresh id (so a planted cookie is worthless) and returns its CSRF
/// token.
pub async fn sign_in(session: &Session, user: &User) -> Result<String, SessionError> {
    session.cycle_id().await?;
    session.clear().await;
    let csrf = new_csrf_token();
    let now = unix_now();
    session.insert(USER_ID, user.id).await?;
    session.insert(CSRF_TOKEN, &csrf).await?;
    session.insert(REFRESHED_AT, now).await?;
    session.insert(SIGNED_IN_AT, now).await?;
    session.insert(CREDENTIAL, credential_stamp(user)).await?;
    Ok(csrf)
}

/// A stamp of the user's password hash: it changes whenever the password does (each hash has a new salt),
/// and says nothing about the password. Users without a local password (LDAP, OIDC) have a fixed stamp.
fn credential_stamp(user: &User) -> String {
    let digest = Sha256::new()
        .chain_update(b"berth session credential\0")
        .chain_update(user.password_hash.as_deref().unwrap_or("").as_bytes())
        .finalize();
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Whether the session's stamp ([`SessionState::User::credential`]) is still `user`'s: false once their
/// password changed since the session began.
pub fn credential_matches(credential: &str, user: &User) -> bool {
    constant_time_eq(credential.as_bytes(), credential_stamp(user).as_bytes())
}

/// After `user` changed their own password from this session, keeps this session going (their other sessions
/// end). Does nothing for a session of another user, or none.
pub async fn keep_after_password_change(
    session: &Session,
    user: &User,
) -> Result<(), SessionError> {
    if session.get::<i64>(USER_ID).await? == Some(user.id) {
        session.insert(CREDENTIAL, credential_stamp(user)).await?;
    }
    Ok(())
}

/// Ends the session and deletes it from the store.
pub async fn sign_out(session: &Session) -> Result<(), SessionError> {
    session.flush().await
}

/// What a request's session says about its caller.
#[derive(Debug)]
pub enum SessionState {
    /// No session, or one without a user.
    None,
    /// A signed-in user, with the session's CSRF token and its stamp of the user's password
    /// (see [`credential_matches`]).
    User {
        user_id: i64,
        csrf_token: String,
        credential: String,
    },
    /// A signed-in user's unsafe request without the right CSRF header.
    CsrfMismatch,
}

/// Reads the session of a request with `method` and `headers`, checking the CSRF header on unsafe methods and
/// pushing back the session's expiry now and then. A session older than `lifetime` is ended here.
pub async fn current(
    session: &Session,
    method: &Method,
    headers: &HeaderMap,
    lifetime: Duration,
) -> Result<SessionState, SessionError> {
    let Some(user_id) = session.get::<i64>(USER_ID).await? else {
        return Ok(SessionState::None);
    };
    let now = unix_now();
    // A session without a start (made before sessions had one) counts as ended.
    let signed_in_at = session.get::<i64>(SIGNED_IN_AT).await?.unwrap_or(i64::MIN);
    if now.saturating_sub(signed_in_at) >= lifetime.as_secs() as i64 {
        tracing::info!(
            user_id,
            "session ended: it reached its lifetime; the user must sign in again"
        );
        session.flush().await?;
        return Ok(SessionState::None);
    }
    let credential = session.get::<String>(CREDENTIAL).await?.unwrap_or_default();
    let csrf_token = session.get::<String>(CSRF_TOKEN).await?.unwrap_or_default();
    if !is_safe(method) {
        let sent = headers
            .get(CSRF_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if csrf_token.is_empty() || !constant_time_eq(sent, csrf_token.as_bytes()) {
            return Ok(SessionState::CsrfMismatch);
        }
    }
    let refreshed = session.get::<i64>(REFRESHED_AT).await?.unwrap_or(0);
    if now.saturating_sub(refreshed) >= REFRESH_EVERY.as_secs() as i64 {
        // A change marks the session modified, so the layer saves it with a new expiry and re-sends the cookie.
        session.insert(REFRESHED_AT, now).await?;
    }
    Ok(SessionState::User {
        user_id,
        csrf_token,
        credential,
    })
}

/// Middleware: a response to a request with a signed-in session carries the session's CSRF token in
/// `X-Harbor-CSRF-Token`, where Harbor's portal picks it up. Requests without a session cookie cost nothing.
pub async fn expose_csrf_token(request: Request, next: Next) -> Response {
    let session = request.extensions().get::<Session>().cloned();
    let mut response = next.run(request).await;
    let Some(session) = session.filter(|s| s.id().is_some()) else {
        return response;
    };
    match session.get::<String>(CSRF_TOKEN).await {
        Ok(Some(token)) => {
            if let Ok(value) = HeaderValue::from_str(&token) {
                response.headers_mut().insert(CSRF_HEADER, value);
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the session for its CSRF token"),
    }
    response
}

/// RFC 9110 §9.2.1: GET, HEAD, OPTIONS and TRACE are safe and need no CSRF token.
fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn new_csrf_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_are_random_and_compared_exactly() {
        let a = new_csrf_token();
        let b = new_csrf_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(constant_time_eq(a.as_bytes(), a.as_bytes()));
        assert!(!constant_time_eq(a.as_bytes(), b.as_bytes()));
        assert!(!constant_time_eq(a.as_bytes(), &a.as_bytes()[1..]));
    }
}
