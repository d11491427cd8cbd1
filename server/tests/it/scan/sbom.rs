//! SBOM generation (`scan_type: sbom`) of the real Debian 12.0 image, stored as Harbor stores it: an accessory
//! manifest seen by `with_accessory`, `sbom_overview`, the referrers API, skopeo, the quota and artifact
//! deletion; downloaded through the `sbom` addition.

use std::collections::BTreeSet;

use super::*;
use crate::api::repositories::used;
use crate::api::{As, api, get_json};
use crate::clients::{admin_creds, skopeo_raw};

const SBOM_ARTIFACT_TYPE: &str = "application/vnd.goharbor.harbor.sbom.v1";

/// `POST …<rest>` (`/scan` or `/scan/stop`) with `scan_type` for `scans/<name>:v1`; the response.
async fn ask(server: &TestServer, name: &str, rest: &str, scan_type: &str) -> reqwest::Response {
    client()
        .post(artifact_url(server, name, rest))
        .admin()
        .json(&serde_json::json!({"scan_type": scan_type}))
        .send()
        .await
        .unwrap()
}

/// [`ask`] with `scan_type: sbom`.
async fn ask_sbom(server: &TestServer, name: &str, rest: &str) -> reqwest::Response {
    ask(server, name, rest, "sbom").await
}

/// Generates the SBOM of `scans/<name>:v1` and waits for it; returns the artifact's `sbom_overview`.
async fn generate_and_wait(server: &TestServer, name: &str) -> Value {
    let response = ask_sbom(server, name, "/scan").await;
    assert_eq!(response.status(), 202, "{:?}", response.text().await);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let artifact = get_json(
            &client(),
            artifact_url(server, name, "?with_sbom_overview=true"),
        )
        .await;
        let overview = artifact["sbom_overview"].clone();
        match overview["scan_status"].as_str().unwrap_or_default() {
            "Success" => return overview,
            "Error" | "Stopped" => panic!("SBOM of {name} ended: {artifact}"),
            _ => {}
        }
        assert!(Instant::now() < deadline, "SBOM not done: {artifact}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The `sbom` addition: its headers and document.
async fn download(server: &TestServer, name: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let response = client()
        .get(artifact_url(server, name, "/additions/sbom"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    (headers, response.bytes().await.unwrap().to_vec())
}

/// The referrers of `digest` in `scans/<name>` as the OCI referrers API lists them.
async fn referrers(server: &TestServer, name: &str, digest: &str) -> Vec<Value> {
    let index = get_json(
        &client(),
        server.url(&format!("/v2/scans/{name}/referrers/{digest}")),
    )
    .await;
    index["manifests"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_sbom_is_stored_as_harbor_s_accessory_and_replaced_by_the_next() {
    crate::images::require_tool("skopeo");
    let server = TestServer::start().await;
    server.create_project("scans", false).await;
    let http = client();
    let project_id = get_json(&http, api(&server, "/projects/scans")).await["project_id"]
        .as_i64()
        .unwrap();
    let env = ClientEnv::new();
    let work = tempfile::tempdir().unwrap();
    let name = "debian-12.0";
    push(
        &server,
        &env,
        work.path(),
        name,
        &[package_files(
            "debian12-derived-12.0",
            &["etc/os-release", "var/lib/dpkg/status"],
        )],
    );
    let image = get_json(&http, artifact_url(&server, name, "")).await;
    let image_digest = image["digest"].as_str().unwrap().to_owned();
    let image_storage = used(&server, &http, project_id).await;
    // Not generated yet: no overview, no document.
    assert!(image.get("sbom_overview").is_none_or(Value::is_null));
    let none = http
        .get(artifact_url(&server, name, "/additions/sbom"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 404);

    let overview = generate_and_wait(&server, name).await;
    let first = overview["sbom_digest"].as_str().unwrap().to_owned();
    assert_eq!(overview["scanner"]["name"], "Berth");
    assert!(
        overview["report_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    assert!(overview["start_time"].is_string() && overview["end_time"].is_string());

    // The accessory, under its subject.
    let artifact = get_json(&http, artifact_url(&server, name, "?with_accessory=true")).await;
    let accessories = artifact["accessories"].as_array().unwrap();
    assert_eq!(accessories.len(), 1, "{artifact}");
    assert_eq!(accessories[0]["digest"], first.as_str());
    assert_eq!(accessories[0]["type"], "harbor.sbom");
    assert_eq!(
        accessories[0]["subject_artifact_digest"],
        image_digest.as_str()
    );

    // The referrers API lists it with Harbor's SBOM artifact type.
    let listed = referrers(&server, name, &image_digest).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["digest"], first.as_str());
    assert_eq!(listed[0]["artifactType"], SBOM_ARTIFACT_TYPE);

    // skopeo pulls the accessory manifest: Harbor's shape, whose one layer is the document downloaded.
    let reference = format!("docker://{}/scans/{name}@{first}", server.host());
    let raw = skopeo_raw(&env, &reference, Some(&admin_creds()));
    assert_eq!(crate::support::sha256(&raw), first);
    let manifest: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(manifest["artifactType"], SBOM_ARTIFACT_TYPE);
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(manifest["subject"]["digest"], image_digest.as_str());
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], "application/spdx+json");
    let layout = work.path().join("sbom-layout");
    skopeo_copy(
        &env,
        &reference,
        &format!("oci:{}:sbom", layout.display()),
        Some(&admin_creds()),
        false,
    );
    let layer_digest = layers[0]["digest"].as_str().unwrap();
    let pulled = std::fs::read(
        layout
            .join("blobs/sha256")
            .join(layer_digest.trim_start_matches("sha256:")),
    )
    .unwrap();

    // The download is that document: SPDX 2.3 with the image's 86 dpkg packages.
    let (headers, document) = download(&server, name).await;
    assert_eq!(document, pulled);
    assert_eq!(headers["content-type"], "application/spdx+json");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"sbom_debian-12.0_"),
        "{disposition}"
    );
    let spdx: Value = serde_json::from_slice(&document).unwrap();
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    let purls: BTreeSet<&str> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["externalRefs"].as_array().into_iter().flatten())
        .filter_map(|r| r["referenceLocator"].as_str())
        .collect();
    let debs = purls
        .iter()
        .filter(|p| p.starts_with("pkg:deb/debian/"))
        .count();
    assert_eq!(debs, 86, "{purls:?}");
    assert!(
        purls
            .iter()
            .any(|p| p.starts_with("pkg:deb/debian/libssl3@3.0.9-1")),
        "{purls:?}"
    );

    // The quota counts the accessory: the empty config, the document and the manifest.
    let with_sbom = used(&server, &http, project_id).await;
    assert_eq!(
        with_sbom,
        image_storage + 2 + document.len() as i64 + raw.len() as i64
    );
    server.assert_quota_ledger_agrees().await;

    // A second generation replaces the first.
    let overview = generate_and_wait(&server, name).await;
    let second = overview["sbom_digest"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let listed = referrers(&server, name, &image_digest).await;
    let digests: Vec<&str> = listed.iter().filter_map(|m| m["digest"].as_str()).collect();
    assert_eq!(digests, vec![second.as_str()]);
    let old = http
        .get(server.url(&format!("/v2/scans/{name}/manifests/{first}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 404, "the first SBOM is gone");
    let (_, document) = download(&server, name).await;
    let raw = skopeo_raw(
        &env,
        &format!("docker://{}/scans/{name}@{second}", server.host()),
        Some(&admin_creds()),
    );
    assert_eq!(
        used(&server, &http, project_id).await,
        image_storage + 2 + document.len() as i64 + raw.len() as i64
    );
    server.assert_quota_ledger_agrees().await;

    // Deleting the image deletes its SBOM, and the quota gives everything back.
    let deleted = http
        .delete(artifact_url(&server, name, ""))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let gone = http
        .get(server.url(&format!("/v2/scans/{name}/manifests/{second}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    assert_eq!(used(&server, &http, project_id).await, 0);
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sbom_requests_are_checked() {
    let server = TestServer::start().await;
    server.create_project("scans", false).await;
    // An unknown scan type is a 400, before anything else; a missing artifact is a 404.
    let response = ask(&server, "none", "/scan", "sboms").await;
    assert_eq!(response.status(), 400);
    assert_eq!(ask_sbom(&server, "none", "/scan").await.status(), 404);
    assert_eq!(ask_sbom(&server, "none", "/scan/stop").await.status(), 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_child_of_an_index_gets_its_own_sbom() {
    crate::images::require_tool("skopeo");
    let server = TestServer::start().await;
    server.create_project("scans", false).await;
    let http = client();
    let env = ClientEnv::new();
    let work = tempfile::tempdir().unwrap();
    let debian = Image::from_files(
        "amd64",
        &[package_files(
            "debian12-derived-12.0",
            &["etc/os-release", "var/lib/dpkg/status"],
        )],
    );
    let alpine = Image::from_files(
        "arm64",
        &[package_files(
            "alpine3.18-minirootfs-3.18.9",
            &["etc/os-release", "lib/apk/db/installed"],
        )],
    );
    let manifests: Vec<Value> = [&debian, &alpine]
        .iter()
        .map(|child| {
            let mut d = child.manifest.descriptor();
            d["platform"] = serde_json::json!({"architecture": child.architecture, "os": "linux"});
            d
        })
        .collect();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    let multi = crate::images::MultiArch {
        index: crate::images::Blob::new(
            "application/vnd.oci.image.index.v1+json",
            serde_json::to_vec(&index).unwrap(),
        ),
        children: vec![debian.clone(), alpine.clone()],
    };
    let mut layout = Layout::create(&work.path().join("multi"));
    layout.add_multi_arch("v1", &multi);
    skopeo_copy(
        &env,
        &layout.reference("v1"),
        &format!("docker://{}/scans/multi:v1", server.host()),
        Some(&admin_creds()),
        true,
    );

    let overview = generate_and_wait(&server, "multi").await;
    assert!(overview.get("sbom_digest").is_none(), "{overview}");
    // Nothing is running any more: stopping finds nothing to stop, and says so as Harbor does (202).
    assert_eq!(ask_sbom(&server, "multi", "/scan/stop").await.status(), 202);
    for (child, purl) in [(&debian, "pkg:deb/debian/"), (&alpine, "pkg:apk/alpine/")] {
        let digest = child.manifest.digest.as_str();
        let artifact = get_json(
            &http,
            api(
                &server,
                &format!(
                    "/projects/scans/repositories/multi/artifacts/{digest}?with_sbom_overview=true&with_accessory=true"
                ),
            ),
        )
        .await;
        assert_eq!(artifact["sbom_overview"]["scan_status"], "Success");
        let sbom = artifact["sbom_overview"]["sbom_digest"].as_str().unwrap();
        assert_eq!(artifact["accessories"][0]["digest"], sbom, "{artifact}");
        let listed = referrers(&server, "multi", digest).await;
        assert_eq!(listed.len(), 1);
        let response = http
            .get(api(
                &server,
                &format!("/projects/scans/repositories/multi/artifacts/{digest}/additions/sbom"),
            ))
            .admin()
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let spdx: Value = response.json().await.unwrap();
        assert_eq!(spdx["packages"][0]["versionInfo"], digest);
        assert!(spdx.to_string().contains(purl), "{purl} in {spdx}");
    }
    server.stop().await;
}

/// `PUT /jobservice/queues/{kind}` with `action`.
async fn queue(server: &TestServer, kind: &str, action: &str) {
    let response = client()
        .put(api(server, &format!("/jobservice/queues/{kind}")))
        .admin()
        .json(&serde_json::json!({"action": action}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{action} {kind}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stopping_a_scan_leaves_the_sbom_generation_and_the_reverse() {
    crate::images::require_tool("skopeo");
    let server = TestServer::start().await;
    server.create_project("scans", false).await;
    let env = ClientEnv::new();
    let work = tempfile::tempdir().unwrap();
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
    // Both kinds wait in their queues, so each stop finds its own request pending.
    queue(&server, "IMAGE_SCAN", "pause").await;
    queue(&server, "SBOM", "pause").await;
    let scan = ask(&server, "debian-12.0", "/scan", "vulnerability").await;
    assert_eq!(scan.status(), 202);
    assert_eq!(
        ask_sbom(&server, "debian-12.0", "/scan").await.status(),
        202
    );
    let stop = ask(&server, "debian-12.0", "/scan/stop", "vulnerability").await;
    assert_eq!(stop.status(), 202);
    let statuses = || async {
        let artifact = get_json(
            &client(),
            artifact_url(
                &server,
                "debian-12.0",
                "?with_scan_overview=true&with_sbom_overview=true",
            ),
        )
        .await;
        (
            artifact["scan_overview"][REPORT_MIME]["scan_status"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            artifact["sbom_overview"]["scan_status"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (scan, sbom) = statuses().await;
        if scan == "Stopped" {
            assert_eq!(sbom, "Pending", "the SBOM generation was left alone");
            break;
        }
        assert!(Instant::now() < deadline, "the scan did not stop: {scan}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The reverse: a new scan waits while the SBOM generation is stopped.
    let scan = ask(&server, "debian-12.0", "/scan", "vulnerability").await;
    assert_eq!(scan.status(), 202);
    assert_eq!(
        ask_sbom(&server, "debian-12.0", "/scan/stop")
            .await
            .status(),
        202
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (scan, sbom) = statuses().await;
        if sbom == "Stopped" {
            assert_eq!(scan, "Pending", "the scan was left alone");
            break;
        }
        assert!(Instant::now() < deadline, "the SBOM did not stop: {sbom}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    queue(&server, "IMAGE_SCAN", "resume").await;
    // The scan left pending runs once its queue resumes.
    wait_for_report(&server, "debian-12.0").await;
    server.stop().await;
}
