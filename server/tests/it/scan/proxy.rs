//! Scan-before-serve in a proxy-cache project that prevents vulnerable images: the first pull of an image
//! fetches its layers, scans it and decides on its report, so a proxied image is never served unscanned.

use serde_json::json;

use super::*;
use crate::proxy::upstreams::Distribution;
use crate::proxy::{create_endpoint, create_proxy_project};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_proxied_image_is_scanned_before_its_first_pull_is_answered() {
    crate::images::require_tool("skopeo");
    crate::images::require_tool("docker-registry");
    let registry = Distribution::start(None).await;
    let image = Image::from_files(
        "amd64",
        &[package_files(
            "debian12-derived-12.0",
            &["etc/os-release", "var/lib/dpkg/status"],
        )],
    );
    registry.push_image("library/debian", "v1", &image).await;
    let server = TestServer::start().await;
    import_advisories(&server).await;
    let endpoint = create_endpoint(
        &server,
        "upstream",
        "docker-registry",
        &registry.url(""),
        None,
    )
    .await;
    create_proxy_project(
        &server,
        "hub",
        endpoint,
        json!({"prevent_vul": "true", "severity": "none"}),
        None,
    )
    .await;
    let env = ClientEnv::new();
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let pull = |attempt: &str| {
        crate::images::run(&mut crate::clients::skopeo_copy_cmd(
            &env,
            &format!("docker://{}/hub/library/debian:v1", server.host()),
            &format!("oci:{}:v1", work.path().join(attempt).display()),
            Some(&format!("{ADMIN_USER}:{ADMIN_PASSWORD}")),
            false,
        ))
    };

    // The first pull is answered only after the scan: refused for its findings, not for being unscanned.
    let refused = pull("first");
    let said = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(
        !refused.status.success(),
        "a vulnerable proxied image was served"
    );
    assert!(
        said.contains("cannot be pulled due to configured policy")
            && !said.contains("without vulnerability scanning"),
        "skopeo said: {said}"
    );
    let report: Value = client()
        .get(server.url("/api/v2.0/projects/hub/repositories/library%252Fdebian/artifacts/v1/additions/vulnerabilities"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap_or_else(|e| panic!("vulnerabilities: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("json: {e}"));
    let ids: BTreeSet<String> = findings(&report[REPORT_MIME])
        .into_iter()
        .map(|(_, id, _)| id)
        .collect();
    assert_eq!(ids.len(), 27, "the proxied image's report: {report}");

    // Allowlisting every finding lets it through, from the cache.
    let response = client()
        .put(server.url("/api/v2.0/projects/hub"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&json!({"cve_allowlist": {"items": ids.iter().map(|id| json!({"cve_id": id})).collect::<Vec<_>>()}}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("allowlist: {e}"));
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let allowed = pull("allowlisted");
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    server.stop().await;
}
