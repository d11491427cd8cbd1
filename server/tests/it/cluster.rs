//! Several nodes on one database: what they must agree on before serving.

use std::time::{Duration, Instant};

use berth::config::Config;
use berth::db::Backend;
use berth::secret::Secret;

use crate::api::As as _;
use crate::registry::push_image;
use crate::support::{ADMIN_PASSWORD, TestServer, client, database_url};

fn node(data_dir: &std::path::Path, secret_key: &str) -> Config {
    Config {
        data_dir: data_dir.to_owned(),
        database_url: Some(database_url(data_dir)),
        admin_password: Some(Secret::new(ADMIN_PASSWORD)),
        secret_key: Some(Secret::new(secret_key)),
        ..Config::default()
    }
}

/// Every node seals endpoint secrets with `secret_key`, so all must share it: a second node with the same key
/// starts beside the first, and one with another key refuses to start, saying why.
#[tokio::test]
async fn a_node_with_another_secret_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let key = "1f".repeat(32);
    let (first, _) = berth::serve::prepare(node(&data_dir, &key)).await.unwrap();
    let (second, _) = berth::serve::prepare(node(&data_dir, &key))
        .await
        .unwrap_or_else(|e| panic!("a node with the same key starts: {e:#}"));

    let other = "2e".repeat(32);
    let refused = berth::serve::prepare(node(&data_dir, &other))
        .await
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        refused.contains("every node must be given the same secret_key"),
        "{refused}"
    );
    first.db.close().await;
    second.db.close().await;
}

/// Without a configured key the first start generates one and keeps it in the database, so every later node
/// (and every restart) finds the same key; configuring a different key afterwards is refused.
#[tokio::test]
async fn a_generated_key_is_shared_and_a_different_configured_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut unset = node(&data_dir, "");
    unset.secret_key = None;
    let (first, _) = berth::serve::prepare(unset.clone()).await.unwrap();
    let (second, _) = berth::serve::prepare(unset).await.unwrap();
    let sealed = first.secrets.seal("upstream password").unwrap();
    assert_eq!(
        second.secrets.open(&sealed).unwrap().expose(),
        "upstream password"
    );

    let refused = berth::serve::prepare(node(&data_dir, &"3d".repeat(32)))
        .await
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(refused.contains("same secret_key"), "{refused}");
    first.db.close().await;
    second.db.close().await;
}

/// The digest node `server` answers for `repo:tag` (a HEAD, served from its read cache when it has it).
async fn tagged_digest(
    server: &TestServer,
    http: &reqwest::Client,
    repo: &str,
    tag: &str,
) -> String {
    let response = http
        .head(server.url(&format!("/v2/{repo}/manifests/{tag}")))
        .admin()
        .header("accept", crate::registry::OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        reqwest::StatusCode::OK,
        "HEAD {repo}:{tag}"
    );
    crate::registry::header(&response, "docker-content-digest")
}

/// Two nodes on one PostgreSQL database: a tag moved through one is read through the other at once, though
/// the other had the old digest cached (its cache lives 5 s; the move's notification clears it).
#[tokio::test]
async fn a_tag_moved_on_one_node_is_read_on_the_other_at_once() {
    let first = TestServer::start().await;
    if first.state.db.backend() != Backend::Postgres {
        eprintln!(
            "cluster: skipped, nodes share caches' invalidations only on PostgreSQL (BERTH_TEST_DATABASE=postgres)"
        );
        return;
    }
    let url = first.state.config.database_url.clone();
    let second = TestServer::start_with(|config| config.database_url = url).await;
    let http = client();
    let (_, old) = push_image(&first, &http, "library/app", "v1", "old").await;
    assert_eq!(
        tagged_digest(&second, &http, "library/app", "v1").await,
        old
    );

    let (_, new) = push_image(&first, &http, "library/app", "v1", "new").await;
    assert_ne!(old, new);
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut seen = tagged_digest(&second, &http, "library/app", "v1").await;
    while seen != new && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        seen = tagged_digest(&second, &http, "library/app", "v1").await;
    }
    assert_eq!(seen, new, "the other node still serves the old digest");
    second.stop().await;
    first.stop().await;
}
