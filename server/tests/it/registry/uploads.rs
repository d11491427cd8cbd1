//! Blob uploads: monolithic, POST+PUT, chunked, streamed, mounts, cancel, and the idle purge.

use reqwest::StatusCode;

use super::{AsAdmin, error_code, header, setup, sha256, sha512, upload_blob};
use crate::support::TestServer;

/// Opens an upload session; returns its Location.
async fn open(server: &TestServer, http: &reqwest::Client, repo: &str) -> String {
    let response = http
        .post(server.url(&format!("/v2/{repo}/blobs/uploads/")))
        .admin()
        .header("content-length", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&response, "range"), "0-0");
    assert!(!header(&response, "docker-upload-uuid").is_empty());
    let location = header(&response, "location");
    assert!(
        location.starts_with(&format!("/v2/{repo}/blobs/uploads/")),
        "{location}"
    );
    location
}

async fn patch(
    server: &TestServer,
    http: &reqwest::Client,
    location: &str,
    range: Option<&str>,
    body: &[u8],
) -> reqwest::Response {
    let mut request = http
        .patch(server.url(location))
        .admin()
        .header("content-type", "application/octet-stream")
        .body(body.to_vec());
    if let Some(range) = range {
        request = request.header("content-range", range);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn post_then_put_uploads_a_blob() {
    let (server, http) = setup().await;
    let location = open(&server, &http, "library/app").await;
    let digest = sha256(b"post then put");
    let response = http
        .put(server.url(&format!("{location}?digest={digest}")))
        .admin()
        .body(&b"post then put"[..])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        header(&response, "location"),
        format!("/v2/library/app/blobs/{digest}")
    );
    assert_eq!(header(&response, "docker-content-digest"), digest);
    // The session is gone once the blob is committed.
    let response = http
        .get(server.url(&location))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "BLOB_UPLOAD_UNKNOWN");
    server.stop().await;
}

#[tokio::test]
async fn chunked_upload_checks_content_range_and_reports_progress() {
    let (server, http) = setup().await;
    let data: Vec<u8> = (0..42u8).collect();
    let location = open(&server, &http, "library/app").await;

    // A chunk that does not start at offset 0 is refused with 416 and the upload's state.
    let response = patch(&server, &http, &location, Some("22-41"), &data[22..]).await;
    assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&response, "range"), "0-0");
    assert_eq!(header(&response, "location"), location);

    let response = patch(&server, &http, &location, Some("0-21"), &data[..22]).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&response, "range"), "0-21");
    assert_eq!(header(&response, "location"), location);

    // Re-sending the first chunk is out of order too; the session survives it.
    let response = patch(&server, &http, &location, Some("0-21"), &data[..22]).await;
    assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(error_code(response).await, "BLOB_UPLOAD_INVALID");

    let response = http
        .get(server.url(&location))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&response, "range"), "0-21");
    assert_eq!(header(&response, "location"), location);

    // Content-Length must agree with Content-Range.
    let response = http
        .patch(server.url(&location))
        .admin()
        .header("content-range", "22-30")
        .body(data[22..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let response = patch(&server, &http, &location, Some("22-41"), &data[22..]).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&response, "range"), "0-41");

    let digest = sha256(&data);
    let response = http
        .put(server.url(&format!("{location}?digest={digest}")))
        .admin()
        .header("content-length", "0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = http
        .get(server.url(&format!("/v2/library/app/blobs/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.bytes().await.unwrap().as_ref(), data.as_slice());
    server.stop().await;
}

#[tokio::test]
async fn an_out_of_order_final_chunk_is_refused() {
    let (server, http) = setup().await;
    let location = open(&server, &http, "library/app").await;
    patch(&server, &http, &location, Some("0-3"), b"abcd").await;
    let digest = sha256(b"abcdefgh");
    let response = http
        .put(server.url(&format!("{location}?digest={digest}")))
        .admin()
        .header("content-range", "5-8")
        .body(&b"efgh"[..])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let response = http
        .put(server.url(&format!("{location}?digest={digest}")))
        .admin()
        .header("content-range", "4-7")
        .body(&b"efgh"[..])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    server.stop().await;
}

#[tokio::test]
async fn streamed_patch_without_content_range() {
    let (server, http) = setup().await;
    let location = open(&server, &http, "library/app").await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(b"stream ".to_vec()), Ok(b"of bytes".to_vec())];
    let response = http
        .patch(server.url(&location))
        .admin()
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&response, "range"), "0-14");
    let digest = sha256(b"stream of bytes");
    let response = http
        .put(server.url(&format!("{location}?digest={digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    server.stop().await;
}

#[tokio::test]
async fn a_wrong_digest_is_refused_and_nothing_becomes_visible() {
    let (server, http) = setup().await;
    let claimed = sha256(b"what the client claims");
    let response = http
        .post(server.url(&format!("/v2/library/app/blobs/uploads/?digest={claimed}")))
        .admin()
        .body(&b"what the client sends"[..])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(response).await, "DIGEST_INVALID");
    for digest in [claimed, sha256(b"what the client sends")] {
        let response = http
            .head(server.url(&format!("/v2/library/app/blobs/{digest}")))
            .admin()
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    let location = open(&server, &http, "library/app").await;
    let response = http
        .put(server.url(&format!("{location}?digest=sha256:1234")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await, "DIGEST_INVALID");
    let response = http
        .put(server.url(&location))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        "DIGEST_INVALID",
        "the digest parameter is required"
    );
    let response = http
        .post(server.url("/v2/library/app/blobs/uploads/?digest=md5:abc"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await, "DIGEST_INVALID");
    server.stop().await;
}

#[tokio::test]
async fn sha512_digests_are_verified() {
    let (server, http) = setup().await;
    let digest = sha512(b"sha512 content");
    let response = http
        .post(server.url(&format!("/v2/library/app/blobs/uploads/?digest={digest}")))
        .admin()
        .body(&b"sha512 content"[..])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = http
        .get(server.url(&format!("/v2/library/app/blobs/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "docker-content-digest"), digest);
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"sha512 content");
    let wrong = sha512(b"other");
    let response = http
        .post(server.url(&format!("/v2/library/app/blobs/uploads/?digest={wrong}")))
        .admin()
        .body(&b"sha512 content"[..])
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await, "DIGEST_INVALID");
    server.stop().await;
}

#[tokio::test]
async fn cancelled_and_unknown_uploads() {
    let (server, http) = setup().await;
    let location = open(&server, &http, "library/app").await;
    patch(&server, &http, &location, None, b"partial").await;
    let response = http
        .delete(server.url(&location))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = http
        .get(server.url(&location))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await, "BLOB_UPLOAD_UNKNOWN");
    let response = patch(
        &server,
        &http,
        "/v2/library/app/blobs/uploads/not-a-session",
        None,
        b"x",
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "BLOB_UPLOAD_UNKNOWN");
    // A session belongs to its repository.
    let location = open(&server, &http, "library/app").await;
    let stolen = location.replace("library/app", "library/other");
    let response = http.get(server.url(&stolen)).admin().send().await.unwrap();
    assert_eq!(error_code(response).await, "BLOB_UPLOAD_UNKNOWN");
    server.stop().await;
}

#[tokio::test]
async fn cross_repository_mounts_need_pull_access_to_the_source() {
    let (server, http) = setup().await;
    let digest = upload_blob(&server, &http, "library/source", b"shared layer").await;

    let response = http
        .post(server.url(&format!(
            "/v2/library/target/blobs/uploads/?mount={digest}&from=library/source"
        )))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        header(&response, "location"),
        format!("/v2/library/target/blobs/{digest}")
    );
    let response = http
        .get(server.url(&format!("/v2/library/target/blobs/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"shared layer");

    // An unauthenticated mount is challenged for both repositories, so one token covers the mount.
    let response = http
        .post(server.url(&format!(
            "/v2/library/target/blobs/uploads/?mount={digest}&from=library/source"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        header(&response, "www-authenticate").contains(
            "scope=\"repository:library/target:pull,push repository:library/source:pull\""
        ),
        "{}",
        header(&response, "www-authenticate")
    );

    // Without `from`, a blob already in the same project is mounted; an unknown one starts an upload.
    let response = http
        .post(server.url(&format!("/v2/library/third/blobs/uploads/?mount={digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let unknown = sha256(b"nowhere");
    let response = http
        .post(server.url(&format!("/v2/library/third/blobs/uploads/?mount={unknown}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(header(&response, "location").starts_with("/v2/library/third/blobs/uploads/"));

    // A user who may push to their own project but not pull from a private one gets an upload instead.
    server.create_project("secret", false).await;
    let secret = upload_blob(&server, &http, "secret/app", b"secret layer").await;
    server.create_user("mallory", "Mallory12", false).await;
    berth::service::projects::create(&server.state.db, "mine", "mallory", false)
        .await
        .unwrap();
    let response = http
        .post(server.url(&format!(
            "/v2/mine/app/blobs/uploads/?mount={secret}&from=secret/app"
        )))
        .basic_auth("mallory", Some("Mallory12"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let response = http
        .head(server.url(&format!("/v2/mine/app/blobs/{secret}")))
        .basic_auth("mallory", Some("Mallory12"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn idle_uploads_are_purged_by_the_background_job() {
    let server = TestServer::start_with(|c| c.upload_ttl_secs = 1).await;
    let http = crate::support::client();
    let location = open(&server, &http, "library/app").await;
    patch(&server, &http, &location, None, b"abandoned").await;
    let staged = crate::support::stored(&server).await.staged;
    assert_eq!(staged.len(), 1, "{staged:?}");
    // The job runs every TTL/4 (at least every second); give it a few periods.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !crate::support::stored(&server).await.staged.is_empty()
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        crate::support::stored(&server).await.staged,
        Default::default(),
        "staged bytes purged"
    );
    let response = http
        .get(server.url(&location))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await, "BLOB_UPLOAD_UNKNOWN");
    server.stop().await;
}

#[tokio::test]
async fn purge_keeps_active_uploads_and_removes_orphan_files() {
    let (server, http) = setup().await;
    let location = open(&server, &http, "library/app").await;
    let id = location.rsplit('/').next().unwrap().to_owned();
    std::fs::write(server.state.uploads.path("orphan-file"), b"left by a crash").unwrap();
    let removed = berth::jobs::upload_purge::purge_once(&server.state)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert!(!server.state.uploads.path("orphan-file").exists());
    assert!(
        server.state.db.find_upload(&id).await.unwrap().is_some(),
        "an active upload is kept"
    );
    if server.state.blobs.backend() == "filesystem" {
        assert!(server.state.uploads.path(&id).exists());
    }
    server.stop().await;
}
