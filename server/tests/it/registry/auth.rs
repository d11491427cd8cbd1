//! `/v2/` login, the token service, and who may do what.

use reqwest::StatusCode;
use serde_json::Value;

use super::{AsAdmin, error_code, header, push_image, setup, upload_blob};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER};

async fn token(
    server: &crate::support::TestServer,
    http: &reqwest::Client,
    creds: Option<(&str, &str)>,
    scopes: &[&str],
) -> (StatusCode, Value) {
    let mut query: Vec<(&str, &str)> = vec![("service", "berth-registry")];
    query.extend(scopes.iter().map(|s| ("scope", *s)));
    let mut request = http.get(server.url("/service/token")).query(&query);
    if let Some((user, password)) = creds {
        request = request.basic_auth(user, Some(password));
    }
    let response = request.send().await.unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

/// The `access` claim of a JWT, read without verifying it.
fn access(token: &Value) -> Value {
    use base64::Engine as _;
    let payload = token["token"].as_str().unwrap().split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice::<Value>(&bytes).unwrap()["access"].clone()
}

#[tokio::test]
async fn base_endpoint_challenges_then_accepts_credentials() {
    let (server, http) = setup().await;
    let response = http.get(server.url("/v2/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&response, "www-authenticate"),
        format!(
            "Bearer realm=\"http://{}/service/token\",service=\"berth-registry\"",
            server.host()
        )
    );
    assert_eq!(
        header(&response, "docker-distribution-api-version"),
        "registry/2.0"
    );
    assert_eq!(error_code(response).await, "UNAUTHORIZED");

    let response = http.get(server.url("/v2/")).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .get(server.url("/v2/"))
        .basic_auth(ADMIN_USER, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&response, "www-authenticate").starts_with("Bearer realm="));
    let response = http
        .get(server.url("/v2/"))
        .header("authorization", "Basic %%%")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let (status, body) = token(&server, &http, Some((ADMIN_USER, ADMIN_PASSWORD)), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let response = http
        .get(server.url("/v2/"))
        .bearer_auth(body["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .get(server.url("/v2/"))
        .bearer_auth("not.a.token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn token_grants_the_intersection_of_asked_and_allowed() {
    let (server, http) = setup().await;
    server.create_project("private", false).await;
    server.create_user("dev", "Developer1", false).await;

    let (status, body) = token(
        &server,
        &http,
        Some((ADMIN_USER, ADMIN_PASSWORD)),
        &["repository:library/app:pull,push"],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["expires_in"], 1800);
    assert_eq!(body["token"], body["access_token"]);
    assert!(body["issued_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        access(&body)[0]["actions"],
        serde_json::json!(["pull", "push"])
    );

    // Anonymous: pull on the public project only.
    let (status, body) = token(
        &server,
        &http,
        None,
        &[
            "repository:library/app:pull,push",
            "repository:private/app:pull",
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        access(&body),
        serde_json::json!([{"type": "repository", "name": "library/app", "actions": ["pull"]}])
    );

    // A user who is not a member: public pull only, nothing on the private project, no catalog for anonymous.
    let (_, body) = token(
        &server,
        &http,
        Some(("dev", "Developer1")),
        &["repository:private/app:pull", "repository:library/x:*"],
    )
    .await;
    assert_eq!(
        access(&body),
        serde_json::json!([{"type": "repository", "name": "library/x", "actions": ["pull"]}])
    );
    let (_, body) = token(&server, &http, None, &["registry:catalog:*"]).await;
    assert_eq!(access(&body), serde_json::json!([]));

    let (status, body) = token(&server, &http, Some((ADMIN_USER, "nope")), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["errors"][0]["code"], "UNAUTHORIZED");
    server.stop().await;
}

#[tokio::test]
async fn a_token_without_the_needed_scope_gets_an_insufficient_scope_challenge() {
    let (server, http) = setup().await;
    let (_, pull_only) = token(
        &server,
        &http,
        Some((ADMIN_USER, ADMIN_PASSWORD)),
        &["repository:library/app:pull"],
    )
    .await;
    let response = http
        .post(server.url("/v2/library/app/blobs/uploads/"))
        .bearer_auth(pull_only["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = header(&response, "www-authenticate");
    assert!(
        challenge.contains("scope=\"repository:library/app:pull,push\""),
        "{challenge}"
    );
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );

    let (_, push) = token(
        &server,
        &http,
        Some((ADMIN_USER, ADMIN_PASSWORD)),
        &["repository:library/app:pull,push"],
    )
    .await;
    let response = http
        .post(server.url("/v2/library/app/blobs/uploads/"))
        .bearer_auth(push["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    // The token is for library/app only.
    let response = http
        .post(server.url("/v2/library/other/blobs/uploads/"))
        .bearer_auth(push["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn anonymous_may_pull_public_projects_only() {
    let (server, http) = setup().await;
    server.create_project("private", false).await;
    push_image(&server, &http, "library/app", "1", "pub").await;
    push_image(&server, &http, "private/app", "1", "priv").await;

    let response = http
        .get(server.url("/v2/library/app/manifests/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .get(server.url("/v2/private/app/manifests/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        header(&response, "www-authenticate").contains("scope=\"repository:private/app:pull\"")
    );
    let response = http
        .post(server.url("/v2/library/app/blobs/uploads/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        header(&response, "www-authenticate")
            .contains("scope=\"repository:library/app:pull,push\"")
    );
    server.stop().await;
}

#[tokio::test]
async fn users_get_what_their_role_allows() {
    let (server, http) = setup().await;
    server.create_project("team", false).await;
    server.create_user("outsider", "Outsider1", false).await;
    push_image(&server, &http, "team/app", "1", "team").await;

    // Basic credentials of a non-member: 403 DENIED (they are authenticated, just not allowed).
    let response = http
        .get(server.url("/v2/team/app/manifests/1"))
        .basic_auth("outsider", Some("Outsider1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(response).await, "DENIED");
    let response = http
        .post(server.url("/v2/library/app/blobs/uploads/"))
        .basic_auth("outsider", Some("Outsider1"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "public projects are pull-only for non-members"
    );
    let response = http
        .get(server.url("/v2/library/nothing/tags/list"))
        .basic_auth("outsider", Some("Outsider1"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "pull on a public project is allowed"
    );
    assert_eq!(error_code(response).await, "NAME_UNKNOWN");

    // A project's owner (its project admin) may push and delete.
    server.create_user("owner", "OwnerPass1", false).await;
    berth::service::projects::create(&server.state.db, "owned", "owner", false)
        .await
        .unwrap();
    let response = http
        .post(server.url("/v2/owned/app/blobs/uploads/"))
        .basic_auth("owner", Some("OwnerPass1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let digest = upload_blob(&server, &http, "owned/app", b"x").await;
    let response = http
        .delete(server.url(&format!("/v2/owned/app/blobs/{digest}")))
        .basic_auth("owner", Some("OwnerPass1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    server.stop().await;
}

#[tokio::test]
async fn a_token_does_not_open_a_project_created_after_it() {
    let (server, http) = setup().await;
    // The admin may be granted a scope for a project that does not exist yet.
    let (_, early) = token(
        &server,
        &http,
        Some((ADMIN_USER, ADMIN_PASSWORD)),
        &["repository:later/app:pull,push"],
    )
    .await;
    assert_eq!(
        access(&early)[0]["actions"],
        serde_json::json!(["pull", "push"])
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    server.create_project("later", false).await;
    let push = |token: String| {
        let http = http.clone();
        let url = server.url("/v2/later/app/blobs/uploads/");
        async move { http.post(url).bearer_auth(token).send().await.unwrap() }
    };
    let response = push(early["token"].as_str().unwrap().to_owned()).await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "the old token predates the project"
    );
    assert!(header(&response, "www-authenticate").contains("error=\"insufficient_scope\""));
    let (_, fresh) = token(
        &server,
        &http,
        Some((ADMIN_USER, ADMIN_PASSWORD)),
        &["repository:later/app:pull,push"],
    )
    .await;
    assert_eq!(
        push(fresh["token"].as_str().unwrap().to_owned())
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    server.stop().await;
}
