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

/// `GET /search?q=` as `who` (`None`: anonymous, `Some("admin")`: the admin); the status and the body.
async fn search_as(
    server: &TestServer,
    http: &reqwest::Client,
    who: Option<&str>,
    q: &str,
) -> (StatusCode, Value) {
    let request = http.get(api(server, "/search")).query(&[("q", q)]);
    let request = match who {
        Some("admin") => request.admin(),
        Some(user) => request.user(user, PASSWORD),
        None => request,
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The repository names of a search result, with the digests of the artifacts each lists.
fn found(body: &Value) -> Vec<(String, Vec<String>)> {
    body["repository"]
        .as_array()
        .unwrap_or_else(|| panic!("no repository list in {body}"))
        .iter()
        .map(|repository| {
            let digests = repository["artifacts"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|a| a["digest"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            (
                repository["repository_name"].as_str().unwrap().to_owned(),
                digests,
            )
        })
        .collect()
}

#[tokio::test]
async fn search_finds_artifacts_by_digest_and_by_label_where_the_caller_may_see() {
    let server = TestServer::start().await;
    let http = client();
    let open_id = create_project(
        &server,
        &http,
        json!({"project_name": "open", "metadata": {"public": "true"}}),
    )
    .await;
    create_project(&server, &http, json!({"project_name": "closed"})).await;
    let shared = Image::build(11, "amd64", &[300]);
    let own = Image::build(12, "amd64", &[301]);
    let a = push(&server, &http, "open/app", "v1", &shared).await;
    push(&server, &http, "closed/app", "v1", &shared).await;
    push(&server, &http, "closed/app", "stable", &shared).await;
    let b = push(&server, &http, "closed/other", "v2", &own).await;
    member(&server, &http, "closed", "alice", 3).await;
    server.create_user("outsider", PASSWORD, false).await;

    // A full digest: anyone finds it in the public project, with its tags; the project list is empty.
    for who in [None, Some("outsider")] {
        let (status, body) = search_as(&server, &http, who, &a).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"project": [], "repository": [{"project_id": open_id, "project_name": "open",
                "project_public": true, "repository_name": "open/app", "pull_count": 0,
                "artifact_count": 1, "artifacts": [{"digest": a, "tags": ["v1"]}]}]}),
            "{who:?}"
        );
    }
    // Its member and the admin find it in the private project too, with both its tags there.
    for who in [Some("alice"), Some("admin")] {
        let (_, body) = search_as(&server, &http, who, &a).await;
        assert_eq!(
            found(&body),
            vec![
                ("closed/app".to_owned(), vec![a.clone()]),
                ("open/app".to_owned(), vec![a.clone()])
            ],
            "{who:?}"
        );
        assert_eq!(
            body["repository"][0]["artifacts"][0]["tags"],
            json!(["stable", "v1"])
        );
    }

    // A prefix of 12 hex digits works, in any case; only where the caller may see.
    let prefix = b[..7 + 12].to_uppercase();
    for (who, expected) in [
        (None, vec![]),
        (Some("outsider"), vec![]),
        (
            Some("alice"),
            vec![("closed/other".to_owned(), vec![b.clone()])],
        ),
        (
            Some("admin"),
            vec![("closed/other".to_owned(), vec![b.clone()])],
        ),
    ] {
        let (status, body) = search_as(&server, &http, who, &prefix).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(found(&body), expected, "{who:?}");
    }
    let (_, body) = search_as(
        &server,
        &http,
        Some("admin"),
        &format!("{}0", "sha256:".to_owned() + &"f".repeat(63)),
    )
    .await;
    assert_eq!(body, json!({"project": [], "repository": []}));

    // Too short a prefix, a digest that is not hex or too long, or too long a q: a clear 400.
    for q in [
        b[..7 + 11].to_owned(),
        "sha256:".to_owned(),
        "sha256:0123456789xyz".to_owned(),
        format!("{b}0"),
        "a".repeat(257),
    ] {
        let response = http
            .get(api(&server, "/search"))
            .query(&[("q", &q)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(error_code(response).await, "BAD_REQUEST", "{q}");
    }

    // A label name (whole, any case) finds the repositories with artifacts carrying it.
    let created = http
        .post(api(&server, "/labels"))
        .admin()
        .json(&json!({"name": "Release", "scope": "g", "color": "#00ff00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let label: i64 = created.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    for artifact in ["open/app/artifacts/v1", "closed/other/artifacts/v2"] {
        let (project, rest) = artifact.split_once('/').unwrap();
        let (repo, reference) = rest.split_once("/artifacts/").unwrap();
        let attached = http
            .post(api(
                &server,
                &format!("/projects/{project}/repositories/{repo}/artifacts/{reference}/labels"),
            ))
            .admin()
            .json(&json!({"id": label}))
            .send()
            .await
            .unwrap();
        assert_eq!(attached.status(), StatusCode::OK, "{artifact}");
    }
    let (_, body) = search_as(&server, &http, None, "release").await;
    assert_eq!(found(&body), vec![("open/app".to_owned(), vec![a.clone()])]);
    assert_eq!(body["repository"][0]["artifacts"][0]["tags"], json!(["v1"]));
    let (_, body) = search_as(&server, &http, Some("alice"), "RELEASE").await;
    assert_eq!(
        found(&body),
        vec![
            ("closed/other".to_owned(), vec![b.clone()]),
            ("open/app".to_owned(), vec![a.clone()])
        ]
    );
    // A part of a label name finds no label; a repository matching by name lists no artifacts.
    let (_, body) = search_as(&server, &http, Some("admin"), "relea").await;
    assert_eq!(found(&body), vec![]);
    let (_, body) = search_as(&server, &http, Some("admin"), "app").await;
    assert_eq!(
        found(&body),
        vec![
            ("closed/app".to_owned(), vec![]),
            ("open/app".to_owned(), vec![])
        ]
    );
    assert!(body["repository"][0].get("artifacts").is_none(), "{body}");
    server.stop().await;
}
