//! Harbor's Pluggable Scanner API v1.2, both ways: Berth's adapter server checked with the rules of Harbor's own
//! client (`src/pkg/scan/rest/v1/`: metadata `Validate()`, the `302` + `Refresh-After` loop read with
//! `strconv.ParseInt(v, 10, 8)`, error bodies), and Berth's client of an external adapter scanning through Berth's
//! own adapter over real HTTP.

use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use super::*;

const KEY: &str = "adapter-key-0123456789";
const ERROR_MIME: &str = "application/vnd.scanner.adapter.error+json; version=1.0";
const METADATA_MIME: &str = "application/vnd.scanner.adapter.metadata+json; version=1.1";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const NATIVE_REPORT: &str = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";
const SBOM_REPORT: &str = "application/vnd.security.sbom.report+json; version=1.0";
/// Harbor's `supportedMimeTypes`.
const HARBOR_KNOWN: [&str; 3] = [REPORT_MIME, NATIVE_REPORT, SBOM_REPORT];

async fn start_adapter(workers: Option<u32>) -> TestServer {
    TestServer::start_bound(|config, addr| {
        config.scan.adapter_api_key = Some(berth::secret::Secret::new(KEY));
        config.external_url = Some(format!("http://{addr}"));
        // The scan webhooks go to a receiver on the loopback.
        config.webhooks.allow_local_targets = true;
        if let Some(n) = workers {
            config.jobs.workers = n;
        }
    })
    .await
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Asserts Harbor's error answer: `status`, the error media type and a non-empty `error.message`.
async fn assert_error(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    assert_eq!(content_type(&response), ERROR_MIME);
    let body: Value = response.json().await.unwrap_or_else(|e| panic!("{e}"));
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{body}");
    message.to_owned()
}

/// Harbor's `ScannerAdapterMetadata.Validate()`.
fn harbor_validate(metadata: &Value) -> Result<(), String> {
    let scanner = &metadata["scanner"];
    for field in ["name", "vendor", "version"] {
        if scanner[field].as_str().unwrap_or_default().is_empty() {
            return Err(format!("invalid scanner in metadata: {field}"));
        }
    }
    let capabilities = metadata["capabilities"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if capabilities.is_empty() {
        return Err("invalid capabilities in metadata".to_owned());
    }
    for capability in capabilities {
        let list = |key: &str| -> Vec<String> {
            capability[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        };
        if !list("consumes_mime_types")
            .iter()
            .any(|m| m == DOCKER_MANIFEST)
        {
            return Err("missing docker manifest in consumes_mime_types".to_owned());
        }
        if !list("produces_mime_types")
            .iter()
            .any(|m| HARBOR_KNOWN.contains(&m.as_str()))
        {
            return Err("missing a known report type in produces_mime_types".to_owned());
        }
    }
    Ok(())
}

fn adapter_get(server: &TestServer, path: &str) -> reqwest::RequestBuilder {
    client().get(server.url(path)).bearer_auth(KEY)
}

/// Posts a scan request; returns the response.
async fn post_scan(server: &TestServer, body: &Value) -> reqwest::Response {
    client()
        .post(server.url("/api/v1/scan"))
        .header("X-ScannerAdapter-API-Key", KEY)
        .header(
            "content-type",
            "application/vnd.scanner.adapter.scan.request+json; version=1.1",
        )
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("scan: {e}"))
}

fn scan_request(registry: &str, authorization: &str, repository: &str, digest: &str) -> Value {
    json!({
        "registry": {"url": registry, "authorization": authorization},
        "artifact": {"repository": repository, "digest": digest, "tag": "v1", "mime_type": DOCKER_MANIFEST},
    })
}

/// Harbor's client loop for a report: on `302` it reads `Refresh-After` as an int8 (a value it cannot read is an
/// error) and waits that long; a `200` is the report; anything else is returned as an error answer.
async fn harbor_get_report(
    server: &TestServer,
    id: &str,
    accept: &str,
    query: &str,
) -> Result<reqwest::Response, reqwest::Response> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let response = adapter_get(server, &format!("/api/v1/scan/{id}/report{query}"))
            .header("accept", accept)
            .send()
            .await
            .unwrap_or_else(|e| panic!("report: {e}"));
        match response.status().as_u16() {
            200 => return Ok(response),
            302 => {
                assert!(response.headers().get("location").is_none());
                let value = response
                    .headers()
                    .get("refresh-after")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let seconds: i8 = value
                    .parse()
                    .unwrap_or_else(|e| panic!("Refresh-After {value:?} is not an int8: {e}"));
                assert!(seconds > 0, "Refresh-After {seconds}");
                assert!(Instant::now() < deadline, "the scan did not finish");
                tokio::time::sleep(Duration::from_secs(seconds.unsigned_abs().into())).await;
            }
            _ => return Err(response),
        }
    }
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[tokio::test]
async fn the_adapter_api_is_off_without_a_key_and_needs_the_key() {
    let off = TestServer::start().await;
    let response = client()
        .get(off.url("/api/v1/metadata"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_error(response, 404).await;
    off.stop().await;

    let server = start_adapter(Some(0)).await;
    let http = client();
    let url = server.url("/api/v1/metadata");
    for request in [
        http.get(&url),
        http.get(&url).bearer_auth("wrong"),
        http.get(&url).header("X-ScannerAdapter-API-Key", "wrong"),
        http.get(&url).basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD)),
    ] {
        let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_error(response, 401).await;
    }
    let basic_key = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(KEY)
    );
    for request in [
        http.get(&url).bearer_auth(KEY),
        http.get(&url).header("X-ScannerAdapter-API-Key", KEY),
        http.get(&url).header("authorization", basic_key),
    ] {
        let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), 200);
        assert_eq!(content_type(&response), METADATA_MIME);
        let metadata: Value = response.json().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(harbor_validate(&metadata), Ok(()), "{metadata}");
        assert_eq!(
            metadata["properties"]["harbor.scanner-adapter/scanner-type"],
            "os-package-vulnerability"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn scan_requests_are_checked_and_bounded_and_a_pending_scan_answers_302() {
    // No workers: every accepted scan stays pending.
    let server = start_adapter(Some(0)).await;
    let digest = format!("sha256:{}", "a".repeat(64));
    let good = scan_request(&server.url(""), "", "library/app", &digest);

    let response = client()
        .post(server.url("/api/v1/scan"))
        .bearer_auth(KEY)
        .body("{not json")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_error(response, 400).await;
    for (field, value) in [
        ("/artifact/digest", json!("sha256:short")),
        ("/artifact/repository", json!("UPPER/../x")),
        (
            "/artifact/mime_type",
            json!("application/vnd.oci.image.index.v1+json"),
        ),
        ("/registry/url", json!("ftp://registry")),
        ("/registry/url", json!("http://user:pw@registry")),
    ] {
        let mut bad = good.clone();
        if let Some(slot) = bad.pointer_mut(field) {
            *slot = value;
        }
        assert_error(post_scan(&server, &bad).await, 422).await;
    }
    let mut huge = good.clone();
    huge["registry"]["authorization"] = json!("B".repeat(70 * 1024));
    assert_eq!(post_scan(&server, &huge).await.status(), 413);

    let response = post_scan(&server, &good).await;
    assert_eq!(response.status(), 202);
    assert_eq!(
        content_type(&response),
        "application/vnd.scanner.adapter.scan.response+json; version=1.0"
    );
    let id = response
        .json::<Value>()
        .await
        .unwrap_or_else(|e| panic!("{e}"))["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!id.is_empty());

    // Pending: 302 with a Refresh-After Harbor can read, and no Location.
    for accept in [REPORT_MIME, NATIVE_REPORT] {
        let response = adapter_get(&server, &format!("/api/v1/scan/{id}/report"))
            .header("accept", accept)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), 302);
        assert!(response.headers().get("location").is_none());
        let value = response.headers()["refresh-after"]
            .to_str()
            .unwrap_or_default();
        let seconds: i8 = value.parse().unwrap_or_else(|e| panic!("{value}: {e}"));
        assert!((1..=127).contains(&seconds));
    }
    // SBOM reports need ?sbom_media_type=, and one of the two formats.
    for query in ["", "?sbom_media_type=text/plain"] {
        let response = adapter_get(&server, &format!("/api/v1/scan/{id}/report{query}"))
            .header("accept", SBOM_REPORT)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_error(response, 400).await;
    }
    let response = adapter_get(&server, &format!("/api/v1/scan/{id}/report"))
        .header("accept", "application/x-unknown")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_error(response, 400).await;
    let response = adapter_get(&server, "/api/v1/scan/no-such-id/report")
        .header("accept", REPORT_MIME)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_error(response, 404).await;

    // The queue holds 64 adapter scans; the next request is refused until some finish.
    for _ in 1..64 {
        assert_eq!(post_scan(&server, &good).await.status(), 202);
    }
    assert_error(post_scan(&server, &good).await, 503).await;
    server.stop().await;
}

#[tokio::test]
async fn a_scan_that_cannot_pull_ends_with_harbors_error_body() {
    let server = start_adapter(None).await;
    let closed = format!("http://127.0.0.1:{}", crate::support::free_port());
    let digest = format!("sha256:{}", "b".repeat(64));
    let response = post_scan(&server, &scan_request(&closed, "", "library/app", &digest)).await;
    assert_eq!(response.status(), 202);
    let id = response
        .json::<Value>()
        .await
        .unwrap_or_else(|e| panic!("{e}"))["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let Err(response) = harbor_get_report(&server, &id, REPORT_MIME, "").await else {
        panic!("a scan of an unreachable registry succeeded");
    };
    let message = assert_error(response, 500).await;
    assert!(message.contains("could not be reached"), "{message}");
    server.stop().await;
}

/// The digest of `scans/<name>:v1`.
async fn digest_of(server: &TestServer, name: &str) -> String {
    let artifact: Value = client()
        .get(server.url(&format!(
            "/api/v2.0/projects/scans/repositories/{name}/artifacts/v1"
        )))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    artifact["digest"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn harbors_client_and_berths_client_get_the_built_in_findings_through_the_adapter() {
    crate::images::require_tool("skopeo");
    let server = start_adapter(None).await;
    import_advisories(&server).await;
    server.create_project("scans", false).await;
    // Each scan's end reaches the project's webhook receiver, the built-in scanner's and the adapter's alike.
    let (receiver, receiver_url) = crate::webhooks::start_receiver(vec![]).await;
    crate::webhooks::create_policy(
        &server,
        &client(),
        "scans",
        json!({
            "name": "scans",
            "enabled": true,
            "event_types": ["SCANNING_COMPLETED", "SCANNING_FAILED"],
            "targets": [crate::webhooks::http_target(&format!("{receiver_url}/scans"), "", None)]
        }),
    )
    .await;
    let env = ClientEnv::new();
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    push(
        &server,
        &env,
        work.path(),
        "debian-12.0",
        &[package_files(
            "debian12-derived-12.0",
            &["etc/os-release", "var/lib/dpkg/status"],
        )],
    );
    let built_in = findings(&scan_and_wait(&server, "debian-12.0").await);
    assert!(
        built_in.contains(&(
            "glibc".to_owned(),
            "CVE-2023-4911".to_owned(),
            "2.36-9+deb12u3".to_owned()
        )),
        "{built_in:?}"
    );
    let digest = digest_of(&server, "debian-12.0").await;
    let built_in_overview = overview_of(&server, "debian-12.0").await;
    let event = receiver.wait_for("/scans", "SCANNING_COMPLETED").await;
    assert_scan_event(&event.body, &digest, &built_in_overview);

    // The metadata names the database's build time once one is imported.
    let metadata: Value = adapter_get(&server, "/api/v1/metadata")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        metadata["properties"]["harbor.scanner-adapter/vulnerability-database-updated-at"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{metadata}"
    );

    // Harbor's client: the registry is this Berth's /v2, pulled with Basic credentials.
    let request = scan_request(
        &server.url(""),
        &basic(ADMIN_USER, ADMIN_PASSWORD),
        "scans/debian-12.0",
        &digest,
    );
    let response = post_scan(&server, &request).await;
    assert_eq!(response.status(), 202);
    let id = response
        .json::<Value>()
        .await
        .unwrap_or_else(|e| panic!("{e}"))["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for accept in [REPORT_MIME, NATIVE_REPORT] {
        let Ok(response) = harbor_get_report(&server, &id, accept, "").await else {
            panic!("the adapter scan failed");
        };
        assert_eq!(content_type(&response), accept);
        let report: Value = response.json().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(findings(&report), built_in, "findings through the adapter");
        assert_eq!(report["artifact"]["digest"], digest.as_str());
        assert_eq!(report["scanner"]["name"], "Berth");
    }
    for (format, key) in [
        ("application/spdx+json", "spdxVersion"),
        ("application/vnd.cyclonedx+json", "bomFormat"),
    ] {
        let query = format!("?sbom_media_type={}", format.replace('+', "%2B"));
        let Ok(response) = harbor_get_report(&server, &id, SBOM_REPORT, &query).await else {
            panic!("the SBOM report failed");
        };
        assert_eq!(content_type(&response), SBOM_REPORT);
        let report: Value = response.json().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report["media_type"], format);
        assert!(report["sbom"].get(key).is_some(), "{report}");
    }

    // Berth's client: this Berth's own adapter registered as a scanner and chosen for the project.
    let http = client();
    let response = http
        .post(server.url("/api/v2.0/scanners"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&json!({
            "name": "berth-adapter",
            "url": server.url(""),
            "auth": "X-ScannerAdapter-API-Key",
            "access_credential": KEY,
        }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    let uuid = response.headers()["location"]
        .to_str()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let response = http
        .put(server.url("/api/v2.0/projects/scans/scanner"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&json!({"uuid": uuid}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    // The project refuses vulnerable images; the adapter's pull for the scan is let through all the same.
    let response = http
        .put(server.url("/api/v2.0/projects/scans"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&json!({"metadata": {"prevent_vul": "true", "severity": "low"}}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let refused = http
        .get(server.url("/v2/scans/debian-12.0/manifests/v1"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .header(
            "accept",
            "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(refused.status(), 412, "an ordinary pull is refused");
    let remote = scan_and_wait(&server, "debian-12.0").await;
    assert_eq!(
        findings(&remote),
        built_in,
        "findings through the external adapter"
    );
    let overview = overview_of(&server, "debian-12.0").await;
    assert_eq!(overview["scanner"]["name"], "berth-adapter", "{overview}");
    assert_eq!(overview["severity"], built_in_overview["severity"]);
    assert_eq!(overview["summary"], built_in_overview["summary"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while receiver.count("/scans") < 2 {
        assert!(
            Instant::now() < deadline,
            "no second scan event: {:#?}",
            receiver.got.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = receiver.got.lock().unwrap().clone();
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(events[1].body["type"], "SCANNING_COMPLETED", "{events:#?}");
    assert_scan_event(&events[1].body, &digest, &overview);
    server.stop().await;
}

/// A SCANNING_COMPLETED payload in Harbor's shape for `scans/debian-12.0@digest`, its overview the artifact's.
fn assert_scan_event(event: &Value, digest: &str, overview: &Value) {
    assert_eq!(event["type"], "SCANNING_COMPLETED", "{event}");
    let data = &event["event_data"];
    assert_eq!(
        data["repository"]["repo_full_name"], "scans/debian-12.0",
        "{event}"
    );
    let resource = &data["resources"][0];
    assert_eq!(resource["digest"], digest, "{event}");
    let sent = &resource["scan_overview"][REPORT_MIME];
    assert_eq!(sent["scan_status"], "Success", "{event}");
    assert_eq!(sent["severity"], overview["severity"], "{event}");
    assert_eq!(sent["summary"], overview["summary"], "{event}");
}

/// The scan overview of `scans/<name>:v1`.
async fn overview_of(server: &TestServer, name: &str) -> Value {
    let artifact: Value = client()
        .get(server.url(&format!(
            "/api/v2.0/projects/scans/repositories/{name}/artifacts/v1?with_scan_overview=true"
        )))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    artifact["scan_overview"][REPORT_MIME].clone()
}
