//! Quotas: the ledger behind `/quotas`, charged by `/v2` pushes.

use std::sync::Arc;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{As, api, create_project};
use crate::support::sha256 as digest;
use crate::support::{TestServer, client};

/// Uploads a blob; returns the response status.
async fn upload(server: &TestServer, http: &Client, repo: &str, data: &[u8]) -> StatusCode {
    http.post(server.url(&format!(
        "/v2/{repo}/blobs/uploads/?digest={}",
        digest(data)
    )))
    .admin()
    .body(data.to_vec())
    .send()
    .await
    .unwrap()
    .status()
}

/// Pushes a manifest over `config` and `layers` (already uploaded); returns (status, manifest bytes).
async fn push_manifest(
    server: &TestServer,
    http: &Client,
    repo: &str,
    tag: &str,
    config: &[u8],
    layers: &[&[u8]],
) -> (StatusCode, Vec<u8>) {
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": config.len()},
        "layers": layers.iter().map(|l| json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(l), "size": l.len()})).collect::<Vec<_>>(),
    }))
    .unwrap();
    let status = http
        .put(server.url(&format!("/v2/{repo}/manifests/{tag}")))
        .admin()
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(manifest.clone())
        .send()
        .await
        .unwrap()
        .status();
    (status, manifest)
}

async fn used(server: &TestServer, http: &Client, project_id: i64) -> i64 {
    let quota: Value = http
        .get(api(server, &format!("/quotas/{project_id}")))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    quota["used"]["storage"].as_i64().unwrap()
}

#[tokio::test]
async fn usage_counts_each_blob_once_per_project_and_deletes_give_back_what_is_unshared() {
    let server = TestServer::start().await;
    let http = client();
    let id = create_project(&server, &http, json!({"project_name": "q"})).await;
    let other = create_project(&server, &http, json!({"project_name": "other"})).await;
    let shared = vec![7u8; 5000];
    let (config_a, config_b) = (b"{\"a\":1}".to_vec(), b"{\"b\":22}".to_vec());
    for (repo, config) in [("q/one", &config_a), ("q/two", &config_b)] {
        assert_eq!(
            upload(&server, &http, repo, &shared).await,
            StatusCode::CREATED
        );
        assert_eq!(
            upload(&server, &http, repo, config).await,
            StatusCode::CREATED
        );
    }
    let (_, manifest_a) = push_manifest(&server, &http, "q/one", "a", &config_a, &[&shared]).await;
    let (_, manifest_b) = push_manifest(&server, &http, "q/two", "b", &config_b, &[&shared]).await;
    let expected =
        (shared.len() + config_a.len() + config_b.len() + manifest_a.len() + manifest_b.len())
            as i64;
    assert_eq!(
        used(&server, &http, id).await,
        expected,
        "the shared layer counts once"
    );

    // The same layer in another project is that project's usage too.
    assert_eq!(
        upload(&server, &http, "other/x", &shared).await,
        StatusCode::CREATED
    );
    assert_eq!(used(&server, &http, other).await, shared.len() as i64);

    // Deleting image a gives back its config and manifest, not the layer image b still uses.
    let response = http
        .delete(server.url(&format!("/v2/q/one/manifests/{}", digest(&manifest_a))))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(
        used(&server, &http, id).await,
        expected - (config_a.len() + manifest_a.len()) as i64
    );
    let response = http
        .delete(server.url(&format!("/v2/q/two/manifests/{}", digest(&manifest_b))))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(used(&server, &http, id).await, 0);
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

#[tokio::test]
async fn a_push_beyond_the_limit_is_refused_and_leaves_nothing() {
    let server = TestServer::start().await;
    let http = client();
    let id = create_project(
        &server,
        &http,
        json!({"project_name": "small", "storage_limit": 1000}),
    )
    .await;
    let quota: Value = http
        .get(api(&server, &format!("/quotas/{id}")))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(quota["hard"]["storage"], 1000);
    assert_eq!(quota["ref"]["name"], "small");

    let config = b"{}".to_vec();
    assert_eq!(
        upload(&server, &http, "small/app", &config).await,
        StatusCode::CREATED
    );
    let big = vec![1u8; 2000];
    let response = http
        .post(server.url(&format!(
            "/v2/small/app/blobs/uploads/?digest={}",
            digest(&big)
        )))
        .admin()
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "DENIED");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("exceed") && message.contains("1000"),
        "{message}"
    );
    let head = http
        .head(server.url(&format!("/v2/small/app/blobs/{}", digest(&big))))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::NOT_FOUND);
    assert_eq!(used(&server, &http, id).await, 2);

    // A manifest counts too: one that does not fit is refused and not stored.
    let layer = vec![2u8; 900];
    assert_eq!(
        upload(&server, &http, "small/app", &layer).await,
        StatusCode::CREATED
    );
    let (status, _) = push_manifest(&server, &http, "small/app", "v1", &config, &[&layer]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let tag = http
        .get(server.url("/v2/small/app/manifests/v1"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(tag.status(), StatusCode::NOT_FOUND);
    assert_eq!(used(&server, &http, id).await, 902);

    // Raising the limit lets the same push through.
    let response = http
        .put(api(&server, &format!("/quotas/{id}")))
        .admin()
        .json(&json!({"hard": {"storage": 5000}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (status, _) = push_manifest(&server, &http, "small/app", "v1", &config, &[&layer]).await;
    assert_eq!(status, StatusCode::CREATED);
    let response = http
        .put(api(&server, &format!("/quotas/{id}")))
        .admin()
        .json(&json!({"hard": {"storage": 0}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_never_overshoot_the_limit() {
    let server = Arc::new(TestServer::start().await);
    let http = client();
    let size = 1000usize;
    let limit = 10 * size as i64 + 500;
    let id = create_project(
        &server,
        &http,
        json!({"project_name": "race", "storage_limit": limit}),
    )
    .await;
    let mut tasks = Vec::new();
    for i in 0..20u8 {
        let (server, http) = (server.clone(), http.clone());
        tasks.push(tokio::spawn(async move {
            upload(&server, &http, &format!("race/r{}", i % 4), &vec![i; size]).await
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::CREATED => accepted += 1,
            StatusCode::FORBIDDEN => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(accepted, 10, "exactly as many as fit");
    let used = used(&server, &http, id).await;
    assert_eq!(used, 10 * size as i64);
    assert!(used <= limit);
    Arc::into_inner(server).unwrap().stop().await;
}

#[tokio::test]
async fn reconcile_finds_and_fixes_drift() {
    let server = TestServer::start().await;
    let http = client();
    assert_eq!(
        upload(&server, &http, "library/app", &[5u8; 300]).await,
        StatusCode::CREATED
    );
    server.assert_quota_ledger_agrees().await;
    // Corrupt the ledger behind Berth's back, as a bug or a manual edit would.
    let pool = server.state.db.raw_write_pool();
    sqlx::query("UPDATE projects SET storage_used = 7 WHERE name = 'library'")
        .execute(&pool)
        .await
        .unwrap();
    let drift = server.state.db.reconcile_quotas(false).await.unwrap();
    assert_eq!(drift.len(), 1);
    assert_eq!(
        (
            drift[0].project.as_str(),
            drift[0].recorded,
            drift[0].actual
        ),
        ("library", 7, 300)
    );
    assert_eq!(
        server.state.db.reconcile_quotas(true).await.unwrap().len(),
        1
    );
    server.assert_quota_ledger_agrees().await;
    let library: Value = http
        .get(api(&server, "/projects/library"))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        used(&server, &http, library["project_id"].as_i64().unwrap()).await,
        300
    );
    server.stop().await;
}

#[tokio::test]
async fn quotas_are_for_admins_and_members() {
    let server = TestServer::start().await;
    let http = client();
    let id = create_project(&server, &http, json!({"project_name": "team"})).await;
    server.create_user("outsider", "Outsider1", false).await;
    let response = http
        .get(api(&server, "/quotas"))
        .user("outsider", "Outsider1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = http
        .get(api(&server, &format!("/quotas/{id}")))
        .user("outsider", "Outsider1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "a private project's quota is as invisible as the project"
    );
    let response = http
        .put(api(&server, &format!("/quotas/{id}")))
        .user("outsider", "Outsider1")
        .json(&json!({"hard": {"storage": 5}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = http
        .get(api(&server, "/quotas?reference=project&reference_id=1"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "1");
    let list: Value = response.json().await.unwrap();
    assert_eq!(list[0]["ref"]["name"], "library");
    server.stop().await;
}

#[tokio::test]
async fn new_projects_get_the_system_wide_default_limit() {
    let server = TestServer::start_with(|c| c.storage_per_project = 1234).await;
    let http = client();
    server.create_user("alice", "AlicePass1", false).await;
    let response = http
        .post(api(&server, "/projects"))
        .user("alice", "AlicePass1")
        .json(&json!({"project_name": "mine", "storage_limit": 999_999_999}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let id: i64 = response.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let quota: Value = http
        .get(api(&server, &format!("/quotas/{id}")))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        quota["hard"]["storage"], 1234,
        "a non-admin cannot choose the limit"
    );
    let admin_id = create_project(
        &server,
        &http,
        json!({"project_name": "big", "storage_limit": 5000}),
    )
    .await;
    let quota: Value = http
        .get(api(&server, &format!("/quotas/{admin_id}")))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(quota["hard"]["storage"], 5000, "an admin can");
    let default_id = create_project(&server, &http, json!({"project_name": "plain"})).await;
    let quota: Value = http
        .get(api(&server, &format!("/quotas/{default_id}")))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(quota["hard"]["storage"], 1234);
    server.stop().await;
}
