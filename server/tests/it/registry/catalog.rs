//! `GET /v2/_catalog`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{AsAdmin, header, push_image, setup};

#[tokio::test]
async fn catalog_is_paginated_and_shows_only_visible_repositories() {
    let (server, http) = setup().await;
    server.create_project("secret", false).await;
    for repo in ["library/c", "library/a", "library/b", "secret/x"] {
        push_image(&server, &http, repo, "1", repo).await;
    }
    let response = http
        .get(server.url("/v2/_catalog"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["repositories"],
        json!(["library/a", "library/b", "library/c", "secret/x"])
    );

    let response = http
        .get(server.url("/v2/_catalog?n=2"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "link"),
        "</v2/_catalog?n=2&last=library/b>; rel=\"next\""
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["repositories"], json!(["library/a", "library/b"]));
    let response = http
        .get(server.url("/v2/_catalog?n=2&last=library/b"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "link"), "");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["repositories"], json!(["library/c", "secret/x"]));

    // A user who is not a member of `secret` does not see it.
    server.create_user("viewer", "Viewer123", false).await;
    let response = http
        .get(server.url("/v2/_catalog"))
        .basic_auth("viewer", Some("Viewer123"))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["repositories"],
        json!(["library/a", "library/b", "library/c"])
    );

    let response = http.get(server.url("/v2/_catalog")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&response, "www-authenticate").contains("scope=\"registry:catalog:*\""));
    server.stop().await;
}
