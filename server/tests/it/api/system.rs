//! `ping`, `health`, `systeminfo`.

use reqwest::StatusCode;
use serde_json::Value;

use super::api;
use crate::support::{TestServer, client};

#[tokio::test]
async fn ping_health_and_systeminfo_need_no_credentials() {
    let server = TestServer::start().await;
    let http = client();
    let response = http.get(api(&server, "/ping")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "Pong");

    let health: Value = http
        .get(api(&server, "/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "healthy");
    let names: Vec<&str> = health["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["database", "storage"]);

    let info: Value = http
        .get(api(&server, "/systeminfo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["auth_mode"], "db_auth");
    assert_eq!(info["external_url"], format!("http://{}", server.host()));
    assert_eq!(info["registry_url"], server.host());
    assert!(
        info["harbor_version"]
            .as_str()
            .unwrap()
            .starts_with("berth-v")
    );
    server.stop().await;
}

#[tokio::test]
async fn unknown_api_paths_get_harbors_error_shape() {
    let server = TestServer::start().await;
    let response = client()
        .get(api(&server, "/no/such/thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "NOT_FOUND");
    server.stop().await;
}

#[tokio::test]
async fn health_answers_200_with_the_status_in_the_body_when_a_component_fails() {
    // The store fails: its directory is gone, or (BERTH_TEST_STORAGE=s3) nothing answers at its endpoint.
    let on_s3 = std::env::var("BERTH_TEST_STORAGE").as_deref() == Ok("s3");
    let server = TestServer::start_with(|config| {
        if on_s3 {
            assert!(crate::support::use_test_s3(config));
            let closed = crate::support::free_port();
            config.storage.s3.endpoint = Some(format!("http://127.0.0.1:{closed}"));
        }
    })
    .await;
    let storage = server.state.config.data_dir.join("storage");
    let moved = server.state.config.data_dir.join("storage-away");
    if !on_s3 {
        std::fs::rename(&storage, &moved).unwrap();
    }
    let response = client().get(api(&server, "/health")).send().await.unwrap();
    // Harbor answers 200 whatever the components' status; monitors read the body.
    assert_eq!(response.status(), StatusCode::OK);
    let health: Value = response.json().await.unwrap();
    assert_eq!(health["status"], "unhealthy");
    assert_eq!(health["components"][0]["status"], "healthy");
    assert_eq!(health["components"][1]["name"], "storage");
    assert_eq!(health["components"][1]["status"], "unhealthy");
    assert!(health["components"][1]["error"].is_string());
    if !on_s3 {
        std::fs::rename(&moved, &storage).unwrap();
    }
    server.stop().await;
}

/// `/readyz` answers 200 while the node reaches its database and blob store; once the database is gone it
/// answers 503 naming it (a load balancer then takes the node out), and `/health` says the same in its body.
#[tokio::test]
async fn readiness_fails_while_the_database_cannot_be_reached() {
    let server = TestServer::start().await;
    let http = client();
    let ready = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    // The node loses its database (its pools closed, as when the server behind them goes away).
    server.state.db.close().await;
    let ready = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.text().await.unwrap().contains("database"));
    let health: Value = http
        .get(api(&server, "/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "unhealthy");
    assert_eq!(health["components"][0]["status"], "unhealthy");
    assert_eq!(health["components"][1]["status"], "healthy");
}

/// `berth healthcheck` (the container image's HEALTHCHECK, which has no shell or curl) exits 0 while the node
/// answers, and non-zero with the reason when nothing answers at the URL.
#[tokio::test]
async fn the_healthcheck_command_succeeds_only_against_a_live_node() {
    let dir = tempfile::tempdir().unwrap();
    let server = crate::support::BinaryServer::start(&dir.path().join("data"));
    let live = server.cli(&["healthcheck", "--url", &server.url("/readyz")]);
    assert!(live.status.success(), "{live:?}");
    let closed = format!("http://127.0.0.1:{}/readyz", crate::support::free_port());
    let dead = server.cli(&["healthcheck", "--url", &closed]);
    assert!(!dead.status.success());
    assert!(
        String::from_utf8_lossy(&dead.stderr).contains("does not answer"),
        "{dead:?}"
    );
}

/// `GET /systeminfo/volumes`: the size and free space of the data volume, for system admins and robots given
/// `system-volumes:read`, as Harbor's `SystemInfo`.
#[tokio::test]
async fn volumes_report_the_data_disk_to_system_admins() {
    use super::As;
    use super::robots::create_robot;
    use serde_json::json;

    let server = TestServer::start().await;
    let http = client();
    let url = api(&server, "/systeminfo/volumes");
    let response = http.get(&url).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let info: Value = response.json().await.unwrap();
    let storage = info["storage"].as_array().unwrap();
    assert_eq!(storage.len(), 1, "{info}");
    let total = storage[0]["total"].as_u64().unwrap();
    let free = storage[0]["free"].as_u64().unwrap();
    assert!(total > 0 && free <= total, "{info}");
    let expected = berth::storage::capacity(&server.state.config.data_dir).unwrap();
    assert_eq!(total, expected.total, "the disk of the data directory");

    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.create_user("alice", "Password1", false).await;
    let response = http
        .get(&url)
        .user("alice", "Password1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (_, name, secret) = create_robot(
        &http,
        &api(&server, "/robots"),
        &json!({"name": "disks", "level": "system", "duration": -1, "permissions": [
            {"kind": "system", "namespace": "/", "access": [
                {"resource": "system-volumes", "action": "read"}]}]}),
    )
    .await;
    let response = http.get(&url).user(&name, &secret).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    server.stop().await;
}

/// `GET /systeminfo/getcert`: Berth has no root CA of its own, so anyone gets Harbor's 404 error.
#[tokio::test]
async fn there_is_no_root_certificate_to_download() {
    let server = TestServer::start().await;
    let response = client()
        .get(api(&server, "/systeminfo/getcert"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "NOT_FOUND");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("root certificate"),
        "{body}"
    );
    let info: Value = client()
        .get(api(&server, "/systeminfo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["has_ca_root"], false);
    server.stop().await;
}
