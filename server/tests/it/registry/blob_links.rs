//! Blob links: deleting an artifact unlinks only what it used, never an upload made for a manifest still to
//! come, and the purge job unlinks uploads whose manifest never came, giving their quota back.

use reqwest::StatusCode;
use serde_json::json;

use super::{AsAdmin, OCI_MANIFEST, image_manifest, put_manifest, upload_blob};
use crate::support::{TestServer, client};

async fn used(server: &TestServer, project: &str) -> i64 {
    let project = server
        .state
        .db
        .find_project(project)
        .await
        .unwrap()
        .unwrap();
    server
        .state
        .db
        .quota(project.id)
        .await
        .unwrap()
        .unwrap()
        .used
}

#[tokio::test]
async fn deleting_an_artifact_keeps_a_shared_layer_uploaded_for_a_pending_manifest() {
    let server = TestServer::start().await;
    let http = client();
    let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
    let layer = b"a layer both repositories use".repeat(50);
    let config_digest = upload_blob(&server, &http, "library/a", &config).await;
    let layer_digest = upload_blob(&server, &http, "library/a", &layer).await;
    let manifest = image_manifest(
        (&config_digest, config.len()),
        &[(&layer_digest, layer.len())],
        json!({}),
    );
    let digest = put_manifest(&server, &http, "library/a", "v1", OCI_MANIFEST, &manifest).await;

    // A second client uploads the same blobs to library/b (and library/a again) for manifests it has not
    // pushed yet ...
    upload_blob(&server, &http, "library/b", &config).await;
    upload_blob(&server, &http, "library/b", &layer).await;
    // ... while the first deletes its artifact.
    let response = http
        .delete(server.url(&format!("/v2/library/a/manifests/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);

    // library/a's own links went with its artifact; library/b's uploads are still there.
    let response = http
        .head(server.url(&format!("/v2/library/a/blobs/{layer_digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let pending = (config.len() + layer.len()) as i64;
    assert_eq!(used(&server, "library").await, pending);
    put_manifest(&server, &http, "library/b", "v1", OCI_MANIFEST, &manifest).await;
    assert_eq!(
        used(&server, "library").await,
        pending + manifest.len() as i64
    );
    server.stop().await;
}

#[tokio::test]
async fn the_purge_unlinks_uploads_whose_manifest_never_came() {
    let server = TestServer::start_with(|config| config.upload_ttl_secs = 1).await;
    let http = client();
    let (_, kept) = super::push_image(&server, &http, "library/app", "v1", "kept").await;
    let kept_usage = used(&server, "library").await;
    let abandoned = b"uploaded, never referenced".repeat(10);
    let digest = upload_blob(&server, &http, "library/app", &abandoned).await;
    assert_eq!(
        used(&server, "library").await,
        kept_usage + abandoned.len() as i64
    );

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    berth::jobs::upload_purge::purge_once(&server.state)
        .await
        .unwrap();
    assert_eq!(used(&server, "library").await, kept_usage);
    let response = http
        .head(server.url(&format!("/v2/library/app/blobs/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // The pushed image is untouched.
    let response = http
        .get(server.url(&format!("/v2/library/app/manifests/{kept}")))
        .admin()
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    server.stop().await;
}
