//! `GET`/`HEAD`/`PUT`/`DELETE /v2/<name>/manifests/<reference>`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    AsAdmin, OCI_INDEX, OCI_MANIFEST, error_code, header, image_manifest, push_image, put_manifest,
    setup, sha256, sha512, upload_blob,
};

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

#[tokio::test]
async fn manifests_are_stored_byte_for_byte_and_served_by_tag_and_digest() {
    let (server, http) = setup().await;
    let (manifest, digest) = push_image(&server, &http, "library/app", "v1", "bytes").await;
    for reference in ["v1", digest.as_str()] {
        let url = server.url(&format!("/v2/library/app/manifests/{reference}"));
        let response = http
            .get(&url)
            .admin()
            .header("accept", OCI_MANIFEST)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "content-type"), OCI_MANIFEST);
        assert_eq!(header(&response, "docker-content-digest"), digest);
        assert_eq!(
            response.bytes().await.unwrap().as_ref(),
            manifest.as_slice()
        );
        let response = http.head(&url).admin().send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header(&response, "content-length"),
            manifest.len().to_string()
        );
        assert_eq!(header(&response, "docker-content-digest"), digest);
    }
    // Unknown fields, odd spacing and key order survive.
    let config = upload_blob(&server, &http, "library/app", b"{}").await;
    let odd = format!(
        "{{ \"schemaVersion\": 2, \"x-unknown\": null,\n \"config\": {{\"mediaType\": \"application/vnd.oci.empty.v1+json\", \"digest\": \"{config}\", \"size\": 2, \"data\": \"e30=\"}}, \"layers\": [] }}"
    );
    let digest = put_manifest(
        &server,
        &http,
        "library/app",
        "odd",
        OCI_MANIFEST,
        odd.as_bytes(),
    )
    .await;
    let response = http
        .get(server.url(&format!("/v2/library/app/manifests/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.bytes().await.unwrap().as_ref(), odd.as_bytes());
    server.stop().await;
}

#[tokio::test]
async fn unknown_and_invalid_references() {
    let (server, http) = setup().await;
    for reference in ["nosuchtag", ".INVALID_MANIFEST_NAME", &sha256(b"none")] {
        let url = server.url(&format!("/v2/library/app/manifests/{reference}"));
        let response = http.get(&url).admin().send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{reference}");
        assert_eq!(error_code(response).await, "MANIFEST_UNKNOWN");
        assert_eq!(
            http.head(&url).admin().send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_manifest_referencing_missing_content_is_refused() {
    let (server, http) = setup().await;
    let config = upload_blob(&server, &http, "library/app", b"{\"os\":\"linux\"}").await;
    let missing = sha256(b"layer never pushed");
    let manifest = image_manifest((&config, 14), &[(&missing, 18)], json!({}));
    let response = http
        .put(server.url("/v2/library/app/manifests/v1"))
        .admin()
        .header("content-type", OCI_MANIFEST)
        .body(manifest)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "MANIFEST_BLOB_UNKNOWN");
    assert_eq!(body["errors"][0]["detail"]["digest"], missing);
    let response = http
        .get(server.url("/v2/library/app/manifests/v1"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "nothing was stored"
    );

    // A blob uploaded to another repository does not count.
    let elsewhere = upload_blob(&server, &http, "library/other", b"elsewhere").await;
    let manifest = image_manifest((&config, 14), &[(&elsewhere, 9)], json!({}));
    let response = http
        .put(server.url("/v2/library/app/manifests/v1"))
        .admin()
        .header("content-type", OCI_MANIFEST)
        .body(manifest)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await, "MANIFEST_BLOB_UNKNOWN");

    // Non-distributable layers (with urls) are not required to be present.
    let foreign = json!({"layers": [{"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "digest": sha256(b"foreign"), "size": 7, "urls": ["https://example.com/layer"]}]});
    let manifest = image_manifest((&config, 14), &[], foreign);
    put_manifest(
        &server,
        &http,
        "library/app",
        "foreign",
        OCI_MANIFEST,
        &manifest,
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn invalid_manifests_are_refused_with_clear_errors() {
    let (server, http) = setup().await;
    let put = |body: Vec<u8>, content_type: &'static str, reference: &'static str| {
        let http = http.clone();
        let url = server.url(&format!("/v2/library/app/manifests/{reference}"));
        async move {
            let response = http
                .put(url)
                .admin()
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (
                status,
                body["errors"][0]["code"].as_str().unwrap_or("").to_owned(),
                body["errors"][0]["message"].to_string(),
            )
        }
    };
    let schema1 = br#"{"schemaVersion":1,"name":"library/app","tag":"v1","architecture":"amd64","fsLayers":[],"history":[]}"#;
    let (status, code, message) = put(
        schema1.to_vec(),
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
        "v1",
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "MANIFEST_INVALID")
    );
    assert!(message.contains("schema1"), "{message}");

    let (status, code, _) = put(b"not json".to_vec(), OCI_MANIFEST, "v1").await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "MANIFEST_INVALID")
    );

    let config = upload_blob(&server, &http, "library/app", b"{}").await;
    let manifest = image_manifest((&config, 2), &[], json!({}));
    let (_, code, message) = put(manifest.clone(), DOCKER_MANIFEST, "v1").await;
    assert_eq!(
        code, "MANIFEST_INVALID",
        "mediaType and Content-Type disagree: {message}"
    );

    let wrong = sha256(b"a different manifest");
    let url = server.url(&format!("/v2/library/app/manifests/{wrong}"));
    let response = http
        .put(url)
        .admin()
        .header("content-type", OCI_MANIFEST)
        .body(manifest)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, "DIGEST_INVALID");

    let (status, _, _) = put(vec![b' '; 5 * 1024 * 1024], OCI_MANIFEST, "big").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    server.stop().await;
}

#[tokio::test]
async fn docker_schema2_and_manifest_lists() {
    let (server, http) = setup().await;
    let config = upload_blob(
        &server,
        &http,
        "library/multi",
        b"{\"architecture\":\"amd64\"}",
    )
    .await;
    let layer = upload_blob(&server, &http, "library/multi", b"docker layer").await;
    let child = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": config, "size": 24},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": layer, "size": 12}]
    }))
    .unwrap();
    let list = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": DOCKER_LIST,
        "manifests": [{"mediaType": DOCKER_MANIFEST, "digest": sha256(&child), "size": child.len(),
                       "platform": {"architecture": "amd64", "os": "linux"}}]
    }))
    .unwrap();
    // The list's child must be pushed first.
    let response = http
        .put(server.url("/v2/library/multi/manifests/latest"))
        .admin()
        .header("content-type", DOCKER_LIST)
        .body(list.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await, "MANIFEST_BLOB_UNKNOWN");
    let child_digest = put_manifest(
        &server,
        &http,
        "library/multi",
        &sha256(&child),
        DOCKER_MANIFEST,
        &child,
    )
    .await;
    put_manifest(
        &server,
        &http,
        "library/multi",
        "latest",
        DOCKER_LIST,
        &list,
    )
    .await;

    let url = server.url("/v2/library/multi/manifests/latest");
    let response = http
        .get(&url)
        .admin()
        .header("accept", format!("{DOCKER_LIST}, {DOCKER_MANIFEST}"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "content-type"), DOCKER_LIST);
    // A client that cannot read lists is told so rather than handed one.
    let response = http
        .get(&url)
        .admin()
        .header("accept", DOCKER_MANIFEST)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "MANIFEST_UNKNOWN");
    let response = http
        .get(&url)
        .admin()
        .header("accept", "*/*")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .get(server.url(&format!("/v2/library/multi/manifests/{child_digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "content-type"), DOCKER_MANIFEST);

    // An OCI index works the same way.
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": DOCKER_MANIFEST, "digest": child_digest, "size": child.len()}]
    }))
    .unwrap();
    put_manifest(&server, &http, "library/multi", "oci", OCI_INDEX, &index).await;
    server.stop().await;
}

#[tokio::test]
async fn manifests_can_be_pushed_by_sha512_digest() {
    let (server, http) = setup().await;
    let config = upload_blob(&server, &http, "library/app", b"{}").await;
    let manifest = image_manifest((&config, 2), &[], json!({}));
    let digest = sha512(&manifest);
    let response = http
        .put(server.url(&format!("/v2/library/app/manifests/{digest}")))
        .admin()
        .header("content-type", OCI_MANIFEST)
        .body(manifest.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(header(&response, "docker-content-digest"), digest);
    let response = http
        .get(server.url(&format!("/v2/library/app/manifests/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "docker-content-digest"), digest);
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        manifest.as_slice()
    );
    server.stop().await;
}

#[tokio::test]
async fn deleting_tags_and_manifests() {
    let (server, http) = setup().await;
    let (_, digest) = push_image(&server, &http, "library/app", "a", "del").await;
    put_manifest(
        &server,
        &http,
        "library/app",
        "b",
        OCI_MANIFEST,
        &http
            .get(server.url("/v2/library/app/manifests/a"))
            .admin()
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .await;

    // Deleting a tag leaves the manifest and its other tags.
    let response = http
        .delete(server.url("/v2/library/app/manifests/a"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let tags: Value = http
        .get(server.url("/v2/library/app/tags/list"))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tags["tags"], json!(["b"]));
    let url = server.url(&format!("/v2/library/app/manifests/{digest}"));
    assert_eq!(
        http.get(&url).admin().send().await.unwrap().status(),
        StatusCode::OK
    );

    // Deleting by digest removes the manifest and every tag on it.
    assert_eq!(
        http.delete(&url).admin().send().await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        http.get(&url).admin().send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let tags: Value = http
        .get(server.url("/v2/library/app/tags/list"))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tags["tags"], json!([]));
    let response = http.delete(&url).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "MANIFEST_UNKNOWN");
    server.stop().await;
}

#[tokio::test]
async fn a_moved_or_deleted_tag_is_seen_at_once() {
    let (server, http) = setup().await;
    let (first, first_digest) = push_image(&server, &http, "library/app", "latest", "first").await;
    let url = server.url("/v2/library/app/manifests/latest");
    let get = || async { http.get(&url).admin().send().await.unwrap() };
    assert_eq!(
        get().await.bytes().await.unwrap().as_ref(),
        first.as_slice()
    );
    // Read it again so it is served from the cache, then move the tag.
    assert_eq!(header(&get().await, "docker-content-digest"), first_digest);
    let (second, second_digest) =
        push_image(&server, &http, "library/app", "latest", "second").await;
    assert_ne!(first_digest, second_digest);
    assert_eq!(
        get().await.bytes().await.unwrap().as_ref(),
        second.as_slice()
    );
    // Deleting the manifest the tag points at removes the tag too.
    let response = http
        .delete(server.url(&format!("/v2/library/app/manifests/{second_digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(get().await.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}
