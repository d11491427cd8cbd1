//! `berth migrate-storage`: a single node (SQLite and blob files) moved onto PostgreSQL and S3, in two runs
//! (one while it serves, one after it stopped), and a node on the new backends serving the same registry.

use std::path::Path;
use std::process::{Command, Output};

use reqwest::StatusCode;
use serde_json::json;

use crate::api::{As as _, api, create_project};
use crate::registry::{header, push_image, upload_blob};
use crate::support::{
    TestServer, berth_binary, client, database_url_for, s3_available, s3_env, sha256,
};

const SECRET_KEY: &str = "4d7a1c0e9b3f2a6d8c5e7f1a0b2c4d6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c";

/// `berth migrate-storage --from <from>` (plus `extra`) with the target in `env`.
fn migrate(from: &Path, env: &[(String, String)], extra: &[&str]) -> Output {
    Command::new(berth_binary())
        .args(["migrate-storage", "--from"])
        .arg(from)
        .args(extra)
        .env("BERTH_LOG_LEVEL", "warn")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_node_moves_onto_postgres_and_s3_in_two_runs_and_serves_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let new_data = dir.path().join("new");
    let Some(database_url) = database_url_for(&new_data) else {
        eprintln!("migrate: skipped, the target is PostgreSQL (BERTH_TEST_DATABASE=postgres)");
        return;
    };
    if !s3_available(
        "migrate::a_single_node_moves_onto_postgres_and_s3_in_two_runs_and_serves_the_same",
    ) {
        return;
    }
    let old_data = dir.path().join("old");
    let old = TestServer::start_local(|c| {
        c.data_dir = old_data.clone();
        c.secret_key = Some(berth::secret::Secret::new(SECRET_KEY));
    })
    .await;
    let http = client();
    // Content of every kind: images, a blob of more than one S3 part, a user with a role in a private project
    // with a quota, and a registry endpoint whose password is sealed with the secret key.
    let (_, v1) = push_image(&old, &http, "library/app", "v1", "one").await;
    let (_, v2) = push_image(&old, &http, "library/app", "v2", "two").await;
    let big = crate::support::pseudo_random(9 * 1024 * 1024 + 5, 41);
    let big_digest = upload_blob(&old, &http, "library/app", &big).await;
    old.create_user("alice", "Alice12345", false).await;
    let team = create_project(
        &old,
        &http,
        json!({"project_name": "team", "storage_limit": 10_000_000}),
    )
    .await;
    let response = http
        .post(api(&old, &format!("/projects/{team}/members")))
        .admin()
        .json(&json!({"role_id": 2, "member_user": {"username": "alice"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (_, team_image) = push_image(&old, &http, "team/tool", "1.0", "tool").await;
    let response = http
        .post(api(&old, "/registries"))
        .admin()
        .json(&json!({"name": "upstream", "type": "docker-registry", "url": "https://registry.example.com",
                      "credential": {"type": "basic", "access_key": "bot", "access_secret": "s3cret"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let registry: i64 = header(&response, "location")
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let used_before = old.state.db.quota(team).await.unwrap().unwrap().used;

    // The target: what the new nodes will be given.
    let mut env: Vec<(String, String)> = s3_env(&new_data).unwrap();
    env.push(("BERTH_DATABASE_URL".into(), database_url.clone()));
    env.push(("BERTH_DATA_DIR".into(), new_data.display().to_string()));
    env.push(("BERTH_SECRET_KEY".into(), SECRET_KEY.into()));

    // First run, while the old node serves.
    let first = migrate(&old_data, &env, &[]);
    assert!(first.status.success(), "{first:?}");
    assert!(
        stdout(&first).starts_with("sent 7 blobs"),
        "{}",
        stdout(&first)
    );
    // More pushed meanwhile, then the old node stops; the second run must be told to replace what the first
    // copied, and sends only what is new.
    let (_, v3) = push_image(&old, &http, "library/app", "v3", "three").await;
    old.stop().await;
    let refused = migrate(&old_data, &env, &[]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--replace"),
        "{refused:?}"
    );
    let second = migrate(&old_data, &env, &["--replace"]);
    assert!(second.status.success(), "{second:?}");
    let report = stdout(&second);
    assert!(
        report.starts_with("sent 2 blobs"),
        "the config and layer of v3 only: {report}"
    );

    // A node on the new backends serves the same registry.
    let prefix = env
        .iter()
        .find(|(k, _)| k == "BERTH_STORAGE__S3__PREFIX")
        .map(|(_, v)| v.clone())
        .unwrap();
    let new = TestServer::start_with(|c| {
        c.data_dir = new_data.clone();
        c.database_url = Some(database_url.clone());
        c.secret_key = Some(berth::secret::Secret::new(SECRET_KEY));
        assert!(crate::support::use_test_s3(c));
        c.storage.s3.prefix = prefix;
    })
    .await;
    for (repo, tag, digest) in [
        ("library/app", "v1", &v1),
        ("library/app", "v2", &v2),
        ("library/app", "v3", &v3),
        ("team/tool", "1.0", &team_image),
    ] {
        let response = http
            .get(new.url(&format!("/v2/{repo}/manifests/{tag}")))
            .admin()
            .header("accept", crate::registry::OCI_MANIFEST)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{repo}:{tag}");
        assert_eq!(header(&response, "docker-content-digest"), *digest);
        let manifest: serde_json::Value = response.json().await.unwrap();
        for layer in manifest["layers"].as_array().unwrap() {
            let layer = layer["digest"].as_str().unwrap();
            let body = http
                .get(new.url(&format!("/v2/{repo}/blobs/{layer}")))
                .admin()
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert_eq!(sha256(&body), layer);
        }
    }
    let body = http
        .get(new.url(&format!("/v2/library/app/blobs/{big_digest}")))
        .admin()
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha256(&body), big_digest);
    // alice signs in with her password and pulls from the private project she is a member of.
    let response = http
        .get(new.url("/v2/team/tool/manifests/1.0"))
        .basic_auth("alice", Some("Alice12345"))
        .header("accept", crate::registry::OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // The quota came along, and the ledger agrees with what the references add up to.
    assert_eq!(
        new.state.db.quota(team).await.unwrap().unwrap().used,
        used_before
    );
    new.assert_quota_ledger_agrees().await;
    // The endpoint's sealed password opens with the shared key.
    let upstream = new.state.db.registry(registry).await.unwrap().unwrap();
    let sealed = upstream.access_secret.unwrap();
    assert_eq!(new.state.secrets.open(&sealed).unwrap().expose(), "s3cret");
    // New rows get new ids: a project created now does not collide with a copied one.
    let created = create_project(&new, &http, json!({"project_name": "after"})).await;
    assert!(created > team, "{created} after {team}");
    push_image(&new, &http, "after/app", "v1", "after").await;
    new.stop().await;
}
