//! Every path that moves or removes a tag refuses to touch one an enabled rule locks, with Harbor's answer
//! (412 `PRECONDITION`), and leaves the tag where it was; what no rule locks goes through.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{add_rule, put_rule, rule, with_project};
use crate::api::repositories::push;
use crate::api::{As, api, get_json};
use crate::clients::{ClientEnv, admin_creds, skopeo_copy, skopeo_copy_cmd};
use crate::images::{Image, Layout, run_fails};
use crate::registry::{OCI_MANIFEST, sha256};
use crate::support::{BinaryServer, TestServer, client};

/// Two small, different images.
fn two_images() -> (Image, Image) {
    (
        Image::build(1, "amd64", &[1_000]),
        Image::build(2, "amd64", &[1_000]),
    )
}

/// `PUT /v2/<repo>/manifests/<tag>` of `image` (its blobs uploaded first) as admin; returns the response.
async fn try_push(
    server: &TestServer,
    http: &Client,
    repo: &str,
    tag: &str,
    image: &Image,
) -> reqwest::Response {
    for blob in image.referenced_blobs() {
        crate::registry::upload_blob(server, http, repo, &blob.bytes).await;
    }
    http.put(server.url(&format!("/v2/{repo}/manifests/{tag}")))
        .admin()
        .header("content-type", OCI_MANIFEST)
        .body(image.manifest.bytes.clone())
        .send()
        .await
        .unwrap()
}

/// The digest `tag` of `repo` names now (by a `HEAD`).
async fn digest_of(server: &TestServer, http: &Client, repo: &str, tag: &str) -> String {
    let response = http
        .head(server.url(&format!("/v2/{repo}/manifests/{tag}")))
        .admin()
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{repo}:{tag}");
    response.headers()["docker-content-digest"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Asserts a 412 `PRECONDITION` whose message contains `says`.
async fn assert_refused(response: reqwest::Response, says: &str) {
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "PRECONDITION", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{message:?} should say {says:?}");
}

#[tokio::test]
async fn moving_an_immutable_tag_is_refused_and_the_tag_stays() {
    let (server, http) = with_project().await;
    let (a, b) = (
        Image::build(1, "amd64", &[2_000]),
        Image::build(2, "amd64", &[2_000]),
    );
    let a_digest = push(&server, &http, "proj/app", "v1", &a).await;
    let id = add_rule(
        &server,
        &http,
        "proj",
        rule("repoMatches", "app", "matches", "v*"),
    )
    .await;

    let response = try_push(&server, &http, "proj/app", "v1", &b).await;
    assert_refused(
        response,
        &format!("'app:v1' configured as immutable (immutable tag rule {id})"),
    )
    .await;
    assert_eq!(digest_of(&server, &http, "proj/app", "v1").await, a_digest);
    // Pushing the same digest again, and a new tag the rule selects, are fine.
    push(&server, &http, "proj/app", "v1", &a).await;
    let b_digest = push(&server, &http, "proj/app", "v2", &b).await;
    // The new tag is locked from now on.
    assert_refused(
        try_push(&server, &http, "proj/app", "v2", &a).await,
        "'app:v2'",
    )
    .await;
    assert_eq!(digest_of(&server, &http, "proj/app", "v2").await, b_digest);
    // Tags and repositories the rule does not select move freely.
    push(&server, &http, "proj/app", "latest", &a).await;
    push(&server, &http, "proj/app", "latest", &b).await;
    push(&server, &http, "proj/web", "v1", &a).await;
    push(&server, &http, "proj/web", "v1", &b).await;

    // Each refusal is in the audit log, with who tried.
    let logs = get_json(&http, api(&server, "/projects/proj/logs?page_size=50")).await;
    let refused: Vec<&str> = logs
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["operation"] == "refused")
        .map(|e| e["resource"].as_str().unwrap())
        .collect();
    assert_eq!(refused.len(), 2, "{logs}");
    assert!(refused.iter().all(|r| r.contains("push")), "{refused:?}");
    assert!(refused[1].starts_with("proj/app:v1"), "{refused:?}");
    assert!(logs[0]["username"] == "admin");
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

#[tokio::test]
async fn a_disabled_rule_enforces_nothing_and_changes_apply_at_once() {
    let (server, http) = with_project().await;
    let images: Vec<Image> = (0..4).map(|i| Image::build(i, "amd64", &[1_000])).collect();
    push(&server, &http, "proj/app", "v1", &images[0]).await;
    let body = rule("repoMatches", "**", "matches", "v1");
    let id = add_rule(&server, &http, "proj", body.clone()).await;
    assert_refused(
        try_push(&server, &http, "proj/app", "v1", &images[1]).await,
        "v1",
    )
    .await;

    let mut disabled = body.clone();
    disabled["disabled"] = json!(true);
    assert_eq!(
        put_rule(&server, &http, "proj", id, disabled).await,
        StatusCode::OK
    );
    let moved = push(&server, &http, "proj/app", "v1", &images[1]).await;
    assert_eq!(digest_of(&server, &http, "proj/app", "v1").await, moved);

    assert_eq!(
        put_rule(&server, &http, "proj", id, body).await,
        StatusCode::OK
    );
    assert_refused(
        try_push(&server, &http, "proj/app", "v1", &images[2]).await,
        "v1",
    )
    .await;
    // A rule edited to select other tags no longer locks this one.
    assert_eq!(
        put_rule(
            &server,
            &http,
            "proj",
            id,
            rule("repoMatches", "**", "matches", "v2")
        )
        .await,
        StatusCode::OK
    );
    push(&server, &http, "proj/app", "v1", &images[2]).await;
    let deleted = http
        .delete(api(
            &server,
            &format!("/projects/proj/immutabletagrules/{id}"),
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    push(&server, &http, "proj/app", "v2", &images[3]).await;
    push(&server, &http, "proj/app", "v2", &images[0]).await;
    server.stop().await;
}

#[tokio::test]
async fn excludes_lock_everything_they_do_not_name() {
    let (server, http) = with_project().await;
    let (a, b) = two_images();
    // Every tag but dev-*, in every repository but scratch/**.
    add_rule(
        &server,
        &http,
        "proj",
        rule("repoExcludes", "scratch/**", "excludes", "dev-*"),
    )
    .await;
    for (repo, tag, locked) in [
        ("proj/app", "dev-1", false),
        ("proj/app", "release", true),
        ("proj/team/app", "1.0", true),
        ("proj/scratch/x", "release", false),
    ] {
        push(&server, &http, repo, tag, &a).await;
        let response = try_push(&server, &http, repo, tag, &b).await;
        if locked {
            assert_refused(response, "configured as immutable").await;
        } else {
            assert_eq!(response.status(), StatusCode::CREATED, "{repo}:{tag}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn deleting_an_immutable_tag_its_artifact_or_repository_is_refused() {
    let (server, http) = with_project().await;
    let image = Image::build(1, "amd64", &[1_000]);
    let digest = push(&server, &http, "proj/app", "v1", &image).await;
    push(&server, &http, "proj/app", "latest", &image).await;
    let id = add_rule(
        &server,
        &http,
        "proj",
        rule("repoMatches", "**", "matches", "v*"),
    )
    .await;
    let app = "/projects/proj/repositories/app";
    let delete = |url: String| http.delete(url).admin().send();

    // REST: the tag, its artifact (by tag or digest) and the repository.
    let tag_url = api(&server, &format!("{app}/artifacts/{digest}/tags/v1"));
    assert_refused(
        delete(tag_url.clone()).await.unwrap(),
        "the tag v1 configured as immutable, cannot be deleted",
    )
    .await;
    assert_refused(
        delete(api(&server, &format!("{app}/artifacts/latest")))
            .await
            .unwrap(),
        "cannot be deleted",
    )
    .await;
    assert_refused(
        delete(api(&server, &format!("{app}/artifacts/{digest}")))
            .await
            .unwrap(),
        &format!("rule {id}"),
    )
    .await;
    assert_refused(
        delete(api(&server, app)).await.unwrap(),
        "cannot be deleted",
    )
    .await;
    // The registry: by tag and by digest.
    assert_refused(
        delete(server.url("/v2/proj/app/manifests/v1"))
            .await
            .unwrap(),
        "v1",
    )
    .await;
    assert_refused(
        delete(server.url(&format!("/v2/proj/app/manifests/{digest}")))
            .await
            .unwrap(),
        "v1",
    )
    .await;
    assert_eq!(digest_of(&server, &http, "proj/app", "v1").await, digest);

    // A tag no rule selects goes, on the same artifact.
    let latest = delete(api(
        &server,
        &format!("{app}/artifacts/{digest}/tags/latest"),
    ))
    .await
    .unwrap();
    assert_eq!(latest.status(), StatusCode::OK);

    // Once the rule is disabled, everything goes.
    let mut disabled = rule("repoMatches", "**", "matches", "v*");
    disabled["disabled"] = json!(true);
    assert_eq!(
        put_rule(&server, &http, "proj", id, disabled).await,
        StatusCode::OK
    );
    assert_eq!(delete(tag_url).await.unwrap().status(), StatusCode::OK);
    push(&server, &http, "proj/app", "v1", &image).await;
    assert_eq!(
        delete(api(&server, app)).await.unwrap().status(),
        StatusCode::OK
    );
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

#[tokio::test]
async fn copying_or_tagging_onto_an_immutable_tag_is_refused() {
    let (server, http) = with_project().await;
    let (a, b) = two_images();
    let a_digest = push(&server, &http, "proj/app", "v1", &a).await;
    let b_digest = push(&server, &http, "proj/src", "v1", &b).await;
    push(&server, &http, "proj/app", "other", &b).await;
    add_rule(
        &server,
        &http,
        "proj",
        rule("repoMatches", "app", "matches", "v*"),
    )
    .await;

    // A copy of src:v1 would move app:v1 to b.
    let copy = http
        .post(api(
            &server,
            "/projects/proj/repositories/app/artifacts?from=proj/src:v1",
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(
        copy.status(),
        StatusCode::CONFLICT,
        "b is already in app as `other`"
    );
    let copy = http
        .post(api(
            &server,
            "/projects/proj/repositories/app2/artifacts?from=proj/src:v1",
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(copy.status(), StatusCode::CREATED, "app2 has no rule");
    // Into app, after removing the `other` copy of b.
    let removed = http
        .delete(api(
            &server,
            &format!("/projects/proj/repositories/app/artifacts/{b_digest}"),
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    let copy = http
        .post(api(
            &server,
            "/projects/proj/repositories/app/artifacts?from=proj/src:v1",
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_refused(copy, "'app:v1' configured as immutable").await;
    assert_eq!(digest_of(&server, &http, "proj/app", "v1").await, a_digest);
    let artifacts = get_json(
        &http,
        api(&server, "/projects/proj/repositories/app/artifacts"),
    )
    .await;
    assert_eq!(
        artifacts.as_array().map(Vec::len),
        Some(1),
        "nothing was copied"
    );

    // Tagging another artifact of app as v1 is refused; as its own tag, a 409 as before; a new tag is fine.
    push(&server, &http, "proj/app", "plain", &b).await;
    let tag = |reference: &str, name: &str| {
        http.post(api(
            &server,
            &format!("/projects/proj/repositories/app/artifacts/{reference}/tags"),
        ))
        .admin()
        .json(&json!({"name": name}))
        .send()
    };
    assert_refused(tag(&b_digest, "v1").await.unwrap(), "'app:v1'").await;
    assert_eq!(
        tag(&a_digest, "v1").await.unwrap().status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        tag(&b_digest, "v9").await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        tag(&b_digest, "other").await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(digest_of(&server, &http, "proj/app", "v1").await, a_digest);
    server.stop().await;
}

#[tokio::test]
async fn tags_show_whether_they_are_immutable_when_asked() {
    let (server, http) = with_project().await;
    let image = Image::build(1, "amd64", &[1_000]);
    let digest = push(&server, &http, "proj/app", "v1", &image).await;
    push(&server, &http, "proj/app", "latest", &image).await;
    add_rule(
        &server,
        &http,
        "proj",
        rule("repoMatches", "**", "matches", "v*"),
    )
    .await;
    let app = "/projects/proj/repositories/app";
    let immutable = |tags: &Value| -> Vec<(String, bool)> {
        let mut pairs: Vec<(String, bool)> = tags
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap().to_owned(),
                    t["immutable"].as_bool().unwrap(),
                )
            })
            .collect();
        pairs.sort();
        pairs
    };
    let marked = vec![("latest".to_owned(), false), ("v1".to_owned(), true)];
    let unmarked = vec![("latest".to_owned(), false), ("v1".to_owned(), false)];
    let list = get_json(
        &http,
        api(
            &server,
            &format!("{app}/artifacts?with_immutable_status=true"),
        ),
    )
    .await;
    assert_eq!(immutable(&list[0]["tags"]), marked);
    let one = get_json(
        &http,
        api(
            &server,
            &format!("{app}/artifacts/{digest}?with_immutable_status=true"),
        ),
    )
    .await;
    assert_eq!(immutable(&one["tags"]), marked);
    let tags = get_json(
        &http,
        api(
            &server,
            &format!("{app}/artifacts/{digest}/tags?with_immutable_status=true"),
        ),
    )
    .await;
    assert_eq!(immutable(&tags), marked);
    // Without the parameter, as in Harbor, every tag says false.
    let plain = get_json(
        &http,
        api(&server, &format!("{app}/artifacts/{digest}/tags")),
    )
    .await;
    assert_eq!(immutable(&plain), unmarked);
    let plain = get_json(&http, api(&server, &format!("{app}/artifacts"))).await;
    assert_eq!(immutable(&plain[0]["tags"]), unmarked);
    server.stop().await;
}

/// A real client: skopeo's push over a locked tag fails with the rule's message, and the tag stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skopeo_cannot_overwrite_an_immutable_tag() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let server = BinaryServer::start(&data);
    let host = server.host();
    let env = ClientEnv::new();
    let (a, b) = (
        Image::build(1, "amd64", &[20_000]),
        Image::build(2, "amd64", &[20_000]),
    );
    let mut src = Layout::create(&tmp.path().join("src"));
    src.add_image("a", &a);
    src.add_image("b", &b);
    let creds = admin_creds();
    let target = format!("docker://{host}/library/app:v1");
    tokio::task::block_in_place(|| {
        skopeo_copy(&env, &src.reference("a"), &target, Some(&creds), false)
    });

    let http = client();
    let response = http
        .post(server.url("/api/v2.0/projects/library/immutabletagrules"))
        .admin()
        .json(&rule("repoMatches", "**", "matches", "v*"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let out = tokio::task::block_in_place(|| {
        run_fails(&mut skopeo_copy_cmd(
            &env,
            &src.reference("b"),
            &target,
            Some(&creds),
            false,
        ))
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("configured as immutable"), "{stderr}");
    // The same image again is fine, and the tag still names a.
    tokio::task::block_in_place(|| {
        skopeo_copy(&env, &src.reference("a"), &target, Some(&creds), false)
    });
    let head = http
        .head(server.url("/v2/library/app/manifests/v1"))
        .admin()
        .header("accept", OCI_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.headers()["docker-content-digest"],
        sha256(&a.manifest.bytes).as_str()
    );
}
