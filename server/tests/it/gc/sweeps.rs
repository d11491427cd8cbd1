//! What a collection deletes: the dry run names exactly what the real run then deletes; fresh blobs survive
//! the grace window; `delete_untagged` deletes untagged artifacts nothing needs and keeps the rest.

use reqwest::StatusCode;
use serde_json::json;

use super::{assert_store_consistent, collect, deletions, plant_orphan, stored_files};
use crate::registry::{
    AsAdmin, OCI_INDEX, OCI_MANIFEST, image_manifest, push_image, put_manifest, upload_blob,
};
use crate::support::{TestServer, client};

async fn delete_artifact(server: &TestServer, http: &reqwest::Client, repo: &str, digest: &str) {
    let response = http
        .delete(server.url(&format!(
            "/api/v2.0/projects/library/repositories/{repo}/artifacts/{digest}"
        )))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn used(server: &TestServer) -> i64 {
    let project = server
        .state
        .db
        .find_project("library")
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
async fn the_dry_run_names_what_the_real_run_deletes() {
    let server = TestServer::start_with(|c| {
        c.gc.blob_grace_secs = 0;
        c.jobs.poll_ms = 50;
    })
    .await;
    let http = client();
    let base = server.url("");
    let data = server.state.config.data_dir.clone();
    let (_, kept) = push_image(&server, &http, "library/app", "v1", "kept").await;
    let (_, gone) = push_image(&server, &http, "library/app", "v2", "gone").await;
    delete_artifact(&server, &http, "app", &gone).await;
    let unreferenced = upload_blob(&server, &http, "library/app", b"never referenced").await;
    let orphan = plant_orphan(&data, b"left by a crash").await;
    let before = stored_files(&data).await;

    let dry = deletions(&collect(&http, &base, json!({"dry_run": true})).await);
    assert_eq!(
        stored_files(&data).await,
        before,
        "a dry run deletes nothing"
    );
    let real = deletions(&collect(&http, &base, json!({})).await);
    assert_eq!(dry, real);
    // The deleted image's config and layer, the unreferenced upload and the orphan: named with their sizes.
    assert_eq!(real.len(), 4, "{real:?}");
    assert!(real.contains(&("blob".to_owned(), format!("{unreferenced} (16 bytes)"))));
    assert!(real.contains(&("orphan file".to_owned(), format!("{orphan} (15 bytes)"))));
    let after = stored_files(&data).await;
    assert_eq!(before.len() - after.len(), 4);
    assert_store_consistent(&server.state.db, &data).await;
    // What is still used is untouched and pullable.
    let response = http
        .get(server.url(&format!("/v2/library/app/manifests/{kept}")))
        .admin()
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // A second run finds nothing.
    assert!(deletions(&collect(&http, &base, json!({})).await).is_empty());
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

#[tokio::test]
async fn a_blob_not_yet_referenced_survives_the_grace_window_and_goes_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let http = client();
    let server = TestServer::start_with(|c| {
        c.data_dir = data.clone();
        c.gc.blob_grace_secs = 3600;
        c.jobs.poll_ms = 50;
    })
    .await;
    let digest = upload_blob(&server, &http, "library/app", b"manifest still coming").await;
    let orphan = plant_orphan(&data, b"a file being committed").await;
    let log = collect(&http, &server.url(""), json!({})).await;
    assert!(deletions(&log).is_empty(), "{log}");
    assert!(stored_files(&data).await.contains(&digest));
    assert!(stored_files(&data).await.contains(&orphan));
    let response = http
        .head(server.url(&format!("/v2/library/app/blobs/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    server.stop().await;

    // The same store, once the window has passed (here: a window of zero).
    let server = TestServer::start_with(|c| {
        c.data_dir = data.clone();
        c.gc.blob_grace_secs = 0;
        c.jobs.poll_ms = 50;
    })
    .await;
    let log = collect(&http, &server.url(""), json!({})).await;
    let deleted = deletions(&log);
    assert_eq!(deleted.len(), 2, "{log}");
    assert!(!stored_files(&data).await.contains(&digest));
    assert!(!stored_files(&data).await.contains(&orphan));
    assert_store_consistent(&server.state.db, &data).await;
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

#[tokio::test]
async fn delete_untagged_removes_what_nothing_needs_and_keeps_children_of_tagged_indexes() {
    let server = TestServer::start_with(|c| {
        c.gc.blob_grace_secs = 0;
        c.jobs.poll_ms = 50;
    })
    .await;
    let http = client();
    let base = server.url("");
    let data = server.state.config.data_dir.clone();
    // A tagged index over an untagged child.
    let (child, child_digest) = push_image(&server, &http, "library/app", "tmp", "child").await;
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": child_digest, "size": child.len(),
                       "platform": {"architecture": "amd64", "os": "linux"}}],
    }))
    .unwrap();
    put_manifest(&server, &http, "library/app", "multi", OCI_INDEX, &index).await;
    let response = http
        .delete(server.url("/api/v2.0/projects/library/repositories/app/artifacts/tmp/tags/tmp"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // An untagged image with no parent, with a layer of its own and one shared with a tagged image.
    let (_, tagged) = push_image(&server, &http, "library/app", "v1", "tagged").await;
    let own = upload_blob(
        &server,
        &http,
        "library/app",
        b"only the orphan image has this",
    )
    .await;
    let config = upload_blob(&server, &http, "library/app", b"{\"os\":\"linux\"}").await;
    let shared = crate::support::sha256(&"layer bytes for tagged".repeat(100).into_bytes());
    let manifest = image_manifest((&config, 14), &[(&own, 30), (&shared, 2200)], json!({}));
    let untagged = crate::support::sha256(&manifest);
    put_manifest(
        &server,
        &http,
        "library/app",
        &untagged,
        OCI_MANIFEST,
        &manifest,
    )
    .await;
    let used_before = used(&server).await;

    let dry_log = collect(
        &http,
        &base,
        json!({"delete_untagged": true, "dry_run": true}),
    )
    .await;
    assert!(
        dry_log.contains("untagged artifacts use are not counted"),
        "the dry run says its figures leave out what the untagged artifacts free: {dry_log}"
    );
    let dry = deletions(&dry_log);
    let log = collect(&http, &base, json!({"delete_untagged": true})).await;
    let real = deletions(&log);
    let artifacts: Vec<_> = real.iter().filter(|(w, _)| w == "artifact").collect();
    assert_eq!(artifacts.len(), 1, "{log}");
    assert!(
        artifacts[0]
            .1
            .starts_with(&format!("library/app@{untagged}"))
    );
    assert_eq!(
        dry.iter()
            .filter(|(w, _)| w == "artifact")
            .collect::<Vec<_>>(),
        artifacts
    );
    // Its own layer and config went; the shared layer stayed.
    let files = stored_files(&data).await;
    assert!(!files.contains(&own));
    assert!(!files.contains(&config));
    assert!(files.contains(&shared));
    for (digest, expected) in [
        (untagged.as_str(), StatusCode::NOT_FOUND),
        (child_digest.as_str(), StatusCode::OK),
        (tagged.as_str(), StatusCode::OK),
    ] {
        let response = http
            .get(server.url(&format!("/v2/library/app/manifests/{digest}")))
            .admin()
            .header("accept", format!("{OCI_MANIFEST}, {OCI_INDEX}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{digest}");
    }
    assert!(
        used(&server).await < used_before,
        "the quota gave back the deleted image"
    );
    assert_store_consistent(&server.state.db, &data).await;
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}
