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

    // Basic credentials of a non-member: 404 NAME_UNKNOWN (a private project is none of their business).
    let response = http
        .get(server.url("/v2/team/app/manifests/1"))
        .basic_auth("outsider", Some("Outsider1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "NAME_UNKNOWN");
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

#[tokio::test]
async fn token_scopes_are_deduplicated_and_capped() {
    let (server, http) = setup().await;
    let repeated = vec!["repository:library/app:pull"; 270];
    let (status, body) = token(&server, &http, None, &repeated).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        access(&body),
        serde_json::json!([{"type": "repository", "name": "library/app", "actions": ["pull"]}])
    );
    assert!(
        body["token"].as_str().unwrap().len() < 2048,
        "270 repeated scopes make one small token"
    );
    // One repository asked for twice with different actions gets one grant with both.
    let (_, body) = token(
        &server,
        &http,
        Some((ADMIN_USER, ADMIN_PASSWORD)),
        &["repository:library/app:push", "repository:library/app:pull"],
    )
    .await;
    assert_eq!(
        access(&body),
        serde_json::json!([{"type": "repository", "name": "library/app", "actions": ["pull", "push"]}])
    );

    let names: Vec<String> = (0..21)
        .map(|n| format!("repository:library/app{n}:pull"))
        .collect();
    let scopes: Vec<&str> = names.iter().map(String::as_str).collect();
    let (status, body) = token(&server, &http, None, &scopes[..20]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(access(&body).as_array().unwrap().len(), 20);
    let (status, body) = token(&server, &http, None, &scopes).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], "BAD_REQUEST");

    // 300 verified tokens hold the cache to their claims' bytes, nowhere near its bound.
    for _ in 0..300 {
        let (_, body) = token(&server, &http, None, &scopes[..20]).await;
        let response = http
            .get(server.url("/v2/library/app0/tags/list"))
            .bearer_auth(body["token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    let cached = server.state.tokens.cache_bytes();
    assert!(
        cached > 0 && cached <= berth::auth::token::CACHE_BYTES,
        "{cached}"
    );
    server.stop().await;
}

/// Every `/v2` route on `repo`, as `(method, path)`.
fn routes(repo: &str) -> Vec<(reqwest::Method, String)> {
    use reqwest::Method;
    let digest = super::sha256(b"anything");
    vec![
        (Method::GET, format!("/v2/{repo}/manifests/1")),
        (Method::HEAD, format!("/v2/{repo}/manifests/1")),
        (Method::PUT, format!("/v2/{repo}/manifests/1")),
        (Method::DELETE, format!("/v2/{repo}/manifests/{digest}")),
        (Method::GET, format!("/v2/{repo}/blobs/{digest}")),
        (Method::HEAD, format!("/v2/{repo}/blobs/{digest}")),
        (Method::DELETE, format!("/v2/{repo}/blobs/{digest}")),
        (Method::POST, format!("/v2/{repo}/blobs/uploads/")),
        (Method::GET, format!("/v2/{repo}/blobs/uploads/some-id")),
        (Method::PATCH, format!("/v2/{repo}/blobs/uploads/some-id")),
        (
            Method::PUT,
            format!("/v2/{repo}/blobs/uploads/some-id?digest={digest}"),
        ),
        (Method::DELETE, format!("/v2/{repo}/blobs/uploads/some-id")),
        (Method::GET, format!("/v2/{repo}/tags/list")),
        (Method::GET, format!("/v2/{repo}/referrers/{digest}")),
    ]
}

/// Status and body of `method path`, with the project name `project` written as `PROJECT` in the body.
async fn answer(
    http: &reqwest::Client,
    url: String,
    method: reqwest::Method,
    auth: &dyn Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    project: &str,
) -> (StatusCode, String) {
    let response = auth(http.request(method, url)).send().await.unwrap();
    let status = response.status();
    let body = response.text().await.unwrap().replace(project, "PROJECT");
    (status, body)
}

#[tokio::test]
async fn a_private_project_looks_missing_to_a_signed_in_outsider_on_every_route() {
    let (server, http) = setup().await;
    server.create_project("team", false).await;
    server.create_user("outsider", "Outsider1", false).await;
    push_image(&server, &http, "team/app", "1", "team").await;
    let (_, outsider_token) = token(
        &server,
        &http,
        Some(("outsider", "Outsider1")),
        &[
            "repository:team/app:pull,push,delete",
            "repository:ghost/app:pull,push,delete",
        ],
    )
    .await;
    let bearer = outsider_token["token"].as_str().unwrap().to_owned();
    let basic = |r: reqwest::RequestBuilder| r.basic_auth("outsider", Some("Outsider1"));
    let with_token = |r: reqwest::RequestBuilder| r.bearer_auth(&bearer);
    for (auth, who) in [
        (&basic as &dyn Fn(_) -> _, "Basic"),
        (&with_token as &dyn Fn(_) -> _, "token"),
    ] {
        for ((method, private), (_, missing)) in
            routes("team/app").into_iter().zip(routes("ghost/app"))
        {
            let seen = answer(&http, server.url(&private), method.clone(), auth, "team").await;
            let none = answer(&http, server.url(&missing), method.clone(), auth, "ghost").await;
            assert_eq!(seen, none, "{who} {method} {private}");
            assert_eq!(seen.0, StatusCode::NOT_FOUND, "{who} {method} {private}");
        }
    }
    // Members are answered as before (and outsiders are told DENIED where a project is public, see
    // users_get_what_their_role_allows).
    let response = http
        .get(server.url("/v2/team/app/manifests/1"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    server.stop().await;
}

/// `method path` on the REST API as the admin, with `body` as JSON if given; the status.
async fn as_admin(
    server: &crate::support::TestServer,
    http: &reqwest::Client,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> StatusCode {
    let mut request = http.request(method, crate::api::api(server, path)).admin();
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap().status()
}

/// `GET /v2/<repo>/manifests/1` with `bearer`.
async fn pull_with(
    server: &crate::support::TestServer,
    http: &reqwest::Client,
    repo: &str,
    bearer: &Value,
) -> StatusCode {
    http.get(server.url(&format!("/v2/{repo}/manifests/1")))
        .bearer_auth(bearer["token"].as_str().unwrap())
        .header("accept", super::OCI_MANIFEST)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_token_allows_only_what_its_subject_may_still_do() {
    use crate::api::{api, robots};
    let (server, http) = setup().await;
    server.create_project("open", true).await;
    server.create_project("team", false).await;
    push_image(&server, &http, "open/app", "1", "open").await;
    push_image(&server, &http, "team/app", "1", "team").await;
    crate::api::repositories::member(&server, &http, "team", "dev", 2).await;
    server.create_user("leaver", "Leaver-pass1", false).await;
    let dev_password = crate::api::repositories::PASSWORD;
    let (robot_id, robot, secret) = robots::create_robot(
        &http,
        &api(&server, "/robots"),
        &robots::project_robot("team", "ci", &[("repository", "pull")]),
    )
    .await;

    let (_, anonymous) = token(&server, &http, None, &["repository:open/app:pull"]).await;
    let (_, dev) = token(
        &server,
        &http,
        Some(("dev", dev_password)),
        &["repository:team/app:pull"],
    )
    .await;
    let (_, ci) = token(
        &server,
        &http,
        Some((&robot, &secret)),
        &["repository:team/app:pull"],
    )
    .await;
    let (_, leaver) = token(
        &server,
        &http,
        Some(("leaver", "Leaver-pass1")),
        &["repository:open/app:pull"],
    )
    .await;
    assert_eq!(
        pull_with(&server, &http, "open/app", &anonymous).await,
        StatusCode::OK
    );
    assert_eq!(
        pull_with(&server, &http, "team/app", &dev).await,
        StatusCode::OK
    );
    assert_eq!(
        pull_with(&server, &http, "team/app", &ci).await,
        StatusCode::OK
    );
    assert_eq!(
        pull_with(&server, &http, "open/app", &leaver).await,
        StatusCode::OK
    );

    // The project goes private: the anonymous token stops working.
    let private = serde_json::json!({"metadata": {"public": "false"}});
    let put = reqwest::Method::PUT;
    let status = as_admin(&server, &http, put.clone(), "/projects/open", Some(private)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        pull_with(&server, &http, "open/app", &anonymous).await,
        StatusCode::UNAUTHORIZED
    );

    // The member is removed: the project is as good as missing to them now.
    let members: Value =
        crate::api::get_json(&http, api(&server, "/projects/team/members?entityname=dev")).await;
    let mid = members[0]["id"].as_i64().unwrap();
    let delete = reqwest::Method::DELETE;
    let member = format!("/projects/team/members/{mid}");
    let status = as_admin(&server, &http, delete.clone(), &member, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        pull_with(&server, &http, "team/app", &dev).await,
        StatusCode::NOT_FOUND
    );

    // The robot is disabled.
    let mut update = robots::project_robot("team", "ci", &[("repository", "pull")]);
    update["disable"] = serde_json::json!(true);
    let path = format!("/robots/{robot_id}");
    let status = as_admin(&server, &http, put.clone(), &path, Some(update)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        pull_with(&server, &http, "team/app", &ci).await,
        StatusCode::UNAUTHORIZED
    );

    // The user is deleted.
    let id = server
        .state
        .db
        .find_user("leaver")
        .await
        .unwrap()
        .unwrap()
        .id;
    let status = as_admin(&server, &http, delete, &format!("/users/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let public = serde_json::json!({"metadata": {"public": "true"}});
    let status = as_admin(&server, &http, put, "/projects/open", Some(public)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        pull_with(&server, &http, "open/app", &anonymous).await,
        StatusCode::OK
    );
    assert_eq!(
        pull_with(&server, &http, "open/app", &leaver).await,
        StatusCode::UNAUTHORIZED
    );
    // `GET /v2/`, which clients call to check a login, no longer takes the deleted user's or disabled robot's
    // token either; a live member's still passes.
    let base = |token: &Value| {
        let request = http.get(server.url("/v2/"));
        let request = request.bearer_auth(token["token"].as_str().unwrap());
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(base(&leaver).await, StatusCode::UNAUTHORIZED);
    assert_eq!(base(&ci).await, StatusCode::UNAUTHORIZED);
    assert_eq!(base(&dev).await, StatusCode::OK);
    server.stop().await;
}

/// The scheme in a 401's token realm follows `X-Forwarded-Proto` only when a trusted proxy sent it: anyone else
/// could otherwise point clients' credentials at a realm of their choosing.
#[tokio::test]
async fn forwarded_proto_is_believed_only_from_a_trusted_proxy() {
    let realm = |server: &crate::support::TestServer| {
        let request = reqwest::Client::new()
            .get(server.url("/v2/"))
            .header("x-forwarded-proto", "https");
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            header(&response, "www-authenticate")
        }
    };
    let direct = crate::support::TestServer::start().await;
    assert!(
        realm(&direct).await.starts_with("Bearer realm=\"http://"),
        "an untrusted X-Forwarded-Proto was believed"
    );
    direct.stop().await;
    let proxied = crate::support::TestServer::start_with(|config| {
        config.trusted_proxies = berth::config::TrustedProxies::parse(["127.0.0.1"]).unwrap();
    })
    .await;
    assert!(realm(&proxied).await.starts_with("Bearer realm=\"https://"));
    proxied.stop().await;
}
