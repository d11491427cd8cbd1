//! Berth on a real S3 server (SeaweedFS): blobs larger than one multipart part pushed monolithically and in
//! chunks, pulled back whole and by range, downloads redirected to presigned URLs (and refused to callers
//! without access), and garbage collection deleting from the bucket. Each server keeps its objects under its
//! own random prefix of the one test bucket.

use reqwest::StatusCode;
use serde_json::json;

use crate::gc::{collect, deletions};
use crate::registry::{AsAdmin, OCI_MANIFEST, header, image_manifest, put_manifest, upload_blob};
use crate::support::{TestServer, client, s3_available, sha256, use_test_s3};

const MIB: usize = 1024 * 1024;

async fn s3_server(redirect: bool) -> TestServer {
    TestServer::start_with(|c| {
        assert!(use_test_s3(c));
        c.storage.s3.redirect = redirect;
        c.gc.blob_grace_secs = 0;
        c.jobs.poll_ms = 50;
    })
    .await
}

/// Pushes `data` in `chunk`-byte PATCHes and a closing PUT; returns the digest.
async fn push_chunked(
    server: &TestServer,
    http: &reqwest::Client,
    repo: &str,
    data: &[u8],
    chunk: usize,
) -> String {
    let response = http
        .post(server.url(&format!("/v2/{repo}/blobs/uploads/")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let mut location = header(&response, "location");
    let mut offset = 0;
    for piece in data.chunks(chunk) {
        let response = http
            .patch(server.url(&location))
            .admin()
            .header("content-type", "application/octet-stream")
            .header(
                "content-range",
                format!("{offset}-{}", offset + piece.len() - 1),
            )
            .body(piece.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        offset += piece.len();
        assert_eq!(header(&response, "range"), format!("0-{}", offset - 1));
        location = header(&response, "location");
    }
    let digest = sha256(data);
    let separator = if location.contains('?') { '&' } else { '?' };
    let response = http
        .put(server.url(&format!("{location}{separator}digest={digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    digest
}

async fn get_blob(
    server: &TestServer,
    http: &reqwest::Client,
    repo: &str,
    digest: &str,
    range: Option<&str>,
) -> reqwest::Response {
    let mut request = http
        .get(server.url(&format!("/v2/{repo}/blobs/{digest}")))
        .admin();
    if let Some(range) = range {
        request = request.header("range", range);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn blobs_larger_than_a_part_push_and_pull_back_whole_and_by_range() {
    if !s3_available("storage::s3::blobs_larger_than_a_part_push_and_pull_back_whole_and_by_range")
    {
        return;
    }
    let server = s3_server(false).await;
    assert_eq!(server.state.blobs.backend(), "s3");
    let http = client();
    // 20 MiB + 3 bytes: two full 8 MiB parts and a short last one.
    let monolithic = crate::support::pseudo_random(20 * MIB + 3, 1);
    let digest = upload_blob(&server, &http, "library/big", &monolithic).await;
    let parsed: berth::oci::Digest = digest.parse().unwrap();
    assert_eq!(
        server.state.blobs.size(&parsed).await.unwrap(),
        Some(monolithic.len() as u64),
        "the object is in the bucket"
    );
    let response = get_blob(&server, &http, "library/big", &digest, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-length"),
        monolithic.len().to_string()
    );
    assert_eq!(header(&response, "docker-content-digest"), digest);
    let body = response.bytes().await.unwrap();
    assert_eq!(body.len(), monolithic.len());
    assert_eq!(sha256(&body), digest);

    // A range across the first part boundary, and a suffix range.
    let boundary = 8 * MIB;
    let response = get_blob(
        &server,
        &http,
        "library/big",
        &digest,
        Some(&format!("bytes={}-{}", boundary - 10, boundary + 9)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&response, "content-range"),
        format!(
            "bytes {}-{}/{}",
            boundary - 10,
            boundary + 9,
            monolithic.len()
        )
    );
    assert_eq!(
        &response.bytes().await.unwrap()[..],
        &monolithic[boundary - 10..boundary + 10]
    );
    let response = get_blob(&server, &http, "library/big", &digest, Some("bytes=-5")).await;
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        &response.bytes().await.unwrap()[..],
        &monolithic[monolithic.len() - 5..]
    );

    // HEAD is answered by Berth.
    let response = http
        .head(server.url(&format!("/v2/library/big/blobs/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-length"),
        monolithic.len().to_string()
    );

    // A chunked push (PATCHes of 5 MiB, not aligned with the parts) and a small blob (a single PUT).
    let chunked = crate::support::pseudo_random(17 * MIB + 11, 2);
    let chunked_digest = push_chunked(&server, &http, "library/big", &chunked, 5 * MIB).await;
    let response = get_blob(&server, &http, "library/big", &chunked_digest, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.bytes().await.unwrap();
    assert_eq!(body.len(), chunked.len());
    assert_eq!(sha256(&body), chunked_digest);
    let small = b"a small blob, one PUT".to_vec();
    let small_digest = upload_blob(&server, &http, "library/big", &small).await;
    let response = get_blob(&server, &http, "library/big", &small_digest, None).await;
    assert_eq!(&response.bytes().await.unwrap()[..], &small[..]);

    // The store answers the health check.
    let health: serde_json::Value = http
        .get(server.url("/api/v2.0/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "healthy", "{health}");
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

#[tokio::test]
async fn downloads_redirect_to_presigned_urls_only_after_authorization() {
    if !s3_available("storage::s3::downloads_redirect_to_presigned_urls_only_after_authorization") {
        return;
    }
    let server = s3_server(true).await;
    server.create_project("private", false).await;
    let http = client();
    let data = crate::support::pseudo_random(9 * MIB + 1, 3);
    let digest = upload_blob(&server, &http, "private/app", &data).await;

    let response = get_blob(&server, &http, "private/app", &digest, None).await;
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(header(&response, "docker-content-digest"), digest);
    let location = header(&response, "location");
    assert!(location.contains("X-Amz-Signature="), "{location}");
    assert!(location.contains("X-Amz-Expires=1200"), "{location}");
    // The presigned URL needs no credentials: the store answers it, whole or by range.
    let response = client().get(&location).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.bytes().await.unwrap();
    assert_eq!(body.len(), data.len());
    assert_eq!(sha256(&body), digest);
    let response = client()
        .get(&location)
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(&response.bytes().await.unwrap()[..], &data[100..200]);
    // A URL that was not signed for this object is refused by the store.
    let tampered = location.replacen("/data?", "/datb?", 1);
    assert_ne!(tampered, location);
    let response = client().get(&tampered).send().await.unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());

    // HEAD stays with Berth.
    let response = http
        .head(server.url(&format!("/v2/private/app/blobs/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-length"), data.len().to_string());

    // An anonymous caller of the private project gets a 401 challenge, never a URL.
    let response = client()
        .get(server.url(&format!("/v2/private/app/blobs/{digest}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get("location").is_none());
    assert!(response.headers().get("www-authenticate").is_some());
    // A blob that is not in the repository is unknown there, not redirected.
    let other = upload_blob(&server, &http, "private/other", b"only in other").await;
    let response = get_blob(&server, &http, "private/app", &other, None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn garbage_collection_deletes_from_the_bucket_and_finds_orphans_under_the_prefix() {
    if !s3_available(
        "storage::s3::garbage_collection_deletes_from_the_bucket_and_finds_orphans_under_the_prefix",
    ) {
        return;
    }
    let server = s3_server(false).await;
    let http = client();
    let base = server.url("");
    let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
    let layer = crate::support::pseudo_random(9 * MIB, 4);
    let config_digest = upload_blob(&server, &http, "library/app", &config).await;
    let layer_digest = upload_blob(&server, &http, "library/app", &layer).await;
    let manifest = image_manifest(
        (&config_digest, config.len()),
        &[(&layer_digest, layer.len())],
        json!({}),
    );
    let manifest_digest =
        put_manifest(&server, &http, "library/app", "v1", OCI_MANIFEST, &manifest).await;
    let kept_config = br#"{"architecture":"arm64","os":"linux"}"#.to_vec();
    let kept = upload_blob(&server, &http, "library/app", &kept_config).await;
    let kept_manifest = image_manifest((&kept, kept_config.len()), &[], json!({}));
    put_manifest(
        &server,
        &http,
        "library/app",
        "v2",
        OCI_MANIFEST,
        &kept_manifest,
    )
    .await;
    // A file with no row, as a crash between the import and the commit leaves it.
    let orphan_bytes = b"left by a crash";
    let orphan = sha256(orphan_bytes);
    let staged = server.dir.path().join("orphan");
    std::fs::write(&staged, orphan_bytes).unwrap();
    server
        .state
        .blobs
        .import(&staged, &orphan.parse().unwrap())
        .await
        .unwrap();

    let response = http
        .delete(server.url(&format!(
            "/api/v2.0/projects/library/repositories/app/artifacts/{manifest_digest}"
        )))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let deleted = deletions(&collect(&http, &base, json!({})).await);
    let size = |d: &str| {
        let blobs = server.state.blobs.clone();
        let digest: berth::oci::Digest = d.parse().unwrap();
        async move { blobs.size(&digest).await.unwrap() }
    };
    assert!(
        deleted.contains(&(
            "blob".to_owned(),
            format!("{layer_digest} ({} bytes)", layer.len())
        )),
        "{deleted:?}"
    );
    assert!(
        deleted.contains(&("orphan file".to_owned(), format!("{orphan} (15 bytes)"))),
        "{deleted:?}"
    );
    for gone in [&layer_digest, &config_digest, &orphan] {
        assert_eq!(size(gone).await, None, "{gone} is deleted from the bucket");
    }
    assert_eq!(size(&kept).await, Some(kept_config.len() as u64));
    // What is left in the bucket is the kept config, at its upload's object.
    let left = objects(&server).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with("uploads/"), "{left:?}");
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

/// Two blob stores on the same bucket and prefix: two nodes.
/// The keys of every object under `server`'s prefix.
async fn objects(server: &TestServer) -> Vec<String> {
    let listed: Vec<(String, u64)> =
        futures_util::TryStreamExt::try_collect(server.state.blobs.list_objects())
            .await
            .unwrap();
    listed.into_iter().map(|(key, _)| key).collect()
}

fn two_nodes() -> (berth::storage::BlobStore, berth::storage::BlobStore) {
    let mut config = berth::config::Config::default();
    assert!(use_test_s3(&mut config));
    let settings = config.storage.validate().unwrap().unwrap();
    (
        berth::storage::BlobStore::s3(&settings).unwrap(),
        berth::storage::BlobStore::s3(&settings).unwrap(),
    )
}

fn chunks(
    data: &[u8],
    size: usize,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, String>> + Unpin {
    let frames: Vec<_> = data
        .chunks(size)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    futures_util::stream::iter(frames)
}

/// The state as the database would keep it: saved and read back.
fn saved(state: &berth::storage::UploadState) -> berth::storage::UploadState {
    serde_json::from_slice(&serde_json::to_vec(state).unwrap()).unwrap()
}

async fn read_object(store: &berth::storage::BlobStore, key: &object_store::path::Path) -> Vec<u8> {
    let body = store.read_key(key, None).await.unwrap();
    axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap()
        .to_vec()
}

#[tokio::test]
async fn native_uploads_continue_on_another_node_from_the_saved_state() {
    if !s3_available("storage::s3::native_uploads_continue_on_another_node_from_the_saved_state") {
        return;
    }
    let (store, other) = two_nodes();
    let (a, b) = (store.s3_uploads().unwrap(), other.s3_uploads().unwrap());
    let data = crate::support::pseudo_random(21 * MIB + 5, 5);
    // Chunks under 5 MiB (tails only), then one that fills parts, alternating nodes, each state saved and
    // read back in between; SeaweedFS refuses a middle part under 5 MiB, so a wrong split would fail here.
    let mut state = a.start("u1");
    let mut offset = 0;
    for (i, len) in [3 * MIB, 3 * MIB, 7 * MIB, 1, 4 * MIB, 4 * MIB + 4]
        .into_iter()
        .enumerate()
    {
        let node = if i % 2 == 0 { &a } else { &b };
        let appended = node
            .append(
                &saved(&state),
                chunks(&data[offset..offset + len], 64 * 1024),
                &mut (),
                false,
            )
            .await
            .unwrap();
        offset += len;
        assert_eq!(appended.state.offset, offset as u64);
        node.remove(&appended.stale).await;
        for key in &appended.stale {
            let gone = store.read_key(key, None).await.err().map(|e| e.kind());
            assert_eq!(gone, Some(std::io::ErrorKind::NotFound), "{key} is removed");
        }
        state = appended.state;
    }
    assert_eq!(offset, data.len());
    assert_eq!(state.parts.len(), 2, "{state:?}");
    assert_eq!(state.tail_len, (data.len() - 16 * MIB) as u64);
    // A chunk whose body fails part-way changes nothing the saved state refers to.
    let failing = futures_util::stream::iter(vec![
        Ok(bytes::Bytes::from(vec![7u8; 9 * MIB])),
        Err("connection reset".to_owned()),
    ]);
    assert!(
        b.append(&saved(&state), failing, &mut (), false)
            .await
            .is_err()
    );
    let completed = b.complete(&saved(&state)).await.unwrap();
    assert_eq!(completed.size, data.len() as u64);
    assert_eq!(
        format!("sha256:{}", hex::encode(completed.sha256)),
        sha256(&data)
    );
    let stored = read_object(&store, &completed.key).await;
    assert_eq!(stored.len(), data.len());
    assert_eq!(sha256(&stored), sha256(&data));

    // An upload that never fills a part is completed by a copy of its tail; an empty one is an empty object.
    let small = a.start("u2");
    let appended = a
        .append(&small, chunks(b"small blob", 4), &mut (), false)
        .await
        .unwrap();
    let completed = b.complete(&saved(&appended.state)).await.unwrap();
    assert_eq!(read_object(&store, &completed.key).await, b"small blob");
    let empty = b.complete(&a.start("u3")).await.unwrap();
    assert_eq!(format!("sha256:{}", hex::encode(empty.sha256)), sha256(b""));
    // A last chunk leaves no tail: what does not fill a part is the last part, or the object itself.
    let appended = a
        .append(
            &a.start("u5"),
            chunks(&data[..9 * MIB + 3], MIB),
            &mut (),
            true,
        )
        .await
        .unwrap();
    assert_eq!(
        (appended.state.parts.len(), appended.state.tail_len),
        (2, 0)
    );
    let completed = b.complete(&saved(&appended.state)).await.unwrap();
    assert_eq!(
        sha256(&read_object(&store, &completed.key).await),
        sha256(&data[..9 * MIB + 3])
    );
    // A request of several parts sends them at once, and the completion still names them in order.
    let big = crate::support::pseudo_random(5 * 8 * MIB + 3, 9);
    let appended = a
        .append(&a.start("u7"), chunks(&big, 256 * 1024), &mut (), true)
        .await
        .unwrap();
    assert_eq!(
        (appended.state.parts.len(), appended.state.tail_len),
        (6, 0)
    );
    let completed = b.complete(&saved(&appended.state)).await.unwrap();
    assert_eq!(
        sha256(&read_object(&store, &completed.key).await),
        sha256(&big)
    );
    let appended = a
        .append(&a.start("u6"), chunks(b"one request", 4), &mut (), true)
        .await
        .unwrap();
    assert_eq!(appended.state.tail_len, 0);
    assert!(appended.state.multipart_id.is_none());
    let completed = b.complete(&saved(&appended.state)).await.unwrap();
    assert_eq!(read_object(&store, &completed.key).await, b"one request");
    // A cancelled upload leaves nothing.
    let cancelled = a
        .append(
            &a.start("u4"),
            chunks(&data[..9 * MIB], MIB),
            &mut (),
            false,
        )
        .await
        .unwrap()
        .state;
    a.abort(&cancelled, false).await.unwrap();
    assert!(
        b.complete(&cancelled).await.is_err(),
        "the multipart upload is gone"
    );
}

#[tokio::test]
async fn concurrent_pushes_of_one_blob_and_a_refused_push_leave_one_object_and_none() {
    if !s3_available(
        "storage::s3::concurrent_pushes_of_one_blob_and_a_refused_push_leave_one_object_and_none",
    ) {
        return;
    }
    let server = s3_server(false).await;
    let http = client();
    // Four pushes of the same 10 MiB blob at once (each prepares its own multipart upload; one completes).
    let data = crate::support::pseudo_random(10 * MIB, 6);
    let pushes = (0..4).map(|i| {
        let (server, http, data) = (&server, &http, &data);
        async move {
            if i % 2 == 0 {
                upload_blob(server, http, "library/same", data).await
            } else {
                push_chunked(server, http, "library/same", data, 6 * MIB).await
            }
        }
    });
    let digests = futures_util::future::join_all(pushes).await;
    assert!(digests.iter().all(|d| *d == sha256(&data)));
    let response = get_blob(&server, &http, "library/same", &digests[0], None).await;
    assert_eq!(sha256(&response.bytes().await.unwrap()), digests[0]);
    // One object is left in the bucket: the blob. The other uploads' parts and tails are gone.
    let left = objects(&server).await;
    assert_eq!(left.len(), 1, "{left:?}");

    // A blob past the project's quota is refused, and nothing of it becomes visible in the bucket.
    let response = http
        .post(server.url("/api/v2.0/projects"))
        .admin()
        .json(&json!({"project_name": "small", "storage_limit": 5 * MIB}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let big = crate::support::pseudo_random(9 * MIB, 7);
    let response = http
        .post(server.url(&format!(
            "/v2/small/app/blobs/uploads/?digest={}",
            sha256(&big)
        )))
        .admin()
        .header("content-type", "application/octet-stream")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let parsed: berth::oci::Digest = sha256(&big).parse().unwrap();
    assert_eq!(server.state.blobs.size(&parsed).await.unwrap(), None);
    assert_eq!(
        objects(&server).await.len(),
        1,
        "the refused upload left nothing"
    );
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}

#[tokio::test]
async fn the_berth_binary_runs_on_s3_from_its_environment_and_finds_its_blobs_after_a_restart() {
    if !s3_available(
        "storage::s3::the_berth_binary_runs_on_s3_from_its_environment_and_finds_its_blobs_after_a_restart",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let env = crate::support::s3_env(&data_dir).unwrap();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let data = crate::support::pseudo_random(9 * MIB + 7, 8);
    let digest = sha256(&data);
    let http = client();
    let pull = |server: &crate::support::BinaryServer| {
        let request = http
            .get(server.url(&format!("/v2/library/app/blobs/{digest}")))
            .admin();
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            sha256(&response.bytes().await.unwrap())
        }
    };
    let mut server = crate::support::BinaryServer::start_with_env(&data_dir, &env);
    let response = http
        .post(server.url(&format!("/v2/library/app/blobs/uploads/?digest={digest}")))
        .admin()
        .header("content-type", "application/octet-stream")
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(pull(&server).await, digest);
    assert!(server.signal_and_wait("TERM").success());
    assert!(
        !data_dir.join("storage/blobs").exists(),
        "no blob is kept on the local disk"
    );
    let server = crate::support::BinaryServer::start_with_env(&data_dir, &env);
    assert_eq!(pull(&server).await, digest);
}

/// A SeaweedFS of this test's own (the shared one serves other tests), restartable on its data and port.
struct OwnS3 {
    state: tempfile::TempDir,
    endpoint: String,
}

impl OwnS3 {
    fn script() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/s3-test-server.sh")
    }

    /// Starts it (on `port` when given) and returns its endpoint.
    fn up(state: &std::path::Path, port: Option<u16>) -> String {
        let mut command = std::process::Command::new(Self::script());
        command
            .arg("up")
            .env("BERTH_TEST_S3_STATE", state)
            // `up` remembers its state directory in $TMPDIR; keep the suite's server's pointer intact.
            .env("TMPDIR", state);
        if let Some(port) = port {
            command.env("BERTH_TEST_S3_PORT", port.to_string());
        }
        let out = command.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("export BERTH_TEST_S3_ENDPOINT="))
            .unwrap()
            .to_owned()
    }

    fn start() -> OwnS3 {
        let state = tempfile::tempdir().unwrap();
        let endpoint = Self::up(state.path(), None);
        OwnS3 { state, endpoint }
    }

    fn kill(&self) {
        let pid = std::fs::read_to_string(self.state.path().join("weed.pid")).unwrap();
        let status = std::process::Command::new("kill")
            .args(["-KILL", pid.trim()])
            .status()
            .unwrap();
        assert!(status.success());
        let port: u16 = self.endpoint.rsplit(':').next().unwrap().parse().unwrap();
        // Until its ports are free again.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            assert!(std::time::Instant::now() < deadline, "weed did not die");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    fn restart(&self) {
        let port = self.endpoint.rsplit(':').next().unwrap().parse().unwrap();
        assert_eq!(Self::up(self.state.path(), Some(port)), self.endpoint);
    }
}

impl Drop for OwnS3 {
    fn drop(&mut self) {
        let _ = std::process::Command::new(Self::script())
            .arg("down")
            .env("BERTH_TEST_S3_STATE", self.state.path())
            .env("TMPDIR", self.state.path())
            .status();
    }
}

/// The S3 server killed and restarted in the middle of a push: the chunk in flight when it died either goes
/// through (the store client retries) or fails and is sent again from the offset the upload reports; the
/// upload then finishes, and the blob acknowledged before the crash and the one pushed across it both pull
/// back whole.
#[tokio::test]
async fn a_push_across_an_s3_restart_finishes_and_loses_nothing() {
    if !s3_available("storage::s3::a_push_across_an_s3_restart_finishes_and_loses_nothing") {
        return;
    }
    let s3 = OwnS3::start();
    let endpoint = s3.endpoint.clone();
    let server = TestServer::start_with(|c| {
        assert!(use_test_s3(c));
        c.storage.s3.endpoint = Some(endpoint);
    })
    .await;
    let http = client();
    let before = crate::support::pseudo_random(6 * MIB, 31);
    let before_digest = push_chunked(&server, &http, "library/app", &before, 4 * MIB).await;

    let data = crate::support::pseudo_random(25 * MIB + 9, 32);
    let response = http
        .post(server.url("/v2/library/app/blobs/uploads/"))
        .admin()
        .send()
        .await
        .unwrap();
    let location = header(&response, "location");
    let response = http
        .patch(server.url(&location))
        .admin()
        .header("content-range", format!("0-{}", 9 * MIB - 1))
        .body(data[..9 * MIB].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    // The next chunk streams a part's worth, then the store dies and comes back while the rest is on its way.
    let (body, resume) = crate::support::held_body(&data[9 * MIB..18 * MIB], &data[18 * MIB..]);
    let chunk = tokio::spawn({
        let (http, url) = (http.clone(), server.url(&location));
        async move {
            http.patch(url)
                .admin()
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    s3.kill();
    // Meanwhile reads fail cleanly, with an error rather than a hang or a wrong body.
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(90),
        get_blob(&server, &http, "library/app", &before_digest, None),
    )
    .await
    .expect("a read while the store is down answers");
    assert!(response.status().is_server_error(), "{}", response.status());
    s3.restart();
    let _ = resume.send(());
    let status = chunk.await.unwrap();
    // Whatever the chunk's fate, the upload reports where it stands and continues from there.
    let response = http
        .get(server.url(&location))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let offset: usize = header(&response, "range")
        .rsplit('-')
        .next()
        .unwrap()
        .parse::<usize>()
        .unwrap()
        + 1;
    if status == StatusCode::ACCEPTED {
        assert_eq!(offset, data.len());
    } else {
        assert!(status.is_server_error(), "{status}");
        assert_eq!(
            offset,
            9 * MIB,
            "a failed chunk leaves the last saved offset"
        );
        let response = http
            .patch(server.url(&location))
            .admin()
            .header("content-range", format!("{offset}-{}", data.len() - 1))
            .body(data[offset..].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let digest = sha256(&data);
    let response = http
        .put(server.url(&format!("{location}?digest={digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    for (digest, len) in [(&before_digest, before.len()), (&digest, data.len())] {
        let response = get_blob(&server, &http, "library/app", digest, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.bytes().await.unwrap();
        assert_eq!((body.len(), sha256(&body)), (len, digest.clone()));
    }
    server.assert_quota_ledger_agrees().await;
    server.stop().await;
}
