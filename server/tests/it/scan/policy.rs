//! Scan on push, "prevent vulnerable images" at pull time, and the CVE allowlists (project, system, expiry),
//! with skopeo pushing and pulling against a running Berth.

use std::process::Command;

use serde_json::json;

use super::*;
use crate::images::run;

const DEBIAN_FILES: [&str; 2] = ["etc/os-release", "var/lib/dpkg/status"];

/// `skopeo copy` of `scans/<name>:v1` into a fresh layout: its output, for the error a refused pull shows.
fn pull(
    server: &TestServer,
    env: &ClientEnv,
    work: &Path,
    name: &str,
    attempt: &str,
) -> std::process::Output {
    let mut cmd: Command = crate::clients::skopeo_copy_cmd(
        env,
        &format!("docker://{}/scans/{name}:v1", server.host()),
        &format!(
            "oci:{}:v1",
            work.join(format!("pulled-{name}-{attempt}")).display()
        ),
        Some(&format!("{ADMIN_USER}:{ADMIN_PASSWORD}")),
        false,
    );
    run(&mut cmd)
}

async fn put_project(server: &TestServer, body: Value) {
    let response = client()
        .put(server.url("/api/v2.0/projects/scans"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("put project: {e}"));
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prevent_vulnerable_images_refuses_pulls_until_the_allowlist_exempts_every_finding() {
    crate::images::require_tool("skopeo");
    let server = TestServer::start().await;
    import_advisories(&server).await;
    server.create_project("scans", false).await;
    let env = ClientEnv::new();
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    // Harbor's `none` threshold: any finding at all refuses the pull.
    put_project(
        &server,
        json!({"metadata": {"prevent_vul": "true", "severity": "none"}}),
    )
    .await;
    push(
        &server,
        &env,
        work.path(),
        "debian-12.0",
        &[package_files("debian12-derived-12.0", &DEBIAN_FILES)],
    );

    let refused = pull(&server, &env, work.path(), "debian-12.0", "unscanned");
    let said = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(!refused.status.success(), "an unscanned image is pulled");
    assert!(
        said.contains("without vulnerability scanning"),
        "skopeo said: {said}"
    );

    let report = scan_and_wait(&server, "debian-12.0").await;
    let ids: Vec<String> = findings(&report).into_iter().map(|(_, id, _)| id).collect();
    assert_eq!(ids.len(), 27);
    let refused = pull(&server, &env, work.path(), "debian-12.0", "vulnerable");
    let said = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(!refused.status.success(), "a vulnerable image is pulled");
    assert!(
        said.contains("cannot be pulled due to configured policy")
            && said.contains("None")
            && said.contains("or higher from running"),
        "skopeo said: {said}"
    );

    // Every finding but one allowlisted (tar's, found in one package only): still refused, and the message
    // names the one left.
    let kept = "CVE-2005-2541";
    let rest: Vec<&String> = ids.iter().filter(|id| *id != kept).collect();
    put_project(&server, json!({"cve_allowlist": {"items": rest.iter().map(|id| json!({"cve_id": id})).collect::<Vec<_>>()}})).await;
    let refused = pull(&server, &env, work.path(), "debian-12.0", "one-left");
    let said = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(!refused.status.success());
    assert!(
        said.contains("current image with 1 vulnerability ") && said.contains(kept),
        "skopeo said: {said}"
    );

    // All of them: the pull goes through, and the report marks them allowlisted.
    put_project(&server, json!({"cve_allowlist": {"items": ids.iter().map(|id| json!({"cve_id": id})).collect::<Vec<_>>()}})).await;
    let allowed = pull(&server, &env, work.path(), "debian-12.0", "allowlisted");
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    let report: Value = client()
        .get(server.url("/api/v2.0/projects/scans/repositories/debian-12.0/artifacts/v1/additions/vulnerabilities"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap_or_else(|e| panic!("vulnerabilities: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("json: {e}"));
    let rows = report[REPORT_MIME]["vulnerabilities"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let marked = rows
        .iter()
        .filter(|v| v["vendor_attributes"]["allowlisted"] == true)
        .count();
    assert_eq!(
        marked,
        rows.len(),
        "every row (one per installed package) is marked"
    );
    assert!(marked > 27);

    // An allowlist that has expired exempts nothing.
    put_project(&server, json!({"cve_allowlist": {"expires_at": 1_000_000_000, "items": ids.iter().map(|id| json!({"cve_id": id})).collect::<Vec<_>>()}})).await;
    let refused = pull(&server, &env, work.path(), "debian-12.0", "expired");
    assert!(
        !refused.status.success(),
        "an expired allowlist still exempts"
    );

    // Reusing the system allowlist: empty at first (refused), then holding every id (allowed).
    put_project(
        &server,
        json!({"metadata": {"reuse_sys_cve_allowlist": "true"}}),
    )
    .await;
    let refused = pull(&server, &env, work.path(), "debian-12.0", "system-empty");
    assert!(
        !refused.status.success(),
        "an empty system allowlist exempts"
    );
    let response = client()
        .put(server.url("/api/v2.0/system/CVEAllowlist"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&json!({"items": ids.iter().map(|id| json!({"cve_id": id})).collect::<Vec<_>>()}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("system allowlist: {e}"));
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let allowed = pull(&server, &env, work.path(), "debian-12.0", "system");
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );

    // With prevention off, anything goes.
    put_project(
        &server,
        json!({"metadata": {"prevent_vul": "false", "reuse_sys_cve_allowlist": "false"}}),
    )
    .await;
    let allowed = pull(&server, &env, work.path(), "debian-12.0", "off");
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scan_and_sbom_on_push_without_being_asked() {
    crate::images::require_tool("skopeo");
    let server = TestServer::start().await;
    import_advisories(&server).await;
    server.create_project("scans", false).await;
    put_project(
        &server,
        json!({"metadata": {"auto_scan": "true", "auto_sbom_generation": "true"}}),
    )
    .await;
    let env = ClientEnv::new();
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    push(
        &server,
        &env,
        work.path(),
        "alpine",
        &[package_files(
            "alpine3.18-minirootfs-3.18.9",
            &[
                "etc/os-release",
                "etc/alpine-release",
                "lib/apk/db/installed",
            ],
        )],
    );
    let report = wait_for_report(&server, "alpine").await;
    assert_eq!(
        findings(&report),
        expected(&[("musl", "CVE-2025-26519", "1.2.4-r3")])
    );
    // The SBOM was generated too, and names the image's apk packages.
    let http = client();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let artifact: Value = http
            .get(artifact_url(&server, "alpine", "?with_sbom_overview=true"))
            .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
            .send()
            .await
            .unwrap_or_else(|e| panic!("artifact: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("artifact json: {e}"));
        match artifact["sbom_overview"]["scan_status"].as_str() {
            Some("Success") => break,
            Some("Error" | "Stopped") => panic!("SBOM on push ended: {artifact}"),
            _ => {}
        }
        assert!(Instant::now() < deadline, "no SBOM on push: {artifact}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let document = http
        .get(artifact_url(&server, "alpine", "/additions/sbom"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap_or_else(|e| panic!("sbom: {e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("sbom text: {e}"));
    assert!(
        document.contains("pkg:apk/alpine/musl@1.2.4-r2"),
        "{document}"
    );
    server.stop().await;
}
