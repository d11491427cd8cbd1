//! The sweep against concurrent pushes. The race is built step by step through the database layer, as a
//! collection takes its steps (unlink, claim, delete the file, forget the row), with pushes in between; then
//! collections run in a loop while eight clients push and pull images that share layers.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::json;

use super::{assert_store_consistent, collect, stored_files};
use crate::registry::{AsAdmin, OCI_MANIFEST, error_code, image_manifest, sha256, upload_blob};
use crate::support::{TestServer, client};

/// A cutoff after everything done so far: every blob is past the grace.
fn cutoff_now() -> String {
    berth::db::timestamp(chrono::Utc::now() + chrono::Duration::seconds(1))
}

#[tokio::test]
async fn a_push_linking_a_blob_being_deleted_gets_blob_unknown_and_uploads_it_again() {
    let server = TestServer::start().await;
    let http = client();
    let db = &server.state.db;
    let data = server.state.config.data_dir.clone();
    let layer = b"a layer the collection is deleting".to_vec();
    let config = b"{\"os\":\"linux\"}".to_vec();
    let digest = upload_blob(&server, &http, "library/app", &layer).await;
    let config_digest = upload_blob(&server, &http, "library/other", &config).await;

    // The collection unlinks the stale upload and claims the blob; its file is still there.
    let cutoff = cutoff_now();
    let batch = db
        .gc_unlink_stale(&cutoff, &(0, String::new()), 100, false)
        .await
        .unwrap();
    assert_eq!(batch.unlinked.len(), 2);
    let claimed = db
        .gc_claim_blobs(&cutoff, std::slice::from_ref(&digest))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(stored_files(&data).await.contains(&digest));

    // A manifest naming it is refused; a mount of it opens an upload instead; it is not served.
    let manifest = image_manifest(
        (&config_digest, config.len()),
        &[(&digest, layer.len())],
        json!({}),
    );
    let response = http
        .put(server.url("/v2/library/app/manifests/v1"))
        .admin()
        .header("content-type", OCI_MANIFEST)
        .body(manifest.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "MANIFEST_BLOB_UNKNOWN");
    let response = http
        .head(server.url(&format!("/v2/library/app/blobs/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // Uploaded again while the row is still deleting: the commit waits for the deletion to finish ...
    let upload = {
        let (http, url, layer) = (
            http.clone(),
            server.url(&format!("/v2/library/app/blobs/uploads/?digest={digest}")),
            layer.clone(),
        );
        tokio::spawn(async move {
            http.post(url)
                .admin()
                .header("content-type", "application/octet-stream")
                .body(layer)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !upload.is_finished(),
        "the upload waits while the blob is being deleted"
    );
    // ... which the collection finishes: the old file, then the old row.
    server
        .state
        .blobs
        .delete(&digest.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        db.gc_forget_blobs(std::slice::from_ref(&digest))
            .await
            .unwrap(),
        1
    );
    assert_eq!(upload.await.unwrap(), StatusCode::CREATED);
    // The new file is in place, and the push goes through.
    assert!(stored_files(&data).await.contains(&digest));
    crate::registry::upload_blob(&server, &http, "library/app", &config).await;
    crate::registry::put_manifest(&server, &http, "library/app", "v1", OCI_MANIFEST, &manifest)
        .await;
    let response = http
        .get(server.url(&format!("/v2/library/app/blobs/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(sha256(&response.bytes().await.unwrap()), digest);
    // The link just made is newer than the old cutoff: that claim can no longer take it.
    assert!(
        db.gc_claim_blobs(&cutoff, std::slice::from_ref(&digest))
            .await
            .unwrap()
            .is_empty()
    );
    assert_store_consistent(db, &data).await;
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

#[tokio::test]
async fn a_link_made_before_the_claim_keeps_the_blob() {
    let server = TestServer::start().await;
    let http = client();
    let db = &server.state.db;
    let layer = b"mounted just in time".to_vec();
    let digest = upload_blob(&server, &http, "library/app", &layer).await;
    let cutoff = cutoff_now();
    db.gc_unlink_stale(&cutoff, &(0, String::new()), 100, false)
        .await
        .unwrap();
    // Uploaded again (linked) between the collection's candidate list and its claim.
    upload_blob(&server, &http, "library/app", &layer).await;
    assert!(
        db.gc_claim_blobs(&cutoff, std::slice::from_ref(&digest))
            .await
            .unwrap()
            .is_empty()
    );
    let response = http
        .get(server.url(&format!("/v2/library/app/blobs/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    server.stop().await;
}

/// Pushes an image whose config is unique to `name` and whose layers are `shared` (common to every client)
/// and one of its own, retrying from the uploads when the manifest finds a blob deleted meanwhile (as
/// clients do after `MANIFEST_BLOB_UNKNOWN`). Returns the manifest's digest.
async fn push_retrying(
    server: &TestServer,
    http: &Client,
    repo: &str,
    tag: &str,
    shared: &[u8],
    own: &[u8],
) -> String {
    let config = format!("{{\"os\":\"linux\",\"tag\":\"{tag}\"}}").into_bytes();
    for _ in 0..50 {
        let c = upload_blob(server, http, repo, &config).await;
        let s = upload_blob(server, http, repo, shared).await;
        let o = upload_blob(server, http, repo, own).await;
        let manifest = image_manifest(
            (&c, config.len()),
            &[(&s, shared.len()), (&o, own.len())],
            json!({}),
        );
        let response = http
            .put(server.url(&format!("/v2/{repo}/manifests/{tag}")))
            .admin()
            .header("content-type", OCI_MANIFEST)
            .body(manifest.clone())
            .send()
            .await
            .unwrap();
        match response.status() {
            StatusCode::CREATED => return sha256(&manifest),
            StatusCode::NOT_FOUND => {
                assert_eq!(error_code(response).await, "MANIFEST_BLOB_UNKNOWN")
            }
            other => panic!("push {repo}:{tag}: {other}"),
        }
    }
    panic!("push {repo}:{tag} never went through");
}

/// Pulls `repo:tag` and checks the manifest's and every blob's digest.
async fn pull_checked(server: &TestServer, http: &Client, repo: &str, tag: &str, expected: &str) {
    let response = http
        .get(server.url(&format!("/v2/{repo}/manifests/{tag}")))
        .admin()
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{repo}:{tag}");
    let body = response.bytes().await.unwrap();
    assert_eq!(sha256(&body), expected);
    let manifest: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let mut blobs = vec![manifest["config"]["digest"].as_str().unwrap().to_owned()];
    for layer in manifest["layers"].as_array().unwrap() {
        blobs.push(layer["digest"].as_str().unwrap().to_owned());
    }
    for digest in blobs {
        let response = http
            .get(server.url(&format!("/v2/{repo}/blobs/{digest}")))
            .admin()
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{repo}@{digest}");
        assert_eq!(sha256(&response.bytes().await.unwrap()), digest);
    }
}

#[tokio::test]
async fn collections_in_a_loop_while_eight_clients_push_and_pull() {
    let server = std::sync::Arc::new(
        TestServer::start_with(|c| {
            c.gc.blob_grace_secs = 0;
            c.gc.batch = 7;
            c.jobs.poll_ms = 50;
        })
        .await,
    );
    let http = client();
    let base = server.url("");
    let data = server.state.config.data_dir.clone();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let looping = {
        let (http, base, done) = (http.clone(), base.clone(), done.clone());
        tokio::spawn(async move {
            let mut runs = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                collect(&http, &base, json!({"workers": 3})).await;
                runs += 1;
                // With no grace, a run that starts between a client's uploads and its manifest takes the
                // uploads away (the manifest then gets MANIFEST_BLOB_UNKNOWN and the client pushes again). Back
                // to back, runs can start inside every push on a slow store; a pause leaves pushes a way through.
                tokio::time::sleep(std::time::Duration::from_millis(700)).await;
            }
            runs
        })
    };
    let mut clients = Vec::new();
    for c in 0..8 {
        let (server, http) = (server.clone(), http.clone());
        clients.push(tokio::spawn(async move {
            let repo = format!("library/app{}", c % 3);
            let shared = b"a base layer every client shares".repeat(64);
            let mut pushed = Vec::new();
            for round in 0..6 {
                let tag = format!("c{c}-r{round}");
                let own = format!("client {c} round {round}").repeat(50).into_bytes();
                let digest = push_retrying(&server, &http, &repo, &tag, &shared, &own).await;
                pull_checked(&server, &http, &repo, &tag, &digest).await;
                // Every other image is deleted again: its own layer becomes garbage.
                if round % 2 == 1 {
                    let response = http
                        .delete(server.url(&format!(
                            "/api/v2.0/projects/library/repositories/{}/artifacts/{digest}",
                            repo.trim_start_matches("library/")
                        )))
                        .admin()
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                } else {
                    pushed.push((repo.clone(), tag, digest));
                }
            }
            pushed
        }));
    }
    let mut kept = Vec::new();
    for client in clients {
        kept.extend(client.await.unwrap());
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let runs = looping.await.unwrap();
    assert!(runs >= 1);
    // One more run after the pushes stop collects what the last ones left.
    collect(&http, &base, json!({})).await;
    for (repo, tag, digest) in &kept {
        pull_checked(&server, &http, repo, tag, digest).await;
    }
    // Every blob left is one a kept image references: configs and own layers of the 24 kept images, and the
    // shared layer.
    let rows: BTreeSet<String> = server
        .state
        .db
        .blob_states()
        .await
        .unwrap()
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    assert_eq!(rows.len(), 24 * 2 + 1, "{rows:?}");
    assert_eq!(stored_files(&data).await, rows);
    assert_store_consistent(&server.state.db, &data).await;
    server.assert_quota_ledger_agrees().await;
}
