//! `/repositories` and `/projects/{project_name}/repositories[/{repository_name}]`, and pull counting.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{As, api, create_project, error_code, get_json};
use crate::clients::{ClientEnv, admin_creds, skopeo_copy};
use crate::images::{Image, Layout};
use crate::registry::{OCI_MANIFEST, put_manifest, upload_blob};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, BinaryServer, TestServer, client};

pub const PASSWORD: &str = "Passw0rdX";

/// Pushes `image` to `repo` as `reference` (as admin); returns the manifest digest.
pub async fn push(
    server: &TestServer,
    http: &Client,
    repo: &str,
    reference: &str,
    image: &Image,
) -> String {
    for blob in image.referenced_blobs() {
        upload_blob(server, http, repo, &blob.bytes).await;
    }
    put_manifest(
        server,
        http,
        repo,
        reference,
        OCI_MANIFEST,
        &image.manifest.bytes,
    )
    .await
}

/// The bytes `image` takes: manifest, config and layers (Harbor's artifact size).
pub fn image_size(image: &Image) -> i64 {
    (image.manifest.size()
        + image
            .referenced_blobs()
            .iter()
            .map(|b| b.size())
            .sum::<usize>()) as i64
}

/// Creates user `name` (password [`PASSWORD`]) and makes it a member of `project` with `role_id`.
pub async fn member(server: &TestServer, http: &Client, project: &str, name: &str, role_id: i64) {
    server.create_user(name, PASSWORD, false).await;
    let response = http
        .post(api(server, &format!("/projects/{project}/members")))
        .admin()
        .json(&json!({"role_id": role_id, "member_user": {"username": name}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "add {name}");
}

/// The storage a project's quota says it uses.
pub async fn used(server: &TestServer, http: &Client, project_id: i64) -> i64 {
    get_json(http, api(server, &format!("/quotas/{project_id}"))).await["used"]["storage"]
        .as_i64()
        .unwrap()
}

/// `GET /v2/<repo>/manifests/<reference>` as admin: a pull. Returns the status.
pub async fn pull(server: &TestServer, http: &Client, repo: &str, reference: &str) -> StatusCode {
    http.get(server.url(&format!("/v2/{repo}/manifests/{reference}")))
        .admin()
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap()
        .status()
}

fn names(body: &Value) -> Vec<&str> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn repositories_are_listed_with_harbors_fields_and_paginated() {
    let server = TestServer::start().await;
    let http = client();
    let project_id = create_project(&server, &http, json!({"project_name": "proj"})).await;
    create_project(&server, &http, json!({"project_name": "other"})).await;
    push(
        &server,
        &http,
        "proj/app",
        "v1",
        &Image::build(1, "amd64", &[1000]),
    )
    .await;
    push(
        &server,
        &http,
        "proj/app",
        "v2",
        &Image::build(2, "amd64", &[1000]),
    )
    .await;
    push(
        &server,
        &http,
        "proj/a/b",
        "v1",
        &Image::build(3, "amd64", &[1000]),
    )
    .await;
    push(
        &server,
        &http,
        "proj/web",
        "v1",
        &Image::build(4, "amd64", &[1000]),
    )
    .await;
    push(
        &server,
        &http,
        "other/x",
        "v1",
        &Image::build(5, "amd64", &[1000]),
    )
    .await;

    let response = http
        .get(api(&server, "/projects/proj/repositories"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "3");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        names(&body),
        ["proj/web", "proj/a/b", "proj/app"],
        "newest first"
    );
    let app = &body[2];
    assert_eq!(app["project_id"], project_id);
    assert_eq!(app["artifact_count"], 2);
    assert_eq!(app["pull_count"], 0);
    assert_eq!(app["description"], "");
    assert!(app["id"].as_i64().unwrap() > 0);
    assert!(app["creation_time"].as_str().unwrap().starts_with("20"));
    assert!(app["update_time"].as_str().is_some());

    // Pagination, sorting and Harbor's fuzzy name filter.
    let response = http
        .get(api(
            &server,
            "/projects/proj/repositories?page=1&page_size=2&sort=name",
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "3");
    assert!(
        response.headers()["link"]
            .to_str()
            .unwrap()
            .contains("page=2&page_size=2>; rel=\"next\"")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(names(&body), ["proj/a/b", "proj/app"]);
    let body = get_json(
        &http,
        api(&server, "/projects/proj/repositories?q=name%3D~a%2Fb"),
    )
    .await;
    assert_eq!(names(&body), ["proj/a/b"]);
    let response = http
        .get(api(&server, "/projects/proj/repositories?q=owner%3Dx"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // One repository, its relative name encoded twice (Harbor's spelling) or once.
    for encoded in ["a%252Fb", "a%2Fb"] {
        let repo = get_json(
            &http,
            api(&server, &format!("/projects/proj/repositories/{encoded}")),
        )
        .await;
        assert_eq!(repo["name"], "proj/a/b", "{encoded}");
        assert_eq!(repo["artifact_count"], 1);
    }
    let response = http
        .get(api(&server, "/projects/proj/repositories/nothing"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "NOT_FOUND");

    // Every repository, for the admin.
    let response = http
        .get(api(&server, "/repositories?page_size=100"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "4");
    let body = get_json(&http, api(&server, "/repositories?q=name%3D~x")).await;
    assert_eq!(names(&body), ["other/x"]);
    server.stop().await;
}

#[tokio::test]
async fn deleting_a_repository_deletes_its_artifacts_and_gives_back_quota() {
    let server = TestServer::start().await;
    let http = client();
    let project_id = create_project(&server, &http, json!({"project_name": "proj"})).await;
    let one = Image::build(1, "amd64", &[20_000]);
    let two = Image::build(2, "amd64", &[30_000]);
    push(&server, &http, "proj/one", "v1", &one).await;
    push(&server, &http, "proj/one", "v2", &two).await;
    push(&server, &http, "proj/two", "v1", &two).await;
    assert_eq!(
        used(&server, &http, project_id).await,
        image_size(&one) + image_size(&two),
        "image two counts once"
    );

    let response = http
        .delete(api(&server, "/projects/proj/repositories/one"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        used(&server, &http, project_id).await,
        image_size(&two),
        "what proj/two still uses stays charged"
    );
    let response = http
        .get(api(&server, "/projects/proj/repositories/one"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        pull(&server, &http, "proj/one", "v1").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(pull(&server, &http, "proj/two", "v1").await, StatusCode::OK);
    let response = http
        .delete(api(&server, "/projects/proj/repositories/one"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let response = http
        .delete(api(&server, "/projects/proj/repositories/two"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(used(&server, &http, project_id).await, 0);
    server.assert_quota_ledger_agrees().await;
    // The project is empty now, so it can be deleted.
    let response = http
        .delete(api(&server, "/projects/proj"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn private_repositories_are_hidden_and_roles_decide_deletion() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "secret"})).await;
    create_project(
        &server,
        &http,
        json!({"project_name": "open", "metadata": {"public": "true"}}),
    )
    .await;
    push(
        &server,
        &http,
        "secret/app",
        "v1",
        &Image::build(1, "amd64", &[100]),
    )
    .await;
    push(
        &server,
        &http,
        "open/app",
        "v1",
        &Image::build(2, "amd64", &[100]),
    )
    .await;
    member(&server, &http, "secret", "guest", 3).await;
    member(&server, &http, "secret", "dev", 2).await;
    member(&server, &http, "secret", "keeper", 4).await;
    server.create_user("outsider", PASSWORD, false).await;

    // Outsiders and anonymous callers cannot tell a private project exists.
    for who in [Some("outsider"), None] {
        for path in [
            "/projects/secret/repositories",
            "/projects/secret/repositories/app",
        ] {
            let request = http.get(api(&server, path));
            let request = match who {
                Some(name) => request.user(name, PASSWORD),
                None => request,
            };
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{who:?} {path}");
        }
    }
    // Everyone sees the public project's repositories; only the caller's own private ones are listed.
    let body: Value = http
        .get(api(&server, "/repositories"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(names(&body), ["open/app"], "anonymous");
    let body: Value = http
        .get(api(&server, "/repositories?sort=name"))
        .user("guest", PASSWORD)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(names(&body), ["open/app", "secret/app"], "guest");
    let response = http
        .get(api(&server, "/projects/open/repositories/app"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "anonymous on public");

    // Guests and developers may read but not delete; a maintainer may delete.
    let response = http
        .get(api(&server, "/projects/secret/repositories/app"))
        .user("guest", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    for name in ["guest", "dev"] {
        let response = http
            .delete(api(&server, "/projects/secret/repositories/app"))
            .user(name, PASSWORD)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}");
        assert_eq!(error_code(response).await, "FORBIDDEN");
    }
    let response = http
        .delete(api(&server, "/projects/open/repositories/app"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "anonymous");
    assert!(response.headers().contains_key("www-authenticate"));
    let response = http
        .delete(api(&server, "/projects/secret/repositories/app"))
        .user("keeper", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "maintainer");
    server.stop().await;
}

#[tokio::test]
async fn pulls_are_counted_per_repository_artifact_tag_and_day() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "proj"})).await;
    let digest = push(
        &server,
        &http,
        "proj/app",
        "v1",
        &Image::build(1, "amd64", &[100]),
    )
    .await;
    push(
        &server,
        &http,
        "proj/other",
        "v1",
        &Image::build(2, "amd64", &[100]),
    )
    .await;

    for _ in 0..3 {
        assert_eq!(pull(&server, &http, "proj/app", "v1").await, StatusCode::OK);
    }
    for _ in 0..2 {
        assert_eq!(
            pull(&server, &http, "proj/app", &digest).await,
            StatusCode::OK
        );
    }
    // HEAD is not a pull; neither is a miss.
    let response = http
        .head(server.url("/v2/proj/app/manifests/v1"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        pull(&server, &http, "proj/app", "nope").await,
        StatusCode::NOT_FOUND
    );
    server.state.pulls.flush().await;

    let repo = get_json(&http, api(&server, "/projects/proj/repositories/app")).await;
    assert_eq!(repo["pull_count"], 5);
    let other = get_json(&http, api(&server, "/projects/proj/repositories/other")).await;
    assert_eq!(other["pull_count"], 0);
    let artifact = get_json(
        &http,
        api(&server, "/projects/proj/repositories/app/artifacts/v1"),
    )
    .await;
    let pulled = artifact["pull_time"].as_str().unwrap();
    assert!(
        pulled > artifact["push_time"].as_str().unwrap(),
        "{artifact}"
    );
    assert!(artifact["tags"][0]["pull_time"].as_str().unwrap() > "2000");
    let never = get_json(
        &http,
        api(&server, "/projects/proj/repositories/other/artifacts/v1"),
    )
    .await;
    assert_eq!(never["pull_time"], "0001-01-01T00:00:00.000Z");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        server.state.db.daily_pulls("proj/app").await.unwrap(),
        [(today, 5)]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_graceful_stop_writes_pending_pull_counts() {
    // A long interval: only the shutdown flush can write these pulls.
    let mut server = TestServer::start_with(|c| c.pull_stats_interval_ms = 600_000).await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "proj"})).await;
    push(
        &server,
        &http,
        "proj/app",
        "v1",
        &Image::build(1, "amd64", &[100]),
    )
    .await;
    for _ in 0..4 {
        assert_eq!(pull(&server, &http, "proj/app", "v1").await, StatusCode::OK);
    }
    let repo = get_json(&http, api(&server, "/projects/proj/repositories/app")).await;
    assert_eq!(repo["pull_count"], 0, "not written yet");

    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap());
    let data_dir = dir.path().join("data");
    server.stop().await;
    let server = TestServer::start_with(|c| c.data_dir = data_dir).await;
    let repo = get_json(&http, api(&server, "/projects/proj/repositories/app")).await;
    assert_eq!(repo["pull_count"], 4);
    server.stop().await;
}

/// Real clients: `skopeo copy` from the registry N times counts N pulls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skopeo_pulls_are_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let server = BinaryServer::start(&data);
    let host = server.host();
    let env = ClientEnv::new();
    let image = Image::build(7, "amd64", &[50_000]);
    let mut src = Layout::create(&tmp.path().join("src"));
    src.add_image("v1", &image);
    let creds = admin_creds();
    let target = format!("docker://{host}/library/counted:v1");
    {
        let (env, src, target, creds) = (&env, src.reference("v1"), target.clone(), creds.clone());
        tokio::task::block_in_place(|| skopeo_copy(env, &src, &target, Some(&creds), false));
    }
    const PULLS: i64 = 3;
    for i in 0..PULLS {
        let out = tmp.path().join(format!("out{i}"));
        let dest = format!("oci:{}:v1", out.display());
        tokio::task::block_in_place(|| skopeo_copy(&env, &target, &dest, Some(&creds), false));
    }

    // Counts are written within a second or so; poll for a bounded time.
    let http = client();
    let url = server.url("/api/v2.0/projects/library/repositories/counted");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut count = Value::Null;
    while std::time::Instant::now() < deadline {
        let repo: Value = http
            .get(&url)
            .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        count = repo["pull_count"].clone();
        if count == PULLS {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(count, PULLS, "one pull per skopeo copy");
}

#[tokio::test]
async fn a_repository_description_is_updated_by_writers_only() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "docs"})).await;
    push(
        &server,
        &http,
        "docs/team/app",
        "v1",
        &Image::build(1, "amd64", &[100]),
    )
    .await;
    let url = api(&server, "/projects/docs/repositories/team%252Fapp");
    let repo = get_json(&http, url.clone()).await;
    assert_eq!(repo["description"], "");

    // Harbor's whole `Repository` may be sent; only the description changes.
    let response = http
        .put(&url)
        .admin()
        .json(&json!({"name": "docs/other", "pull_count": 99, "description": "The app.\nSee the wiki."}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let repo = get_json(&http, url.clone()).await;
    assert_eq!(repo["description"], "The app.\nSee the wiki.");
    assert_eq!(repo["name"], "docs/team/app");
    assert_eq!(repo["pull_count"], 0);
    let listed = get_json(&http, api(&server, "/projects/docs/repositories")).await;
    assert_eq!(listed[0]["description"], "The app.\nSee the wiki.");

    // A developer may update; a guest may not; anonymous callers must sign in (the project is made public).
    member(&server, &http, "docs", "writer", 2).await;
    member(&server, &http, "docs", "reader", 3).await;
    let response = http
        .put(&url)
        .user("writer", PASSWORD)
        .json(&json!({"description": "by a developer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .put(&url)
        .user("reader", PASSWORD)
        .json(&json!({"description": "by a guest"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = http
        .put(api(&server, "/projects/docs"))
        .admin()
        .json(&json!({"metadata": {"public": "true"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .put(&url)
        .json(&json!({"description": "anonymous"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        get_json(&http, url.clone()).await["description"],
        "by a developer"
    );

    // Bad input and missing repositories.
    for body in ["not json", "[1]", r#"{"description": 5}"#] {
        let response = http
            .put(&url)
            .admin()
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(response).await, "BAD_REQUEST");
    }
    let response = http
        .put(api(&server, "/projects/docs/repositories/missing"))
        .admin()
        .json(&json!({"description": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // An absent description clears it, as in Harbor.
    let response = http
        .put(&url)
        .admin()
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(get_json(&http, url).await["description"], "");
    server.stop().await;
}
