//! What a browser may do with what Berth serves (issue 13): every `/v2` response carries
//! `X-Content-Type-Options: nosniff` and `Content-Security-Policy: sandbox`, every `/api` (and token service)
//! response `nosniff`, and a manifest is only ever served with a manifest media type, whatever `Content-Type`
//! it was pushed with.

use reqwest::{Response, StatusCode};
use serde_json::json;

use super::{AsAdmin, OCI_MANIFEST, error_code, header, image_manifest, setup, upload_blob};

fn assert_sandboxed(response: &Response, what: &str) {
    assert_eq!(
        header(response, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
    assert_eq!(
        header(response, "content-security-policy"),
        "sandbox",
        "{what}"
    );
}

#[tokio::test]
async fn every_response_forbids_sniffing_and_v2_content_is_sandboxed() {
    let (server, http) = setup().await;
    let (manifest, digest) =
        super::push_image(&server, &http, "library/app", "v1", "headers").await;
    let config =
        serde_json::from_slice::<serde_json::Value>(&manifest).unwrap()["config"]["digest"]
            .as_str()
            .unwrap()
            .to_owned();
    for (path, status) in [
        ("/v2/library/app/manifests/v1".to_owned(), StatusCode::OK),
        (
            format!("/v2/library/app/manifests/{digest}"),
            StatusCode::OK,
        ),
        (format!("/v2/library/app/blobs/{config}"), StatusCode::OK),
        ("/v2/library/app/tags/list".to_owned(), StatusCode::OK),
        (
            "/v2/library/app/manifests/nope".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        ("/v2/_catalog".to_owned(), StatusCode::OK),
    ] {
        let response = http.get(server.url(&path)).admin().send().await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        assert_sandboxed(&response, &path);
    }
    let anonymous = http.get(server.url("/v2/")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_sandboxed(&anonymous, "/v2/ anonymous");

    for (path, status) in [
        ("/api/v2.0/projects", StatusCode::OK),
        ("/api/v2.0/users/current", StatusCode::UNAUTHORIZED),
        ("/api/v2.0/no/such/thing", StatusCode::NOT_FOUND),
        ("/service/token?service=berth", StatusCode::OK),
    ] {
        let response = http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(
            header(&response, "x-content-type-options"),
            "nosniff",
            "{path}"
        );
    }
    server.stop().await;
}

/// A push's `Content-Type` never becomes what the manifest is served as unless it is a manifest media type:
/// `text/html` is refused (with or without a `mediaType` in the body), and a manifest pushed as
/// `application/json` is served as the OCI manifest it is.
#[tokio::test]
async fn a_manifest_pushed_with_an_odd_content_type_is_not_served_with_it() {
    let (server, http) = setup().await;
    let config = br#"{"architecture":"amd64","os":"linux"}"#;
    let layer = b"<html><script>alert(1)</script></html>";
    let config_digest = upload_blob(&server, &http, "library/page", config).await;
    let layer_digest = upload_blob(&server, &http, "library/page", layer).await;
    let with_type = image_manifest(
        (&config_digest, config.len()),
        &[(&layer_digest, layer.len())],
        json!({}),
    );
    let mut without_type: serde_json::Value = serde_json::from_slice(&with_type).unwrap();
    without_type.as_object_mut().unwrap().remove("mediaType");
    let without_type = serde_json::to_vec(&without_type).unwrap();
    let put = |body: Vec<u8>, content_type: &'static str| {
        http.put(server.url("/v2/library/page/manifests/v1"))
            .admin()
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    for body in [with_type.clone(), without_type.clone()] {
        let response = put(body, "text/html").await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(error_code(response).await, "MANIFEST_INVALID");
    }
    let response = put(without_type.clone(), "application/json").await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = http
        .get(server.url("/v2/library/page/manifests/v1"))
        .admin()
        .header("accept", "text/html,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), OCI_MANIFEST);
    assert_sandboxed(&response, "manifest");
    assert_eq!(response.bytes().await.unwrap().to_vec(), without_type);

    // A blob, whatever its bytes, is an octet stream.
    let response = http
        .get(server.url(&format!("/v2/library/page/blobs/{layer_digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "content-type"),
        "application/octet-stream"
    );
    assert_sandboxed(&response, "blob");
    server.stop().await;
}
