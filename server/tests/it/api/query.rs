//! Harbor's list query language over HTTP: ranges (`k=[min~max]`), union and intersection lists
//! (`k={a b}`, `k=(a b)`) and `sort` on the lists, through the one shared implementation; a bad term is a
//! 400 in Harbor's error shape.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::repositories::{image_size, push};
use super::{As, api, create_project, error_code};
use crate::images::Image;
use crate::support::{TestServer, client};

/// GET `path` as admin with the query `params` (URL-encoded by the client), asserting 200; returns the
/// body and `X-Total-Count`.
async fn list(
    server: &TestServer,
    http: &Client,
    path: &str,
    params: &[(&str, &str)],
) -> (Vec<Value>, i64) {
    let response = http
        .get(api(server, path))
        .query(params)
        .query(&[("page_size", "100")])
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path} {params:?}");
    let total = response.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    (response.json().await.unwrap(), total)
}

/// The `key` string of each item.
fn strings<'a>(items: &'a [Value], key: &str) -> Vec<&'a str> {
    items.iter().map(|i| i[key].as_str().unwrap()).collect()
}

/// Asserts that GET `path` with `params` is a 400 with Harbor's error body.
async fn refused(server: &TestServer, http: &Client, path: &str, params: &[(&str, &str)]) {
    let response = http
        .get(api(server, path))
        .query(params)
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "{path} {params:?}"
    );
    assert_eq!(error_code(response).await, "BAD_REQUEST");
}

/// A stored time (`2024-01-31T23:59:59.123456Z`) in Harbor's query format (`2024-01-31 23:59:59`).
fn harbor_time(stored: &str) -> String {
    stored[..19].replace('T', " ")
}

/// The names of the projects listed with `params`, limited by the filter `ours` (added to `q`).
async fn names_of_projects(
    server: &TestServer,
    http: &Client,
    ours: &str,
    params: &[(&str, &str)],
) -> Vec<String> {
    let q = match params.iter().find(|(k, _)| *k == "q") {
        Some((_, q)) => format!("{q},{ours}"),
        None => ours.to_owned(),
    };
    let mut params: Vec<(&str, &str)> = params.iter().filter(|(k, _)| *k != "q").copied().collect();
    params.push(("q", &q));
    let (body, total) = list(server, http, "/projects", &params).await;
    assert_eq!(total as usize, body.len(), "{params:?}");
    strings(&body, "name")
        .into_iter()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn projects_take_ranges_lists_and_sort() {
    let server = TestServer::start().await;
    let http = client();
    let mut ids = Vec::new();
    for (name, public) in [
        ("alpha", "true"),
        ("bravo", "false"),
        ("charlie", "true"),
        ("delta", "false"),
    ] {
        let body = json!({"project_name": name, "metadata": {"public": public}});
        ids.push(create_project(&server, &http, body).await);
    }
    // Only the projects made here (not the built-in `library`).
    let ours = format!("project_id=[{}~]", ids[0]);
    let names = |params: &'static [(&'static str, &'static str)]| {
        let (server, http, ours) = (&server, &http, ours.clone());
        async move { names_of_projects(server, http, &ours, params).await }
    };
    assert_eq!(
        names(&[("q", "name={charlie alpha}")]).await,
        ["alpha", "charlie"]
    );
    assert_eq!(
        names(&[("q", "name=(alpha bravo)")]).await,
        Vec::<String>::new()
    );
    assert_eq!(names(&[("q", "name=(alpha alpha)")]).await, ["alpha"]);
    assert_eq!(
        names(&[("sort", "-name")]).await,
        ["delta", "charlie", "bravo", "alpha"]
    );
    assert_eq!(
        names(&[("q", "public=true"), ("sort", "-creation_time,-name")]).await,
        ["charlie", "alpha"]
    );
    assert_eq!(
        names(&[(
            "q",
            "creation_time=[2000-01-01 00:00:00~2999-12-31 23:59:59]"
        )])
        .await,
        ["alpha", "bravo", "charlie", "delta"]
    );
    assert_eq!(
        names(&[("q", "creation_time=[~1999-12-31]")]).await,
        Vec::<String>::new()
    );
    let range = format!("project_id=[{}~{}]", ids[1], ids[2]);
    let (body, _) = list(&server, &http, "/projects", &[("q", &range)]).await;
    assert_eq!(strings(&body, "name"), ["bravo", "charlie"]);
    let open = format!("project_id=[{}~],public=false", ids[1]);
    let (body, _) = list(&server, &http, "/projects", &[("q", &open)]).await;
    assert_eq!(strings(&body, "name"), ["bravo", "delta"]);

    // A page boundary in a sorted list: the second page continues the order.
    let response = http
        .get(api(&server, "/projects?sort=-name&page=2&page_size=3"))
        .query(&[("q", &ours)])
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "4");
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert!(link.contains("sort=-name"), "{link}");
    let page: Vec<Value> = response.json().await.unwrap();
    assert_eq!(strings(&page, "name"), ["alpha"]);

    for q in [
        "project_id=[x~]",
        "name=[a~",
        "name={}",
        "public={true maybe}",
        "creation_time=[2024-01-01 00:00~]",
        "project_id=~1",
        "nope=1",
        "name",
    ] {
        refused(&server, &http, "/projects", &[("q", q)]).await;
    }
    refused(&server, &http, "/projects", &[("sort", "color")]).await;
    server.stop().await;
}

#[tokio::test]
async fn repositories_take_ranges_lists_and_sort() {
    let server = TestServer::start().await;
    let http = client();
    let proj = create_project(&server, &http, json!({"project_name": "proj"})).await;
    let other = create_project(&server, &http, json!({"project_name": "other"})).await;
    push(
        &server,
        &http,
        "proj/one",
        "v1",
        &Image::build(1, "amd64", &[100]),
    )
    .await;
    push(
        &server,
        &http,
        "proj/two",
        "v1",
        &Image::build(2, "amd64", &[100]),
    )
    .await;
    push(
        &server,
        &http,
        "proj/two",
        "v2",
        &Image::build(3, "amd64", &[100]),
    )
    .await;
    push(
        &server,
        &http,
        "proj/three",
        "v1",
        &Image::build(4, "amd64", &[100]),
    )
    .await;
    push(
        &server,
        &http,
        "other/four",
        "v1",
        &Image::build(5, "amd64", &[100]),
    )
    .await;

    let (body, total) = list(
        &server,
        &http,
        "/repositories",
        &[
            ("q", "name={proj/one other/four proj/nope}"),
            ("sort", "name"),
        ],
    )
    .await;
    assert_eq!(
        (strings(&body, "name"), total),
        (vec!["other/four", "proj/one"], 2)
    );
    let (body, _) = list(
        &server,
        &http,
        "/projects/proj/repositories",
        &[("q", "artifact_count=[2~]")],
    )
    .await;
    assert_eq!(strings(&body, "name"), ["proj/two"]);
    let (body, _) = list(
        &server,
        &http,
        "/projects/proj/repositories",
        &[("sort", "-artifact_count,name")],
    )
    .await;
    assert_eq!(
        strings(&body, "name"),
        ["proj/two", "proj/one", "proj/three"]
    );
    let ids = format!("project_id={{{other} {proj}}},name=[other/four~proj/t]");
    let (body, total) = list(
        &server,
        &http,
        "/repositories",
        &[("q", &ids), ("sort", "-name")],
    )
    .await;
    assert_eq!(
        (strings(&body, "name"), total),
        (vec!["proj/one", "other/four"], 2)
    );
    let one_project = format!("project_id=[{other}~{other}]");
    let (body, _) = list(&server, &http, "/repositories", &[("q", &one_project)]).await;
    assert_eq!(strings(&body, "name"), ["other/four"]);
    let (body, _) = list(
        &server,
        &http,
        "/repositories",
        &[("q", "creation_time=[2000-01-01~],update_time=[~2999-01-01]")],
    )
    .await;
    assert_eq!(body.len(), 4);
    refused(
        &server,
        &http,
        "/repositories",
        &[("q", "pull_count=[a~b]")],
    )
    .await;
    refused(
        &server,
        &http,
        "/projects/proj/repositories",
        &[("sort", "size")],
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn artifacts_take_tag_lists_size_ranges_and_sort() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "proj"})).await;
    let small = Image::build(1, "amd64", &[100]);
    let medium = Image::build(2, "amd64", &[2000]);
    let large = Image::build(3, "amd64", &[30000]);
    let small_digest = push(&server, &http, "proj/app", "v1", &small).await;
    let medium_digest = push(&server, &http, "proj/app", "v2", &medium).await;
    push(&server, &http, "proj/app", "latest", &medium).await;
    let large_digest = push(&server, &http, "proj/app", "v3", &large).await;
    const APP: &str = "/projects/proj/repositories/app/artifacts";

    let (body, _) = list(
        &server,
        &http,
        APP,
        &[("q", "tags={v1 v3}"), ("sort", "size")],
    )
    .await;
    assert_eq!(
        strings(&body, "digest"),
        [small_digest.as_str(), large_digest.as_str()]
    );
    let (body, _) = list(&server, &http, APP, &[("q", "tags=(v2 latest)")]).await;
    assert_eq!(strings(&body, "digest"), [medium_digest.as_str()]);
    let (body, _) = list(&server, &http, APP, &[("q", "tags=(v1 latest)")]).await;
    assert!(body.is_empty());
    let (body, _) = list(&server, &http, APP, &[("sort", "-size")]).await;
    assert_eq!(
        strings(&body, "digest"),
        [
            large_digest.as_str(),
            medium_digest.as_str(),
            small_digest.as_str()
        ]
    );
    assert_eq!(body[0]["size"].as_i64().unwrap(), image_size(&large));
    let between = format!(
        "size=[{}~{}]",
        image_size(&small) + 1,
        image_size(&large) - 1
    );
    let (body, _) = list(&server, &http, APP, &[("q", &between)]).await;
    assert_eq!(strings(&body, "digest"), [medium_digest.as_str()]);
    let at_least = format!("size=[{}~]", image_size(&medium));
    let (body, total) = list(&server, &http, APP, &[("q", &at_least), ("sort", "size")]).await;
    assert_eq!(
        (strings(&body, "digest"), total),
        (vec![medium_digest.as_str(), large_digest.as_str()], 2)
    );
    let (body, _) = list(
        &server,
        &http,
        APP,
        &[("q", "type=IMAGE,push_time=[2000-01-01 00:00:00~]")],
    )
    .await;
    assert_eq!(body.len(), 3);
    let (body, _) = list(&server, &http, APP, &[("q", "push_time=[~2000-01-01]")]).await;
    assert!(body.is_empty());
    let exact = format!("digest={small_digest}");
    let (body, _) = list(&server, &http, APP, &[("q", &exact)]).await;
    assert_eq!(strings(&body, "digest"), [small_digest.as_str()]);
    // Tags of one artifact sort too.
    let (body, _) = list(
        &server,
        &http,
        &format!("{APP}/{medium_digest}/tags"),
        &[("sort", "name")],
    )
    .await;
    assert_eq!(strings(&body, "name"), ["latest", "v2"]);
    let (body, _) = list(
        &server,
        &http,
        &format!("{APP}/{medium_digest}/tags"),
        &[("q", "name={v2 v9}")],
    )
    .await;
    assert_eq!(strings(&body, "name"), ["v2"]);

    refused(&server, &http, APP, &[("q", "size=~100")]).await;
    refused(&server, &http, APP, &[("q", "tags=(v1")]).await;
    refused(&server, &http, APP, &[("sort", "tags")]).await;
    server.stop().await;
}

#[tokio::test]
async fn audit_logs_take_time_ranges_lists_and_sort() {
    let server = TestServer::start().await;
    let http = client();
    for name in ["one", "two", "three"] {
        create_project(&server, &http, json!({"project_name": name})).await;
    }
    let (body, total) = list(
        &server,
        &http,
        "/audit-logs",
        &[
            ("q", "operation=create,resource={three one}"),
            ("sort", "resource"),
        ],
    )
    .await;
    assert_eq!(
        (strings(&body, "resource"), total),
        (vec!["one", "three"], 2)
    );

    // The second an entry was made finds it; a range around it too; the distant past finds nothing.
    let second = harbor_time(body[0]["op_time"].as_str().unwrap());
    let exact = format!("resource=one,op_time={second}");
    let (body, _) = list(&server, &http, "/audit-logs", &[("q", &exact)]).await;
    assert_eq!(strings(&body, "resource"), ["one"]);
    let range = format!("op_time=[{second}~2999-12-31 23:59:59],resource_type=project");
    let (body, _) = list(&server, &http, "/audit-logs", &[("q", &range)]).await;
    assert!(strings(&body, "resource").contains(&"one"), "{body:?}");
    let quoted = format!("resource=one,op_time={{\"{second}\" \"2001-01-01 00:00:00\"}}");
    let (body, _) = list(&server, &http, "/audit-logs", &[("q", &quoted)]).await;
    assert_eq!(body.len(), 1);
    let (body, _) = list(
        &server,
        &http,
        "/audit-logs",
        &[("q", "op_time=[~2000-01-01 00:00:00]")],
    )
    .await;
    assert!(body.is_empty());

    // A project's own log takes the same language.
    let (body, _) = list(
        &server,
        &http,
        "/projects/two/logs",
        &[("q", "operation={create delete}"), ("sort", "-op_time")],
    )
    .await;
    assert_eq!(strings(&body, "resource"), ["two"]);

    refused(
        &server,
        &http,
        "/audit-logs",
        &[("q", "op_time=[yesterday~]")],
    )
    .await;
    refused(&server, &http, "/audit-logs", &[("q", "client_ip=1.2.3.4")]).await;
    refused(&server, &http, "/projects/two/logs", &[("sort", "-color")]).await;
    server.stop().await;
}

#[tokio::test]
async fn quotas_take_ranges_lists_and_sort_by_usage() {
    let server = TestServer::start().await;
    let http = client();
    let mut ids = Vec::new();
    for (name, limit) in [
        ("small", 1_000_000),
        ("big", 9_000_000),
        ("empty", 5_000_000),
    ] {
        let body = json!({"project_name": name, "storage_limit": limit});
        ids.push(create_project(&server, &http, body).await);
    }
    push(
        &server,
        &http,
        "small/app",
        "v1",
        &Image::build(1, "amd64", &[1000]),
    )
    .await;
    push(
        &server,
        &http,
        "big/app",
        "v1",
        &Image::build(2, "amd64", &[50000]),
    )
    .await;

    let project_names = |body: &[Value]| -> Vec<String> {
        body.iter()
            .map(|q| q["ref"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // Only the projects made here (not the built-in `library`).
    let ours = format!("reference_id=[{}~]", ids[0]);
    let (body, _) = list(
        &server,
        &http,
        "/quotas",
        &[("q", &ours), ("sort", "-used.storage")],
    )
    .await;
    assert_eq!(project_names(&body), ["big", "small", "empty"]);
    let (body, _) = list(
        &server,
        &http,
        "/quotas",
        &[("q", &ours), ("sort", "hard.storage")],
    )
    .await;
    assert_eq!(project_names(&body), ["small", "empty", "big"]);
    let (body, total) = list(
        &server,
        &http,
        "/quotas",
        &[("q", "hard=[2000000~9000000]"), ("sort", "-hard")],
    )
    .await;
    assert_eq!(
        (project_names(&body), total),
        (vec!["big".to_owned(), "empty".to_owned()], 2)
    );
    let (body, _) = list(
        &server,
        &http,
        "/quotas",
        &[("q", "used=[1~]"), ("sort", "used")],
    )
    .await;
    assert_eq!(project_names(&body), ["small", "big"]);
    let union = format!("reference_id={{{} {}}}", ids[0], ids[2]);
    let (body, _) = list(&server, &http, "/quotas", &[("q", &union)]).await;
    assert_eq!(project_names(&body), ["empty", "small"]);
    let one = ids[1].to_string();
    let (body, _) = list(
        &server,
        &http,
        "/quotas",
        &[("reference", "project"), ("reference_id", &one)],
    )
    .await;
    assert_eq!(project_names(&body), ["big"]);
    let (body, _) = list(&server, &http, "/quotas", &[("reference", "repository")]).await;
    assert!(body.is_empty());

    refused(&server, &http, "/quotas", &[("q", "used=[a~]")]).await;
    refused(&server, &http, "/quotas", &[("reference_id", "x")]).await;
    refused(&server, &http, "/quotas", &[("sort", "used.count")]).await;
    server.stop().await;
}

#[tokio::test]
async fn users_and_robots_take_lists_and_sort() {
    let server = TestServer::start().await;
    let http = client();
    for name in ["carol", "alice", "bob"] {
        server.create_user(name, "Passw0rdX", false).await;
    }
    let (body, _) = list(
        &server,
        &http,
        "/users",
        &[("q", "username={alice carol dave}"), ("sort", "-username")],
    )
    .await;
    assert_eq!(strings(&body, "username"), ["carol", "alice"]);
    let (body, _) = list(
        &server,
        &http,
        "/users",
        &[("q", "sysadmin_flag=false"), ("sort", "-creation_time")],
    )
    .await;
    assert_eq!(strings(&body, "username"), ["bob", "alice", "carol"]);
    refused(&server, &http, "/users", &[("q", "user_id=[1~x]")]).await;

    let team = create_project(&server, &http, json!({"project_name": "team"})).await;
    for name in ["build", "deploy", "audit"] {
        let body = json!({
            "name": name, "level": "project", "duration": 30,
            "permissions": [{"kind": "project", "namespace": "team",
                             "access": [{"resource": "repository", "action": "pull"}]}],
        });
        let response = http
            .post(api(&server, "/robots"))
            .admin()
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "{body}");
    }
    let q = format!("Level=project,ProjectID={team},name=~d");
    let (body, total) = list(&server, &http, "/robots", &[("q", &q), ("sort", "-name")]).await;
    let names = strings(&body, "name");
    assert_eq!(total, 3, "{names:?}");
    assert!(
        names[0].ends_with("deploy") && names[1].ends_with("build"),
        "{names:?}"
    );
    refused(&server, &http, "/robots", &[("sort", "secret")]).await;
    server.stop().await;
}

/// How Harbor's clients spell booleans in a query: Python's generated client sends `True`/`False`, others
/// `1`/`0`, and Harbor's server also takes `t`, `yes`, `y`, `on` (and their negatives) in any case.
const TRUE_FORMS: [&str; 8] = ["true", "True", "TRUE", "1", "t", "Yes", "y", "on"];
const FALSE_FORMS: [&str; 8] = ["false", "False", "FALSE", "0", "F", "no", "N", "OFF"];

/// Every boolean query parameter Harbor's swagger gives the endpoints Berth serves, as `(path, parameter)`.
fn harbor_boolean_parameters() -> Vec<(String, String)> {
    let swagger_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/reference/harbor-api-v2.0-swagger.yaml");
    let text = std::fs::read_to_string(&swagger_path).unwrap();
    let swagger: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut found = Vec::new();
    for (method, path) in berth::api::ENDPOINTS {
        let Some(parameters) = swagger["paths"][*path][*method]["parameters"].as_sequence() else {
            continue;
        };
        for parameter in parameters {
            let parameter = match parameter["$ref"].as_str() {
                Some(reference) => &swagger["parameters"][reference.rsplit('/').next().unwrap()],
                None => parameter,
            };
            if parameter["in"] == "query" && parameter["type"] == "boolean" {
                assert_eq!(*method, "get", "{path}: a boolean query on a {method}");
                let name = parameter["name"].as_str().unwrap().to_owned();
                found.push(((*path).to_owned(), name));
            }
        }
    }
    found
}

#[tokio::test]
async fn every_boolean_query_parameter_takes_harbor_client_spellings() {
    let server = TestServer::start().await;
    let http = client();
    let image = crate::images::Image::build(7, "amd64", &[2_000]);
    push(&server, &http, "library/app", "v1", &image).await;
    create_project(&server, &http, json!({"project_name": "hidden"})).await;
    let openapi: Value = http
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let parameters = harbor_boolean_parameters();
    assert!(parameters.len() >= 15, "{parameters:?}");
    for (path, name) in &parameters {
        // Berth documents each one as a boolean.
        let documented = openapi["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} documents no parameters"))
            .iter()
            .any(|p| p["name"] == name.as_str() && p["schema"]["type"] == "boolean");
        assert!(documented, "{path} does not document {name} as a boolean");

        let url = path
            .replace("{project_name}", "library")
            .replace("{project_name_or_id}", "library")
            .replace("{repository_name}", "app")
            .replace("{reference}", "v1");
        for value in TRUE_FORMS.iter().chain(&FALSE_FORMS) {
            let response = http
                .get(api(&server, &url))
                .query(&[(name.as_str(), *value)])
                .admin()
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{url}?{name}={value}");
        }
        for value in ["maybe", "2", ""] {
            let response = http
                .get(api(&server, &url))
                .query(&[(name.as_str(), value)])
                .admin()
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::BAD_REQUEST,
                "{url}?{name}={value}"
            );
            let body: Value = response.json().await.unwrap();
            let message = body["errors"][0]["message"].as_str().unwrap();
            assert!(
                message.contains(&format!("parameter {name}:")),
                "{url}?{name}={value}: {message}"
            );
        }
    }

    // The spellings mean what they say.
    let names = |params: &[(&str, &str)]| {
        let http = http.clone();
        let url = api(&server, "/projects");
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        async move {
            let body: Vec<Value> = http
                .get(url)
                .query(&params)
                .admin()
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let mut names: Vec<String> = body
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(names(&[("public", "True")]).await, ["library"]);
    assert_eq!(names(&[("public", "0")]).await, ["hidden"]);
    assert_eq!(names(&[("q", "public=False")]).await, ["hidden"]);
    assert_eq!(names(&[("q", "public=yes")]).await, ["library"]);
    refused(&server, &http, "/projects", &[("q", "public=maybe")]).await;

    let artifact = |with_tag: &str| {
        let http = http.clone();
        let url = api(&server, "/projects/library/repositories/app/artifacts/v1");
        let with_tag = with_tag.to_owned();
        async move {
            let body: Value = http
                .get(url)
                .query(&[("with_tag", with_tag)])
                .admin()
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body
        }
    };
    assert!(artifact("False").await.get("tags").is_none());
    assert_eq!(artifact("True").await["tags"][0]["name"], "v1");

    let permissions: Vec<Value> = http
        .get(api(&server, "/users/current/permissions"))
        .query(&[("scope", "/project/1"), ("relative", "1")])
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        permissions.iter().any(|p| p["resource"] == "repository"),
        "relative=1 gives relative resources"
    );
    server.stop().await;
}
