//! Upload limits (issue 13, attack 9): the quota applies to uploads before a blob reaches the store, staged
//! bytes and open sessions are capped per project, and a refused upload leaves nothing on disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{AsAdmin, error_code, header, sha256, upload_blob};
use crate::api::create_project;
use crate::support::{Stored, TestServer, client, staged_bytes, stored};

const MIB: usize = 1024 * 1024;
const MAINTAINER: (&str, &str) = ("maint", "Maintainer1");

/// A project with a storage limit, and a Maintainer of it; returns the project id.
async fn project_with_maintainer(
    server: &TestServer,
    http: &Client,
    name: &str,
    limit: i64,
) -> i64 {
    let id = create_project(
        server,
        http,
        json!({"project_name": name, "storage_limit": limit}),
    )
    .await;
    server.create_user(MAINTAINER.0, MAINTAINER.1, false).await;
    let response = http
        .post(server.url(&format!("/api/v2.0/projects/{id}/members")))
        .admin()
        .json(&json!({"role_id": 4, "member_user": {"username": MAINTAINER.0}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    id
}

async fn open_as(server: &TestServer, http: &Client, repo: &str) -> reqwest::Response {
    http.post(server.url(&format!("/v2/{repo}/blobs/uploads/")))
        .basic_auth(MAINTAINER.0, Some(MAINTAINER.1))
        .send()
        .await
        .unwrap()
}

/// Opens a session as the Maintainer; returns its Location.
async fn open(server: &TestServer, http: &Client, repo: &str) -> String {
    let response = open_as(server, http, repo).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    header(&response, "location")
}

/// PATCHes `body` as the Maintainer with its Content-Length.
async fn patch(
    server: &TestServer,
    http: &Client,
    location: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    http.patch(server.url(location))
        .basic_auth(MAINTAINER.0, Some(MAINTAINER.1))
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// PUTs `?digest=` of `data` with no body, as the Maintainer.
async fn put(server: &TestServer, http: &Client, location: &str, data: &[u8]) -> reqwest::Response {
    http.put(server.url(&format!("{location}?digest={}", sha256(data))))
        .basic_auth(MAINTAINER.0, Some(MAINTAINER.1))
        .send()
        .await
        .unwrap()
}

/// A streamed body (no Content-Length) of `total` bytes in 64 KiB frames; `sent` counts what was produced.
fn stream_of(total: usize, sent: Arc<AtomicU64>) -> reqwest::Body {
    const FRAME: usize = 64 * 1024;
    let frames = futures_util::stream::iter((0..total.div_ceil(FRAME)).map(move |i| {
        let len = FRAME.min(total - i * FRAME);
        sent.fetch_add(len as u64, Ordering::SeqCst);
        Ok::<_, std::io::Error>(vec![b'x'; len])
    }));
    reqwest::Body::wrap_stream(frames)
}

/// The response's OCI error: (status, code, message).
async fn oci_error(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let text = |k: &str| body["errors"][0][k].as_str().unwrap_or("").to_owned();
    (status, text("code"), text("message"))
}

/// The `Range` of an open upload, or the error code of one that is gone.
async fn status_of(server: &TestServer, http: &Client, location: &str) -> String {
    let response = http
        .get(server.url(location))
        .basic_auth(MAINTAINER.0, Some(MAINTAINER.1))
        .send()
        .await
        .unwrap();
    if response.status() == StatusCode::NO_CONTENT {
        return header(&response, "range");
    }
    error_code(response).await
}

/// The status of `HEAD` on blob `digest` in `repo`, as admin.
async fn head_blob(server: &TestServer, http: &Client, repo: &str, digest: &str) -> StatusCode {
    http.head(server.url(&format!("/v2/{repo}/blobs/{digest}")))
        .admin()
        .send()
        .await
        .unwrap()
        .status()
}

/// Attack 9 with its numbers: a Maintainer of a project with a 1 MiB quota staged 86 MB through PATCHes, and
/// the refused PUT left its blob in the store. Now staging past the quota is refused early, a PUT refused by
/// the quota leaves the store and the staging area as they were, and nothing is left of a refused upload.
#[tokio::test]
async fn staging_past_the_quota_is_refused_and_a_refused_put_leaves_nothing() {
    let server = TestServer::start().await;
    let http = client();
    let project = project_with_maintainer(&server, &http, "small", MIB as i64).await;
    let before = stored(&server).await;

    // 86 MB streamed in one PATCH (no Content-Length): cut off once the session passes 1 MiB.
    let location = open(&server, &http, "small/app").await;
    let sent = Arc::new(AtomicU64::new(0));
    let response = http
        .patch(server.url(&location))
        .basic_auth(MAINTAINER.0, Some(MAINTAINER.1))
        .body(stream_of(86_000_000, sent.clone()))
        .send()
        .await;
    match response {
        Ok(response) => {
            let (status, code, message) = oci_error(response).await;
            assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "DENIED"));
            assert!(message.contains("quota"), "{message}");
        }
        // The server may close the connection before the client reads its answer.
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }
    // It stops storing at 1 MiB, then reads (and throws away) at most 32 MiB more so that a client still
    // sending can read the refusal: far less than the 86 MB sent.
    assert!(
        sent.load(Ordering::SeqCst) < 48 * MIB as u64,
        "the server stopped reading early, not after {} bytes",
        sent.load(Ordering::SeqCst)
    );
    assert_eq!(
        status_of(&server, &http, &location).await,
        "BLOB_UPLOAD_UNKNOWN"
    );
    assert_eq!(stored(&server).await, before, "nothing staged is left");
    assert_eq!(staged_bytes(&server, project).await, 0);

    // 86 MB declared by Content-Length: refused before a byte is read.
    let location = open(&server, &http, "small/app").await;
    let response = patch(&server, &http, &location, vec![b'y'; 86_000_000]).await;
    let (status, code, _) = oci_error(response).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "DENIED"));
    assert_eq!(
        status_of(&server, &http, &location).await,
        "BLOB_UPLOAD_UNKNOWN"
    );
    assert_eq!(stored(&server).await, before);

    // Two sessions of 600 KiB each fit the quota while staged; the second PUT does not, and is refused by
    // the quota before its blob reaches the store.
    let (a, b) = (vec![1u8; 600 * 1024], vec![2u8; 600 * 1024]);
    let (location_a, location_b) = (
        open(&server, &http, "small/app").await,
        open(&server, &http, "small/app").await,
    );
    for (location, data) in [(&location_a, &a), (&location_b, &b)] {
        let response = patch(&server, &http, location, data.clone()).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    assert_eq!(
        put(&server, &http, &location_a, &a).await.status(),
        StatusCode::CREATED
    );
    let blob_a = Stored {
        blobs: stored(&server).await.blobs,
        staged: before.staged.clone(),
    };
    assert_eq!(
        blob_a.blobs.len(),
        before.blobs.len() + 1,
        "blob a is stored"
    );
    let (status, code, message) = oci_error(put(&server, &http, &location_b, &b).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "DENIED"));
    assert!(message.contains("exceed"), "{message}");
    assert_eq!(
        stored(&server).await,
        blob_a,
        "the store holds blob a only, and the staging area is empty"
    );
    assert_eq!(
        status_of(&server, &http, &location_b).await,
        "BLOB_UPLOAD_UNKNOWN"
    );
    assert_eq!(
        head_blob(&server, &http, "small/app", &sha256(&b)).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(server.state.db.open_uploads(project).await.unwrap(), 0);
    assert_eq!(staged_bytes(&server, project).await, 0);

    // A monolithic upload over the quota: refused, nothing left.
    let response = http
        .post(server.url(&format!(
            "/v2/small/app/blobs/uploads/?digest={}",
            sha256(&b)
        )))
        .basic_auth(MAINTAINER.0, Some(MAINTAINER.1))
        .body(b.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(stored(&server).await, blob_a);
    assert_eq!(server.state.db.open_uploads(project).await.unwrap(), 0);

    // A mount of a blob from another project that does not fit: refused before anything is linked.
    let big = vec![3u8; 700 * 1024];
    let digest = upload_blob(&server, &http, "library/big", &big).await;
    let response = http
        .post(server.url(&format!(
            "/v2/small/app/blobs/uploads/?mount={digest}&from=library/big"
        )))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(response).await, "DENIED");
    assert_eq!(
        head_blob(&server, &http, "small/app", &digest).await,
        StatusCode::NOT_FOUND
    );
    let quota = server.state.db.quota(project).await.unwrap().unwrap();
    assert_eq!(quota.used, a.len() as i64, "only blob a counts");
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn open_sessions_per_project_are_capped() {
    let server = TestServer::start_with(|c| c.uploads.max_sessions_per_project = 3).await;
    let http = client();
    let project = project_with_maintainer(&server, &http, "busy", -1).await;
    // Ten opened at once: exactly three get a session, the others a 429 with Retry-After.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (url, http) = (server.url("/v2/busy/app/blobs/uploads/"), http.clone());
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .basic_auth(MAINTAINER.0, Some(MAINTAINER.1))
                .send()
                .await
                .unwrap()
        }));
    }
    let mut locations = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        match response.status() {
            StatusCode::ACCEPTED => locations.push(header(&response, "location")),
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(header(&response, "retry-after"), "60");
                let (_, code, message) = oci_error(response).await;
                assert_eq!(code, "TOOMANYREQUESTS");
                assert!(message.contains("3 open uploads"), "{message}");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(locations.len(), 3);
    assert_eq!(server.state.db.open_uploads(project).await.unwrap(), 3);
    // Another project is not affected; a monolithic upload counts as a session too.
    upload_blob(&server, &http, "library/app", b"elsewhere").await;
    let response = http
        .post(server.url(&format!(
            "/v2/busy/app/blobs/uploads/?digest={}",
            sha256(b"x")
        )))
        .admin()
        .body(&b"x"[..])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // Ending one makes room for one.
    let response = http
        .delete(server.url(&locations[0]))
        .basic_auth(MAINTAINER.0, Some(MAINTAINER.1))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        open_as(&server, &http, "busy/app").await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        open_as(&server, &http, "busy/app").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    server.stop().await;
}

#[tokio::test]
async fn staged_bytes_per_project_are_capped() {
    let server = TestServer::start_with(|c| c.uploads.max_staged_bytes_per_project = 1000).await;
    let http = client();
    let project = project_with_maintainer(&server, &http, "staged", -1).await;
    let before = stored(&server).await;
    let (a, b, c) = (
        open(&server, &http, "staged/app").await,
        open(&server, &http, "staged/app").await,
        open(&server, &http, "staged/app").await,
    );
    assert_eq!(
        patch(&server, &http, &a, vec![1; 600]).await.status(),
        StatusCode::ACCEPTED
    );
    // b would fit alone but a holds the room: 429, and b is ended.
    let response = patch(&server, &http, &b, vec![2; 600]).await;
    assert_eq!(header(&response, "retry-after"), "60");
    let (status, code, message) = oci_error(response).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS")
    );
    assert!(message.contains("600 of the 1000 bytes"), "{message}");
    assert_eq!(status_of(&server, &http, &b).await, "BLOB_UPLOAD_UNKNOWN");
    // c alone is larger than a project may stage: 413, streamed or declared.
    let response = http
        .patch(server.url(&c))
        .basic_auth(MAINTAINER.0, Some(MAINTAINER.1))
        .body(stream_of(2 * MIB, Arc::new(AtomicU64::new(0))))
        .send()
        .await;
    if let Ok(response) = response {
        let (status, code, _) = oci_error(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, "DENIED")
        );
    }
    assert_eq!(status_of(&server, &http, &c).await, "BLOB_UPLOAD_UNKNOWN");
    let c = open(&server, &http, "staged/app").await;
    let (status, code, _) = oci_error(patch(&server, &http, &c, vec![3; 1001]).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "DENIED")
    );
    assert_eq!(staged_bytes(&server, project).await, 600);
    // a may grow to the cap, and finishing it gives the room back.
    assert_eq!(
        patch(&server, &http, &a, vec![1; 400]).await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(status_of(&server, &http, &a).await, "0-999");
    assert_eq!(
        put(&server, &http, &a, &[1; 1000]).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(staged_bytes(&server, project).await, 0);
    let b = open(&server, &http, "staged/app").await;
    assert_eq!(
        patch(&server, &http, &b, vec![2; 600]).await.status(),
        StatusCode::ACCEPTED
    );
    // Only blob a reached the store; only b's staged bytes are left.
    let after = stored(&server).await;
    assert_eq!(after.blobs.len(), before.blobs.len() + 1, "{after:?}");
    assert_eq!(after.staged.len(), 1, "{after:?}");
    assert!(
        after.staged.iter().all(|(_, size)| *size == 600),
        "{after:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn staged_bytes_still_count_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let configure = |c: &mut berth::config::Config| {
        c.data_dir = data.clone();
        c.uploads.max_staged_bytes_per_project = 1000;
    };
    let server = TestServer::start_with(configure).await;
    let http = client();
    let project = project_with_maintainer(&server, &http, "restart", -1).await;
    let a = open(&server, &http, "restart/app").await;
    assert_eq!(
        patch(&server, &http, &a, vec![1; 600]).await.status(),
        StatusCode::ACCEPTED
    );
    server.stop().await;

    let server = TestServer::start_with(configure).await;
    assert_eq!(staged_bytes(&server, project).await, 600);
    let b = open(&server, &http, "restart/app").await;
    assert_eq!(
        patch(&server, &http, &b, vec![2; 600]).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        patch(&server, &http, &a, vec![1; 400]).await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        put(&server, &http, &a, &[1; 1000]).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(staged_bytes(&server, project).await, 0);
    server.stop().await;
}

/// A client that writes its whole body before it reads the answer (as simple clients do) still reads the
/// refusal and its reason when the body passes the quota by less than what Berth drains, instead of a reset
/// connection: Berth stops storing at the quota, but reads and throws away the rest of the body.
#[tokio::test]
async fn a_body_just_over_the_quota_gets_the_refusal_not_a_reset_connection() {
    use base64::Engine as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let server = TestServer::start().await;
    let http = client();
    project_with_maintainer(&server, &http, "tight", MIB as i64).await;
    let before = stored(&server).await;
    let location = open(&server, &http, "tight/app").await;
    let path = location.trim_start_matches(&server.url(""));
    let len = 12 * MIB;
    let credentials = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", MAINTAINER.0, MAINTAINER.1));
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {credentials}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {len}\r\n\r\n",
        server.host()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&vec![b'x'; len])
        .await
        .expect("the whole body is read, so writing it does not fail");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let mut buf = [0u8; 4096];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tcp.read(&mut buf).await.expect("the answer, not a reset");
            assert!(n > 0, "the connection closed before the answer");
            answer.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "no answer arrived");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert_eq!(stored(&server).await, before, "nothing staged is left");
    server.stop().await;
}
