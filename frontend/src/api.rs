//! The console's one HTTP client: typed JSON over the browser's fetch, against Berth's REST API only.
//!
//! Rules: every call goes through [`send`], which
//! - sends the session's CSRF token (`X-Harbor-CSRF-Token`, as Harbor's portal does) on unsafe methods, and
//!   keeps the newest token the server hands out on any response;
//! - turns Harbor's error envelope (`{"errors":[{"code","message"}]}`) into an [`ApiError`] whose message can be
//!   shown as is;
//! - reports a 401 (the session ended) to the handler set with [`on_unauthorized`], which goes to sign-in.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use berth_api::ErrorResponse;
use berth_api::users::{PasswordReq, UserResp};
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::format;

/// Where the REST API is mounted.
pub const BASE: &str = "/api/v2.0";
/// Harbor's CSRF header, on requests and responses.
const CSRF_HEADER: &str = "X-Harbor-CSRF-Token";

thread_local! {
    static CSRF_TOKEN: RefCell<Option<String>> = const { RefCell::new(None) };
    static UNAUTHORIZED: RefCell<Option<Rc<dyn Fn()>>> = RefCell::new(None);
}

/// A failed call, with a message fit for the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status, or 0 when the request never got an answer.
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// One page of a list, with the total from `X-Total-Count`.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// Sets what happens when the API answers 401 (the console goes to sign-in).
pub fn on_unauthorized(handler: impl Fn() + 'static) {
    UNAUTHORIZED.with(|slot| *slot.borrow_mut() = Some(Rc::new(handler)));
}

/// Forgets the CSRF token (after sign-out).
pub fn forget_session() {
    CSRF_TOKEN.with(|slot| *slot.borrow_mut() = None);
}

/// `GET {BASE}{path}` as JSON.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    get_answer(path).await?.json()
}

/// `GET {BASE}{path}` of a paginated list: the items and `X-Total-Count`.
pub async fn get_page<T: DeserializeOwned>(path: &str) -> Result<Paged<T>, ApiError> {
    get_answer(path).await?.page()
}

/// `GET {BASE}{path}`, read but not parsed: what [`crate::components::fetch`] keeps, so that one resource
/// type serves every answer type.
pub async fn get_answer(path: &str) -> Result<Answer, ApiError> {
    read(send(Request::get(&api_url(path)), None).await?).await
}

/// `POST {BASE}{path}` with a JSON body; the response body is ignored.
pub async fn post<B: Serialize>(path: &str, body: &B) -> Result<(), ApiError> {
    let body = json_body(body)?;
    send(Request::post(&api_url(path)), Some(body))
        .await
        .map(drop)
}

/// `PUT {BASE}{path}` with a JSON body; the response body is ignored.
pub async fn put<B: Serialize>(path: &str, body: &B) -> Result<(), ApiError> {
    let body = json_body(body)?;
    send(Request::put(&api_url(path)), Some(body))
        .await
        .map(drop)
}

/// `PATCH {BASE}{path}` with a JSON body; the response body is ignored (e.g. stopping a retention run).
pub async fn patch<B: Serialize>(path: &str, body: &B) -> Result<(), ApiError> {
    let body = json_body(body)?;
    send(Request::patch(&api_url(path)), Some(body))
        .await
        .map(drop)
}

/// `DELETE {BASE}{path}`.
pub async fn delete(path: &str) -> Result<(), ApiError> {
    send(Request::delete(&api_url(path)), None).await.map(drop)
}

/// `POST {BASE}{path}` with a JSON body, reading the JSON answer (e.g. `POST /robots` → `RobotCreated`).
pub async fn post_json<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    let body = json_body(body)?;
    read(send(Request::post(&api_url(path)), Some(body)).await?)
        .await?
        .json()
}

/// `PATCH {BASE}{path}` with a JSON body, reading the JSON answer (e.g. `PATCH /robots/{id}` → `RobotSec`).
pub async fn patch_json<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    let body = json_body(body)?;
    read(send(Request::patch(&api_url(path)), Some(body)).await?)
        .await?
        .json()
}

/// The signed-in user (`GET /users/current`).
pub async fn current_user() -> Result<UserResp, ApiError> {
    get("/users/current").await
}

/// `POST /c/login` with Harbor's form. A 401 here is a wrong name or password, not an ended session.
pub async fn sign_in(principal: &str, password: &str) -> Result<(), ApiError> {
    let body = form_body(&[("principal", principal), ("password", password)]);
    let request = Request::post("/c/login")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Requested-With", "XMLHttpRequest")
        .body(body)
        .map_err(network_error)?;
    let response = request.send().await.map_err(network_error)?;
    remember_csrf(&response);
    if response.ok() {
        Ok(())
    } else {
        Err(error_of(response).await)
    }
}

/// `POST /c/log_out`: ends the session.
pub async fn sign_out() -> Result<(), ApiError> {
    let response = Request::post("/c/log_out")
        .header("X-Requested-With", "XMLHttpRequest")
        .send()
        .await
        .map_err(network_error)?;
    forget_session();
    if response.ok() {
        Ok(())
    } else {
        Err(error_of(response).await)
    }
}

/// `POST /c/oidc/onboard` with the user name an OIDC user chose at first sign-in (409: taken).
pub async fn oidc_onboard(username: &str) -> Result<(), ApiError> {
    let body = json_body(&berth_api::oidc::OidcOnboardReq {
        username: username.to_owned(),
    })?;
    send(Request::post("/c/oidc/onboard"), Some(body))
        .await
        .map(drop)
}

/// `PUT /users/{id}/password`.
pub async fn change_password(user_id: i64, old: &str, new: &str) -> Result<(), ApiError> {
    let body = PasswordReq {
        old_password: old.to_owned(),
        new_password: new.to_owned(),
    };
    put(&format!("/users/{user_id}/password"), &body).await
}

/// A successful response, read to the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    status: u16,
    /// `X-Total-Count`, when the server sent it.
    total: Option<String>,
    body: String,
}

impl Answer {
    /// The body as JSON.
    ///
    /// Parsed in two steps: the text into a `serde_json::Value` (one parser for every answer), then the `Value`
    /// into `T`. Each answer type's deserializer then reads a `Value`, which needs far less code per type than
    /// reading JSON text (no lexing, positions or whitespace in every copy): docs/benchmarks.md, "Console".
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse_value(&self.body)
            .and_then(T::deserialize)
            .map_err(|e| unreadable(self.status, e))
    }

    /// The body as text (a job's log).
    pub fn text(&self) -> &str {
        &self.body
    }

    /// The body as one page of a list, with `X-Total-Count`.
    pub fn page<T: DeserializeOwned>(&self) -> Result<Paged<T>, ApiError> {
        let items: Vec<T> = self.json()?;
        let total = parse_total(self.total.as_deref(), items.len());
        Ok(Paged { items, total })
    }

    /// `X-Total-Count` without parsing the items (only counting them when the header is missing).
    pub fn total(&self) -> u64 {
        match self.total.as_deref().and_then(|v| v.trim().parse().ok()) {
            Some(total) => total,
            None => serde_json::from_str::<Vec<serde::de::IgnoredAny>>(&self.body)
                .map_or(0, |items| items.len() as u64),
        }
    }
}

/// JSON text as a `Value` (not generic: one copy of the text parser).
fn parse_value(body: &str) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::from_str(body)
}

/// Serialises a request body, as gloo's `RequestBuilder::json` does.
fn json_body<B: Serialize + ?Sized>(body: &B) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|e| network_error(e.into()))
}

// `send` and `read` are deliberately not generic: one copy of the transport serves every body and answer type
// (the typed wrappers above only serialise and parse), which keeps the .wasm small.
async fn send(builder: RequestBuilder, body: Option<String>) -> Result<Response, ApiError> {
    // Marks the console's calls, so a 401 does not make the browser prompt for Basic credentials.
    let mut builder = builder
        .header("Accept", "application/json")
        .header("X-Requested-With", "XMLHttpRequest");
    if let Some(token) = CSRF_TOKEN.with(|slot| slot.borrow().clone()) {
        builder = builder.header(CSRF_HEADER, &token);
    }
    let request = match body {
        Some(json) => builder
            .header("Content-Type", "application/json")
            .body(json)
            .map_err(network_error)?,
        None => builder.build().map_err(network_error)?,
    };
    let response = request.send().await.map_err(network_error)?;
    remember_csrf(&response);
    if response.ok() {
        return Ok(response);
    }
    if response.status() == 401 {
        let handler = UNAUTHORIZED.with(|slot| slot.borrow().clone());
        if let Some(handler) = handler {
            handler();
        }
    }
    Err(error_of(response).await)
}

/// Reads a successful response's body (and its `X-Total-Count`).
async fn read(response: Response) -> Result<Answer, ApiError> {
    let status = response.status();
    let total = response.headers().get("x-total-count");
    let body = response.text().await.map_err(|e| unreadable(status, e))?;
    Ok(Answer {
        status,
        total,
        body,
    })
}

fn remember_csrf(response: &Response) {
    if let Some(token) = response
        .headers()
        .get(CSRF_HEADER)
        .filter(|t| !t.is_empty())
    {
        CSRF_TOKEN.with(|slot| *slot.borrow_mut() = Some(token));
    }
}

fn unreadable(status: u16, e: impl fmt::Display) -> ApiError {
    ApiError {
        status,
        message: format!("The server's answer could not be read: {e}"),
    }
}

async fn error_of(response: Response) -> ApiError {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    ApiError {
        status,
        message: error_message(status, &body),
    }
}

fn network_error(e: gloo_net::Error) -> ApiError {
    ApiError {
        status: 0,
        message: format!("The server could not be reached: {e}"),
    }
}

fn api_url(path: &str) -> String {
    format!("{BASE}{path}")
}

/// The message to show for a failed response: the messages of Harbor's error envelope, else a plain sentence
/// with the status.
pub fn error_message(status: u16, body: &str) -> String {
    if let Ok(envelope) = serde_json::from_str::<ErrorResponse>(body) {
        let messages: Vec<&str> = envelope
            .errors
            .iter()
            .map(|e| e.message.trim())
            .filter(|m| !m.is_empty())
            .collect();
        if !messages.is_empty() {
            return format::capitalise(&messages.join("; "));
        }
    }
    match status {
        401 => "Your session has ended; please sign in again.".to_owned(),
        403 => "You are not allowed to do this.".to_owned(),
        404 => "Not found.".to_owned(),
        _ => format!("The request failed (HTTP {status})."),
    }
}

/// Reads `X-Total-Count`; without it the page is the whole list.
pub fn parse_total(header: Option<&str>, page_len: usize) -> u64 {
    header
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(page_len as u64)
}

/// Builds a query string (`?a=1&b=x%20y`) from pairs, leaving out empty values.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect();
    if encoded.is_empty() {
        String::new()
    } else {
        format!("?{}", encoded.join("&"))
    }
}

/// An `application/x-www-form-urlencoded` body.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char);
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harbor_error_messages_are_shown_as_sent() {
        let body = r#"{"errors":[{"code":"CONFLICT","message":"project team already exists"}]}"#;
        assert_eq!(error_message(409, body), "Project team already exists");
        let two = r#"{"errors":[{"code":"A","message":"first"},{"code":"B","message":"second"}]}"#;
        assert_eq!(error_message(400, two), "First; second");
    }

    #[test]
    fn other_failures_get_a_plain_sentence() {
        assert_eq!(
            error_message(502, "<html>bad gateway</html>"),
            "The request failed (HTTP 502)."
        );
        assert_eq!(error_message(403, ""), "You are not allowed to do this.");
        assert_eq!(
            error_message(500, r#"{"errors":[]}"#),
            "The request failed (HTTP 500)."
        );
    }

    #[test]
    fn total_count_falls_back_to_the_page() {
        assert_eq!(parse_total(Some("42"), 15), 42);
        assert_eq!(parse_total(Some(" 7 "), 7), 7);
        assert_eq!(parse_total(Some("many"), 3), 3);
        assert_eq!(parse_total(None, 5), 5);
    }

    fn answer(total: Option<&str>, body: &str) -> Answer {
        Answer {
            status: 200,
            total: total.map(str::to_owned),
            body: body.to_owned(),
        }
    }

    #[test]
    fn kept_answers_parse_when_read() {
        let page = answer(Some("42"), "[1,2,3]").page::<u8>();
        assert_eq!(
            page,
            Ok(Paged {
                items: vec![1, 2, 3],
                total: 42
            })
        );
        assert_eq!(
            answer(None, r#"{"a":1}"#)
                .json::<serde_json::Value>()
                .map(|v| v["a"] == 1),
            Ok(true)
        );
        let wrong = answer(None, "[1]").json::<String>();
        assert!(
            wrong.is_err_and(|e| e.status == 200 && e.message.starts_with("The server's answer"))
        );
    }

    #[test]
    fn totals_come_from_the_header_else_from_counting_the_items() {
        assert_eq!(answer(Some(" 42 "), "[]").total(), 42);
        assert_eq!(answer(None, r#"[{"a":1},{"b":[2]}]"#).total(), 2);
        assert_eq!(answer(None, "not json").total(), 0);
        assert_eq!(Answer::default().total(), 0);
    }

    #[test]
    fn query_strings_are_encoded_and_skip_empty_values() {
        let q = query_string(&[
            ("page", "2".to_owned()),
            ("q", "name=~a b".to_owned()),
            ("sort", String::new()),
        ]);
        assert_eq!(q, "?page=2&q=name%3D~a%20b");
        assert_eq!(query_string(&[("sort", String::new())]), "");
    }

    #[test]
    fn form_bodies_encode_every_reserved_character() {
        assert_eq!(
            form_body(&[("principal", "admin"), ("password", "p&ss=wörd+1")]),
            "principal=admin&password=p%26ss%3Dw%C3%B6rd%2B1"
        );
    }
}
