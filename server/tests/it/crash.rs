//! Crash safety: SIGKILL the real `berth` binary during pushes, restart it on the same data directory, and
//! check that acknowledged content survived intact, unfinished content is invisible, every listed tag
//! resolves to a manifest whose blobs are all present, and the interrupted push can be redone.

use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clients::{
    ClientEnv, admin_creds, assert_layout_has_image, skopeo_copy, skopeo_copy_cmd, skopeo_raw,
};
use crate::images::{
    HttpResponse, Image, Layout, MultiArch, basic_auth, http, http_begin, run, seeded_bytes,
    sha256_digest,
};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, BinaryServer};

const MIB: usize = 1024 * 1024;

const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

fn admin() -> String {
    basic_auth(ADMIN_USER, ADMIN_PASSWORD)
}

/// The path part of a `Location` header (which may be absolute or relative).
fn location_path(response: &HttpResponse) -> String {
    let location = response
        .header("location")
        .unwrap_or_else(|| panic!("no Location in {response:?}"));
    match location
        .strip_prefix("http://")
        .or_else(|| location.strip_prefix("https://"))
    {
        Some(rest) => rest
            .find('/')
            .map_or("/".to_owned(), |i| rest[i..].to_owned()),
        None => location.to_owned(),
    }
}

/// `path` with `key=value` appended to its query.
fn with_query(path: &str, key: &str, value: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{key}={value}")
}

/// The exclusive end offset in a `Range: 0-<last>` header.
fn range_end(response: &HttpResponse) -> usize {
    let range = response
        .header("range")
        .unwrap_or_else(|| panic!("no Range in {response:?}"));
    let last = range
        .rsplit('-')
        .next()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("bad Range {range:?}"));
    last + 1
}

/// PATCHes `data` (which starts at `offset` of the blob) to upload `location`; returns the response.
fn patch_chunk(host: &str, location: &str, offset: usize, data: &[u8]) -> HttpResponse {
    let range = format!("{offset}-{}", offset + data.len() - 1);
    http(
        host,
        "PATCH",
        location,
        &[
            ("Authorization", &admin()),
            ("Content-Type", "application/octet-stream"),
            ("Content-Range", &range),
        ],
        data,
    )
}

/// HEAD of blob `digest` in `repository`: asserts it is present with the right size and digest.
fn assert_blob_present(host: &str, repository: &str, digest: &str, size: usize) {
    let path = format!("/v2/{repository}/blobs/{digest}");
    let head = http(host, "HEAD", &path, &[("Authorization", &admin())], &[]);
    assert_eq!(head.status, 200, "HEAD {path}: {head:?}");
    assert_eq!(
        head.header("content-length"),
        Some(size.to_string().as_str()),
        "HEAD {path}"
    );
    assert_eq!(
        head.header("docker-content-digest"),
        Some(digest),
        "HEAD {path}"
    );
}

/// GETs blob `digest` and checks its content hashes to `digest`.
fn assert_blob_content(host: &str, repository: &str, digest: &str, size: usize) {
    let path = format!("/v2/{repository}/blobs/{digest}");
    let get = http(host, "GET", &path, &[("Authorization", &admin())], &[]);
    assert_eq!(get.status, 200, "GET {path}: status {}", get.status);
    assert_eq!(get.body.len(), size, "GET {path}: length");
    assert_eq!(sha256_digest(&get.body), digest, "GET {path}: content");
}

/// Resolves `reference` in `repository` and checks the whole tree below it: the manifest's digest, each
/// child manifest of an index, and every referenced blob (HEAD → 200 with the descriptor's size).
/// Returns the manifest digest.
fn check_manifest_tree(host: &str, repository: &str, reference: &str) -> String {
    let path = format!("/v2/{repository}/manifests/{reference}");
    let get = http(
        host,
        "GET",
        &path,
        &[("Authorization", &admin()), ("Accept", MANIFEST_ACCEPT)],
        &[],
    );
    assert_eq!(
        get.status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&get.body)
    );
    let digest = sha256_digest(&get.body);
    assert_eq!(
        get.header("docker-content-digest"),
        Some(digest.as_str()),
        "GET {path}"
    );
    let manifest = get.json();
    if let Some(children) = manifest["manifests"].as_array() {
        for child in children {
            let child_digest = child["digest"].as_str().unwrap();
            assert_eq!(
                check_manifest_tree(host, repository, child_digest),
                child_digest
            );
        }
    } else {
        let blobs = std::iter::once(&manifest["config"])
            .chain(manifest["layers"].as_array().into_iter().flatten());
        for blob in blobs {
            let size = usize::try_from(blob["size"].as_u64().unwrap()).unwrap();
            assert_blob_present(host, repository, blob["digest"].as_str().unwrap(), size);
        }
    }
    digest
}

/// Every repository in the catalog, every tag in it: each resolves to a complete manifest tree.
/// Returns `(repository, tag, digest)` for all of them.
fn check_all_tags(host: &str) -> Vec<(String, String, String)> {
    let catalog = http(
        host,
        "GET",
        "/v2/_catalog?n=10000",
        &[("Authorization", &admin())],
        &[],
    );
    assert_eq!(catalog.status, 200, "catalog: {catalog:?}");
    let mut found = Vec::new();
    for repository in catalog.json()["repositories"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let repository = repository.as_str().unwrap();
        let path = format!("/v2/{repository}/tags/list");
        let tags = http(host, "GET", &path, &[("Authorization", &admin())], &[]);
        assert_eq!(tags.status, 200, "GET {path}: {tags:?}");
        for tag in tags.json()["tags"].as_array().into_iter().flatten() {
            let tag = tag.as_str().unwrap();
            let digest = check_manifest_tree(host, repository, tag);
            found.push((repository.to_owned(), tag.to_owned(), digest));
        }
    }
    found
}

/// Checks `image` is fully served under `repository:tag`: manifest bytes, every blob's content, and a
/// skopeo pull into a fresh layout.
fn assert_image_intact(
    host: &str,
    env: &ClientEnv,
    repository: &str,
    tag: &str,
    image: &Image,
    out: &Path,
) {
    let reference = format!("docker://{host}/{repository}:{tag}");
    assert_eq!(
        skopeo_raw(env, &reference, Some(&admin_creds())),
        image.manifest.bytes
    );
    assert_eq!(
        check_manifest_tree(host, repository, tag),
        image.manifest.digest
    );
    for blob in image.referenced_blobs() {
        assert_blob_content(host, repository, &blob.digest, blob.size());
    }
    skopeo_copy(
        env,
        &reference,
        &format!("oci:{}:{tag}", out.display()),
        Some(&admin_creds()),
        false,
    );
    assert_layout_has_image(out, tag, image);
}

#[test]
fn kill_during_blob_upload_then_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut server = BinaryServer::start(&data);
    let host = server.host();
    let env = ClientEnv::new();
    let creds = admin_creds();

    // An image pushed, and acknowledged, before the crash.
    let image = Image::build(40, "amd64", &[300_000, 700_000, 20_000]);
    let mut src = Layout::create(&tmp.path().join("src"));
    src.add_image("v1", &image);
    skopeo_copy(
        &env,
        &src.reference("v1"),
        &format!("docker://{host}/library/app:1"),
        Some(&creds),
        false,
    );

    // A 64 MiB blob, uploaded in chunks: the first is acknowledged, the second is cut off by SIGKILL.
    let big = seeded_bytes(4242, 64 * MIB);
    let big_digest = sha256_digest(&big);
    let start = http(
        &host,
        "POST",
        "/v2/library/big/blobs/uploads/",
        &[("Authorization", &admin())],
        &[],
    );
    assert_eq!(start.status, 202, "POST upload: {start:?}");
    let location = location_path(&start);
    let first = patch_chunk(&host, &location, 0, &big[..16 * MIB]);
    assert_eq!(first.status, 202, "first PATCH: {first:?}");
    assert_eq!(range_end(&first), 16 * MIB);
    let location = location_path(&first);

    let range = format!("{}-{}", 16 * MIB, 64 * MIB - 1);
    let stream = http_begin(
        &host,
        "PATCH",
        &location,
        &[
            ("Authorization", &admin()),
            ("Content-Type", "application/octet-stream"),
            ("Content-Range", &range),
        ],
        Some(48 * MIB),
    );
    // Write ~16 MiB (an odd amount) of the 48 MiB chunk; writes block until the server reads, so most of it has arrived.
    let sent_before_kill = 32 * MIB + 12_345;
    for piece in big[16 * MIB..sent_before_kill].chunks(256 * 1024) {
        (&stream).write_all(piece).unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    server.signal_and_wait("KILL");
    let _ = (&stream).write_all(&big[sent_before_kill..sent_before_kill + MIB]);
    drop(stream);

    let server = BinaryServer::start(&data);
    let host = server.host();

    // The interrupted blob is not visible, not even to a cross-repository mount.
    let path = format!("/v2/library/big/blobs/{big_digest}");
    let head = http(&host, "HEAD", &path, &[("Authorization", &admin())], &[]);
    assert_eq!(head.status, 404, "HEAD of the interrupted blob: {head:?}");
    let get = http(&host, "GET", &path, &[("Authorization", &admin())], &[]);
    assert_eq!(
        get.status, 404,
        "GET of the interrupted blob: status {}",
        get.status
    );
    let mount = http(
        &host,
        "POST",
        &format!("/v2/library/other/blobs/uploads/?mount={big_digest}&from=library/big"),
        &[("Authorization", &admin())],
        &[],
    );
    assert_eq!(
        mount.status, 202,
        "mount of the interrupted blob must not succeed: {mount:?}"
    );

    // The acknowledged image is intact.
    assert_image_intact(
        &host,
        &env,
        "library/app",
        "1",
        &image,
        &tmp.path().join("out"),
    );
    let listed = check_all_tags(&host);
    assert_eq!(
        listed,
        [(
            "library/app".to_owned(),
            "1".to_owned(),
            image.manifest.digest.clone()
        )]
    );

    // Resume the interrupted upload where the server says it stands (or start over if it forgot it).
    let status = http(&host, "GET", &location, &[("Authorization", &admin())], &[]);
    let location = match status.status {
        204 => {
            let offset = range_end(&status);
            assert!(
                (16 * MIB..=sent_before_kill + MIB).contains(&offset),
                "upload offset after the crash is {offset}, outside what was sent"
            );
            eprintln!(
                "resuming the interrupted upload at offset {offset} (sent {sent_before_kill}+)"
            );
            let location = location_path(&status);
            // On PostgreSQL (where other nodes may share the upload) a chunk cut off by the kill holds the
            // upload until its lease runs out: 429 until then.
            let deadline = Instant::now() + berth::storage::UPLOAD_LEASE + Duration::from_secs(10);
            let rest = loop {
                let rest = patch_chunk(&host, &location, offset, &big[offset..]);
                if rest.status != 429 || Instant::now() > deadline {
                    break rest;
                }
                std::thread::sleep(Duration::from_secs(1));
            };
            assert_eq!(rest.status, 202, "resuming PATCH from {offset}: {rest:?}");
            assert_eq!(range_end(&rest), 64 * MIB);
            location_path(&rest)
        }
        404 => {
            eprintln!("the interrupted upload was forgotten; starting over");
            let start = http(
                &host,
                "POST",
                "/v2/library/big/blobs/uploads/",
                &[("Authorization", &admin())],
                &[],
            );
            assert_eq!(start.status, 202, "POST upload after restart: {start:?}");
            let rest = patch_chunk(&host, &location_path(&start), 0, &big);
            assert_eq!(rest.status, 202, "PATCH after restart: {rest:?}");
            location_path(&rest)
        }
        other => panic!("upload status after restart: {other} {status:?}"),
    };
    let put = http(
        &host,
        "PUT",
        &with_query(&location, "digest", &big_digest),
        &[("Authorization", &admin())],
        &[],
    );
    assert_eq!(
        put.status,
        201,
        "PUT finishing the resumed upload: {put:?} {}",
        String::from_utf8_lossy(&put.body)
    );
    assert_eq!(
        put.header("docker-content-digest"),
        Some(big_digest.as_str())
    );
    assert_blob_present(&host, "library/big", &big_digest, 64 * MIB);
    assert_blob_content(&host, "library/big", &big_digest, 64 * MIB);

    // A complete fresh upload in one request also works, and re-pushing the image is a no-op success.
    let mono = http(
        &host,
        "POST",
        &format!("/v2/library/big2/blobs/uploads/?digest={big_digest}"),
        &[
            ("Authorization", &admin()),
            ("Content-Type", "application/octet-stream"),
        ],
        &big,
    );
    assert_eq!(mono.status, 201, "monolithic upload: {mono:?}");
    assert_blob_present(&host, "library/big2", &big_digest, 64 * MIB);
    skopeo_copy(
        &env,
        &src.reference("v1"),
        &format!("docker://{host}/library/app:1"),
        Some(&creds),
        false,
    );
    assert_eq!(
        check_manifest_tree(&host, "library/app", "1"),
        image.manifest.digest
    );
}

/// One skopeo push in the loop.
struct Job {
    source: String,
    repository: String,
    tag: String,
    all: bool,
    digest: String,
}

#[test]
fn kill_during_push_loop_then_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut server = BinaryServer::start(&data);
    let env = Arc::new(ClientEnv::new());
    let creds = admin_creds();

    // Many small images (so the push is dominated by manifest and small-blob requests), and a few
    // multi-arch indexes, spread over several repositories.
    let mut src = Layout::create(&tmp.path().join("src"));
    let mut jobs = Vec::new();
    for i in 0..20u64 {
        let tag = format!("t{i}");
        let repository = format!("library/loop{}", i % 4);
        let (all, digest) = if i % 5 == 4 {
            let multi = MultiArch::build(100 + i, &[6_000, 1_500]);
            src.add_multi_arch(&tag, &multi);
            (true, multi.index.digest)
        } else {
            let image = Image::build(100 + i, "amd64", &[8_000, 2_000, 500]);
            src.add_image(&tag, &image);
            (false, image.manifest.digest)
        };
        jobs.push(Job {
            source: src.reference(&tag),
            repository,
            tag,
            all,
            digest,
        });
    }
    let jobs = Arc::new(jobs);

    // Several rounds: push the rest of the loop, SIGKILL the server after a few pushes (at a different
    // moment each round), restart, and check consistency before going on.
    let mut next = 0;
    let mut acknowledged_total = Vec::new();
    let mut interrupted_rounds = 0;
    for (round, delay_ms) in [40u64, 150, 300].into_iter().enumerate() {
        if next == jobs.len() {
            break;
        }
        let acknowledged = push_until_killed(&mut server, &env, &jobs, next, 3, delay_ms);
        eprintln!(
            "round {round}: {} of {} remaining pushes acknowledged before the kill",
            acknowledged.len(),
            jobs.len() - next
        );
        if next + acknowledged.len() < jobs.len() {
            interrupted_rounds += 1;
        }
        next += acknowledged.len();
        acknowledged_total.extend(acknowledged);
        server = BinaryServer::start(&data);
        let host = server.host();

        // Everything listed is complete and points where some push put it; every acknowledged push is
        // listed with its digest.
        let listed = check_all_tags(&host);
        for &i in &acknowledged_total {
            let job = &jobs[i];
            assert!(
                listed.contains(&(job.repository.clone(), job.tag.clone(), job.digest.clone())),
                "acknowledged push {}:{} ({}) is missing after restart {round}; listed: {listed:?}",
                job.repository,
                job.tag,
                job.digest
            );
        }
        for (repository, tag, digest) in &listed {
            let job = jobs
                .iter()
                .find(|j| &j.repository == repository && &j.tag == tag)
                .unwrap_or_else(|| panic!("unexpected tag {repository}:{tag}"));
            assert_eq!(
                digest, &job.digest,
                "{repository}:{tag} points at the wrong manifest"
            );
        }
    }
    assert!(
        interrupted_rounds > 0,
        "every kill came after the loop finished; the test exercised nothing"
    );
    let host = server.host();

    // The whole loop can be redone, and then everything is there and complete.
    for job in jobs.iter() {
        let dest = format!("docker://{host}/{}:{}", job.repository, job.tag);
        skopeo_copy(&env, &job.source, &dest, Some(&creds), job.all);
    }
    let listed = check_all_tags(&host);
    assert_eq!(
        listed.len(),
        jobs.len(),
        "tags after redoing the loop: {listed:?}"
    );
    for job in jobs.iter() {
        assert_eq!(
            check_manifest_tree(&host, &job.repository, &job.tag),
            job.digest
        );
    }
}

/// Pushes `jobs[from..]` in a background thread, SIGKILLs `server` once `after` pushes succeeded (plus
/// `delay_ms`), and returns the indexes of the pushes skopeo reported as successful.
fn push_until_killed(
    server: &mut BinaryServer,
    env: &Arc<ClientEnv>,
    jobs: &Arc<Vec<Job>>,
    from: usize,
    after: usize,
    delay_ms: u64,
) -> Vec<usize> {
    let acknowledged = Arc::new(Mutex::new(Vec::<usize>::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let pusher = {
        let (jobs, acknowledged, done, finished, env) = (
            Arc::clone(jobs),
            Arc::clone(&acknowledged),
            Arc::clone(&done),
            Arc::clone(&finished),
            Arc::clone(env),
        );
        let host = server.host();
        let creds = admin_creds();
        std::thread::spawn(move || {
            for (i, job) in jobs.iter().enumerate().skip(from) {
                let dest = format!("docker://{host}/{}:{}", job.repository, job.tag);
                let output = run(&mut skopeo_copy_cmd(
                    &env,
                    &job.source,
                    &dest,
                    Some(&creds),
                    job.all,
                ));
                if !output.status.success() {
                    break;
                }
                acknowledged.lock().unwrap().push(i);
                done.fetch_add(1, Ordering::SeqCst);
            }
            finished.store(true, Ordering::SeqCst);
        })
    };

    let deadline = Instant::now() + Duration::from_secs(120);
    while done.load(Ordering::SeqCst) < after && !finished.load(Ordering::SeqCst) {
        assert!(
            Instant::now() < deadline,
            "the push loop made no progress in 120 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(delay_ms));
    server.signal_and_wait("KILL");
    // skopeo fails fast once the server is gone; `timeout` bounds it regardless.
    let deadline = Instant::now() + Duration::from_secs(300);
    while !finished.load(Ordering::SeqCst) {
        assert!(
            Instant::now() < deadline,
            "skopeo did not give up after the server died"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    pusher.join().unwrap();
    acknowledged.lock().unwrap().clone()
}
