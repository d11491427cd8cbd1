//! `/scanners`, `/scanners/ping`, `/scanners/{registration_id}[/metadata]`, `/projects/{p}/scanner[/candidates]`
//! and `/system/CVEAllowlist`, against a running Berth and small scanner adapters served by the test itself.

use std::net::SocketAddr;

use axum::Router;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{As, api, error_code, get_json};
use crate::support::{TestServer, berth_cli, client};

const DOCKER: &str = "application/vnd.docker.distribution.manifest.v2+json";
const NATIVE: &str = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";
/// What the adapter that fails answers, which must never reach Berth's caller.
const UPSTREAM_SECRET: &str = "UPSTREAM-INTERNAL-DETAIL-7f3a";
const API_KEY: &str = "k-123";
const DB_UPDATED_AT: &str = "harbor.scanner-adapter/vulnerability-database-updated-at";
const DB_GENERATION: &str = "berth/vulnerability-database-generation";

fn metadata(name: &str, vendor: &str, consumes: &str, produces: &str) -> Value {
    json!({
        "scanner": {"name": name, "vendor": vendor, "version": "0.1"},
        "capabilities": [{"consumes_mime_types": [consumes], "produces_mime_types": [produces]}],
        "properties": {"harbor.scanner-adapter/scanner-type": "os-package-vulnerability"}
    })
}

/// Adapters at path prefixes of one local HTTP server: `/good`, `/good2`, `/no-vendor`, `/no-docker`,
/// `/unknown-report`, `/redirect` (to `/good`), `/huge`, `/fails` (500 with a body) and `/keyed` (needs
/// `X-ScannerAdapter-API-Key`).
pub(super) async fn adapters() -> SocketAddr {
    let json_of = |v: Value| axum::Json(v).into_response();
    let app = Router::new()
        .route(
            "/good/api/v1/metadata",
            get(move || async move { json_of(metadata("Trivy", "Aqua", DOCKER, NATIVE)) }),
        )
        .route(
            "/good2/api/v1/metadata",
            get(move || async move { json_of(metadata("Other", "Acme", DOCKER, NATIVE)) }),
        )
        .route(
            "/no-vendor/api/v1/metadata",
            get(move || async move { json_of(metadata("Trivy", "", DOCKER, NATIVE)) }),
        )
        .route(
            "/no-docker/api/v1/metadata",
            get(move || async move {
                json_of(metadata(
                    "Trivy",
                    "Aqua",
                    "application/vnd.oci.image.manifest.v1+json",
                    NATIVE,
                ))
            }),
        )
        .route(
            "/unknown-report/api/v1/metadata",
            get(move || async move { json_of(metadata("Trivy", "Aqua", DOCKER, "text/plain")) }),
        )
        .route(
            "/redirect/api/v1/metadata",
            get(|| async { Redirect::temporary("/good/api/v1/metadata") }),
        )
        .route(
            "/huge/api/v1/metadata",
            get(|| async { " ".repeat(2 * 1024 * 1024) }),
        )
        .route(
            "/fails/api/v1/metadata",
            get(|| async { (AxumStatus::INTERNAL_SERVER_ERROR, UPSTREAM_SECRET) }),
        )
        .route(
            "/keyed/api/v1/metadata",
            get(move |headers: HeaderMap| async move {
                if headers
                    .get("x-scanneradapter-api-key")
                    .is_some_and(|k| k == API_KEY)
                {
                    json_of(metadata("Keyed", "Acme", DOCKER, NATIVE))
                } else {
                    Response::builder()
                        .status(401)
                        .body(axum::body::Body::from(UPSTREAM_SECRET))
                        .unwrap()
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// `method path` as admin with `body` as JSON.
async fn send(
    server: &TestServer,
    http: &reqwest::Client,
    method: reqwest::Method,
    (path, body): (&str, Value),
) -> reqwest::Response {
    let request = http.request(method, api(server, path)).admin();
    request.json(&body).send().await.unwrap()
}

async fn post(s: &TestServer, h: &reqwest::Client, path: &str, body: Value) -> reqwest::Response {
    send(s, h, reqwest::Method::POST, (path, body)).await
}

async fn put(s: &TestServer, h: &reqwest::Client, path: &str, body: Value) -> reqwest::Response {
    send(s, h, reqwest::Method::PUT, (path, body)).await
}

/// Registers the adapter at `url` as `name`; returns its uuid.
pub(super) async fn register(
    server: &TestServer,
    http: &reqwest::Client,
    name: &str,
    url: &str,
) -> String {
    let response = post(server, http, "/scanners", json!({"name": name, "url": url})).await;
    assert_eq!(response.status(), StatusCode::CREATED, "register {name}");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/api/v2.0/scanners/"), "{location}");
    location.rsplit('/').next().unwrap().to_owned()
}

async fn message(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_built_in_scanner_is_registered_default_and_protected() {
    let server = TestServer::start().await;
    let http = client();
    let response = http
        .get(api(&server, "/scanners"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "1");
    let list: Value = response.json().await.unwrap();
    let berth = &list[0];
    assert_eq!(berth["name"], "Berth");
    assert_eq!(berth["is_default"], true);
    assert_eq!(berth["url"], "berth://built-in");
    assert_eq!(berth["capabilities"]["support_sbom"], true);
    let uuid = berth["uuid"].as_str().unwrap().to_owned();

    let path = format!("/scanners/{uuid}");
    let response = put(
        &server,
        &http,
        &path,
        json!({"name": "Mine", "url": "http://x"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = http
        .delete(api(&server, &path))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(get_json(&http, api(&server, &path)).await["name"], "Berth");

    let meta = get_json(&http, api(&server, &format!("{path}/metadata"))).await;
    assert_eq!(meta["scanner"]["name"], "Berth");
    assert_eq!(meta["scanner"]["vendor"], "Berth");
    assert_eq!(meta["scanner"]["version"], env!("CARGO_PKG_VERSION"));
    let consumes = &meta["capabilities"][0]["consumes_mime_types"];
    assert!(consumes.as_array().unwrap().iter().any(|m| m == DOCKER));
    // No vulnerability database yet: the metadata names none.
    assert!(meta["properties"].get(DB_UPDATED_AT).is_none(), "{meta}");
    assert!(meta["properties"].get(DB_GENERATION).is_none(), "{meta}");

    // Once one is imported, the built-in scanner's metadata names its build time and generation (what
    // Interrogation Services → Vulnerability shows).
    let data_dir = server.dir.path().join("data");
    let tracker = crate::scan::vulndata("debian/tracker-bookworm.json");
    let out = berth_cli(
        &data_dir,
        &["vulndb", "import", &tracker.display().to_string()],
    );
    assert!(out.status.success(), "{out:?}");
    server.state.vulndb.refresh().await.unwrap();
    let generation = server.state.vulndb.generation().unwrap();
    let meta = get_json(&http, api(&server, &format!("{path}/metadata"))).await;
    let built_at = meta["properties"][DB_UPDATED_AT]
        .as_str()
        .unwrap_or_default();
    assert!(
        chrono::DateTime::parse_from_rfc3339(built_at).is_ok(),
        "{meta}"
    );
    assert_eq!(meta["properties"][DB_GENERATION], generation.to_string());

    // Only system administrators: 401 anonymous, 403 for a user.
    server.create_user("plain", "Pass12345", false).await;
    let anonymous = http.get(api(&server, "/scanners")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let user = http
        .get(api(&server, "/scanners"))
        .user("plain", "Pass12345")
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), StatusCode::FORBIDDEN);
    let user = http
        .post(api(&server, "/scanners/ping"))
        .user("plain", "Pass12345")
        .json(&json!({"name": "x", "url": "http://127.0.0.1:9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), StatusCode::FORBIDDEN);
    server.stop().await;
}

#[tokio::test]
async fn registrations_are_created_checked_switched_and_deleted() {
    let adapters = adapters().await;
    let server = TestServer::start().await;
    let http = client();
    let good = format!("http://{adapters}/good");
    let uuid = register(&server, &http, "Trivy-1", &good).await;
    let path = format!("/scanners/{uuid}");
    let one = get_json(&http, api(&server, &path)).await;
    assert_eq!(one["is_default"], false);
    assert_eq!(one["health"], "healthy");
    assert_eq!(one["adapter"], "Trivy");
    assert_eq!(one["vendor"], "Aqua");
    assert_eq!(one["capabilities"]["support_vulnerability"], true);

    // Bad requests, each with a precise 400 or a 409.
    for (body, status, words) in [
        (
            json!({"name": "Trivy-1", "url": format!("http://{adapters}/good2")}),
            StatusCode::CONFLICT,
            "already exists",
        ),
        (
            json!({"name": "Other", "url": good.clone()}),
            StatusCode::CONFLICT,
            "already exists",
        ),
        (
            json!({"name": "Berth", "url": format!("http://{adapters}/good2")}),
            StatusCode::BAD_REQUEST,
            "reserved",
        ),
        (
            json!({"name": "", "url": good.clone()}),
            StatusCode::BAD_REQUEST,
            "missing registration name",
        ),
        (
            json!({"name": "n".repeat(129), "url": good.clone()}),
            StatusCode::BAD_REQUEST,
            "at most 128",
        ),
        (
            json!({"name": "x", "url": "ftp://host"}),
            StatusCode::BAD_REQUEST,
            "http or https",
        ),
        (
            json!({"name": "x", "url": "http://"}),
            StatusCode::BAD_REQUEST,
            "invalid scanner url",
        ),
        (
            json!({"name": "x", "url": good.clone(), "auth": "Basic"}),
            StatusCode::BAD_REQUEST,
            "access_credential is required",
        ),
        (
            json!({"name": "x", "url": good.clone(), "auth": "Digest", "access_credential": "c"}),
            StatusCode::BAD_REQUEST,
            "not supported",
        ),
        (
            json!({"name": "x", "url": good.clone(), "auth": "Bearer", "access_credential": "c".repeat(513)}),
            StatusCode::BAD_REQUEST,
            "at most 512",
        ),
        (
            json!({"name": "x", "url": format!("http://{adapters}/no-vendor")}),
            StatusCode::BAD_REQUEST,
            "invalid scanner",
        ),
    ] {
        let response = post(&server, &http, "/scanners", body.clone()).await;
        assert_eq!(response.status(), status, "{body}");
        let text = message(response).await;
        assert!(text.contains(words), "{body}: {text}");
    }

    // Switching the default: one at a time.
    let response = http
        .patch(api(&server, &path))
        .admin()
        .json(&json!({"is_default": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let list = get_json(&http, api(&server, "/scanners")).await;
    let defaults: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["is_default"] == true)
        .collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["uuid"], uuid.as_str());
    assert_eq!(
        list[0]["uuid"],
        uuid.as_str(),
        "the default is listed first"
    );
    let response = http
        .patch(api(&server, "/scanners/no-such"))
        .admin()
        .json(&json!({"is_default": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // The default cannot be disabled; other fields change.
    let response = put(
        &server,
        &http,
        &path,
        json!({"name": "Trivy-1", "url": good, "disabled": true}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = put(
        &server,
        &http,
        &path,
        json!({"name": "Trivy-renamed", "url": good, "description": "d"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let one = get_json(&http, api(&server, &path)).await;
    assert_eq!(
        (one["name"].as_str(), one["description"].as_str()),
        (Some("Trivy-renamed"), Some("d"))
    );

    // Deleting the default answers the registration and gives the default back to the built-in one.
    let response = http
        .delete(api(&server, &path))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let deleted: Value = response.json().await.unwrap();
    assert_eq!(deleted["name"], "Trivy-renamed");
    let response = http.get(api(&server, &path)).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "NOT_FOUND");
    let list = get_json(&http, api(&server, "/scanners")).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["is_default"], true);
    server.stop().await;
}

/// The credential is sealed at rest, never shown, kept by a `PUT` that leaves it out, and sent to the adapter.
#[tokio::test]
async fn the_access_credential_is_kept_hidden_and_used() {
    let adapters = adapters().await;
    let server = TestServer::start().await;
    let http = client();
    let keyed = format!("http://{adapters}/keyed");
    let response = post(
        &server,
        &http,
        "/scanners",
        json!({"name": "Keyed", "url": keyed, "auth": "X-ScannerAdapter-API-Key", "access_credential": "wrong"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let text = message(response).await;
    assert!(
        text.contains("401") && !text.contains(UPSTREAM_SECRET),
        "{text}"
    );
    let response = post(
        &server,
        &http,
        "/scanners",
        json!({"name": "Keyed", "url": keyed, "auth": "X-ScannerAdapter-API-Key", "access_credential": API_KEY}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let uuid = response.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let path = format!("/scanners/{uuid}");
    let body = http
        .get(api(&server, &path))
        .admin()
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!body.contains(API_KEY), "{body}");
    let stored: Vec<u8> = sqlx_credential(&server, &uuid).await;
    assert!(
        !stored
            .windows(API_KEY.len())
            .any(|w| w == API_KEY.as_bytes()),
        "sealed at rest"
    );

    let response = put(
        &server,
        &http,
        &path,
        json!({"name": "Keyed", "url": keyed, "auth": "X-ScannerAdapter-API-Key", "description": "kept"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let meta = get_json(&http, api(&server, &format!("{path}/metadata"))).await;
    assert_eq!(meta["scanner"]["name"], "Keyed");
    server.stop().await;
}

async fn sqlx_credential(server: &TestServer, uuid: &str) -> Vec<u8> {
    let row = server.state.db.scanner(uuid).await.unwrap().unwrap();
    row.access_credential.unwrap()
}

#[tokio::test]
async fn ping_applies_harbors_rules_and_never_echoes_the_adapter() {
    let adapters = adapters().await;
    let server = TestServer::start().await;
    let http = client();
    let url = |prefix: &str| format!("http://{adapters}/{prefix}");
    let response = post(
        &server,
        &http,
        "/scanners/ping",
        json!({"name": "t", "url": url("good")}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = post(
        &server,
        &http,
        "/scanners/ping",
        json!({"name": "t", "url": url("keyed"), "auth": "X-ScannerAdapter-API-Key", "access_credential": API_KEY}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    for (prefix, words) in [
        ("no-vendor", "invalid scanner in metadata"),
        ("no-docker", "consumes_mime_types"),
        ("unknown-report", "produces_mime_types"),
        ("redirect", "307"),
        ("huge", "larger than"),
        ("fails", "500"),
        ("keyed", "401"),
    ] {
        let response = post(
            &server,
            &http,
            "/scanners/ping",
            json!({"name": "t", "url": url(prefix)}),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{prefix}");
        let text = message(response).await;
        assert!(text.contains(words), "{prefix}: {text}");
        assert!(!text.contains(UPSTREAM_SECRET), "{prefix}: {text}");
    }
    let closed = crate::support::free_port();
    let response = post(
        &server,
        &http,
        "/scanners/ping",
        json!({"name": "t", "url": format!("http://127.0.0.1:{closed}")}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(message(response).await.contains("could not be reached"));
    let response = post(
        &server,
        &http,
        "/scanners/ping",
        json!({"url": url("good")}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

/// `method path` as `user` (password `Pass12345`), with `body` as JSON if given.
async fn as_user(
    server: &TestServer,
    http: &reqwest::Client,
    (method, path): (reqwest::Method, &str),
    user: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = http
        .request(method, api(server, path))
        .user(user, "Pass12345");
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_project_chooses_its_scanner_among_the_candidates() {
    use reqwest::Method;

    let adapters = adapters().await;
    let server = TestServer::start().await;
    let http = client();
    server.create_project("scanned", false).await;
    for (name, role) in [("padmin", 1), ("dev", 2)] {
        server.create_user(name, "Pass12345", false).await;
        let member = json!({"role_id": role, "member_user": {"username": name}});
        let response = post(&server, &http, "/projects/scanned/members", member).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    server.create_user("outsider", "Pass12345", false).await;
    let other = register(&server, &http, "Other", &format!("http://{adapters}/good")).await;
    let scanner = (Method::GET, "/projects/scanned/scanner");
    let set = (Method::PUT, "/projects/scanned/scanner");
    let candidates = (
        Method::GET,
        "/projects/scanned/scanner/candidates?page_size=1",
    );
    let current = |user: &'static str| {
        let (server, http) = (&server, &http);
        async move {
            let response = as_user(
                server,
                http,
                (Method::GET, "/projects/scanned/scanner"),
                user,
                None,
            )
            .await;
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };

    assert_eq!(
        current("dev").await["name"],
        "Berth",
        "the default until the project chooses"
    );
    let response = as_user(&server, &http, scanner.clone(), "outsider", None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http.get(api(&server, scanner.1)).send().await.unwrap();
    assert!(matches!(
        response.status(),
        StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND
    ));

    let choose = json!({"uuid": other});
    let response = as_user(&server, &http, set.clone(), "dev", Some(choose.clone())).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = as_user(&server, &http, candidates.clone(), "dev", None).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = as_user(&server, &http, candidates, "padmin", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "2");
    let response = as_user(
        &server,
        &http,
        set.clone(),
        "padmin",
        Some(json!({"uuid": "no-such"})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = as_user(&server, &http, set, "padmin", Some(choose)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(current("dev").await["uuid"], other.as_str());

    // Deleting the registration drops the project's choice: it uses the default again.
    let response = http
        .delete(api(&server, &format!("/scanners/{other}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(current("dev").await["name"], "Berth");
    server.stop().await;
}

#[tokio::test]
async fn the_system_allowlist_is_read_by_all_and_written_by_admins() {
    use reqwest::Method;

    let server = TestServer::start().await;
    let http = client();
    server.create_user("plain", "Pass12345", false).await;
    let path = "/system/CVEAllowlist";
    let response = http.get(api(&server, path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let read = || {
        let (server, http) = (&server, &http);
        async move {
            let response = as_user(server, http, (Method::GET, path), "plain", None).await;
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    let empty = read().await;
    assert_eq!(empty["items"], json!([]));
    assert_eq!(empty["project_id"], 0);
    assert!(empty["expires_at"].is_null());

    let list = json!({"items": [{"cve_id": "CVE-2024-2"}, {"cve_id": "CVE-2024-1"}], "expires_at": 4_102_444_800_i64});
    let response = as_user(
        &server,
        &http,
        (Method::PUT, path),
        "plain",
        Some(list.clone()),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = put(&server, &http, path, list).await;
    assert_eq!(response.status(), StatusCode::OK);
    let stored = read().await;
    assert_eq!(
        stored["items"],
        json!([{"cve_id": "CVE-2024-1"}, {"cve_id": "CVE-2024-2"}])
    );
    assert_eq!(stored["expires_at"], 4_102_444_800_i64);
    assert_eq!(stored["project_id"], 0);

    for bad in [
        json!({"items": [{"cve_id": "CVE-1"}, {"cve_id": "CVE-1"}]}),
        json!({"items": [{"cve_id": " "}]}),
        json!({"items": [], "expires_at": -1}),
    ] {
        let response = put(&server, &http, path, bad.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let response = put(
        &server,
        &http,
        path,
        json!({"items": [{"cve_id": "CVE-9"}]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let stored = get_json(&http, api(&server, path)).await;
    assert_eq!(stored["items"], json!([{"cve_id": "CVE-9"}]));
    assert!(
        stored["expires_at"].is_null(),
        "no expiry once it is left out"
    );
    server.stop().await;
}
