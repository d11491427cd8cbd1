//! `/labels` and `…/artifacts/{reference}/labels`: global and project labels, putting them on artifacts, the
//! `labels` filter of artifact lists, and who may do what.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::repositories::{PASSWORD, member, push};
use super::{As, api, create_project, error_code, get_json};
use crate::images::Image;
use crate::support::{TestServer, client};

/// `POST /labels` with `body` as `who` (`None`: admin); returns the response.
async fn post_label(
    server: &TestServer,
    http: &Client,
    who: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let request = http.post(api(server, "/labels")).json(&body);
    match who {
        Some(name) => request.user(name, PASSWORD),
        None => request.admin(),
    }
    .send()
    .await
    .unwrap()
}

/// Creates a label as admin; returns its id.
async fn label(server: &TestServer, http: &Client, body: Value) -> i64 {
    let response = post_label(server, http, None, body.clone()).await;
    assert_eq!(response.status(), StatusCode::CREATED, "create {body}");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/api/v2.0/labels/"), "{location}");
    location.rsplit('/').next().unwrap().parse().unwrap()
}

/// `GET url` as admin: the status, the body and `X-Total-Count`.
async fn get(http: &Client, url: String) -> (StatusCode, Value, Option<i64>) {
    let response = http.get(&url).admin().send().await.unwrap();
    let status = response.status();
    let total = response
        .headers()
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (status, response.json().await.unwrap_or(Value::Null), total)
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect()
}

/// `POST …/artifacts/{reference}/labels` with `{"id": id}` as admin.
async fn attach(server: &TestServer, http: &Client, artifact: &str, id: i64) -> reqwest::Response {
    http.post(api(server, &format!("{artifact}/labels")))
        .admin()
        .json(&json!({"id": id}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn global_and_project_labels_have_unique_names_in_their_scope() {
    let server = TestServer::start().await;
    let http = client();
    let proj = create_project(&server, &http, json!({"project_name": "proj"})).await;
    let other = create_project(&server, &http, json!({"project_name": "other"})).await;

    let global = label(
        &server,
        &http,
        json!({"name": "release", "description": "shipped", "color": "#0095D3", "scope": "g", "project_id": proj}),
    )
    .await;
    let found = get_json(&http, api(&server, &format!("/labels/{global}"))).await;
    assert_eq!(found["id"], global);
    assert_eq!(found["name"], "release");
    assert_eq!(found["description"], "shipped");
    assert_eq!(found["color"], "#0095D3");
    assert_eq!(found["scope"], "g");
    assert_eq!(found["project_id"], 0, "a global label has no project");
    assert!(found["creation_time"].as_str().unwrap().starts_with("20"));
    assert_eq!(found["creation_time"], found["update_time"]);

    // The same name: a conflict among the global labels, allowed once in each project.
    let again = post_label(
        &server,
        &http,
        None,
        json!({"name": "release", "scope": "g"}),
    )
    .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(again).await, "CONFLICT");
    let in_proj = label(
        &server,
        &http,
        json!({"name": "release", "scope": "p", "project_id": proj}),
    )
    .await;
    let again = post_label(
        &server,
        &http,
        None,
        json!({"name": "release", "scope": "p", "project_id": proj}),
    )
    .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let in_other = label(
        &server,
        &http,
        json!({"name": "release", "scope": "p", "project_id": other}),
    )
    .await;
    let found = get_json(&http, api(&server, &format!("/labels/{in_proj}"))).await;
    assert_eq!(
        (&found["scope"], &found["project_id"]),
        (&json!("p"), &json!(proj))
    );

    // Lists: by scope, a project's, by a part of the name, with q.
    label(&server, &http, json!({"name": "beta", "scope": "g"})).await;
    let (status, list, total) = get(&http, api(&server, "/labels?scope=g")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(names(&list), ["beta", "release"]);
    assert_eq!(total, Some(2));
    let (_, list, total) = get(
        &http,
        api(&server, &format!("/labels?scope=p&project_id={proj}")),
    )
    .await;
    assert_eq!((names(&list), total), (vec!["release"], Some(1)));
    assert_eq!(list[0]["id"], in_proj);
    let (_, list, _) = get(&http, api(&server, "/labels?scope=g&name=et")).await;
    assert_eq!(names(&list), ["beta"]);
    let (_, list, _) = get(&http, api(&server, "/labels?scope=g&q=name%3D~lea")).await;
    assert_eq!(names(&list), ["release"]);
    let (_, list, _) = get(
        &http,
        api(&server, "/labels?scope=g&sort=-name&page_size=1"),
    )
    .await;
    assert_eq!(names(&list), ["release"]);
    for bad in [
        "/labels",
        "/labels?scope=x",
        "/labels?scope=p",
        "/labels?scope=g&q=nope%3D1",
    ] {
        let (status, _, _) = get(&http, api(&server, bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // Update: the name, description and colour; the scope and project stay.
    let renamed = http
        .put(api(&server, &format!("/labels/{global}")))
        .admin()
        .json(&json!({"name": "beta", "scope": "g"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::CONFLICT);
    let renamed = http
        .put(api(&server, &format!("/labels/{global}")))
        .admin()
        .json(&json!({"name": "stable", "description": "", "color": "#fff", "scope": "p", "project_id": proj}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::OK);
    let found = get_json(&http, api(&server, &format!("/labels/{global}"))).await;
    assert_eq!(
        (
            &found["name"],
            &found["color"],
            &found["scope"],
            &found["project_id"]
        ),
        (&json!("stable"), &json!("#fff"), &json!("g"), &json!(0))
    );

    // Bounded input.
    for body in [
        json!({"name": "x".repeat(129), "scope": "g"}),
        json!({"name": "", "scope": "g"}),
        json!({"name": "ok", "scope": "g", "color": "red"}),
        json!({"name": "ok", "scope": "g", "description": "d".repeat(1025)}),
        json!({"name": "ok", "scope": "x"}),
        json!({"name": "ok", "scope": "p"}),
    ] {
        let response = post_label(&server, &http, None, body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let missing = post_label(
        &server,
        &http,
        None,
        json!({"name": "ok", "scope": "p", "project_id": 999_999}),
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let (status, _, _) = get(&http, api(&server, "/labels/abc")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Delete a label; deleting a project deletes its labels.
    let deleted = http
        .delete(api(&server, &format!("/labels/{global}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    let (status, _, _) = get(&http, api(&server, &format!("/labels/{global}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let gone = http
        .delete(api(&server, "/projects/other"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::OK);
    let (status, _, _) = get(&http, api(&server, &format!("/labels/{in_other}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get(&http, api(&server, &format!("/labels/{in_proj}"))).await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn artifacts_carry_labels_and_are_filtered_by_them() {
    let server = TestServer::start().await;
    let http = client();
    let proj = create_project(&server, &http, json!({"project_name": "proj"})).await;
    let other = create_project(&server, &http, json!({"project_name": "other"})).await;
    push(
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
        "proj/app",
        "v2",
        &Image::build(2, "amd64", &[200]),
    )
    .await;
    let v1 = "/projects/proj/repositories/app/artifacts/v1";
    let v2 = "/projects/proj/repositories/app/artifacts/v2";
    let list = "/projects/proj/repositories/app/artifacts";

    let global = label(&server, &http, json!({"name": "g-ship", "scope": "g"})).await;
    let mine = label(
        &server,
        &http,
        json!({"name": "p-qa", "scope": "p", "project_id": proj}),
    )
    .await;
    let theirs = label(
        &server,
        &http,
        json!({"name": "p-other", "scope": "p", "project_id": other}),
    )
    .await;

    assert_eq!(
        attach(&server, &http, v1, global).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        attach(&server, &http, v1, mine).await.status(),
        StatusCode::OK
    );
    let twice = attach(&server, &http, v1, global).await;
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    // Another project's label may not go on this project's artifacts.
    let foreign = attach(&server, &http, v1, theirs).await;
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        attach(&server, &http, v1, 999_999).await.status(),
        StatusCode::NOT_FOUND
    );
    let no_id = http
        .post(api(&server, &format!("{v1}/labels")))
        .admin()
        .json(&json!({"name": "g-ship"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_id.status(), StatusCode::BAD_REQUEST);

    // with_label=true shows them (by name); without, `labels` is empty as in Harbor.
    let found = get_json(&http, api(&server, &format!("{v1}?with_label=true"))).await;
    assert_eq!(names(&found["labels"]), ["g-ship", "p-qa"]);
    assert_eq!(found["labels"][1]["project_id"], proj);
    let found = get_json(&http, api(&server, v1)).await;
    assert_eq!(found["labels"], json!([]));
    let listed = get_json(&http, api(&server, &format!("{list}?with_label=true"))).await;
    let by_tag = |listed: &Value, tag: &str| -> Vec<String> {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["tags"][0]["name"] == tag)
            .map(|a| names(&a["labels"]).into_iter().map(str::to_owned).collect())
            .unwrap()
    };
    assert_eq!(by_tag(&listed, "v1"), ["g-ship", "p-qa"]);
    assert!(by_tag(&listed, "v2").is_empty());

    // q=labels=(a b): artifacts carrying every label named; labels=a: one label.
    assert_eq!(
        attach(&server, &http, v2, global).await.status(),
        StatusCode::OK
    );
    let tags_for = |q: String| {
        let http = http.clone();
        let url = api(&server, list);
        async move {
            let response = http
                .get(&url)
                .query(&[("q", q)])
                .admin()
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let mut tags: Vec<String> = body
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| a["tags"][0]["name"].as_str().unwrap().to_owned())
                .collect();
            tags.sort();
            (status, tags)
        }
    };
    assert_eq!(
        tags_for(format!("labels=({global} {mine})")).await,
        (StatusCode::OK, vec!["v1".to_owned()])
    );
    assert_eq!(
        tags_for(format!("labels=({global})")).await,
        (StatusCode::OK, vec!["v1".to_owned(), "v2".to_owned()])
    );
    assert_eq!(
        tags_for(format!("labels={mine}")).await,
        (StatusCode::OK, vec!["v1".to_owned()])
    );
    assert_eq!(
        tags_for(format!("labels={theirs}")).await,
        (StatusCode::OK, Vec::new())
    );
    assert_eq!(
        tags_for("labels=~x".to_owned()).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        tags_for("labels=abc".to_owned()).await.0,
        StatusCode::BAD_REQUEST
    );

    // Taking one off; deleting a label takes it off every artifact.
    let detach = |artifact: &'static str, id: i64| {
        let http = http.clone();
        let url = api(&server, &format!("{artifact}/labels/{id}"));
        async move { http.delete(&url).admin().send().await.unwrap().status() }
    };
    assert_eq!(detach(v1, mine).await, StatusCode::OK);
    assert_eq!(detach(v1, mine).await, StatusCode::NOT_FOUND);
    let found = get_json(&http, api(&server, &format!("{v1}?with_label=true"))).await;
    assert_eq!(names(&found["labels"]), ["g-ship"]);
    let deleted = http
        .delete(api(&server, &format!("/labels/{global}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    let listed = get_json(&http, api(&server, &format!("{list}?with_label=true"))).await;
    assert!(by_tag(&listed, "v1").is_empty());
    assert!(by_tag(&listed, "v2").is_empty());
    assert_eq!(
        tags_for(format!("labels={global}")).await,
        (StatusCode::OK, Vec::new())
    );

    // Putting labels on and taking them off is audited.
    let audit = get_json(
        &http,
        api(&server, "/audit-logs?q=resource_type%3Dartifact_label"),
    )
    .await;
    let operations: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert_eq!(operations.iter().filter(|o| **o == "create").count(), 3);
    assert_eq!(operations.iter().filter(|o| **o == "delete").count(), 1);
    server.stop().await;
}

#[tokio::test]
async fn an_artifact_carries_at_most_a_hundred_labels() {
    let server = TestServer::start().await;
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
    let v1 = "/projects/proj/repositories/app/artifacts/v1";
    for n in 0..100 {
        let id = label(
            &server,
            &http,
            json!({"name": format!("l{n}"), "scope": "g"}),
        )
        .await;
        assert_eq!(
            attach(&server, &http, v1, id).await.status(),
            StatusCode::OK
        );
    }
    let id = label(
        &server,
        &http,
        json!({"name": "one-too-many", "scope": "g"}),
    )
    .await;
    let refused = attach(&server, &http, v1, id).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let found = get_json(&http, api(&server, &format!("{v1}?with_label=true"))).await;
    assert_eq!(found["labels"].as_array().unwrap().len(), 100);
    server.stop().await;
}

#[tokio::test]
async fn labels_follow_the_role_matrix() {
    let server = TestServer::start().await;
    let http = client();
    let proj = create_project(
        &server,
        &http,
        json!({"project_name": "proj", "metadata": {"public": "false"}}),
    )
    .await;
    push(
        &server,
        &http,
        "proj/app",
        "v1",
        &Image::build(1, "amd64", &[100]),
    )
    .await;
    let v1 = "/projects/proj/repositories/app/artifacts/v1";
    member(&server, &http, "proj", "maint", 4).await;
    member(&server, &http, "proj", "dev", 2).await;
    member(&server, &http, "proj", "guest", 3).await;
    server.create_user("outsider", PASSWORD, false).await;
    let project_label = json!({"name": "qa", "scope": "p", "project_id": proj});

    // Creating: project labels by admins and maintainers, global labels by system administrators only.
    for who in ["dev", "guest", "outsider"] {
        let status = post_label(&server, &http, Some(who), project_label.clone())
            .await
            .status();
        let expected = if who == "outsider" {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(status, expected, "{who} creating a project label");
    }
    for who in ["maint", "dev"] {
        let refused = post_label(
            &server,
            &http,
            Some(who),
            json!({"name": "g", "scope": "g"}),
        )
        .await;
        assert_eq!(
            refused.status(),
            StatusCode::FORBIDDEN,
            "{who} creating a global label"
        );
    }
    let created = post_label(&server, &http, Some("maint"), project_label.clone()).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id: i64 = created.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let global = label(&server, &http, json!({"name": "ship", "scope": "g"})).await;

    // Reading: members read the project's labels, an outsider does not see them; anyone signed in reads
    // the global labels.
    let as_user = |who: &str, path: String| {
        let http = http.clone();
        let url = api(&server, &path);
        let who = who.to_owned();
        async move {
            let request = http.get(&url);
            let request = if who.is_empty() {
                request
            } else {
                request.user(&who, PASSWORD)
            };
            request.send().await.unwrap().status()
        }
    };
    for who in ["guest", "dev", "maint"] {
        assert_eq!(
            as_user(who, format!("/labels?scope=p&project_id={proj}")).await,
            StatusCode::OK
        );
        assert_eq!(as_user(who, format!("/labels/{id}")).await, StatusCode::OK);
    }
    assert_eq!(
        as_user("outsider", format!("/labels?scope=p&project_id={proj}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        as_user("outsider", format!("/labels/{id}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        as_user("outsider", "/labels?scope=g".to_owned()).await,
        StatusCode::OK
    );
    assert_eq!(
        as_user("outsider", format!("/labels/{global}")).await,
        StatusCode::OK
    );
    assert_eq!(
        as_user("", "/labels?scope=g".to_owned()).await,
        StatusCode::UNAUTHORIZED
    );

    // Labelling artifacts: developers and up.
    let label_as = |who: &str, label: i64| {
        let http = http.clone();
        let url = api(&server, &format!("{v1}/labels"));
        let who = who.to_owned();
        async move {
            http.post(&url)
                .user(&who, PASSWORD)
                .json(&json!({"id": label}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(label_as("guest", id).await, StatusCode::FORBIDDEN);
    assert_eq!(label_as("outsider", id).await, StatusCode::NOT_FOUND);
    assert_eq!(label_as("dev", id).await, StatusCode::OK);
    assert_eq!(label_as("dev", global).await, StatusCode::OK);
    let off = http
        .delete(api(&server, &format!("{v1}/labels/{global}")))
        .user("guest", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), StatusCode::FORBIDDEN);

    // Changing and deleting a project label: maintainers, not developers; a global one: not maintainers.
    let change = |who: &str, label: i64| {
        let http = http.clone();
        let url = api(&server, &format!("/labels/{label}"));
        let who = who.to_owned();
        async move {
            http.put(&url)
                .user(&who, PASSWORD)
                .json(&json!({"name": "renamed"}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(change("dev", id).await, StatusCode::FORBIDDEN);
    assert_eq!(change("maint", global).await, StatusCode::FORBIDDEN);
    assert_eq!(change("maint", id).await, StatusCode::OK);
    let deleted = http
        .delete(api(&server, &format!("/labels/{id}")))
        .user("dev", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::FORBIDDEN);
    let deleted = http
        .delete(api(&server, &format!("/labels/{id}")))
        .user("maint", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    let found = get_json(&http, api(&server, &format!("{v1}?with_label=true"))).await;
    assert_eq!(names(&found["labels"]), ["ship"]);
    server.stop().await;
}
