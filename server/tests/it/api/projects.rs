//! `/projects` and `/projects/{project_name_or_id}`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{As, api, configure, create_project, error_code, get_json};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer, client};

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
        "/robots?q=color=zzz",
        "/users?q=phone=1",
    ] {
        let response = http.get(api(&server, bad)).admin().send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error_code(response).await, "BAD_REQUEST");
    }
    server.stop().await;
}

/// GET `path` with `auth` applied; returns the status and the JSON body (`null` if none).
async fn get_as(
    http: &reqwest::Client,
    url: String,
    auth: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> (StatusCode, Value) {
    let response = auth(http.get(url)).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_summary_counts_repositories_members_quota_and_daily_pulls() {
    use super::repositories::{PASSWORD, image_size, member, pull, push};
    use crate::images::Image;

    let server = TestServer::start().await;
    let http = client();
    create_project(
        &server,
        &http,
        json!({"project_name": "sum", "storage_limit": 10_000_000}),
    )
    .await;
    let (one, two) = (
        Image::build(1, "amd64", &[300]),
        Image::build(2, "amd64", &[400]),
    );
    push(&server, &http, "sum/app", "v1", &one).await;
    push(&server, &http, "sum/app", "v2", &two).await;
    push(&server, &http, "sum/db", "v1", &one).await;
    member(&server, &http, "sum", "dev", 2).await;
    member(&server, &http, "sum", "g1", 3).await;
    member(&server, &http, "sum", "g2", 3).await;
    member(&server, &http, "sum", "lg", 5).await;
    for (repo, times) in [("sum/app", 3), ("sum/db", 1)] {
        for _ in 0..times {
            assert_eq!(pull(&server, &http, repo, "v1").await, StatusCode::OK);
        }
    }
    server.state.pulls.flush().await;

    let (status, summary) =
        get_as(&http, api(&server, "/projects/sum/summary"), |r| r.admin()).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["repo_count"], 2);
    assert_eq!(summary["project_admin_count"], 1, "the creator");
    assert_eq!(summary["maintainer_count"], 0);
    assert_eq!(summary["developer_count"], 1);
    assert_eq!(summary["guest_count"], 2);
    assert_eq!(summary["limited_guest_count"], 1);
    assert_eq!(summary["quota"]["hard"]["storage"], 10_000_000);
    // Blobs shared by the two repositories count once.
    assert_eq!(
        summary["quota"]["used"]["storage"],
        image_size(&one) + image_size(&two)
    );
    assert!(
        summary.as_object().unwrap().contains_key("registry") && summary["registry"].is_null(),
        "a hosted project has a null registry: {summary}"
    );
    assert_eq!(summary["artifact_count"], 3);
    assert_eq!(summary["pull_count"], 4);
    let days = summary["pulls_per_day"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let today = chrono::Utc::now().date_naive();
    assert_eq!(
        days[29],
        json!({"date": today.format("%Y-%m-%d").to_string(), "count": 4})
    );
    let first = today - chrono::Days::new(29);
    assert_eq!(
        days[0],
        json!({"date": first.format("%Y-%m-%d").to_string(), "count": 0})
    );
    assert!(days[..29].iter().all(|d| d["count"] == 0), "{days:?}");

    // A limited guest may read the quota but not list members.
    let (status, summary) = get_as(&http, api(&server, "/projects/sum/summary"), |r| {
        r.user("lg", PASSWORD)
    })
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(summary.get("guest_count").is_none(), "{summary}");
    assert!(summary.get("project_admin_count").is_none(), "{summary}");
    assert_eq!(summary["quota"]["hard"]["storage"], 10_000_000);
    assert_eq!(summary["repo_count"], 2);

    // Outsiders and anonymous callers do not see a private project at all.
    server.create_user("outsider", "Outsider1", false).await;
    let (status, _) = get_as(&http, api(&server, "/projects/sum/summary"), |r| {
        r.user("outsider", "Outsider1")
    })
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get_as(&http, api(&server, "/projects/sum/summary"), |r| r).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get_as(&http, api(&server, "/projects/nope/summary"), |r| r.admin()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // On a public project they see the counts, but neither members nor quota.
    let (status, summary) = get_as(&http, api(&server, "/projects/library/summary"), |r| r).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(summary["repo_count"], 0);
    assert_eq!(summary["pull_count"], 0);
    assert!(summary.get("quota").is_none(), "{summary}");
    assert!(summary.get("developer_count").is_none(), "{summary}");
    server.stop().await;
}

#[tokio::test]
async fn deletable_says_whether_a_project_can_be_deleted_and_why_not() {
    use super::repositories::{PASSWORD, member, push};
    use crate::images::Image;

    let server = TestServer::start().await;
    let http = client();
    let id = create_project(&server, &http, json!({"project_name": "gone"})).await;
    let (status, body) = get_as(
        &http,
        api(&server, &format!("/projects/{id}/_deletable")),
        |r| r.admin(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["deletable"], true);

    push(
        &server,
        &http,
        "gone/app",
        "v1",
        &Image::build(1, "amd64", &[100]),
    )
    .await;
    let (status, body) = get_as(&http, api(&server, "/projects/gone/_deletable"), |r| {
        r.admin()
    })
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["deletable"], false);
    assert!(
        body["message"].as_str().unwrap().contains("repositories"),
        "{body}"
    );
    // The answer agrees with DELETE.
    let response = http
        .delete(api(&server, "/projects/gone"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);

    // Only those who may delete the project may ask.
    member(&server, &http, "gone", "maint", 4).await;
    let (status, _) = get_as(&http, api(&server, "/projects/gone/_deletable"), |r| {
        r.user("maint", PASSWORD)
    })
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get_as(&http, api(&server, "/projects/gone/_deletable"), |r| r).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "private: hidden");
    let (status, _) = get_as(&http, api(&server, "/projects/library/_deletable"), |r| r).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "public: sign in first");

    let response = http
        .delete(api(&server, "/projects/gone/repositories/app"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (_, body) = get_as(&http, api(&server, "/projects/gone/_deletable"), |r| {
        r.admin()
    })
    .await;
    assert_eq!(body["deletable"], true);
    server.stop().await;
}

/// Sends `method` to the project's metadata `path` as admin with `body`; returns the status.
async fn metadata_call(
    server: &TestServer,
    http: &reqwest::Client,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> StatusCode {
    let mut request = http
        .request(
            method,
            api(server, &format!("/projects/meta/metadatas/{path}")),
        )
        .admin();
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap().status()
}

/// The `metadata` of project `meta`, as `GET /projects/meta` shows it to the admin.
async fn meta_of(server: &TestServer, http: &reqwest::Client) -> Value {
    get_as(http, api(server, "/projects/meta"), |r| r.admin())
        .await
        .1["metadata"]
        .clone()
}

#[tokio::test]
async fn project_metadata_is_read_and_written_one_setting_at_a_time() {
    use super::repositories::{PASSWORD, member};
    use reqwest::Method;

    let server = TestServer::start().await;
    let http = client();
    let (s, h) = (&server, &http);
    let id = create_project(
        s,
        h,
        json!({"project_name": "meta", "metadata": {"auto_scan": "true"}}),
    )
    .await;
    let (status, all) = get_as(h, api(s, &format!("/projects/{id}/metadatas/")), |r| {
        r.admin()
    })
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all, json!({"public": "false", "auto_scan": "true"}));

    // Add: one pair, normalized as Harbor stores it; then it shows in the project too.
    let post = |body: Value| metadata_call(s, h, Method::POST, "", Some(body));
    assert_eq!(post(json!({"severity": "HIGH"})).await, StatusCode::OK);
    assert_eq!(post(json!({"prevent_vul": "1"})).await, StatusCode::OK);
    assert_eq!(
        meta_of(s, h).await,
        json!({"public": "false", "auto_scan": "true", "severity": "high", "prevent_vul": "true"})
    );
    assert_eq!(post(json!({"severity": "low"})).await, StatusCode::CONFLICT);
    assert_eq!(post(json!({"public": "true"})).await, StatusCode::CONFLICT);
    for bad in [
        json!({}),
        json!({"enable_content_trust": "true", "auto_sbom_generation": "true"}),
        json!({"colour": "blue"}),
        json!({"enable_content_trust": "maybe"}),
        json!({"enable_content_trust": true}),
        json!({"severity": "unknown"}),
        json!({"proxy_speed_kb": "fast"}),
        json!({"retention_id": "7"}),
    ] {
        assert_eq!(post(bad.clone()).await, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(
        meta_of(s, h).await,
        json!({"public": "false", "auto_scan": "true", "severity": "high", "prevent_vul": "true"}),
        "refused writes change nothing"
    );

    // Read one.
    let one = |name: &str| {
        get_as(
            h,
            api(s, &format!("/projects/meta/metadatas/{name}")),
            |r| r.admin(),
        )
    };
    assert_eq!(
        one("severity").await,
        (StatusCode::OK, json!({"severity": "high"}))
    );
    assert_eq!(
        one("public").await,
        (StatusCode::OK, json!({"public": "false"}))
    );
    assert_eq!(one("enable_content_trust").await.0, StatusCode::NOT_FOUND);
    assert_eq!(one("colour").await.0, StatusCode::BAD_REQUEST);

    // Update: the body names the path's setting.
    let put = |name: &'static str, body: Value| metadata_call(s, h, Method::PUT, name, Some(body));
    assert_eq!(
        put("severity", json!({"severity": "critical"})).await,
        StatusCode::OK
    );
    assert_eq!(
        put(
            "enable_content_trust",
            json!({"enable_content_trust": "false"})
        )
        .await,
        StatusCode::OK,
        "PUT also sets a setting that was not set"
    );
    assert_eq!(
        put("severity", json!({"auto_scan": "false"})).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        put("colour", json!({"colour": "red"})).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        put("severity", json!({"severity": "extreme"})).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        put("public", json!({"public": "true"})).await,
        StatusCode::OK
    );
    let (status, project) = get_as(h, api(s, "/projects/meta"), |r| r).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "public now: anonymous callers see it"
    );
    assert_eq!(
        project["metadata"],
        json!({"public": "true", "auto_scan": "true", "severity": "critical",
            "prevent_vul": "true", "enable_content_trust": "false"})
    );

    // Delete: idempotent; deleting `public` makes the project private again.
    let delete = |name: &'static str| metadata_call(s, h, Method::DELETE, name, None);
    assert_eq!(delete("severity").await, StatusCode::OK);
    assert_eq!(delete("severity").await, StatusCode::OK);
    assert_eq!(delete("colour").await, StatusCode::BAD_REQUEST);
    assert_eq!(delete("public").await, StatusCode::OK);
    assert_eq!(
        meta_of(s, h).await,
        json!({"public": "false", "auto_scan": "true", "prevent_vul": "true", "enable_content_trust": "false"})
    );
    let (status, _) = get_as(h, api(s, "/projects/meta/metadatas/"), |r| r).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "private again");

    // Members read; only project admins write.
    member(s, h, "meta", "dev", 2).await;
    let (status, all) = get_as(h, api(s, "/projects/meta/metadatas/"), |r| {
        r.user("dev", PASSWORD)
    })
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["auto_scan"], "true");
    let response = http
        .put(api(s, "/projects/meta/metadatas/auto_scan"))
        .user("dev", PASSWORD)
        .json(&json!({"auto_scan": "false"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(response).await, "FORBIDDEN");
    assert_eq!(meta_of(s, h).await["auto_scan"], "true");
    server.stop().await;
}

#[tokio::test]
async fn adminonly_creation_refuses_everyone_but_system_admins() {
    let server = TestServer::start().await;
    let http = client();
    server.create_user("dev", "Password1", false).await;
    let create = |user: &'static str, password: &'static str, name: &'static str| {
        let http = http.clone();
        let url = api(&server, "/projects");
        async move {
            http.post(url)
                .basic_auth(user, Some(password))
                .json(&json!({"project_name": name}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        create("dev", "Password1", "devs").await.status(),
        StatusCode::CREATED
    );
    configure(
        &server,
        &http,
        json!({"project_creation_restriction": "adminonly"}),
    )
    .await;
    let refused = create("dev", "Password1", "devs2").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "FORBIDDEN");
    assert_eq!(
        body["errors"][0]["message"],
        "Only system admin can create project"
    );
    assert_eq!(
        create(ADMIN_USER, ADMIN_PASSWORD, "admins").await.status(),
        StatusCode::CREATED
    );
    let info = get_json(&http, api(&server, "/systeminfo")).await;
    assert_eq!(info["project_creation_restriction"], "adminonly");
    server.stop().await;
}

#[tokio::test]
async fn put_checks_metadata_as_metadatas_does_and_keeps_the_cve_allowlist() {
    let server = TestServer::start().await;
    let http = client();
    let id = create_project(&server, &http, json!({"project_name": "team"})).await;
    let url = api(&server, &format!("/projects/{id}"));
    let put = |body: Value| {
        let http = http.clone();
        let url = url.clone();
        async move { http.put(url).admin().json(&body).send().await.unwrap() }
    };
    let read = || get_json(&http, url.clone());
    // A new project has Harbor's empty allowlist.
    let fresh = read().await;
    assert_eq!(fresh["cve_allowlist"]["items"], json!([]));
    assert_eq!(fresh["cve_allowlist"]["project_id"], id);

    // Bad metadata is refused with the reason, and nothing changes.
    for (metadata, reason) in [
        (json!({"colour": "blue"}), "invalid metadata name"),
        (json!({"auto_scan": "maybe"}), "invalid value"),
        (json!({"severity": "awful"}), "invalid value"),
        (
            json!({"retention_id": "7"}),
            "the retention_id in the request's payload",
        ),
        (
            json!({"auto_scan": "true", "max_upstream_conn": "5"}),
            "invalid metadata name",
        ),
        (json!({"prevent_vul": true}), "invalid"),
    ] {
        let response = put(json!({"metadata": metadata})).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{metadata}");
        let body: Value = response.json().await.unwrap();
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{metadata}: {message}");
    }
    assert_eq!(read().await["metadata"], fresh["metadata"]);

    // Good metadata is stored in Harbor's spelling, with the allowlist, in one request.
    let response = put(json!({
        "metadata": {"auto_scan": "True", "severity": "HIGH", "reuse_sys_cve_allowlist": "false"},
        "cve_allowlist": {"project_id": id, "expires_at": 4_102_444_800_i64,
                          "items": [{"cve_id": "CVE-2021-44228"}, {"cve_id": " CVE-2019-10164 "}]},
    }))
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let project = read().await;
    assert_eq!(project["metadata"]["auto_scan"], "true");
    assert_eq!(project["metadata"]["severity"], "high");
    assert_eq!(project["metadata"]["reuse_sys_cve_allowlist"], "false");
    let allowlist = &project["cve_allowlist"];
    assert_eq!(allowlist["project_id"], id);
    assert_eq!(allowlist["expires_at"], 4_102_444_800_i64);
    assert_eq!(
        allowlist["items"],
        json!([{"cve_id": "CVE-2019-10164"}, {"cve_id": "CVE-2021-44228"}])
    );
    assert!(allowlist["id"].as_i64().unwrap() > 0);
    let listed = get_json(&http, api(&server, "/projects?name=team")).await;
    assert_eq!(listed[0]["cve_allowlist"], *allowlist);

    // The allowlist is checked as Harbor checks it; a bad one changes nothing.
    for (cve_allowlist, reason) in [
        (
            json!({"items": [{"cve_id": "CVE-1"}, {"cve_id": "CVE-1"}]}),
            "duplicate CVE ID in allowlist: CVE-1",
        ),
        (
            json!({"items": [{"cve_id": "  "}]}),
            "empty or whitespace-only CVE ID in allowlist",
        ),
        (
            json!({"project_id": id + 1, "items": []}),
            "project_id in cve_allowlist must be",
        ),
        (
            json!({"items": [{"cve_id": "x".repeat(200)}]}),
            "at most 128",
        ),
    ] {
        let response =
            put(json!({"metadata": {"auto_scan": "false"}, "cve_allowlist": cve_allowlist})).await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{cve_allowlist}"
        );
        let body: Value = response.json().await.unwrap();
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{message}");
    }
    let after = read().await;
    assert_eq!(after["cve_allowlist"], *allowlist);
    assert_eq!(after["metadata"]["auto_scan"], "true", "all or nothing");

    // Repeating the project's own retention_id is allowed; an empty allowlist clears it.
    let response = put(json!({"cve_allowlist": {"items": []}})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(read().await["cve_allowlist"]["items"], json!([]));

    // On creation: the same checks; an allowlist is kept.
    let created = http
        .post(api(&server, "/projects"))
        .admin()
        .json(&json!({"project_name": "other", "metadata": {"retention_id": "3"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::BAD_REQUEST);
    let other = create_project(
        &server,
        &http,
        json!({"project_name": "other", "metadata": {"retention_id": "", "prevent_vul": "1"},
               "cve_allowlist": {"items": [{"cve_id": "CVE-2024-0001"}]}}),
    )
    .await;
    let body = get_json(&http, api(&server, &format!("/projects/{other}"))).await;
    assert_eq!(body["metadata"]["prevent_vul"], "true");
    assert_eq!(
        body["cve_allowlist"]["items"],
        json!([{"cve_id": "CVE-2024-0001"}])
    );
    server.stop().await;
}

#[tokio::test]
async fn the_list_carries_each_projects_quota_for_those_who_may_read_it() {
    use super::repositories::{PASSWORD, image_size, member, push};
    use crate::images::Image;

    let server = TestServer::start().await;
    let http = client();
    create_project(
        &server,
        &http,
        json!({"project_name": "quoted", "storage_limit": 5_000_000}),
    )
    .await;
    let image = Image::build(1, "amd64", &[300]);
    push(&server, &http, "quoted/app", "v1", &image).await;
    member(&server, &http, "quoted", "lg", 5).await;
    let quota_of = |list: &Value, name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p.get("quota").cloned())
    };

    // An administrator gets every quota with the list: no request per project is needed.
    let (status, list) = get_as(&http, api(&server, "/projects"), |r| r.admin()).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(
        quota_of(&list, "quoted"),
        Some(Some(json!({
            "hard": {"storage": 5_000_000},
            "used": {"storage": image_size(&image)}
        })))
    );
    assert_eq!(
        quota_of(&list, "library")
            .flatten()
            .map(|q| q["hard"]["storage"].clone()),
        Some(json!(-1))
    );
    // So does any member (Harbor's role matrix lets every role read the quota) ...
    let (_, list) = get_as(&http, api(&server, "/projects"), |r| r.user("lg", PASSWORD)).await;
    assert_eq!(
        quota_of(&list, "quoted")
            .flatten()
            .map(|q| q["hard"]["storage"].clone()),
        Some(json!(5_000_000))
    );
    let quoted = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "quoted")
        .unwrap();
    assert_eq!(
        quoted["current_user_role_id"], 5,
        "the list says the caller's role"
    );
    // ... but not a non-member of a public project, nor an anonymous caller.
    assert_eq!(quota_of(&list, "library"), Some(None), "{list}");
    let (_, list) = get_as(&http, api(&server, "/projects"), |r| r).await;
    assert_eq!(quota_of(&list, "library"), Some(None), "{list}");
    // The single project answers the same way.
    let (_, project) = get_as(&http, api(&server, "/projects/quoted"), |r| {
        r.user("lg", PASSWORD)
    })
    .await;
    assert_eq!(project["quota"]["hard"]["storage"], 5_000_000);
    assert_eq!(project["current_user_role_id"], 5);
    server.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_and_creates_nothing() {
    let server = TestServer::start().await;
    let http = client();
    // A project request padded to just over 2 MiB with a field Berth ignores.
    let padding = "x".repeat(2 * 1024 * 1024);
    let response = http
        .post(api(&server, "/projects"))
        .admin()
        .json(&json!({"project_name": "padded", "padding": padding}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(response).await, "PAYLOAD_TOO_LARGE");
    let absent = http
        .get(api(&server, "/projects/padded"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(absent.status(), StatusCode::NOT_FOUND);
}
