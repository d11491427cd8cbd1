//! The admin console, served from the binary: the files `scripts/build-console.sh` built, embedded at compile
//! time by `build.rs`.
//!
//! Rules:
//! - fingerprinted files under `/assets/` (content hash in the name) are cached for a year as `immutable`;
//!   `index.html` is `no-cache`, so a new release is picked up on the next load;
//! - a file is sent brotli- or gzip-compressed (both precompressed at build time: gzip by
//!   `scripts/build-console.sh`, brotli by `build.rs`) when the request's `Accept-Encoding` allows it, the
//!   coding with the higher q-value winning and brotli (the smaller) on a tie, with `Vary: Accept-Encoding`
//!   either way (RFC 9110 §12.5.3, §8.4; RFC 7932);
//! - every answer carries a strict Content-Security-Policy ([`CONTENT_SECURITY_POLICY`]: scripts only from
//!   this origin, none inline, WebAssembly compilation allowed, never framed), `X-Content-Type-Options:
//!   nosniff` and a `Referrer-Policy`;
//! - every other GET that is not the REST API, the registry, the token service, browser sign-in or the OpenAPI
//!   document gets `index.html`, so the console's history-mode routes (`/harbor/projects/1`) survive a reload;
//! - without a built console, `/` says how to build it;
//! - the console's own API calls (marked `X-Requested-With: XMLHttpRequest`) get their 401 challenge in the
//!   `Session` scheme instead of `Basic`, so the browser does not open its password prompt over the page
//!   (see [`quiet_browser_challenge`]).

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY as CSP, CONTENT_TYPE,
    REFERRER_POLICY, VARY, WWW_AUTHENTICATE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// One embedded file and its precompressed twins.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    pub identity: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub brotli: Option<&'static [u8]>,
}

/// The console's Content-Security-Policy (CSP Level 3). Scripts come only from this origin and none is inline
/// (`index.html` loads its two small scripts as files); `'wasm-unsafe-eval'` lets the module compile the
/// console's WebAssembly and allows no JavaScript `eval`. Styles are the one stylesheet (the console sets
/// styles only through the CSSOM, which CSP does not restrict); the API and the WASM are fetched from this
/// origin. Nothing may frame the console (clickjacking), and it has no plugins, `<base>` or foreign forms.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Links out of the console (documentation, an endpoint's address) tell the other site nothing about where
/// they came from; links inside it keep the full referrer.
pub const REFERRER: &str = "same-origin";

mod built {
    use super::Embedded;
    include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));
}

/// Where the fingerprinted files live.
const ASSET_PREFIX: &str = "/assets/";
/// Path prefixes that belong to the server, never to the console.
const SERVER_PREFIXES: &[&str] = &["/api/", "/v2/", "/service/", "/c/"];
/// Exact paths that belong to the server.
const SERVER_PATHS: &[&str] = &["/api", "/v2", "/service", "/c", "/openapi.json"];
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

/// The files of a console build.
#[derive(Debug, Clone, Copy)]
pub struct Files {
    pub index: Option<Embedded>,
    pub assets: &'static [(&'static str, Embedded)],
}

/// The console embedded in this binary.
pub const EMBEDDED: Files = Files {
    index: built::INDEX_HTML,
    assets: built::ASSETS,
};

/// Whether this binary carries a built console.
pub fn is_built() -> bool {
    EMBEDDED.index.is_some()
}

/// The router's fallback: the console for every path no route claimed.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    answer(&EMBEDDED, &method, uri.path(), &headers)
}

/// Answers `method path` from `files`.
pub fn answer(files: &Files, method: &Method, path: &str, headers: &HeaderMap) -> Response {
    if is_server_path(path) || !matches!(*method, Method::GET | Method::HEAD) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    if let Some((name, file)) = files.assets.iter().find(|(name, _)| *name == path) {
        let cache = if name.starts_with(ASSET_PREFIX) {
            IMMUTABLE
        } else {
            NO_CACHE
        };
        return send(file, content_type(name), cache, headers);
    }
    if path.starts_with(ASSET_PREFIX) {
        // A missing script must fail as a 404, not parse index.html as JavaScript.
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    match &files.index {
        Some(index) => send(index, content_type("index.html"), NO_CACHE, headers),
        None => not_built(),
    }
}

/// Middleware for the REST API and sign-in: a 401 to a script's request (`X-Requested-With: XMLHttpRequest`,
/// which the console sends) challenges in the `Session` scheme. A `Basic` challenge would make the browser
/// open its own password dialog over the console (and hang a headless one); the 401 still carries a
/// challenge (RFC 9110 §11.6.1), and other clients keep getting `Basic`.
pub async fn quiet_browser_challenge(request: Request, next: Next) -> Response {
    let from_script = request
        .headers()
        .get("x-requested-with")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"XMLHttpRequest"));
    let mut response = next.run(request).await;
    if from_script && response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Session realm=\"berth\""),
        );
    }
    response
}

fn is_server_path(path: &str) -> bool {
    SERVER_PATHS.contains(&path) || SERVER_PREFIXES.iter().any(|p| path.starts_with(p))
}

fn send(
    file: &Embedded,
    content_type: &'static str,
    cache: &'static str,
    headers: &HeaderMap,
) -> Response {
    let (body, coding) = match preferred_coding(headers, file.brotli.is_some(), file.gzip.is_some())
    {
        Some(Coding::Brotli) => (file.brotli, Some("br")),
        Some(Coding::Gzip) => (file.gzip, Some("gzip")),
        None => (None, None),
    };
    let mut response = Response::new(Body::from(body.unwrap_or(file.identity)));
    let out = response.headers_mut();
    out.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    out.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    security_headers(out);
    if content_type.starts_with("text/html") {
        // The console is never framed by another site (clickjacking); `frame-ancestors` says so to browsers
        // that know CSP, this header to the others.
        out.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if let (Some(coding), Some(_)) = (coding, body) {
        out.insert(CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    response
}

/// The headers every answer of the console carries.
fn security_headers(out: &mut HeaderMap) {
    out.insert(CSP, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    out.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    out.insert(REFERRER_POLICY, HeaderValue::from_static(REFERRER));
}

fn not_built() -> Response {
    const PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Berth</title></head>\
        <body><h1>Berth</h1><p>The console was not built into this binary. The registry (<code>/v2/</code>) and \
        the REST API (<code>/api/v2.0/</code>) work as usual.</p><p>To include the console, run \
        <code>scripts/build-console.sh</code> and then build <code>berth</code> again (<code>scripts/run.sh</code> \
        does both).</p></body></html>";
    let mut response = (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, NO_CACHE),
        ],
        PAGE,
    )
        .into_response();
    security_headers(response.headers_mut());
    response
}

/// A content coding the console has precompressed twins in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
}

/// The q-value `Accept-Encoding` gives each coding: `(br, gzip, *)`, `None` where not listed (RFC 9110
/// §12.5.3; a coding listed twice keeps its last value).
fn accepted_q(headers: &HeaderMap) -> (Option<f32>, Option<f32>, Option<f32>) {
    let (mut br, mut gzip, mut any) = (None, None, None);
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .or_else(|| p.trim().strip_prefix("Q="))
                })
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match coding.as_str() {
                "br" => br = Some(q),
                "gzip" | "x-gzip" => gzip = Some(q),
                "*" => any = Some(q),
                _ => {}
            }
        }
    }
    (br, gzip, any)
}

/// The coding to send a file in, among the twins it has: each coding's q-value (its own, else `*`'s), the
/// higher above zero winning, brotli on a tie; `None` sends the file as it is.
pub fn preferred_coding(headers: &HeaderMap, has_brotli: bool, has_gzip: bool) -> Option<Coding> {
    let (br, gzip, any) = accepted_q(headers);
    let br = br.or(any).filter(|q| has_brotli && *q > 0.0);
    let gzip = gzip.or(any).filter(|q| has_gzip && *q > 0.0);
    match (br, gzip) {
        (Some(b), Some(g)) if g > b => Some(Coding::Gzip),
        (Some(_), _) => Some(Coding::Brotli),
        (None, Some(_)) => Some(Coding::Gzip),
        (None, None) => None,
    }
}

/// Whether `Accept-Encoding` allows gzip: listed (or `*`) with a q-value above zero (RFC 9110 §12.5.3).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    preferred_coding(headers, false, true) == Some(Coding::Gzip)
}

/// The media type for a file name.
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use axum::http::header::HeaderName;

    use super::*;

    const FILES: Files = Files {
        index: Some(Embedded {
            identity: b"<html>console</html>",
            gzip: Some(b"\x1f\x8bindex"),
            brotli: None,
        }),
        assets: &[
            (
                "/assets/app.0123abcd.js",
                Embedded {
                    identity: b"export default 1",
                    gzip: Some(b"\x1f\x8bjs"),
                    brotli: Some(b"br-js"),
                },
            ),
            (
                "/assets/app_bg.0123abcd.wasm",
                Embedded {
                    identity: b"\0asm",
                    gzip: None,
                    brotli: None,
                },
            ),
        ],
    };

    fn headers(pairs: &[(HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_static(value));
        }
        map
    }

    fn header(response: &Response, name: HeaderName) -> Option<&str> {
        response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn brotli_is_sent_when_preferred_or_tied_and_gzip_otherwise() {
        let path = "/assets/app.0123abcd.js";
        for (accept, coding) in [
            ("gzip, deflate, br", Some("br")),
            ("br;q=0.5, gzip", Some("gzip")),
            ("gzip, br;q=0", Some("gzip")),
            ("*", Some("br")),
            ("br;q=0, gzip;q=0", None),
            ("identity", None),
        ] {
            let r = answer(
                &FILES,
                &Method::GET,
                path,
                &headers(&[(ACCEPT_ENCODING, accept)]),
            );
            assert_eq!(header(&r, CONTENT_ENCODING), coding, "{accept}");
            assert_eq!(header(&r, VARY), Some("Accept-Encoding"), "{accept}");
        }
        // The page has no brotli twin: gzip, even when brotli is preferred.
        let index = answer(
            &FILES,
            &Method::GET,
            "/",
            &headers(&[(ACCEPT_ENCODING, "br, gzip;q=0.5")]),
        );
        assert_eq!(header(&index, CONTENT_ENCODING), Some("gzip"));
    }

    #[test]
    fn every_answer_carries_the_security_headers() {
        let empty = Files {
            index: None,
            assets: &[],
        };
        for (files, path) in [
            (&FILES, "/"),
            (&FILES, "/assets/app.0123abcd.js"),
            (&empty, "/"),
        ] {
            let r = answer(files, &Method::GET, path, &HeaderMap::new());
            assert_eq!(header(&r, CSP), Some(CONTENT_SECURITY_POLICY), "{path}");
            assert_eq!(
                header(&r, X_CONTENT_TYPE_OPTIONS),
                Some("nosniff"),
                "{path}"
            );
            assert_eq!(header(&r, REFERRER_POLICY), Some(REFERRER), "{path}");
        }
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
        assert!(!CONTENT_SECURITY_POLICY.contains("'unsafe-eval'"));
    }

    #[test]
    fn assets_are_immutable_and_compressed_when_allowed() {
        let gz = headers(&[(ACCEPT_ENCODING, "gzip, deflate")]);
        let r = answer(&FILES, &Method::GET, "/assets/app.0123abcd.js", &gz);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, CACHE_CONTROL), Some(IMMUTABLE));
        assert_eq!(header(&r, CONTENT_ENCODING), Some("gzip"));
        assert_eq!(header(&r, VARY), Some("Accept-Encoding"));
        assert_eq!(
            header(&r, CONTENT_TYPE),
            Some("text/javascript; charset=utf-8")
        );

        let plain = answer(
            &FILES,
            &Method::GET,
            "/assets/app.0123abcd.js",
            &HeaderMap::new(),
        );
        assert_eq!(header(&plain, CONTENT_ENCODING), None);

        let wasm = answer(&FILES, &Method::GET, "/assets/app_bg.0123abcd.wasm", &gz);
        assert_eq!(header(&wasm, CONTENT_TYPE), Some("application/wasm"));
        assert_eq!(
            header(&wasm, CONTENT_ENCODING),
            None,
            "no twin, so identity"
        );
    }

    #[test]
    fn history_routes_get_index_html_uncached() {
        for path in [
            "/",
            "/harbor/projects",
            "/harbor/projects/3/members",
            "/account/sign-in",
        ] {
            let r = answer(&FILES, &Method::GET, path, &HeaderMap::new());
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            assert_eq!(header(&r, CACHE_CONTROL), Some(NO_CACHE), "{path}");
            assert_eq!(
                header(&r, CONTENT_TYPE),
                Some("text/html; charset=utf-8"),
                "{path}"
            );
        }
    }

    #[test]
    fn server_paths_missing_assets_and_writes_are_not_the_console() {
        for path in [
            "/api/v2.0/nope",
            "/v2/x/manifests/1",
            "/service/x",
            "/c/nope",
            "/openapi.json",
            "/api",
        ] {
            let r = answer(&FILES, &Method::GET, path, &HeaderMap::new());
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        }
        let missing = answer(
            &FILES,
            &Method::GET,
            "/assets/app.ffff.js",
            &HeaderMap::new(),
        );
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let post = answer(&FILES, &Method::POST, "/harbor/projects", &HeaderMap::new());
        assert_eq!(post.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn an_unbuilt_console_explains_itself() {
        let empty = Files {
            index: None,
            assets: &[],
        };
        let r = answer(&empty, &Method::GET, "/", &HeaderMap::new());
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, CONTENT_TYPE), Some("text/html; charset=utf-8"));
    }

    #[test]
    fn accept_encoding_honours_q_values() {
        assert!(accepts_gzip(&headers(&[(ACCEPT_ENCODING, "gzip")])));
        assert!(accepts_gzip(&headers(&[(
            ACCEPT_ENCODING,
            "br;q=1.0, gzip;q=0.8"
        )])));
        assert!(accepts_gzip(&headers(&[(ACCEPT_ENCODING, "*")])));
        assert!(!accepts_gzip(&headers(&[(ACCEPT_ENCODING, "gzip;q=0")])));
        assert!(!accepts_gzip(&headers(&[(
            ACCEPT_ENCODING,
            "*;q=0.5, gzip;q=0"
        )])));
        assert!(!accepts_gzip(&headers(&[(ACCEPT_ENCODING, "identity")])));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
