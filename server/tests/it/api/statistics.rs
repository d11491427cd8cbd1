//! `GET /statistics`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::repositories::{PASSWORD, image_size, member, push};
use super::{As, api, create_project, error_code};
use crate::images::Image;
use crate::support::{TestServer, client};

#[tokio::test]
async fn statistics_count_what_the_caller_can_see_and_totals_are_for_admins() {
    let server = TestServer::start().await;
    let http = client();
    // `library` (public, empty) exists from the start.
    create_project(
        &server,
        &http,
        json!({"project_name": "open", "metadata": {"public": "true"}}),
    )
    .await;
    create_project(&server, &http, json!({"project_name": "mine"})).await;
    create_project(&server, &http, json!({"project_name": "secret"})).await;
    let (one, two, three) = (
        Image::build(1, "amd64", &[100]),
        Image::build(2, "amd64", &[200]),
        Image::build(3, "amd64", &[300]),
    );
    push(&server, &http, "open/a", "v1", &one).await;
    push(&server, &http, "mine/a", "v1", &two).await;
    push(&server, &http, "mine/b", "v1", &two).await;
    push(&server, &http, "secret/a", "v1", &three).await;
    push(&server, &http, "secret/b", "v1", &three).await;
    push(&server, &http, "secret/c", "v1", &one).await;
    member(&server, &http, "mine", "alice", 3).await;
    server.create_user("outsider", PASSWORD, false).await;

    let get = |auth: Option<&'static str>| {
        let request = http.get(api(&server, "/statistics"));
        let request = match auth {
            Some("admin") => request.admin(),
            Some(user) => request.user(user, PASSWORD),
            None => request,
        };
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };

    let (status, admin) = get(Some("admin")).await;
    assert_eq!(status, StatusCode::OK);
    // Every blob and manifest counts once, however many repositories and projects share it.
    let stored = image_size(&one) + image_size(&two) + image_size(&three);
    assert_eq!(
        admin,
        json!({"public_project_count": 2, "public_repo_count": 1,
            "private_project_count": 2, "private_repo_count": 5,
            "total_project_count": 4, "total_repo_count": 6,
            "total_storage_consumption": stored})
    );

    let (status, alice) = get(Some("alice")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        alice,
        json!({"public_project_count": 2, "public_repo_count": 1,
            "private_project_count": 1, "private_repo_count": 2,
            "total_project_count": 0, "total_repo_count": 0,
            "total_storage_consumption": 0})
    );

    let (status, outsider) = get(Some("outsider")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(outsider["public_project_count"], 2);
    assert_eq!(outsider["public_repo_count"], 1);
    assert_eq!(outsider["private_project_count"], 0, "{outsider}");
    assert_eq!(outsider["private_repo_count"], 0, "{outsider}");
    assert_eq!(outsider["total_repo_count"], 0, "{outsider}");

    // As Harbor: sign in first.
    let response = http.get(api(&server, "/statistics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    assert_eq!(error_code(response).await, "UNAUTHORIZED");
    server.stop().await;
}
