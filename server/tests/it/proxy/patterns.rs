//! Who sets a proxy-cache project's include and exclude patterns (issue 13): they bound what the upstream may be
//! asked for, so they are system-admin settings. A project admin gets 403 through every path that would change
//! them, and can still save the project's other settings; a change by a system admin applies from the next
//! pull on.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::upstreams::{FAULTY_TAG, FaultyUpstream};
use super::{RegistryClient, create_endpoint, create_proxy_project, http_client, start_berth};
use crate::images::Image;
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer};

const PA: &str = "cacheadmin";
const PA_PASSWORD: &str = "Cache4dminPass";

/// `method path` on the REST API as `user` with `body`; returns the status.
async fn call(
    server: &TestServer,
    user: (&str, &str),
    method: Method,
    path: &str,
    body: Option<Value>,
) -> StatusCode {
    let mut request = http_client()
        .request(method, server.url(&format!("/api/v2.0{path}")))
        .basic_auth(user.0, Some(user.1));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap().status()
}

/// The project's metadata, as admin.
async fn metadata(server: &TestServer) -> Value {
    let response = http_client()
        .get(server.url("/api/v2.0/projects/hub"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    response.json::<Value>().await.unwrap()["metadata"].clone()
}

#[tokio::test]
async fn only_a_system_admin_changes_the_patterns() {
    let image = Image::build(831, "amd64", &[1000]);
    let upstream = FaultyUpstream::start(image.clone()).await;
    let server = start_berth().await;
    let id = create_endpoint(&server, "up", "docker-registry", &upstream.base(), None).await;
    create_proxy_project(
        &server,
        "hub",
        id,
        json!({"proxy_include": "library/**", "proxy_exclude": "library/internal-*"}),
        None,
    )
    .await;
    server.create_user(PA, PA_PASSWORD, false).await;
    let admin = (ADMIN_USER, ADMIN_PASSWORD);
    let pa = (PA, PA_PASSWORD);
    assert_eq!(
        call(
            &server,
            admin,
            Method::POST,
            "/projects/hub/members",
            Some(json!({"role_id": 1, "member_user": {"username": PA}})),
        )
        .await,
        StatusCode::CREATED
    );
    let client = RegistryClient::anonymous(&server);
    let (status, _) = client.get_manifest("hub/other/app", FAULTY_TAG).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "outside the include list");

    // Every path that would widen (or change) the patterns: 403 for the project admin.
    for (method, path, body) in [
        (
            Method::PUT,
            "/projects/hub",
            Some(json!({"metadata": {"proxy_include": "**"}})),
        ),
        (
            Method::PUT,
            "/projects/hub",
            Some(json!({"metadata": {"public": "true", "proxy_exclude": ""}})),
        ),
        (
            Method::PUT,
            "/projects/hub/metadatas/proxy_include",
            Some(json!({"proxy_include": "**"})),
        ),
        (
            Method::DELETE,
            "/projects/hub/metadatas/proxy_include",
            None,
        ),
        (
            Method::DELETE,
            "/projects/hub/metadatas/proxy_exclude",
            None,
        ),
    ] {
        let status = call(&server, pa, method.clone(), path, body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} {body:?}");
    }
    assert_eq!(
        call(
            &server,
            admin,
            Method::DELETE,
            "/projects/hub/metadatas/proxy_exclude",
            None
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        call(
            &server,
            pa,
            Method::POST,
            "/projects/hub/metadatas/",
            Some(json!({"proxy_exclude": "x/**"})),
        )
        .await,
        StatusCode::FORBIDDEN,
        "adding one"
    );
    let after = metadata(&server).await;
    assert_eq!(after["proxy_include"], "library/**", "{after}");
    assert!(after.get("proxy_exclude").is_none(), "{after}");

    // The project admin can still save other settings with the patterns as they are (the console does).
    assert_eq!(
        call(
            &server,
            pa,
            Method::PUT,
            "/projects/hub",
            Some(json!({"metadata": {"public": "true", "proxy_include": "library/**", "proxy_exclude": ""}})),
        )
        .await,
        StatusCode::OK
    );

    // The system admin widens them; the next pull follows the new patterns.
    assert_eq!(
        call(
            &server,
            admin,
            Method::PUT,
            "/projects/hub",
            Some(json!({"metadata": {"proxy_include": "**"}})),
        )
        .await,
        StatusCode::OK
    );
    client.pull("hub/other/app", FAULTY_TAG, &image).await;
    assert_eq!(
        call(
            &server,
            admin,
            Method::PUT,
            "/projects/hub/metadatas/proxy_exclude",
            Some(json!({"proxy_exclude": "other/**"})),
        )
        .await,
        StatusCode::OK
    );
    let (status, _) = client.get_manifest("hub/other/app", FAULTY_TAG).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "excluded from now on");
    server.stop().await;
}
