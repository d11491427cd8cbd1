//! `GET`/`HEAD`/`DELETE /v2/<name>/blobs/<digest>`.

use reqwest::StatusCode;

use super::{AsAdmin, error_code, header, setup, sha256, upload_blob};

#[tokio::test]
async fn blobs_are_served_whole_and_by_range() {
    let (server, http) = setup().await;
    let data: Vec<u8> = (0..2048u32).map(|i| (i % 251) as u8).collect();
    let digest = upload_blob(&server, &http, "library/app", &data).await;
    let url = server.url(&format!("/v2/library/app/blobs/{digest}"));

    let response = http.head(&url).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-length"), "2048");
    assert_eq!(header(&response, "docker-content-digest"), digest);

    let response = http.get(&url).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.unwrap().as_ref(), data.as_slice());

    let response = http
        .get(&url)
        .admin()
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&response, "content-range"), "bytes 100-199/2048");
    assert_eq!(response.bytes().await.unwrap().as_ref(), &data[100..200]);

    let response = http
        .get(&url)
        .admin()
        .header("range", "bytes=2000-9999")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "content-range"), "bytes 2000-2047/2048");
    assert_eq!(response.bytes().await.unwrap().as_ref(), &data[2000..]);

    for bad in ["bytes=2048-", "bytes=500-0"] {
        let response = http
            .get(&url)
            .admin()
            .header("range", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::RANGE_NOT_SATISFIABLE,
            "{bad}"
        );
        assert_eq!(header(&response, "content-range"), "bytes */2048");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_empty_blob_has_a_zero_content_length() {
    let (server, http) = setup().await;
    let digest = upload_blob(&server, &http, "library/app", b"").await;
    let response = http
        .head(server.url(&format!("/v2/library/app/blobs/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-length"), "0");
    server.stop().await;
}

#[tokio::test]
async fn blobs_are_only_visible_in_repositories_that_hold_them() {
    let (server, http) = setup().await;
    let digest = upload_blob(&server, &http, "library/one", b"private bytes").await;
    let response = http
        .get(server.url(&format!("/v2/library/two/blobs/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "BLOB_UNKNOWN");
    let missing = sha256(b"never uploaded");
    let response = http
        .head(server.url(&format!("/v2/library/one/blobs/{missing}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http
        .get(server.url("/v2/library/one/blobs/sha256:abc"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, "DIGEST_INVALID");
    server.stop().await;
}

#[tokio::test]
async fn deleting_a_blob_removes_it_from_the_repository() {
    let (server, http) = setup().await;
    let digest = upload_blob(&server, &http, "library/app", b"to delete").await;
    upload_blob(&server, &http, "library/keep", b"to delete").await;
    let url = server.url(&format!("/v2/library/app/blobs/{digest}"));
    let response = http.delete(&url).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(
        http.head(&url).admin().send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let response = http.delete(&url).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "BLOB_UNKNOWN");
    // Other repositories holding the same content keep it.
    let other = server.url(&format!("/v2/library/keep/blobs/{digest}"));
    assert_eq!(
        http.get(&other).admin().send().await.unwrap().status(),
        StatusCode::OK
    );
    server.stop().await;
}
