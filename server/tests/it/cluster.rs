//! Several nodes on one database: what they must agree on before serving.

use berth::config::Config;
use berth::secret::Secret;

use crate::support::{ADMIN_PASSWORD, database_url};

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
