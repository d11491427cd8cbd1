//! `GET /search`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::repositories::{PASSWORD, member, pull, push};
use super::{As, api, create_project, error_code};
use crate::images::Image;
use crate::support::{TestServer, client};

/// The project names and repository names of a search result.
fn names(body: &Value) -> (Vec<&str>, Vec<&str>) {
    let list = |key: &str, field: &str| -> Vec<&str> {
        body[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key} list in {body}"))
            .iter()
            .map(|item| item[field].as_str().unwrap())
            .collect()
    };
    (
        list("project", "name"),
        list("repository", "repository_name"),
    )
}

#[tokio::test]
async fn search_finds_projects_and_repositories_the_caller_may_see() {
    let server = TestServer::start().await;
    let http = client();
    let open_id = create_project(
        &server,
        &http,
        json!({"project_name": "web-open", "metadata": {"public": "true"}}),
    )
    .await;
    create_project(&server, &http, json!({"project_name": "web-secret"})).await;
    create_project(
        &server,
        &http,
        json!({"project_name": "tools", "metadata": {"public": "true"}}),
    )
    .await;
    let image = Image::build(1, "amd64", &[100]);
    push(&server, &http, "web-open/frontend", "v1", &image).await;
    push(
        &server,
        &http,
        "web-open/frontend",
        "v2",
        &Image::build(2, "amd64", &[100]),
    )
    .await;
    push(&server, &http, "web-secret/api", "v1", &image).await;
    push(&server, &http, "tools/webhook", "v1", &image).await;
    push(&server, &http, "tools/cli", "v1", &image).await;
    member(&server, &http, "web-secret", "alice", 3).await;
    server.create_user("outsider", PASSWORD, false).await;
    for _ in 0..2 {
        assert_eq!(
            pull(&server, &http, "web-open/frontend", "v1").await,
            StatusCode::OK
        );
    }
    server.state.pulls.flush().await;

    let search = |auth: Option<&'static str>, q: &str| {
        let request = http.get(api(&server, &format!("/search?q={q}")));
        let request = match auth {
            Some("admin") => request.admin(),
            Some(user) => request.user(user, PASSWORD),
            None => request,
        };
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };

    // Anonymous callers and outsiders see public projects only; a repository matches on its full name.
    for who in [None, Some("outsider")] {
        let body = search(who, "web").await;
        assert_eq!(
            names(&body),
            (vec!["web-open"], vec!["tools/webhook", "web-open/frontend"]),
            "{who:?}"
        );
        assert!(!body.to_string().contains("secret"), "{who:?}: {body}");
    }
    let body = search(None, "web").await;
    assert_eq!(
        body["repository"][1],
        json!({"project_id": open_id, "project_name": "web-open", "project_public": true,
            "repository_name": "web-open/frontend", "pull_count": 2, "artifact_count": 2})
    );
    assert_eq!(body["project"][0]["repo_count"], 1);
    assert_eq!(body["project"][0]["metadata"]["public"], "true");

    // A member sees their private project too, with their role.
    let body = search(Some("alice"), "web").await;
    assert_eq!(
        names(&body),
        (
            vec!["web-open", "web-secret"],
            vec!["tools/webhook", "web-open/frontend", "web-secret/api"]
        )
    );
    assert_eq!(body["project"][1]["current_user_role_id"], 3);
    assert_eq!(body["repository"][2]["project_public"], false);

    // The admin sees everything; the term is trimmed and lowercased.
    let body = search(Some("admin"), "%20API%20").await;
    assert_eq!(names(&body), (vec![], vec!["web-secret/api"]));
    let body = search(Some("admin"), "tools").await;
    assert_eq!(
        names(&body),
        (vec!["tools"], vec!["tools/cli", "tools/webhook"])
    );
    let body = search(Some("admin"), "nothing-like-this").await;
    assert_eq!(body, json!({"project": [], "repository": []}));

    // q is required.
    for query in ["", "?q=", "?q=%20"] {
        let response = http
            .get(api(&server, &format!("/search{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(error_code(response).await, "BAD_REQUEST");
    }
    server.stop().await;
}
