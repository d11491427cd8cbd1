//! Graceful shutdown: SIGTERM lets in-flight uploads finish, and the upload session survives a restart.

use std::time::Duration;

use futures_util::StreamExt as _;
use reqwest::StatusCode;

use crate::support::{ADMIN_PASSWORD, ADMIN_USER, BinaryServer, client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_uploads_and_keeps_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut server = BinaryServer::start(&data_dir);
    let http = client();

    let response = http
        .post(server.url("/v2/library/app/blobs/uploads/"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();

    // A slow chunk: 20 pieces of 64 KiB, 100 ms apart.
    let piece = |i: usize| vec![u8::try_from(i).unwrap(); 64 * 1024];
    let stream = futures_util::stream::iter(0..20).then(move |i| async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Ok::<_, std::io::Error>(piece(i))
    });
    let upload = {
        let http = http.clone();
        let url = server.url(&location);
        tokio::spawn(async move {
            http.patch(url)
                .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
                .body(reqwest::Body::wrap_stream(stream))
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = server.pid();
    std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap();

    let response = upload.await.unwrap().unwrap();
    assert_eq!(
        response.status(),
        StatusCode::ACCEPTED,
        "the in-flight chunk completes"
    );
    let total = 20 * 64 * 1024;
    assert_eq!(
        response.headers()["range"],
        format!("0-{}", total - 1).as_str()
    );
    let status = tokio::task::spawn_blocking(move || server.signal_and_wait("TERM"))
        .await
        .unwrap();
    assert!(
        status.success(),
        "berth exits cleanly on SIGTERM: {status:?}"
    );

    // After a restart the session is intact and can be finished.
    let server = BinaryServer::start(&data_dir);
    let response = http
        .get(server.url(&location))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        response.headers()["range"],
        format!("0-{}", total - 1).as_str()
    );
    let mut expected = Vec::with_capacity(total);
    (0..20).for_each(|i| expected.extend(piece(i)));
    let digest = super::registry::sha256(&expected);
    let response = http
        .put(server.url(&format!("{location}?digest={digest}")))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = http
        .get(server.url(&format!("/v2/library/app/blobs/{digest}")))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        expected.as_slice()
    );
}
