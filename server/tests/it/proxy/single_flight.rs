//! One upstream fetch per blob and manifest, however many clients ask at once.

use std::sync::Arc;

use super::upstreams::{CountingForwarder, Distribution};
use super::{RegistryClient, proxy_project, start_berth};
use crate::clients::{ClientEnv, assert_layout_has_image, short_tempdir};
use crate::images::{Image, run};

const REPO: &str = "library/big";

/// 20 concurrent cold pulls over HTTP of a three-layer image: every client gets the right bytes, and the
/// upstream saw exactly one GET per blob and at most one manifest GET.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_cold_pulls_fetch_each_blob_once() {
    let image = Arc::new(Image::build(
        801,
        "amd64",
        &[3_000_000, 2_000_000, 1_500_000],
    ));
    let registry = Distribution::start(None).await;
    registry.push_image(REPO, "v1", &image).await;
    let forwarder = CountingForwarder::start(registry.addr()).await;
    let server = start_berth().await;
    proxy_project(&server, "hub", "docker-registry", &forwarder.base(), None).await;

    let base = server.url("");
    let pulls: Vec<_> = (0..20)
        .map(|_| {
            let image = image.clone();
            let base = base.clone();
            tokio::spawn(async move {
                let client = RegistryClient::new(&base, None);
                client.pull(&format!("hub/{REPO}"), "v1", &image).await;
            })
        })
        .collect();
    for pull in pulls {
        pull.await
            .unwrap_or_else(|e| panic!("a concurrent pull failed: {e}"));
    }

    let seen = forwarder.requests();
    for blob in image.referenced_blobs() {
        assert_eq!(
            forwarder.count("GET", &format!("/v2/{REPO}/blobs/{}", blob.digest)),
            1,
            "exactly one upstream GET of blob {} ({} bytes): {seen:?}",
            blob.digest,
            blob.size()
        );
    }
    assert!(
        forwarder.count("GET", &format!("/v2/{REPO}/manifests/")) <= 1,
        "at most one upstream manifest GET for one digest: {seen:?}"
    );
}

/// A cold pull with skopeo through the proxy into an OCI layout: byte-identical, one upstream GET per blob.
#[tokio::test]
async fn skopeo_cold_pull_through_the_proxy() {
    let image = Image::build(802, "amd64", &[300_000, 50_000]);
    let registry = Distribution::start(None).await;
    registry.push_image(REPO, "v1", &image).await;
    let forwarder = CountingForwarder::start(registry.addr()).await;
    let server = start_berth().await;
    proxy_project(&server, "hub", "docker-registry", &forwarder.base(), None).await;

    let env = ClientEnv::new();
    let out = short_tempdir("bo");
    let layout = out.path().join("layout");
    let mut cmd = env.skopeo();
    cmd.args(["copy", "--src-tls-verify=false"])
        .arg(format!("docker://{}/hub/{REPO}:v1", server.host()))
        .arg(format!("oci:{}:v1", layout.display()));
    // skopeo blocks; the in-process server must keep running meanwhile.
    let output = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "skopeo copy failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_layout_has_image(&layout, "v1", &image);
    for blob in image.referenced_blobs() {
        assert_eq!(
            forwarder.count("GET", &format!("/v2/{REPO}/blobs/{}", blob.digest)),
            1,
            "{:?}",
            forwarder.requests()
        );
    }
}
