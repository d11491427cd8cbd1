//! The embedded console: history-mode fallback to `index.html`, cache headers, precompressed assets (gzip and
//! brotli), the security headers (a strict Content-Security-Policy), and the server's own paths keeping their
//! own answers.
//!
//! What is embedded depends on whether `scripts/build-console.sh` ran before the build. Without a console the
//! asset checks have nothing to check, so they pass only when `BERTH_REQUIRE_CONSOLE` is unset (scripts/test.sh
//! builds the console first and sets it).

use reqwest::StatusCode;
use std::io::Read as _;

use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    REFERRER_POLICY, VARY, X_CONTENT_TYPE_OPTIONS,
};

use crate::support::{TestResult, TestServer, client};

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Whether the console is embedded; fails the test when one is required but missing.
fn console_built() -> bool {
    let built = berth::console::is_built();
    assert!(
        built || std::env::var_os("BERTH_REQUIRE_CONSOLE").is_none(),
        "BERTH_REQUIRE_CONSOLE is set but the console was not built into berth (run scripts/build-console.sh)"
    );
    built
}

/// The `/assets/…` paths `index.html` refers to.
fn asset_paths(index: &str) -> Vec<String> {
    let mut paths: Vec<String> = index
        .split(['"', '\''])
        .filter(|part| part.starts_with("/assets/"))
        .map(str::to_owned)
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// A server with the embedded console, a client, and the `/assets/…` paths of its page; `None` (the asset
/// checks have nothing to check) when no console was built into this binary.
async fn built_console() -> Result<
    Option<(TestServer, reqwest::Client, Vec<String>)>,
    Box<dyn std::error::Error + Send + Sync>,
> {
    if !console_built() {
        eprintln!("console not built; skipping the asset checks");
        return Ok(None);
    }
    let server = TestServer::start().await;
    let http = client();
    let index = http.get(server.url("/")).send().await?.text().await?;
    let assets = asset_paths(&index);
    Ok(Some((server, http, assets)))
}

#[tokio::test]
async fn history_routes_get_the_console_page_uncached() -> TestResult {
    let server = TestServer::start().await;
    let http = client();
    for path in [
        "/",
        "/harbor/projects",
        "/harbor/projects/1/members",
        "/account/sign-in",
    ] {
        let response = http.get(server.url(path)).send().await?;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header(&response, CONTENT_TYPE),
            "text/html; charset=utf-8",
            "{path}"
        );
        assert_eq!(header(&response, CACHE_CONTROL), "no-cache", "{path}");
        let body = response.text().await?;
        if console_built() {
            assert!(body.contains("/assets/app."), "{path}: {body}");
        } else {
            assert!(body.contains("scripts/build-console.sh"), "{path}: {body}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn server_paths_keep_their_own_answers() -> TestResult {
    let server = TestServer::start().await;
    let http = client();

    // An unknown REST endpoint is still Harbor's JSON error, not the console.
    let response = http
        .get(server.url("/api/v2.0/no-such-thing"))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(header(&response, CONTENT_TYPE).starts_with("application/json"));
    let body: serde_json::Value = response.json().await?;
    assert!(body["errors"][0]["message"].is_string(), "{body}");

    // The REST API itself still answers.
    let ping = http.get(server.url("/api/v2.0/ping")).send().await?;
    assert_eq!(ping.status(), StatusCode::OK);
    let openapi = http.get(server.url("/openapi.json")).send().await?;
    assert!(header(&openapi, CONTENT_TYPE).starts_with("application/json"));

    for path in [
        "/api/nothing",
        "/c/nothing",
        "/service/nothing",
        "/assets/app.0000000000000000.js",
    ] {
        let response = http.get(server.url(path)).send().await?;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            !header(&response, CONTENT_TYPE).starts_with("text/html"),
            "{path}"
        );
    }
    // The registry's base endpoint is the registry's, not the console's.
    let v2 = http.get(server.url("/v2/")).send().await?;
    assert_ne!(header(&v2, CONTENT_TYPE), "text/html; charset=utf-8");
    // Only reads reach the console.
    let post = http.post(server.url("/harbor/projects")).send().await?;
    assert_eq!(post.status(), StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn assets_are_immutable_and_sent_compressed_when_accepted() -> TestResult {
    let Some((server, http, assets)) = built_console().await? else {
        return Ok(());
    };
    for kind in [".js", ".wasm", ".css"] {
        assert!(
            assets.iter().any(|a| a.ends_with(kind)),
            "no {kind} in {assets:?}"
        );
    }
    for asset in &assets {
        let plain = http.get(server.url(asset)).send().await?;
        assert_eq!(plain.status(), StatusCode::OK, "{asset}");
        assert_eq!(
            header(&plain, CACHE_CONTROL),
            "public, max-age=31536000, immutable",
            "{asset}"
        );
        assert_eq!(header(&plain, VARY), "Accept-Encoding", "{asset}");
        assert_eq!(
            header(&plain, CONTENT_ENCODING),
            "",
            "{asset}: identity without Accept-Encoding"
        );
        let expected_type = match asset.rsplit('.').next() {
            Some("js") => "text/javascript; charset=utf-8",
            Some("wasm") => "application/wasm",
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            other => panic!("unexpected asset type {other:?}"),
        };
        assert_eq!(header(&plain, CONTENT_TYPE), expected_type, "{asset}");
        let identity = plain.bytes().await?;
        if asset.ends_with(".wasm") {
            assert_eq!(&identity[..4], b"\0asm", "{asset}");
        }

        let gzipped = http
            .get(server.url(asset))
            .header(ACCEPT_ENCODING, "gzip, deflate")
            .send()
            .await?;
        assert_eq!(header(&gzipped, CONTENT_ENCODING), "gzip", "{asset}");
        assert_eq!(header(&gzipped, CONTENT_TYPE), expected_type, "{asset}");
        let compressed = gzipped.bytes().await?;
        assert_eq!(&compressed[..2], &[0x1f, 0x8b], "{asset}: a gzip stream");

        let refused = http
            .get(server.url(asset))
            .header(ACCEPT_ENCODING, "gzip;q=0")
            .send()
            .await?;
        assert_eq!(
            header(&refused, CONTENT_ENCODING),
            "",
            "{asset}: gzip;q=0 refuses gzip"
        );
    }

    let index = http
        .get(server.url("/harbor/projects"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await?;
    assert_eq!(header(&index, CONTENT_ENCODING), "gzip");
    assert_eq!(header(&index, CACHE_CONTROL), "no-cache");
    Ok(())
}

#[tokio::test]
async fn assets_are_sent_brotli_compressed_when_preferred() -> TestResult {
    let Some((server, http, assets)) = built_console().await? else {
        return Ok(());
    };
    let mut saw_wasm = false;
    for asset in assets {
        let identity = http.get(server.url(&asset)).send().await?.bytes().await?;
        // What browsers send: brotli wins over gzip.
        let br = http
            .get(server.url(&asset))
            .header(ACCEPT_ENCODING, "gzip, deflate, br, zstd")
            .send()
            .await?;
        assert_eq!(br.status(), StatusCode::OK, "{asset}");
        assert_eq!(header(&br, VARY), "Accept-Encoding", "{asset}");
        if header(&br, CONTENT_ENCODING).is_empty() {
            // Only a file brotli cannot shrink (none of the console's today) goes out as it is.
            assert!(
                identity.len() < 200,
                "{asset}: {} bytes sent uncompressed",
                identity.len()
            );
            continue;
        }
        assert_eq!(header(&br, CONTENT_ENCODING), "br", "{asset}");
        let compressed = br.bytes().await?;
        let mut decoded = Vec::new();
        brotli::Decompressor::new(&compressed[..], 4096).read_to_end(&mut decoded)?;
        assert_eq!(
            decoded, identity,
            "{asset}: the brotli twin decodes to the file"
        );
        assert!(compressed.len() < identity.len(), "{asset}");
        if asset.ends_with(".wasm") {
            saw_wasm = true;
            let gzip = http
                .get(server.url(&asset))
                .header(ACCEPT_ENCODING, "gzip")
                .send()
                .await?
                .bytes()
                .await?;
            assert!(
                compressed.len() < gzip.len(),
                "{asset}: brotli {} bytes, gzip {} bytes",
                compressed.len(),
                gzip.len()
            );
        }

        // q-values decide: gzip preferred, or brotli refused.
        for accept in ["br;q=0.5, gzip", "gzip, br;q=0"] {
            let r = http
                .get(server.url(&asset))
                .header(ACCEPT_ENCODING, accept)
                .send()
                .await?;
            assert_eq!(header(&r, CONTENT_ENCODING), "gzip", "{asset}: {accept}");
        }
        let none = http
            .get(server.url(&asset))
            .header(ACCEPT_ENCODING, "br;q=0, gzip;q=0")
            .send()
            .await?;
        assert_eq!(header(&none, CONTENT_ENCODING), "", "{asset}");
    }
    assert!(saw_wasm, "the module is sent brotli-compressed");

    let page = http
        .get(server.url("/harbor/projects"))
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await?;
    assert_eq!(header(&page, CONTENT_ENCODING), "br");
    assert_eq!(header(&page, CACHE_CONTROL), "no-cache");
    Ok(())
}

/// The directives of a Content-Security-Policy: name → sources.
fn directives(policy: &str) -> std::collections::HashMap<String, Vec<String>> {
    policy
        .split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace();
            let name = words.next()?.to_ascii_lowercase();
            Some((name, words.map(str::to_owned).collect()))
        })
        .collect()
}

#[tokio::test]
async fn the_console_is_served_with_a_strict_content_security_policy() -> TestResult {
    let server = TestServer::start().await;
    let http = client();
    let index = http.get(server.url("/harbor/projects")).send().await?;
    let mut answers = vec![("/harbor/projects".to_owned(), index)];
    let page = http.get(server.url("/")).send().await?.text().await?;
    for asset in asset_paths(&page) {
        let response = http.get(server.url(&asset)).send().await?;
        answers.push((asset, response));
    }
    for (path, response) in &answers {
        let policy = directives(&header(response, CONTENT_SECURITY_POLICY));
        let sources = |name: &str| policy.get(name).cloned().unwrap_or_default();
        let scripts = sources("script-src");
        assert!(scripts.contains(&"'self'".to_owned()), "{path}: {policy:?}");
        assert!(
            scripts.contains(&"'wasm-unsafe-eval'".to_owned()),
            "{path}: the module must compile"
        );
        for unsafe_source in [
            "'unsafe-inline'",
            "'unsafe-eval'",
            "*",
            "data:",
            "http:",
            "https:",
        ] {
            assert!(
                !scripts.contains(&unsafe_source.to_owned()),
                "{path}: script-src allows {unsafe_source}"
            );
        }
        assert_eq!(sources("frame-ancestors"), ["'none'"], "{path}");
        assert_eq!(sources("object-src"), ["'none'"], "{path}");
        assert_eq!(sources("base-uri"), ["'none'"], "{path}");
        assert_eq!(sources("default-src"), ["'self'"], "{path}");
        assert_eq!(
            header(response, X_CONTENT_TYPE_OPTIONS),
            "nosniff",
            "{path}"
        );
        assert_eq!(header(response, REFERRER_POLICY), "same-origin", "{path}");
    }
    if console_built() {
        // The policy allows no inline script, so the page must have none.
        for script in page.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap_or_default();
            assert!(
                tag.contains("src="),
                "an inline script in index.html: <script{tag}>"
            );
        }
        assert!(
            answers.len() > 3,
            "the page's scripts, module and stylesheet were checked"
        );
    }
    Ok(())
}

#[tokio::test]
async fn the_consoles_calls_get_no_basic_challenge() -> TestResult {
    let server = TestServer::start().await;
    let http = client();
    let from_console = http
        .get(server.url("/api/v2.0/users/current"))
        .header("X-Requested-With", "XMLHttpRequest")
        .send()
        .await?;
    assert_eq!(from_console.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&from_console, reqwest::header::WWW_AUTHENTICATE),
        "Session realm=\"berth\"",
        "a Basic challenge would open the browser's password dialog"
    );
    let wrong_password = http
        .post(server.url("/c/login"))
        .header("X-Requested-With", "XMLHttpRequest")
        .form(&[("principal", "admin"), ("password", "wrong")])
        .send()
        .await?;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&wrong_password, reqwest::header::WWW_AUTHENTICATE),
        "Session realm=\"berth\""
    );

    // Every other client still gets Harbor's Basic challenge.
    let plain = http
        .get(server.url("/api/v2.0/users/current"))
        .send()
        .await?;
    assert_eq!(
        header(&plain, reqwest::header::WWW_AUTHENTICATE),
        "Basic realm=\"berth\""
    );
    Ok(())
}
