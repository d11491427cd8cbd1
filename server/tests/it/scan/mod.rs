//! Scanning with the built-in scanner, end to end: the real advisory data imported with `berth vulndb import`,
//! images built here from the real package databases in `tests/data/vulndata/packages`, pushed with skopeo,
//! scanned through Harbor's API, and their reports compared with the expected matches of
//! `tests/data/vulndata/README.md` (§5 and §6).

mod adapter;
mod online;
mod policy;
mod proxy;
mod real_data;
mod sbom;
mod scan_all;
mod security_hub;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::clients::{ClientEnv, skopeo_copy};
use crate::images::{Image, Layout};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer, berth_cli, client};

pub const REPORT_MIME: &str = "application/vnd.security.vulnerability.report; version=1.1";

/// A file of the test data.
pub fn vulndata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/vulndata")
        .join(rel)
}

/// `(path in the image, content)` for each of `files` under `tests/data/vulndata/packages/<dir>`.
pub fn package_files(dir: &str, files: &[&str]) -> Vec<(String, Vec<u8>)> {
    files
        .iter()
        .map(|f| {
            let path = vulndata("packages").join(dir).join(f);
            let bytes =
                std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            ((*f).to_owned(), bytes)
        })
        .collect()
}

/// Imports the advisory data the expectations are computed from: the Debian tracker JSON for bookworm, the
/// Alpine 3.18 secdb, and every OSV record; and waits until the server reads the new generation.
pub async fn import_advisories(server: &TestServer) {
    let data_dir = server.dir.path().join("data");
    let inputs = [
        vulndata("debian/tracker-bookworm.json"),
        vulndata("alpine/secdb-v3.18-main.json"),
        vulndata("osv"),
    ];
    let mut args = vec!["vulndb".to_owned(), "import".to_owned()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = berth_cli(&data_dir, &args);
    assert!(
        out.status.success(),
        "vulndb import failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let switched = server
        .state
        .vulndb
        .refresh()
        .await
        .unwrap_or_else(|e| panic!("refresh: {e:#}"));
    assert!(switched || server.state.vulndb.generation().is_some());
}

/// Builds an image of `layers` and pushes it to `scans/<name>:<tag>` with skopeo.
pub fn push(
    server: &TestServer,
    env: &ClientEnv,
    work: &Path,
    name: &str,
    layers: &[Vec<(String, Vec<u8>)>],
) {
    let image = Image::from_files("amd64", layers);
    let mut layout = Layout::create(&work.join(name));
    layout.add_image("v1", &image);
    skopeo_copy(
        env,
        &layout.reference("v1"),
        &format!("docker://{}/scans/{name}:v1", server.host()),
        Some(&format!("{ADMIN_USER}:{ADMIN_PASSWORD}")),
        false,
    );
}

fn artifact_url(server: &TestServer, name: &str, rest: &str) -> String {
    server.url(&format!(
        "/api/v2.0/projects/scans/repositories/{name}/artifacts/v1{rest}"
    ))
}

/// Scans `scans/<name>:v1` through the API and waits for its report; returns the report.
pub async fn scan_and_wait(server: &TestServer, name: &str) -> Value {
    let http = client();
    let response = http
        .post(artifact_url(server, name, "/scan"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .json(&serde_json::json!({"scan_type": "vulnerability"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("scan: {e}"));
    assert_eq!(
        response.status(),
        202,
        "scan of {name}: {:?}",
        response.text().await
    );
    wait_for_report(server, name).await
}

/// Waits until `scans/<name>:v1` has a successful report, and returns it.
pub async fn wait_for_report(server: &TestServer, name: &str) -> Value {
    let http = client();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let artifact: Value = http
            .get(artifact_url(server, name, "?with_scan_overview=true"))
            .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
            .send()
            .await
            .unwrap_or_else(|e| panic!("artifact: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("artifact json: {e}"));
        let status = artifact["scan_overview"][REPORT_MIME]["scan_status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match status.as_str() {
            "Success" => break,
            "Error" | "Stopped" => panic!("scan of {name} ended {status}: {artifact}"),
            _ => {}
        }
        assert!(
            Instant::now() < deadline,
            "scan of {name} did not finish: {artifact}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let additions: Value = http
        .get(artifact_url(server, name, "/additions/vulnerabilities"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap_or_else(|e| panic!("vulnerabilities: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("vulnerabilities json: {e}"));
    additions[REPORT_MIME].clone()
}

/// `(source package or package, id, fix version)` of each finding of `report`.
pub fn findings(report: &Value) -> BTreeSet<(String, String, String)> {
    report["vulnerabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let package = v["vendor_attributes"]["source_package"]
                .as_str()
                .or_else(|| v["package"].as_str())
                .unwrap_or_default();
            (
                package.to_owned(),
                v["id"].as_str().unwrap_or_default().to_owned(),
                v["fix_version"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// A set of expected findings from `(package, id, fix)` literals.
pub fn expected(rows: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    rows.iter()
        .map(|(p, i, f)| ((*p).to_owned(), (*i).to_owned(), (*f).to_owned()))
        .collect()
}
