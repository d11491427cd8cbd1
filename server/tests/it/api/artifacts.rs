//! `/projects/{project_name}/repositories/{repository_name}/artifacts…`: artifacts, their tags, additions and
//! copies.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::get_json;
use super::repositories::{PASSWORD, image_size, member, pull, push, used};
use super::{As, api, create_project, error_code};
use crate::images::{Image, MultiArch};
use crate::registry::{OCI_INDEX, OCI_MANIFEST, image_manifest, put_manifest, sha256, upload_blob};
use crate::support::{TestServer, client};

const APP: &str = "/projects/proj/repositories/app";

/// Pushes `multi`'s children by digest, then its index as `tag`; returns the children's digests and the index's.
async fn push_index(
    server: &TestServer,
    http: &reqwest::Client,
    repository: &str,
    tag: &str,
    multi: &MultiArch,
) -> (Vec<String>, String) {
    let mut children = Vec::new();
    for child in &multi.children {
        children.push(push(server, http, repository, &child.manifest.digest, child).await);
    }
    let index = put_manifest(server, http, repository, tag, OCI_INDEX, &multi.index.bytes).await;
    (children, index)
}

#[tokio::test]
async fn artifacts_have_harbors_fields() {
    let server = TestServer::start().await;
    let http = client();
    let project_id = create_project(&server, &http, json!({"project_name": "proj"})).await;
    let image = Image::build(1, "arm64", &[10_000, 5_000]);
    let digest = push(&server, &http, "proj/app", "v1", &image).await;

    let by_tag = get_json(&http, api(&server, &format!("{APP}/artifacts/v1"))).await;
    let by_digest = get_json(&http, api(&server, &format!("{APP}/artifacts/{digest}"))).await;
    assert_eq!(by_tag, by_digest);
    let a = &by_tag;
    assert_eq!(a["type"], "IMAGE");
    assert_eq!(a["media_type"], "application/vnd.oci.image.config.v1+json");
    assert_eq!(a["manifest_media_type"], OCI_MANIFEST);
    assert_eq!(a["digest"], digest.as_str());
    assert_eq!(a["project_id"], project_id);
    assert_eq!(a["repository_name"], "proj/app");
    assert!(a["repository_id"].as_i64().unwrap() > 0);
    assert_eq!(a["size"], image_size(&image), "manifest + config + layers");
    assert!(a["push_time"].as_str().unwrap().starts_with("20"));
    assert_eq!(a["pull_time"], "0001-01-01T00:00:00.000Z");
    assert_eq!(a["labels"], json!([]));
    assert_eq!(a["extra_attrs"]["architecture"], "arm64");
    assert_eq!(a["extra_attrs"]["os"], "linux");
    assert_eq!(a["extra_attrs"]["config"]["Cmd"], json!(["/bin/true"]));
    assert_eq!(
        a["addition_links"]["build_history"],
        json!({
            "href": format!("/api/v2.0/projects/proj/repositories/app/artifacts/{digest}/additions/build_history"),
            "absolute": false
        })
    );
    let tags = a["tags"].as_array().unwrap();
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0]["name"], "v1");
    assert_eq!(tags[0]["artifact_id"], a["id"]);
    assert_eq!(tags[0]["repository_id"], a["repository_id"]);
    assert_eq!(tags[0]["immutable"], false);
    assert_eq!(tags[0]["pull_time"], "0001-01-01T00:00:00.000Z");

    let without_tags = get_json(
        &http,
        api(
            &server,
            &format!("{APP}/artifacts/v1?with_tag=false&with_label=true&with_scan_overview=true"),
        ),
    )
    .await;
    assert!(without_tags.get("tags").is_none());
    let response = http
        .get(api(&server, &format!("{APP}/artifacts/v9")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http
        .get(api(&server, &format!("{APP}/artifacts/sha256:nothex")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn artifacts_are_listed_newest_first_and_paginated() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "proj"})).await;
    let mut digests = Vec::new();
    for seed in 1..=3 {
        let image = Image::build(seed, "amd64", &[1000]);
        digests.push(push(&server, &http, "proj/app", &format!("v{seed}"), &image).await);
    }
    // Make the oldest one untagged.
    let response = http
        .delete(api(&server, &format!("{APP}/artifacts/v1/tags/v1")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let response = http
        .get(api(&server, &format!("{APP}/artifacts?page=1&page_size=2")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "3");
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert!(
        link.contains(
            "/api/v2.0/projects/proj/repositories/app/artifacts?page=2&page_size=2>; rel=\"next\""
        ),
        "{link}"
    );
    let page: Value = response.json().await.unwrap();
    let listed: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["digest"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [digests[2].as_str(), digests[1].as_str()]);
    assert_eq!(page[0]["tags"][0]["name"], "v3");

    let page = get_json(
        &http,
        api(&server, &format!("{APP}/artifacts?page=2&page_size=2")),
    )
    .await;
    assert_eq!(page[0]["digest"], digests[0].as_str());
    assert_eq!(page[0]["tags"], json!([]), "untagged now");

    let tagged = get_json(&http, api(&server, &format!("{APP}/artifacts?q=tags%3D*"))).await;
    assert_eq!(tagged.as_array().unwrap().len(), 2);
    let untagged = get_json(
        &http,
        api(&server, &format!("{APP}/artifacts?q=tags%3Dnil")),
    )
    .await;
    assert_eq!(untagged[0]["digest"], digests[0].as_str());
    let named = get_json(&http, api(&server, &format!("{APP}/artifacts?q=tags%3Dv2"))).await;
    assert_eq!(named[0]["digest"], digests[1].as_str());
    assert_eq!(named.as_array().unwrap().len(), 1);
    server.stop().await;
}

/// The digests of a list, in order.
fn digests_of(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["digest"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn pull_counts_rise_with_pulls_and_sort_the_list() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "proj"})).await;
    let mut digests = Vec::new();
    for seed in 1..=3 {
        let image = Image::build(seed, "amd64", &[1000]);
        digests.push(push(&server, &http, "proj/app", &format!("v{seed}"), &image).await);
    }
    let fresh = get_json(&http, api(&server, &format!("{APP}/artifacts/v1"))).await;
    assert_eq!(fresh["pull_count"], 0, "{fresh}");

    // v1 twice by tag, v2 once by digest, v3 never.
    for _ in 0..2 {
        assert_eq!(pull(&server, &http, "proj/app", "v1").await, StatusCode::OK);
    }
    assert_eq!(
        pull(&server, &http, "proj/app", &digests[1]).await,
        StatusCode::OK
    );
    server.state.pulls.flush().await;

    let v1 = get_json(&http, api(&server, &format!("{APP}/artifacts/v1"))).await;
    assert_eq!(v1["pull_count"], 2, "{v1}");
    assert_ne!(v1["pull_time"], "0001-01-01T00:00:00.000Z");
    let listed = get_json(&http, api(&server, &format!("{APP}/artifacts"))).await;
    let counts: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["pull_count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [0, 1, 2], "newest first: v3, v2, v1");

    let most_pulled = get_json(
        &http,
        api(&server, &format!("{APP}/artifacts?sort=-pull_count")),
    )
    .await;
    assert_eq!(
        digests_of(&most_pulled),
        [
            digests[0].as_str(),
            digests[1].as_str(),
            digests[2].as_str()
        ]
    );
    let least_pulled = get_json(
        &http,
        api(&server, &format!("{APP}/artifacts?sort=pull_count")),
    )
    .await;
    assert_eq!(
        digests_of(&least_pulled),
        [
            digests[2].as_str(),
            digests[1].as_str(),
            digests[0].as_str()
        ]
    );
    let newest = get_json(
        &http,
        api(
            &server,
            &format!("{APP}/artifacts?sort=-push_time&page=1&page_size=2"),
        ),
    )
    .await;
    assert_eq!(
        digests_of(&newest),
        [digests[2].as_str(), digests[1].as_str()]
    );
    let pulled = get_json(
        &http,
        api(&server, &format!("{APP}/artifacts?q=pull_count%3D%5B1~%5D")),
    )
    .await;
    assert_eq!(
        digests_of(&pulled),
        [digests[1].as_str(), digests[0].as_str()]
    );
    server.stop().await;
}

#[tokio::test]
async fn build_history_comes_from_the_image_config() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "proj"})).await;
    let image = Image::build(1, "amd64", &[1000, 2000]);
    push(&server, &http, "proj/app", "v1", &image).await;
    let response = http
        .get(api(
            &server,
            &format!("{APP}/artifacts/v1/additions/build_history"),
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let history: Value = response.json().await.unwrap();
    let config: Value = serde_json::from_slice(&image.config.bytes).unwrap();
    assert_eq!(history, config["history"]);
    assert_eq!(history.as_array().unwrap().len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn additions_an_artifact_lacks_are_404s_and_unknown_ones_400s() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "proj"})).await;
    let image = Image::build(3, "amd64", &[1000]);
    push(&server, &http, "proj/app", "v1", &image).await;
    let addition = |name: &str| {
        let http = http.clone();
        let url = api(&server, &format!("{APP}/artifacts/v1/additions/{name}"));
        async move { http.get(url).admin().send().await.unwrap() }
    };
    // Known to Harbor, absent here: 404 in Harbor's shape, never a 400 naming Berth.
    for name in [
        "readme.md",
        "values.yaml",
        "dependencies",
        "sbom",
        "license",
        "files",
    ] {
        let response = addition(name).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "NOT_FOUND", "{name}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(!message.contains("Berth"), "{name}: {message}");
    }
    // The built-in scanner is always registered: an artifact never scanned has no report, `{}` (Harbor's
    // answer with a scanner and no report).
    let response = addition("vulnerabilities").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
    let response = addition("colours").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(addition("build_history").await.status(), StatusCode::OK);

    // An artifact without an image config has no build history.
    let config = upload_blob(&server, &http, "proj/app", b"{}").await;
    let layer = upload_blob(&server, &http, "proj/app", b"just bytes").await;
    let manifest = image_manifest(
        (&config, 2),
        &[(&layer, 10)],
        json!({"config": {"mediaType": "application/vnd.example.thing.v1+json", "digest": config, "size": 2}}),
    );
    put_manifest(&server, &http, "proj/app", "thing", OCI_MANIFEST, &manifest).await;
    let response = http
        .get(api(
            &server,
            &format!("{APP}/artifacts/thing/additions/build_history"),
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn artifacts_name_their_types_icon_which_is_served_to_anyone() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "proj"})).await;
    let image = Image::build(4, "amd64", &[1000]);
    push(&server, &http, "proj/app", "v1", &image).await;
    let config = upload_blob(&server, &http, "proj/app", b"{}").await;
    let layer = upload_blob(&server, &http, "proj/app", b"chart bytes").await;
    for (tag, media_type) in [
        ("chart", "application/vnd.cncf.helm.config.v1+json"),
        ("wasm", "application/vnd.wasm.config.v1+json"),
        ("other", "application/vnd.example.thing.v1+json"),
    ] {
        let manifest = image_manifest(
            (&config, 2),
            &[(&layer, 11)],
            json!({"config": {"mediaType": media_type, "digest": config, "size": 2}}),
        );
        put_manifest(&server, &http, "proj/app", tag, OCI_MANIFEST, &manifest).await;
    }
    // Harbor's icon digests (src/lib/icon/const.go), by type.
    for (tag, kind, icon) in [
        (
            "v1",
            "IMAGE",
            "sha256:0048162a053eef4d4ce3fe7518615bef084403614f8bca43b40ae2e762e11e06",
        ),
        (
            "chart",
            "CHART",
            "sha256:61cf3a178ff0f75bf08a25d96b75cf7355dc197749a9f128ed3ef34b0df05518",
        ),
        (
            "wasm",
            "WASM",
            "sha256:badd7693bcaf115be202748241dd0ea6ee3b0524bfab9ac22d1e1c43721afec6",
        ),
        (
            "other",
            "UNKNOWN",
            "sha256:da834479c923584f4cbcdecc0dac61f32bef1d51e8aae598cf16bd154efab49f",
        ),
    ] {
        let artifact = get_json(&http, api(&server, &format!("{APP}/artifacts/{tag}"))).await;
        assert_eq!(artifact["type"], kind, "{tag}");
        assert_eq!(artifact["icon"], icon, "{tag}");
        // Served without signing in, as Harbor's `Icon`.
        let response = client()
            .get(api(&server, &format!("/icons/{icon}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{icon}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["content-type"], "image/svg+xml");
        use base64::Engine as _;
        let svg = base64::engine::general_purpose::STANDARD
            .decode(body["content"].as_str().unwrap())
            .unwrap();
        assert!(svg.starts_with(b"<svg"), "{icon}");
    }
    let listed = get_json(&http, api(&server, &format!("{APP}/artifacts"))).await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["icon"].is_string())
    );
    let unknown = format!("/icons/{}", sha256(b"no icon"));
    let response = http.get(api(&server, &unknown)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http
        .get(api(&server, "/icons/sha256:nothex"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn an_index_lists_its_children_as_references_and_deletes_them_with_it() {
    let server = TestServer::start().await;
    let http = client();
    let project_id = create_project(&server, &http, json!({"project_name": "proj"})).await;
    let multi = MultiArch::build(9, &[3000]);
    let (child_digests, index) = push_index(&server, &http, "proj/app", "multi", &multi).await;

    let list = get_json(&http, api(&server, &format!("{APP}/artifacts"))).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "children are listed under their index: {list}"
    );
    let a = &list[0];
    assert_eq!(a["digest"], index.as_str());
    assert_eq!(a["type"], "IMAGE");
    assert_eq!(a["media_type"], OCI_INDEX);
    assert_eq!(a["manifest_media_type"], OCI_INDEX);
    let children_size: i64 = multi
        .children
        .iter()
        .map(super::repositories::image_size)
        .sum();
    assert_eq!(a["size"], multi.index.size() as i64 + children_size);
    assert!(a["addition_links"].get("build_history").is_none());
    let references = a["references"].as_array().unwrap();
    assert_eq!(references.len(), 2);
    for (reference, (child, digest)) in references
        .iter()
        .zip(multi.children.iter().zip(&child_digests))
    {
        assert_eq!(reference["child_digest"], digest.as_str());
        assert_eq!(reference["parent_id"], a["id"]);
        assert_eq!(
            reference["platform"]["architecture"],
            child.architecture.as_str()
        );
        assert_eq!(reference["platform"]["os"], "linux");
        let by_digest = get_json(&http, api(&server, &format!("{APP}/artifacts/{digest}"))).await;
        assert_eq!(reference["child_id"], by_digest["id"]);
    }
    let repo = get_json(&http, api(&server, APP)).await;
    assert_eq!(repo["artifact_count"], 1);

    // A child cannot go while the index needs it; the index takes its children along.
    let response = http
        .delete(api(
            &server,
            &format!("{APP}/artifacts/{}", child_digests[0]),
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let response = http
        .delete(api(&server, &format!("{APP}/artifacts/multi")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    for digest in &child_digests {
        assert_eq!(
            pull(&server, &http, "proj/app", digest).await,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(used(&server, &http, project_id).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn deleting_an_artifact_gives_back_its_unshared_storage() {
    let server = TestServer::start().await;
    let http = client();
    let project_id = create_project(&server, &http, json!({"project_name": "proj"})).await;
    let one = Image::build(1, "amd64", &[40_000]);
    let two = Image::build(2, "amd64", &[10_000]);
    push(&server, &http, "proj/app", "one", &one).await;
    push(&server, &http, "proj/app", "two", &two).await;
    assert_eq!(
        used(&server, &http, project_id).await,
        image_size(&one) + image_size(&two)
    );
    let response = http
        .delete(api(&server, &format!("{APP}/artifacts/one")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(used(&server, &http, project_id).await, image_size(&two));
    assert_eq!(
        pull(&server, &http, "proj/app", "one").await,
        StatusCode::NOT_FOUND
    );
    let response = http
        .delete(api(&server, &format!("{APP}/artifacts/one")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

#[tokio::test]
async fn tags_are_created_listed_and_deleted() {
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
    let other = push(
        &server,
        &http,
        "proj/app",
        "other",
        &Image::build(2, "amd64", &[100]),
    )
    .await;
    // Warm the tag cache of the registry, which tag writes must invalidate.
    assert_eq!(
        pull(&server, &http, "proj/app", "latest").await,
        StatusCode::NOT_FOUND
    );

    let response = http
        .post(api(&server, &format!("{APP}/artifacts/v1/tags")))
        .admin()
        .json(&json!({"name": "latest"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()["location"],
        format!("/api/v2.0/projects/proj/repositories/app/artifacts/{digest}/tags/latest").as_str()
    );
    let served = http
        .get(server.url("/v2/proj/app/manifests/latest"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(served.headers()["docker-content-digest"], digest.as_str());

    // A name the repository has, on any artifact, is a conflict; a bad name is a 400.
    for (name, status) in [
        ("latest", StatusCode::CONFLICT),
        ("other", StatusCode::CONFLICT),
        ("-bad", StatusCode::BAD_REQUEST),
    ] {
        let response = http
            .post(api(&server, &format!("{APP}/artifacts/{digest}/tags")))
            .admin()
            .json(&json!({"name": name}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{name}");
    }
    let response = http
        .post(api(&server, &format!("{APP}/artifacts/v1/tags")))
        .admin()
        .json(&json!({"nom": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, "BAD_REQUEST");

    let response = http
        .get(api(
            &server,
            &format!("{APP}/artifacts/v1/tags?page_size=1"),
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "2");
    let tags: Value = response.json().await.unwrap();
    assert_eq!(tags.as_array().unwrap().len(), 1);
    assert_eq!(tags[0]["name"], "latest", "newest first");
    let tags = get_json(
        &http,
        api(&server, &format!("{APP}/artifacts/v1/tags?q=name%3D~v")),
    )
    .await;
    assert_eq!(tags[0]["name"], "v1");
    assert_eq!(tags.as_array().unwrap().len(), 1);

    // A tag is deleted from the artifact it is on only.
    let response = http
        .delete(api(
            &server,
            &format!("{APP}/artifacts/{other}/tags/latest"),
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http
        .delete(api(&server, &format!("{APP}/artifacts/v1/tags/latest")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        pull(&server, &http, "proj/app", "latest").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(pull(&server, &http, "proj/app", "v1").await, StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn copying_links_an_artifact_into_another_project_and_charges_it() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "proj"})).await;
    let target_id = create_project(&server, &http, json!({"project_name": "target"})).await;
    let image = Image::build(1, "amd64", &[20_000]);
    let digest = push(&server, &http, "proj/app", "v1", &image).await;
    let multi = MultiArch::build(2, &[1000]);
    let (_, index) = push_index(&server, &http, "proj/multi", "m1", &multi).await;

    let copy = |from: &str, to: &str| {
        http.post(api(
            &server,
            &format!("/projects/target/repositories/{to}/artifacts?from={from}"),
        ))
        .admin()
        .send()
    };
    let response = copy("proj/app:v1", "copied").await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()["location"],
        format!("/api/v2.0/projects/target/repositories/copied/artifacts/{digest}").as_str()
    );
    let copied = get_json(
        &http,
        api(&server, "/projects/target/repositories/copied/artifacts/v1"),
    )
    .await;
    assert_eq!(copied["digest"], digest.as_str());
    assert_eq!(copied["project_id"], target_id);
    assert_eq!(used(&server, &http, target_id).await, image_size(&image));
    // The copy is pullable, blobs included.
    assert_eq!(
        pull(&server, &http, "target/copied", "v1").await,
        StatusCode::OK
    );
    for blob in image.referenced_blobs() {
        let response = http
            .get(server.url(&format!("/v2/target/copied/blobs/{}", blob.digest)))
            .admin()
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.bytes().await.unwrap().as_ref(),
            blob.bytes.as_slice()
        );
    }
    let response = copy(&format!("proj/app@{digest}"), "copied").await.unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT, "already there");

    // An index comes with its children, into a nested repository.
    let response = copy(&format!("proj/multi@{index}"), "a%252Fb")
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let copied = get_json(
        &http,
        api(
            &server,
            &format!("/projects/target/repositories/a%252Fb/artifacts/{index}"),
        ),
    )
    .await;
    assert_eq!(copied["references"].as_array().unwrap().len(), 2);
    assert!(
        copied["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "m1"),
        "tags come along"
    );
    for child in &multi.children {
        assert_eq!(
            pull(&server, &http, "target/a/b", &child.manifest.digest).await,
            StatusCode::OK
        );
    }

    // Bad sources, missing sources, and the target's quota.
    for (from, status) in [
        ("proj/app", StatusCode::BAD_REQUEST),
        ("proj/app:nope", StatusCode::NOT_FOUND),
        ("nosuch/app:v1", StatusCode::NOT_FOUND),
        (&format!("proj/app@{}", sha256(b"x")), StatusCode::NOT_FOUND),
    ] {
        let response = copy(from, "again").await.unwrap();
        assert_eq!(response.status(), status, "{from}");
    }
    let response = http
        .put(api(&server, &format!("/quotas/{target_id}")))
        .admin()
        .json(&json!({"hard": {"storage": used(&server, &http, target_id).await + 10}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let other = Image::build(3, "amd64", &[5_000]);
    push(&server, &http, "proj/app", "v3", &other).await;
    let before = used(&server, &http, target_id).await;
    let response = copy("proj/app:v3", "copied").await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "over quota");
    assert_eq!(
        used(&server, &http, target_id).await,
        before,
        "nothing charged"
    );
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

#[tokio::test]
async fn roles_decide_what_members_may_do_with_artifacts_and_tags() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "proj"})).await;
    create_project(
        &server,
        &http,
        json!({"project_name": "open", "metadata": {"public": "true"}}),
    )
    .await;
    create_project(&server, &http, json!({"project_name": "mine"})).await;
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
        "open/app",
        "v1",
        &Image::build(2, "amd64", &[100]),
    )
    .await;
    member(&server, &http, "proj", "guest", 3).await;
    member(&server, &http, "proj", "dev", 2).await;
    server.create_user("outsider", PASSWORD, false).await;
    // The outsider owns a project to copy into, but cannot read proj.
    let response = http
        .post(api(&server, "/projects/mine/members"))
        .admin()
        .json(&json!({"role_id": 1, "member_user": {"username": "outsider"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    let status =
        |method: reqwest::Method, path: String, who: Option<&'static str>, body: Option<Value>| {
            let mut request = http.request(method, api(&server, &path));
            if let Some(name) = who {
                request = request.user(name, PASSWORD);
            }
            if let Some(body) = body {
                request = request.json(&body);
            }
            async move { request.send().await.unwrap().status() }
        };
    use reqwest::Method;
    let artifact = format!("{APP}/artifacts/v1");
    let tags = format!("{artifact}/tags");

    // Outsiders and anonymous callers: the private project does not exist for them.
    for who in [Some("outsider"), None] {
        assert_eq!(
            status(Method::GET, format!("{APP}/artifacts"), who, None).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status(Method::GET, artifact.clone(), who, None).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status(Method::DELETE, artifact.clone(), who, None).await,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        status(
            Method::POST,
            "/projects/mine/repositories/x/artifacts?from=proj/app:v1".into(),
            Some("outsider"),
            None
        )
        .await,
        StatusCode::NOT_FOUND,
        "copying from an invisible project"
    );

    // Guests read, list tags, and nothing more.
    assert_eq!(
        status(Method::GET, format!("{APP}/artifacts"), Some("guest"), None).await,
        StatusCode::OK
    );
    assert_eq!(
        status(Method::GET, artifact.clone(), Some("guest"), None).await,
        StatusCode::OK
    );
    assert_eq!(
        status(Method::GET, tags.clone(), Some("guest"), None).await,
        StatusCode::OK
    );
    assert_eq!(
        status(
            Method::GET,
            format!("{artifact}/additions/build_history"),
            Some("guest"),
            None
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        status(
            Method::POST,
            tags.clone(),
            Some("guest"),
            Some(json!({"name": "g"}))
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(Method::DELETE, artifact.clone(), Some("guest"), None).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(
            Method::POST,
            format!("{APP}/artifacts?from=proj/app:v1"),
            Some("guest"),
            None
        )
        .await,
        StatusCode::FORBIDDEN,
        "guests cannot create artifacts"
    );

    // Developers create tags and copy, but delete neither tags nor artifacts.
    assert_eq!(
        status(
            Method::POST,
            tags.clone(),
            Some("dev"),
            Some(json!({"name": "d"}))
        )
        .await,
        StatusCode::CREATED
    );
    assert_eq!(
        status(Method::DELETE, format!("{tags}/d"), Some("dev"), None).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(Method::DELETE, artifact.clone(), Some("dev"), None).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(
            Method::POST,
            "/projects/proj/repositories/dev-copy/artifacts?from=proj/app:v1".into(),
            Some("dev"),
            None
        )
        .await,
        StatusCode::CREATED
    );

    // A public project: anyone reads; writing asks anonymous callers to sign in.
    let open = "/projects/open/repositories/app/artifacts/v1".to_owned();
    assert_eq!(
        status(Method::GET, open.clone(), None, None).await,
        StatusCode::OK
    );
    assert_eq!(
        status(Method::GET, format!("{open}/tags"), None, None).await,
        StatusCode::OK
    );
    assert_eq!(
        status(Method::GET, open.clone(), Some("outsider"), None).await,
        StatusCode::OK
    );
    assert_eq!(
        status(Method::DELETE, open.clone(), None, None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(Method::DELETE, open.clone(), Some("outsider"), None).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(
            Method::POST,
            "/projects/mine/repositories/x/artifacts?from=open/app:v1".into(),
            Some("outsider"),
            None
        )
        .await,
        StatusCode::CREATED,
        "copying from a public project"
    );
    server.stop().await;
}

#[tokio::test]
async fn accessories_are_listed_under_their_subject_and_deleted_with_it() {
    let server = TestServer::start().await;
    let http = client();
    let project_id = create_project(&server, &http, json!({"project_name": "proj"})).await;
    let image = Image::build(1, "amd64", &[1000]);
    let subject = push(&server, &http, "proj/app", "v1", &image).await;
    let empty = upload_blob(&server, &http, "proj/app", b"{}").await;
    let signature = image_manifest(
        (&empty, 2),
        &[],
        json!({
            "artifactType": "application/vnd.cncf.notary.signature",
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": image.manifest.size()},
        }),
    );
    let signature = put_manifest(
        &server,
        &http,
        "proj/app",
        &sha256(&signature),
        OCI_MANIFEST,
        &signature,
    )
    .await;

    let list = get_json(&http, api(&server, &format!("{APP}/artifacts"))).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert!(list[0].get("accessories").is_none());
    let repo = get_json(&http, api(&server, APP)).await;
    assert_eq!(repo["artifact_count"], 1);
    let list = get_json(
        &http,
        api(&server, &format!("{APP}/artifacts?with_accessory=true")),
    )
    .await;
    let accessories = list[0]["accessories"].as_array().unwrap();
    assert_eq!(accessories.len(), 1);
    assert_eq!(accessories[0]["digest"], signature.as_str());
    assert_eq!(accessories[0]["type"], "signature.notation");
    assert_eq!(accessories[0]["subject_artifact_digest"], subject.as_str());
    assert_eq!(accessories[0]["subject_artifact_id"], list[0]["id"]);
    assert_eq!(accessories[0]["subject_artifact_repo"], "proj/app");
    let by_digest = get_json(&http, api(&server, &format!("{APP}/artifacts/{signature}"))).await;
    assert_eq!(by_digest["type"], "UNKNOWN");
    assert_eq!(
        by_digest["artifact_type"],
        "application/vnd.cncf.notary.signature"
    );

    let response = http
        .delete(api(&server, &format!("{APP}/artifacts/v1")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        pull(&server, &http, "proj/app", &signature).await,
        StatusCode::NOT_FOUND,
        "the signature goes with its subject"
    );
    assert_eq!(used(&server, &http, project_id).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn the_layers_addition_lists_a_manifests_layers() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "proj"})).await;
    let image = Image::build(1, "amd64", &[1000, 2000]);
    let digest = push(&server, &http, "proj/app", "v1", &image).await;
    let artifact = get_json(&http, api(&server, &format!("{APP}/artifacts/v1"))).await;
    let href =
        format!("/api/v2.0/projects/proj/repositories/app/artifacts/{digest}/additions/layers");
    assert_eq!(
        artifact["addition_links"]["layers"],
        json!({"href": href, "absolute": false})
    );
    let layers = get_json(&http, server.url(&href)).await;
    let manifest: Value = serde_json::from_slice(&image.manifest.bytes).unwrap();
    let expected: Vec<Value> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| json!({"mediaType": l["mediaType"], "digest": l["digest"], "size": l["size"]}))
        .collect();
    assert_eq!(layers, Value::Array(expected));
    assert_eq!(layers.as_array().unwrap().len(), 2);

    // An index has no layers of its own: its children do.
    push_index(
        &server,
        &http,
        "proj/app",
        "multi",
        &MultiArch::build(9, &[300]),
    )
    .await;
    let index = get_json(&http, api(&server, &format!("{APP}/artifacts/multi"))).await;
    assert!(index["addition_links"].get("layers").is_none(), "{index}");
    let response = http
        .get(api(
            &server,
            &format!("{APP}/artifacts/multi/additions/layers"),
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Readers of the project only: to anyone else the private project does not exist.
    let response = http.get(server.url(&href)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}
