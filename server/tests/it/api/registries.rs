//! `/registries`, `/registries/{id}`, `/registries/ping`, `/registries/{id}/info`, `/replication/adapters`, and
//! proxy-cache projects (`POST /projects` with `registry_id`).

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{As, api, create_project, error_code};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer, client, free_port};

const SECRET: &str = "s3cret-Pa55word";
const NEW_SECRET: &str = "an0ther-S3cret";

/// Creates an endpoint as admin; returns its id.
async fn create_registry(server: &TestServer, http: &Client, body: Value) -> i64 {
    let response = http
        .post(api(server, "/registries"))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "create registry {body}"
    );
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id = location.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(location, format!("/api/v2.0/registries/{id}"));
    id
}

/// The body text of a `GET` as admin, after checking it is 200 and holds no secret.
async fn get_text(http: &Client, url: String) -> String {
    let response = http.get(url.clone()).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "GET {url}");
    let text = response.text().await.unwrap();
    for secret in [SECRET, NEW_SECRET] {
        assert!(!text.contains(secret), "GET {url} shows a secret: {text}");
    }
    text
}

async fn get_json(http: &Client, url: String) -> Value {
    serde_json::from_str(&get_text(http, url).await).unwrap()
}

async fn post(server: &TestServer, http: &Client, path: &str, body: Value) -> reqwest::Response {
    http.post(api(server, path))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn put(server: &TestServer, http: &Client, path: &str, body: Value) -> reqwest::Response {
    http.put(api(server, path))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn error_message(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["errors"][0]["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn admins_create_read_list_update_and_delete_endpoints_without_ever_seeing_the_secret() {
    let server = TestServer::start().await;
    let http = client();
    let id = create_registry(
        &server,
        &http,
        json!({"name": "local", "type": "docker-registry", "url": "http://127.0.0.1:5000/",
            "description": "a test upstream", "insecure": true,
            "credential": {"type": "basic", "access_key": "puller", "access_secret": SECRET}}),
    )
    .await;
    let hub = create_registry(&server, &http, json!({"name": "hub", "type": "docker-hub"})).await;

    let one = get_json(&http, api(&server, &format!("/registries/{id}"))).await;
    assert_eq!(one["id"], id);
    assert_eq!(one["name"], "local");
    assert_eq!(one["type"], "docker-registry");
    assert_eq!(
        one["url"], "http://127.0.0.1:5000",
        "trailing slash trimmed"
    );
    assert_eq!(one["description"], "a test upstream");
    assert_eq!(one["insecure"], true);
    assert_eq!(one["status"], "unknown");
    assert_eq!(
        one["credential"],
        json!({"type": "basic", "access_key": "puller", "access_secret": "*****"})
    );
    assert!(one["creation_time"].as_str().unwrap().starts_with("20"));
    assert!(one.get("ratelimit_remaining").is_none());
    let hub_json = get_json(&http, api(&server, &format!("/registries/{hub}"))).await;
    assert_eq!(
        hub_json["url"], "https://hub.docker.com",
        "the type's default"
    );
    assert!(hub_json.get("credential").is_none(), "anonymous");

    // Lists: by name, filtered by q or the deprecated name parameter.
    let response = http
        .get(api(&server, "/registries"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "2");
    let all: Value = response.json().await.unwrap();
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hub", "local"]);
    get_text(&http, api(&server, "/registries")).await;
    let by_q = get_json(&http, api(&server, "/registries?q=name%3D~loc")).await;
    assert_eq!(by_q.as_array().unwrap().len(), 1);
    assert_eq!(by_q[0]["name"], "local");
    let by_type = get_json(&http, api(&server, "/registries?q=type%3Ddocker-hub")).await;
    assert_eq!(by_type[0]["name"], "hub");
    let by_name = get_json(&http, api(&server, "/registries?name=ub&page_size=1")).await;
    assert_eq!(by_name.as_array().unwrap().len(), 1);
    assert_eq!(by_name[0]["name"], "hub");
    let bad_q = http
        .get(api(&server, "/registries?q=colour%3Dred"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(bad_q.status(), StatusCode::BAD_REQUEST);

    // Update: the mask keeps the secret, a new one replaces it, the name and URL change.
    let response = put(
        &server,
        &http,
        &format!("/registries/{id}"),
        json!({"name": "renamed", "url": "https://mirror.example.com/", "access_secret": "*****"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let row = server.state.db.registry(id).await.unwrap().unwrap();
    let opened = server
        .state
        .secrets
        .open(row.access_secret.as_deref().unwrap())
        .unwrap();
    assert_eq!(opened.expose(), SECRET, "the mask keeps the secret");
    let response = put(
        &server,
        &http,
        &format!("/registries/{id}"),
        json!({"access_key": "other", "access_secret": NEW_SECRET, "insecure": false}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let after = get_json(&http, api(&server, &format!("/registries/{id}"))).await;
    assert_eq!(after["name"], "renamed");
    assert_eq!(after["url"], "https://mirror.example.com");
    assert_eq!(after["insecure"], false);
    assert_eq!(after["credential"]["access_key"], "other");
    assert_eq!(after["credential"]["access_secret"], "*****");
    let row = server.state.db.registry(id).await.unwrap().unwrap();
    let opened = server
        .state
        .secrets
        .open(row.access_secret.as_deref().unwrap())
        .unwrap();
    assert_eq!(opened.expose(), NEW_SECRET);
    get_text(&http, api(&server, "/registries")).await;
    // An empty access key makes it anonymous.
    let response = put(
        &server,
        &http,
        &format!("/registries/{id}"),
        json!({"access_key": ""}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let anonymous = get_json(&http, api(&server, &format!("/registries/{id}"))).await;
    assert!(anonymous.get("credential").is_none(), "{anonymous}");
    assert!(
        server
            .state
            .db
            .registry(id)
            .await
            .unwrap()
            .unwrap()
            .access_secret
            .is_none()
    );

    // Bad input.
    for (body, code, why) in [
        (
            json!({"name": "hub", "type": "quay"}),
            StatusCode::CONFLICT,
            "a taken name",
        ),
        (
            json!({"name": "x", "type": "gitlab", "url": "https://gitlab.example.com"}),
            StatusCode::BAD_REQUEST,
            "an unknown type",
        ),
        (
            json!({"name": "x", "url": "https://h.example.com"}),
            StatusCode::BAD_REQUEST,
            "no type",
        ),
        (
            json!({"name": "x", "type": "harbor"}),
            StatusCode::BAD_REQUEST,
            "no URL for a type without a default",
        ),
        (
            json!({"name": "x", "type": "harbor", "url": "ftp://h.example.com"}),
            StatusCode::BAD_REQUEST,
            "not http(s)",
        ),
        (
            json!({"name": "x", "type": "harbor", "url": "harbor.example.com"}),
            StatusCode::BAD_REQUEST,
            "no scheme",
        ),
        (
            json!({"name": "", "type": "quay"}),
            StatusCode::BAD_REQUEST,
            "no name",
        ),
        (
            json!({"name": "x", "type": "quay", "credential": {"type": "oauth", "access_key": "a", "access_secret": "b"}}),
            StatusCode::BAD_REQUEST,
            "an unsupported credential type",
        ),
        (
            json!({"name": "x", "type": "quay", "ca_certificate": "-----BEGIN CERTIFICATE-----"}),
            StatusCode::BAD_REQUEST,
            "a CA certificate",
        ),
    ] {
        let response = post(&server, &http, "/registries", body).await;
        assert_eq!(response.status(), code, "{why}");
    }
    let response = put(
        &server,
        &http,
        &format!("/registries/{id}"),
        json!({"name": "hub"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = put(
        &server,
        &http,
        &format!("/registries/{id}"),
        json!({"url": "nope"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = put(&server, &http, "/registries/999", json!({"name": "z"})).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    for path in ["/registries/999", "/registries/999/info"] {
        let response = http.get(api(&server, path)).admin().send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let response = http
        .get(api(&server, "/registries/abc"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // Delete.
    let response = http
        .delete(api(&server, &format!("/registries/{hub}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .get(api(&server, &format!("/registries/{hub}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http
        .delete(api(&server, &format!("/registries/{hub}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // The audit log has the changes.
    let logs = get_json(
        &http,
        api(
            &server,
            "/audit-logs?q=resource_type%3Dregistry&page_size=50",
        ),
    )
    .await;
    let operations: Vec<(&str, &str)> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["operation"].as_str().unwrap(),
                l["resource"].as_str().unwrap(),
            )
        })
        .collect();
    for expected in [
        ("create", "local"),
        ("create", "hub"),
        ("update", "renamed"),
        ("delete", "hub"),
    ] {
        assert!(
            operations.contains(&expected),
            "{expected:?} in {operations:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn secrets_are_stored_sealed() {
    let server = TestServer::start().await;
    let http = client();
    let id = create_registry(
        &server,
        &http,
        json!({"name": "sealed", "type": "quay",
            "credential": {"type": "basic", "access_key": "robot", "access_secret": SECRET}}),
    )
    .await;
    let row = server.state.db.registry(id).await.unwrap().unwrap();
    let sealed = row.access_secret.clone().unwrap();
    assert!(sealed.len() > SECRET.len());
    assert!(!sealed.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
    assert_eq!(server.state.secrets.open(&sealed).unwrap().expose(), SECRET);
    // Nowhere in the database either (SQLite's file and its write-ahead log, or PostgreSQL's rows).
    let stored = crate::support::database_bytes(&server.state.config);
    assert!(
        stored.windows(6).any(|w| w == b"sealed"),
        "sanity: the database's contents are read"
    );
    assert!(
        !stored.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "the database holds the secret in clear"
    );
    // The pull path gets it back in clear.
    let endpoint =
        berth::service::registries::endpoint(&server.state.db, &server.state.secrets, id)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(endpoint.url, "https://quay.io");
    let credential = endpoint.credential.unwrap();
    assert_eq!(credential.username, "robot");
    assert_eq!(credential.secret.expose(), SECRET);
    assert!(
        berth::service::registries::endpoint(&server.state.db, &server.state.secrets, 999)
            .await
            .unwrap()
            .is_none()
    );
    server.stop().await;
}

#[tokio::test]
async fn a_configured_secret_key_seals_and_a_bad_one_stops_the_start() {
    let key = "ab".repeat(32);
    let server = TestServer::start_with(|config| {
        config.secret_key = Some(berth::secret::Secret::new(key.clone()));
    })
    .await;
    let http = client();
    let id = create_registry(
        &server,
        &http,
        json!({"name": "k", "type": "quay", "credential": {"access_key": "u", "access_secret": SECRET}}),
    )
    .await;
    let row = server.state.db.registry(id).await.unwrap().unwrap();
    let configured = berth::crypto::SecretBox::from_hex(&key).unwrap();
    assert_eq!(
        configured
            .open(row.access_secret.as_deref().unwrap())
            .unwrap()
            .expose(),
        SECRET
    );
    server.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let config = berth::config::Config {
        data_dir: dir.path().join("data"),
        secret_key: Some(berth::secret::Secret::new("not-hex")),
        ..berth::config::Config::default()
    };
    let error = berth::serve::prepare(config).await.err().unwrap();
    let message = format!("{error:#}");
    assert!(message.contains("secret_key"), "{message}");
    assert!(message.contains("64 hexadecimal digits"), "{message}");
}

#[tokio::test]
async fn ping_checks_the_upstream_and_records_the_result() {
    let server = TestServer::start().await;
    let upstream = TestServer::start().await;
    let http = client();
    let id = create_registry(
        &server,
        &http,
        json!({"name": "berth", "type": "docker-registry", "url": upstream.url(""),
            "credential": {"type": "basic", "access_key": ADMIN_USER, "access_secret": ADMIN_PASSWORD}}),
    )
    .await;

    // By id: healthy, and the status is recorded.
    let response = post(&server, &http, "/registries/ping", json!({"id": id})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let checked = get_json(&http, api(&server, &format!("/registries/{id}"))).await;
    assert_eq!(checked["status"], "healthy");

    // By id with another secret: that secret is used, and the stored status stays.
    let response = post(
        &server,
        &http,
        "/registries/ping",
        json!({"id": id, "access_secret": "Wrong12345"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let message = error_message(response).await;
    assert!(message.contains("unhealthy"), "{message}");
    assert!(message.contains("credential"), "{message}");
    let checked = get_json(&http, api(&server, &format!("/registries/{id}"))).await;
    assert_eq!(checked["status"], "healthy");

    // An unsaved endpoint: healthy with the right credential, unauthorized with a wrong one.
    let response = post(
        &server,
        &http,
        "/registries/ping",
        json!({"type": "docker-registry", "url": upstream.url("/"), "credential_type": "basic",
            "access_key": ADMIN_USER, "access_secret": ADMIN_PASSWORD}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = post(
        &server,
        &http,
        "/registries/ping",
        json!({"type": "docker-registry", "url": upstream.url(""), "access_key": ADMIN_USER,
            "access_secret": "Wrong12345"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, "BAD_REQUEST");

    // A closed port: unhealthy, saying it cannot connect; by id, recorded.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let response = post(
        &server,
        &http,
        "/registries/ping",
        json!({"type": "docker-registry", "url": closed}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let message = error_message(response).await;
    assert!(message.contains("unreachable"), "{message}");
    let response = put(
        &server,
        &http,
        &format!("/registries/{id}"),
        json!({"url": closed}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let edited = get_json(&http, api(&server, &format!("/registries/{id}"))).await;
    assert_eq!(
        edited["status"], "unknown",
        "an edit forgets the last check"
    );
    let response = post(&server, &http, "/registries/ping", json!({"id": id})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let checked = get_json(&http, api(&server, &format!("/registries/{id}"))).await;
    assert_eq!(checked["status"], "unhealthy");

    // Bad requests.
    for body in [
        json!({}),
        json!({"type": "harbor"}),
        json!({"type": "gitlab", "url": upstream.url("")}),
        json!({"type": "harbor", "url": "ftp://x"}),
    ] {
        let response = post(&server, &http, "/registries/ping", body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let response = post(&server, &http, "/registries/ping", json!({"id": 999})).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    upstream.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn info_and_adapters_describe_the_types() {
    let server = TestServer::start().await;
    let http = client();
    let id = create_registry(
        &server,
        &http,
        json!({"name": "ghcr", "type": "github-ghcr"}),
    )
    .await;
    let info = get_json(&http, api(&server, &format!("/registries/{id}/info"))).await;
    assert_eq!(info["type"], "github-ghcr");
    assert_eq!(info["supported_resource_filters"], json!([]));
    assert_eq!(
        info["supported_triggers"],
        json!(["manual", "scheduled", "event_based"])
    );
    let adapters = get_json(&http, api(&server, "/replication/adapters")).await;
    assert_eq!(
        adapters,
        json!([
            "docker-hub",
            "docker-registry",
            "harbor",
            "github-ghcr",
            "quay"
        ])
    );
    server.stop().await;
}

#[tokio::test]
async fn only_system_admins_manage_endpoints() {
    let server = TestServer::start().await;
    let http = client();
    server.create_user("dev", "Passw0rdX", false).await;
    let id = create_registry(&server, &http, json!({"name": "q", "type": "quay"})).await;
    let paths = [
        ("GET", "/registries".to_owned(), None),
        (
            "POST",
            "/registries".to_owned(),
            Some(json!({"name": "n", "type": "quay"})),
        ),
        (
            "POST",
            "/registries/ping".to_owned(),
            Some(json!({"id": id})),
        ),
        ("GET", format!("/registries/{id}"), None),
        (
            "PUT",
            format!("/registries/{id}"),
            Some(json!({"description": "x"})),
        ),
        ("DELETE", format!("/registries/{id}"), None),
        ("GET", format!("/registries/{id}/info"), None),
        ("GET", "/replication/adapters".to_owned(), None),
    ];
    for (method, path, body) in &paths {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        for (who, expected) in [
            (Some("dev"), StatusCode::FORBIDDEN),
            (None, StatusCode::UNAUTHORIZED),
        ] {
            let mut request = http.request(method.clone(), api(&server, path));
            if let Some(user) = who {
                request = request.user(user, "Passw0rdX");
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), expected, "{method} {path} as {who:?}");
        }
    }
    // Nothing changed.
    let still = get_json(&http, api(&server, &format!("/registries/{id}"))).await;
    assert_eq!(still["description"], "");
    server.stop().await;
}

#[tokio::test]
async fn proxy_cache_projects_are_created_by_admins_with_a_retention_policy() {
    let server = TestServer::start().await;
    let http = client();
    server.create_user("dev", "Passw0rdX", false).await;
    let registry = create_registry(
        &server,
        &http,
        json!({"name": "hub", "type": "docker-hub",
            "credential": {"access_key": "me", "access_secret": SECRET}}),
    )
    .await;

    let project = create_project(
        &server,
        &http,
        json!({"project_name": "hub-cache", "registry_id": registry,
            "metadata": {"public": "true", "proxy_include": "library/** , bitnami/*", "proxy_exclude": "library/*-rc"}}),
    )
    .await;
    let one = get_json(&http, api(&server, &format!("/projects/{project}"))).await;
    assert_eq!(one["registry_id"], registry);
    assert_eq!(one["metadata"]["proxy_include"], "library/**,bitnami/*");
    assert_eq!(one["metadata"]["proxy_exclude"], "library/*-rc");
    let retention_id: i64 = one["metadata"]["retention_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let listed = get_json(&http, api(&server, "/projects?name=hub-cache")).await;
    assert_eq!(listed[0]["registry_id"], registry);

    // Harbor's default policy for proxy projects: keep what was pulled in the last 7 days.
    let (policy_id, policy) = server
        .state
        .db
        .retention_policy(project)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(policy_id, retention_id);
    let policy: Value = serde_json::from_str(&policy).unwrap();
    assert_eq!(policy["id"], retention_id);
    assert_eq!(policy["algorithm"], "or");
    assert_eq!(policy["rules"][0]["template"], "nDaysSinceLastPull");
    assert_eq!(policy["rules"][0]["params"]["nDaysSinceLastPull"], 7);
    assert_eq!(policy["rules"][0]["tag_selectors"][0]["pattern"], "**");
    assert_eq!(
        policy["rules"][0]["scope_selectors"]["repository"][0]["pattern"],
        "**"
    );
    assert_eq!(policy["trigger"]["kind"], "Schedule");
    assert_eq!(policy["scope"], json!({"level": "project", "ref": project}));

    // The summary names the endpoint to a system admin, with its credential masked.
    let summary = get_json(&http, api(&server, &format!("/projects/{project}/summary"))).await;
    assert_eq!(summary["registry"]["id"], registry);
    assert_eq!(summary["registry"]["name"], "hub");
    assert_eq!(summary["registry"]["credential"]["access_key"], "me");
    assert_eq!(summary["registry"]["credential"]["access_secret"], "*****");

    // A hosted project has neither.
    let hosted = create_project(&server, &http, json!({"project_name": "hosted"})).await;
    let hosted_json = get_json(&http, api(&server, &format!("/projects/{hosted}"))).await;
    assert!(hosted_json.get("registry_id").is_none_or(Value::is_null));
    assert!(hosted_json["metadata"].get("retention_id").is_none());
    assert!(
        server
            .state
            .db
            .retention_policy(hosted)
            .await
            .unwrap()
            .is_none()
    );

    // PUT cannot move the project to another endpoint.
    let other = create_registry(&server, &http, json!({"name": "quay", "type": "quay"})).await;
    let response = put(
        &server,
        &http,
        &format!("/projects/{project}"),
        json!({"registry_id": other, "metadata": {"proxy_include": "library/**"}}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let one = get_json(&http, api(&server, &format!("/projects/{project}"))).await;
    assert_eq!(one["registry_id"], registry);
    assert_eq!(one["metadata"]["proxy_include"], "library/**");

    // The endpoint cannot be deleted while the project uses it; editing it keeps the project.
    let response = http
        .delete(api(&server, &format!("/registries/{registry}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "PRECONDITION");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("hub-cache")
    );
    let response = put(
        &server,
        &http,
        &format!("/registries/{registry}"),
        json!({"url": "https://mirror.example.com", "access_secret": NEW_SECRET}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let one = get_json(&http, api(&server, &format!("/projects/{project}"))).await;
    assert_eq!(one["registry_id"], registry);
    let response = http
        .delete(api(&server, &format!("/projects/{project}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        server
            .state
            .db
            .retention_policy(project)
            .await
            .unwrap()
            .is_none()
    );
    let response = http
        .delete(api(&server, &format!("/registries/{registry}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // Refusals: a non-admin, an unknown endpoint, a bad pattern; none leaves a project behind.
    let response = http
        .post(api(&server, "/projects"))
        .user("dev", "Passw0rdX")
        .json(&json!({"project_name": "mine", "registry_id": other}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let message = error_message(response).await;
    assert!(message.contains("proxy cache"), "{message}");
    let response = post(
        &server,
        &http,
        "/projects",
        json!({"project_name": "ghost", "registry_id": 999}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(error_message(response).await.contains("registry 999"));
    let response = post(
        &server,
        &http,
        "/projects",
        json!({"project_name": "badglob", "registry_id": other, "metadata": {"proxy_include": "lib[rary"}}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(error_message(response).await.contains("lib[rary"));
    for name in ["mine", "ghost", "badglob"] {
        let response = http
            .get(api(&server, &format!("/projects/{name}")))
            .admin()
            .header("X-Is-Resource-Name", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{name}");
    }
    // A non-admin still creates hosted projects.
    let response = http
        .post(api(&server, "/projects"))
        .user("dev", "Passw0rdX")
        .json(&json!({"project_name": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    server.stop().await;
}

#[tokio::test]
async fn proxy_patterns_are_checked_on_every_write() {
    let server = TestServer::start().await;
    let http = client();
    let project = create_project(&server, &http, json!({"project_name": "p"})).await;
    let response = put(
        &server,
        &http,
        &format!("/projects/{project}"),
        json!({"metadata": {"proxy_exclude": "a/{b,c}"}}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = post(
        &server,
        &http,
        &format!("/projects/{project}/metadatas/"),
        json!({"proxy_include": "["}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = post(
        &server,
        &http,
        &format!("/projects/{project}/metadatas/"),
        json!({"proxy_include": "library/*, bitnami/**"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let value = get_json(
        &http,
        api(
            &server,
            &format!("/projects/{project}/metadatas/proxy_include"),
        ),
    )
    .await;
    assert_eq!(value, json!({"proxy_include": "library/*,bitnami/**"}));
    let response = put(
        &server,
        &http,
        &format!("/projects/{project}/metadatas/proxy_include"),
        json!({"proxy_include": "lib[rary"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = put(
        &server,
        &http,
        &format!("/projects/{project}/metadatas/proxy_exclude"),
        json!({"proxy_exclude": "**/internal/**"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let all = get_json(
        &http,
        api(&server, &format!("/projects/{project}/metadatas/")),
    )
    .await;
    assert_eq!(all["proxy_include"], "library/*,bitnami/**");
    assert_eq!(all["proxy_exclude"], "**/internal/**");
    let response = http
        .delete(api(
            &server,
            &format!("/projects/{project}/metadatas/proxy_exclude"),
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let all = get_json(
        &http,
        api(&server, &format!("/projects/{project}/metadatas/")),
    )
    .await;
    assert!(all.get("proxy_exclude").is_none());
    server.stop().await;
}

/// A recording upstream that wants `Basic` credentials (any) on `/v2/`.
async fn recording_upstream() -> crate::proxy::hostile::Hostile {
    use axum::response::IntoResponse as _;
    crate::proxy::hostile::Hostile::start(
        "127.0.0.1",
        axum::Router::new().fallback(|headers: axum::http::HeaderMap| async move {
            if headers.contains_key("authorization") {
                return (axum::http::StatusCode::OK, "{}").into_response();
            }
            (
                axum::http::StatusCode::UNAUTHORIZED,
                [("www-authenticate", "Basic realm=\"upstream\"")],
            )
                .into_response()
        }),
    )
    .await
}

/// `POST /registries/ping` of a stored endpoint with another URL, type, access key or certificate checking
/// does not send the stored secret there: the caller must send the secret again (400 otherwise).
#[tokio::test]
async fn ping_sends_the_stored_secret_only_to_the_endpoint_as_saved() {
    let server = TestServer::start().await;
    let http = client();
    let stored = recording_upstream().await;
    let other = recording_upstream().await;
    let id = create_registry(
        &server,
        &http,
        json!({"name": "up", "type": "docker-registry", "url": stored.base(),
            "credential": {"type": "basic", "access_key": "me", "access_secret": SECRET}}),
    )
    .await;
    let basic = |user: &str, secret: &str| crate::images::basic_auth(user, secret);

    let response = post(&server, &http, "/registries/ping", json!({"id": id})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(stored.authorizations(), [basic("me", SECRET)]);

    for body in [
        json!({"id": id, "url": other.base()}),
        json!({"id": id, "url": other.base(), "access_secret": "*****"}),
        json!({"id": id, "type": "harbor", "url": other.base()}),
        json!({"id": id, "access_key": "someone-else"}),
        json!({"id": id, "insecure": true}),
    ] {
        let response = post(&server, &http, "/registries/ping", body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let message = error_message(response).await;
        assert!(message.contains("access_secret"), "{body}: {message}");
    }
    assert!(
        other.seen().is_empty(),
        "the other URL was contacted: {:?}",
        other.authorizations()
    );
    assert_eq!(stored.authorizations(), [basic("me", SECRET)]);

    // With the secret sent again, the check runs, with that secret.
    let response = post(
        &server,
        &http,
        "/registries/ping",
        json!({"id": id, "url": other.base(), "access_secret": NEW_SECRET}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(other.authorizations(), [basic("me", NEW_SECRET)]);
    let checked = get_json(&http, api(&server, &format!("/registries/{id}"))).await;
    assert_eq!(checked["url"], stored.base(), "a check changes nothing");
    server.stop().await;
}

/// `GET /projects/{id}/summary` of a public proxy project: the endpoint (its URL, whether it has a credential)
/// is shown only to those who may read endpoints, the system admins; anyone else gets no `registry`.
#[tokio::test]
async fn the_summary_shows_the_endpoint_only_to_system_admins() {
    let server = TestServer::start().await;
    let http = client();
    let url = "https://mirror.internal.example.com";
    let registry = create_registry(
        &server,
        &http,
        json!({"name": "internal", "type": "docker-registry", "url": url,
            "credential": {"access_key": "me", "access_secret": SECRET}}),
    )
    .await;
    create_project(
        &server,
        &http,
        json!({"project_name": "cache", "registry_id": registry, "metadata": {"public": "true"}}),
    )
    .await;
    server.create_user("member", "Passw0rdX", false).await;
    server.create_user("outsider", "Passw0rdX", false).await;
    let response = post(
        &server,
        &http,
        "/projects/cache/members",
        json!({"role_id": 1, "member_user": {"username": "member"}}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let summary = |user: Option<&'static str>| {
        let request = http.get(api(&server, "/projects/cache/summary"));
        let request = match user {
            Some(name) => request.user(name, "Passw0rdX"),
            None => request,
        };
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{user:?}");
            response.text().await.unwrap()
        }
    };
    for user in [None, Some("outsider"), Some("member")] {
        let text = summary(user).await;
        assert!(!text.contains("mirror.internal"), "{user:?}: {text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert!(body["registry"].is_null(), "{user:?}: {text}");
        assert!(body["repo_count"].is_number(), "the rest is there: {text}");
    }
    let admin = get_json(&http, api(&server, "/projects/cache/summary")).await;
    assert_eq!(admin["registry"]["url"], url);
    assert_eq!(admin["registry"]["credential"]["access_key"], "me");
    assert_eq!(admin["registry"]["credential"]["access_secret"], "*****");
    server.stop().await;
}
