//! `/projects` and `/projects/{project_name_or_id}`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{As, api, create_project, error_code};
use crate::support::{TestServer, client};

#[tokio::test]
async fn admin_creates_reads_lists_updates_and_deletes_a_project() {
    let server = TestServer::start().await;
    let http = client();
    let id = create_project(
        &server,
        &http,
        json!({"project_name": "team", "metadata": {"public": "false", "auto_scan": "true"}, "storage_limit": 50_000_000}),
    )
    .await;

    let project: Value = http
        .get(api(&server, &format!("/projects/{id}")))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(project["project_id"], id);
    assert_eq!(project["name"], "team");
    assert_eq!(project["owner_name"], "admin");
    assert_eq!(
        project["metadata"],
        json!({"public": "false", "auto_scan": "true"})
    );
    assert_eq!(project["repo_count"], 0);
    assert_eq!(
        project["current_user_role_id"], 1,
        "the creator is its project admin"
    );
    assert_eq!(project["togglable"], true);
    for field in [
        "owner_id",
        "creation_time",
        "update_time",
        "deleted",
        "current_user_role_ids",
    ] {
        assert!(!project[field].is_null(), "{field} missing from {project}");
    }
    // By name, and by name when it looks like a number.
    let by_name = http
        .get(api(&server, "/projects/team"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(by_name.status(), StatusCode::OK);
    create_project(&server, &http, json!({"project_name": "123"})).await;
    let response = http
        .get(api(&server, "/projects/123"))
        .admin()
        .header("X-Is-Resource-Name", "true")
        .send()
        .await
        .unwrap();
    let numeric: Value = response.json().await.unwrap();
    assert_eq!(numeric["name"], "123");

    assert_eq!(
        http.head(api(&server, "/projects?project_name=team"))
            .admin()
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        http.head(api(&server, "/projects?project_name=none"))
            .admin()
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    let response = http
        .put(api(&server, "/projects/team"))
        .admin()
        .json(&json!({"metadata": {"public": "true", "severity": "high"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let project: Value = http
        .get(api(&server, "/projects/team"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        project["metadata"],
        json!({"public": "true", "auto_scan": "true", "severity": "high"})
    );

    let response = http
        .post(api(&server, "/projects"))
        .admin()
        .json(&json!({"project_name": "team"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(response).await, "CONFLICT");
    for bad in [
        json!({"project_name": "Team"}),
        json!({}),
        json!({"project_name": "x", "storage_limit": -5}),
    ] {
        let response = http
            .post(api(&server, "/projects"))
            .admin()
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }

    assert_eq!(
        http.delete(api(&server, &format!("/projects/{id}")))
            .admin()
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        http.get(api(&server, &format!("/projects/{id}")))
            .admin()
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    server.stop().await;
}

#[tokio::test]
async fn a_project_with_repositories_cannot_be_deleted() {
    let server = TestServer::start().await;
    let http = client();
    let data = b"layer";
    let digest = crate::support::sha256(data);
    let response = http
        .post(server.url(&format!("/v2/library/app/blobs/uploads/?digest={digest}")))
        .admin()
        .body(&data[..])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = http
        .delete(api(&server, "/projects/library"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(error_code(response).await, "PRECONDITION");
    server.stop().await;
}

#[tokio::test]
async fn outsiders_cannot_see_private_projects() {
    let server = TestServer::start().await;
    let http = client();
    let id = create_project(&server, &http, json!({"project_name": "secret"})).await;
    server.create_user("outsider", "Outsider1", false).await;

    for url in [
        api(&server, &format!("/projects/{id}")),
        api(&server, "/projects/secret"),
    ] {
        let response = http
            .get(&url)
            .user("outsider", "Outsider1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{url}");
        assert_eq!(
            http.get(&url).send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "anonymous {url}"
        );
    }
    let response = http
        .head(api(&server, "/projects?project_name=secret"))
        .user("outsider", "Outsider1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http
        .put(api(&server, "/projects/secret"))
        .user("outsider", "Outsider1")
        .json(&json!({"metadata": {"public": "true"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        http.delete(api(&server, "/projects/secret"))
            .user("outsider", "Outsider1")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    let list: Value = http
        .get(api(&server, "/projects"))
        .user("outsider", "Outsider1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["library"], "only the public project");
    let list: Value = http
        .get(api(&server, "/projects"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "anonymous sees public projects only"
    );
    server.stop().await;
}

#[tokio::test]
async fn signed_in_users_create_projects_they_administer() {
    let server = TestServer::start().await;
    let http = client();
    server.create_user("alice", "AlicePass1", false).await;
    let response = http
        .post(api(&server, "/projects"))
        .user("alice", "AlicePass1")
        .header("X-Resource-Name-In-Location", "true")
        .json(&json!({"project_name": "alices", "public": false, "storage_limit": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["location"], "/api/v2.0/projects/alices");
    let project: Value = http
        .get(api(&server, "/projects/alices"))
        .user("alice", "AlicePass1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(project["owner_name"], "alice");
    assert_eq!(project["current_user_role_id"], 1);

    // Anonymous callers cannot create projects; another user cannot change or delete alice's.
    let response = http
        .post(api(&server, "/projects"))
        .json(&json!({"project_name": "anon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    server.create_user("bob", "BobPass12", false).await;
    let response = http
        .put(api(&server, "/projects/library"))
        .user("bob", "BobPass12")
        .json(&json!({"metadata": {"public": "false"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "a non-member may read a public project, not change it"
    );
    let response = http
        .get(api(&server, "/projects"))
        .user("alice", "AlicePass1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "2");
    let response = http
        .get(api(&server, "/projects"))
        .user("wrong", "password")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn project_lists_are_paginated_and_filtered() {
    let server = TestServer::start().await;
    let http = client();
    for i in 0..12 {
        create_project(&server, &http, json!({"project_name": format!("p{i:02}"), "metadata": {"public": if i % 2 == 0 { "true" } else { "false" }}})).await;
    }
    let response = http
        .get(api(&server, "/projects?page=2&page_size=5"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "13");
    assert_eq!(
        response.headers()["link"],
        "</api/v2.0/projects?page=1&page_size=5>; rel=\"prev\" , </api/v2.0/projects?page=3&page_size=5>; rel=\"next\""
    );
    let page: Value = response.json().await.unwrap();
    let names: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["p04", "p05", "p06", "p07", "p08"]);

    let response = http
        .get(api(&server, "/projects?name=p1&public=true"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "1");
    let page: Value = response.json().await.unwrap();
    assert_eq!(page[0]["name"], "p10");
    let response = http
        .get(api(&server, "/projects?page_size=500"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn harbors_q_filters_projects_and_unknown_keys_are_refused() {
    let server = TestServer::start().await;
    let http = client();
    for name in ["images", "images-old", "tools"] {
        create_project(
            &server,
            &http,
            json!({"project_name": name, "metadata": {"public": "true"}}),
        )
        .await;
    }
    let names = |query: &'static str| {
        let http = http.clone();
        let url = api(&server, &format!("/projects?{query}"));
        async move {
            let response = http.get(url).admin().send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{query}");
            let list: Value = response.json().await.unwrap();
            list.as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("q=name=images").await, ["images"]);
    assert_eq!(names("q=name=~images").await, ["images", "images-old"]);
    assert_eq!(
        names("q=name=~o,public=true").await,
        ["images-old", "tools"]
    );
    assert_eq!(names("q=public=false").await, Vec::<String>::new());
    for bad in [
        "/projects?q=color=red",
        "/projects?q=public=maybe",
        "/robots?q=name=zzz",
        "/users?q=phone=1",
    ] {
        let response = http.get(api(&server, bad)).admin().send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error_code(response).await, "BAD_REQUEST");
    }
    server.stop().await;
}
