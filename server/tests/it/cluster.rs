//! Several nodes on one database: what they must agree on before serving.

use std::time::{Duration, Instant};

use berth::config::Config;
use berth::db::Backend;
use berth::secret::Secret;

use crate::api::As as _;
use crate::registry::push_image;
use crate::support::{ADMIN_PASSWORD, TestServer, client, database_url};

fn node(data_dir: &std::path::Path, secret_key: &str) -> Config {
    Config {
        data_dir: data_dir.to_owned(),
        database_url: Some(database_url(data_dir)),
        admin_password: Some(Secret::new(ADMIN_PASSWORD)),
        secret_key: Some(Secret::new(secret_key)),
        ..Config::default()
    }
}

/// Every node seals endpoint secrets with `secret_key`, so all must share it: a second node with the same key
/// starts beside the first, and one with another key refuses to start, saying why.
#[tokio::test]
async fn a_node_with_another_secret_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let key = "1f".repeat(32);
    let (first, _) = berth::serve::prepare(node(&data_dir, &key)).await.unwrap();
    let (second, _) = berth::serve::prepare(node(&data_dir, &key))
        .await
        .unwrap_or_else(|e| panic!("a node with the same key starts: {e:#}"));

    let other = "2e".repeat(32);
    let refused = berth::serve::prepare(node(&data_dir, &other))
        .await
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        refused.contains("every node must be given the same secret_key"),
        "{refused}"
    );
    first.db.close().await;
    second.db.close().await;
}

/// Without a configured key the first start generates one and keeps it in the database, so every later node
/// (and every restart) finds the same key; configuring a different key afterwards is refused.
#[tokio::test]
async fn a_generated_key_is_shared_and_a_different_configured_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut unset = node(&data_dir, "");
    unset.secret_key = None;
    let (first, _) = berth::serve::prepare(unset.clone()).await.unwrap();
    let (second, _) = berth::serve::prepare(unset).await.unwrap();
    let sealed = first.secrets.seal("upstream password").unwrap();
    assert_eq!(
        second.secrets.open(&sealed).unwrap().expose(),
        "upstream password"
    );

    let refused = berth::serve::prepare(node(&data_dir, &"3d".repeat(32)))
        .await
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(refused.contains("same secret_key"), "{refused}");
    first.db.close().await;
    second.db.close().await;
}

/// The digest node `server` answers for `repo:tag` (a HEAD, served from its read cache when it has it).
async fn tagged_digest(
    server: &TestServer,
    http: &reqwest::Client,
    repo: &str,
    tag: &str,
) -> String {
    let response = http
        .head(server.url(&format!("/v2/{repo}/manifests/{tag}")))
        .admin()
        .header(
            "accept",
            format!(
                "{}, {}",
                crate::registry::OCI_MANIFEST,
                crate::registry::OCI_INDEX
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        reqwest::StatusCode::OK,
        "HEAD {repo}:{tag}"
    );
    crate::registry::header(&response, "docker-content-digest")
}

/// Two nodes on one PostgreSQL database: a tag moved through one is read through the other at once, though
/// the other had the old digest cached (its cache lives 5 s; the move's notification clears it).
#[tokio::test]
async fn a_tag_moved_on_one_node_is_read_on_the_other_at_once() {
    let first = TestServer::start().await;
    if first.state.db.backend() != Backend::Postgres {
        eprintln!(
            "cluster: skipped, nodes share caches' invalidations only on PostgreSQL (BERTH_TEST_DATABASE=postgres)"
        );
        return;
    }
    let url = first.state.config.database_url.clone();
    let second = TestServer::start_with(|config| config.database_url = url).await;
    let http = client();
    let (_, old) = push_image(&first, &http, "library/app", "v1", "old").await;
    assert_eq!(
        tagged_digest(&second, &http, "library/app", "v1").await,
        old
    );

    let (_, new) = push_image(&first, &http, "library/app", "v1", "new").await;
    assert_ne!(old, new);
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut seen = tagged_digest(&second, &http, "library/app", "v1").await;
    while seen != new && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        seen = tagged_digest(&second, &http, "library/app", "v1").await;
    }
    assert_eq!(seen, new, "the other node still serves the old digest");
    second.stop().await;
    first.stop().await;
}

const MIB: usize = 1024 * 1024;

/// Whether PostgreSQL and an S3 server are there for a pair of nodes; says why not otherwise.
fn pair_possible(test: &str) -> bool {
    if crate::support::database_url_for(std::path::Path::new("/probe")).is_none() {
        eprintln!(
            "{test}: skipped, nodes share uploads only on PostgreSQL (BERTH_TEST_DATABASE=postgres)"
        );
        return false;
    }
    crate::support::s3_available(test)
}

/// The first of two nodes: PostgreSQL and the test S3 server under a fresh prefix.
async fn first_node() -> TestServer {
    TestServer::start_with(|config| {
        assert!(crate::support::use_test_s3(config));
    })
    .await
}

/// A second node beside `first`: the same database and bucket prefix, its own data directory.
async fn second_node(first: &TestServer) -> TestServer {
    let (url, storage) = (
        first.state.config.database_url.clone(),
        first.state.config.storage.clone(),
    );
    TestServer::start_with(|config| {
        config.database_url = url;
        config.storage = storage;
    })
    .await
}

/// Sends `data` as the chunk at `offset` of upload `location` through `server`.
async fn patch_at(
    server: &TestServer,
    http: &reqwest::Client,
    location: &str,
    offset: usize,
    data: &[u8],
) -> reqwest::Response {
    http.patch(server.url(location))
        .admin()
        .header("content-type", "application/octet-stream")
        .header(
            "content-range",
            format!("{offset}-{}", offset + data.len() - 1),
        )
        .body(data.to_vec())
        .send()
        .await
        .unwrap()
}

async fn get_blob(
    server: &TestServer,
    http: &reqwest::Client,
    repo: &str,
    digest: &str,
) -> Vec<u8> {
    let response = http
        .get(server.url(&format!("/v2/{repo}/blobs/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK, "GET {digest}");
    response.bytes().await.unwrap().to_vec()
}

/// A push whose requests alternate between two nodes (POST on one, PATCHes on both, PUT on the first) lands
/// whole, as does the same blob pushed through both at once; a chunk sent while another request on the other
/// node is still appending to the upload is refused with 429, not interleaved.
#[tokio::test]
async fn a_push_alternating_between_two_nodes_lands_whole() {
    if !pair_possible("cluster::a_push_alternating_between_two_nodes_lands_whole") {
        return;
    }
    let a = first_node().await;
    let b = second_node(&a).await;
    let http = client();
    let data = crate::support::pseudo_random(13 * MIB + 7, 11);
    let digest = crate::support::sha256(&data);

    let response = http
        .post(a.url("/v2/library/app/blobs/uploads/"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::ACCEPTED);
    let location = crate::registry::header(&response, "location");
    // Under a part, across a part boundary, up to the end but the last 7 bytes: B, A, B.
    let cuts = [0, 3 * MIB, 9 * MIB, 13 * MIB];
    for (i, window) in cuts.windows(2).enumerate() {
        let node = if i % 2 == 0 { &b } else { &a };
        let response = patch_at(
            node,
            &http,
            &location,
            window[0],
            &data[window[0]..window[1]],
        )
        .await;
        assert_eq!(
            response.status(),
            reqwest::StatusCode::ACCEPTED,
            "chunk {i}"
        );
        assert_eq!(
            crate::registry::header(&response, "range"),
            format!("0-{}", window[1] - 1)
        );
    }
    // A chunk that is still streaming into A holds the upload: B refuses one meanwhile.
    let (slow_body, release) =
        crate::support::held_body(&data[13 * MIB..13 * MIB + 3], &data[13 * MIB + 3..]);
    let slow = tokio::spawn({
        let (http, url) = (http.clone(), a.url(&location));
        async move {
            http.patch(url)
                .admin()
                .header("content-type", "application/octet-stream")
                .body(slow_body)
                .send()
                .await
                .unwrap()
        }
    });
    // (Its first bytes reach A at once, and A takes the upload's lease before reading them.)
    tokio::time::sleep(Duration::from_secs(1)).await;
    let refused = patch_at(&b, &http, &location, 13 * MIB, b"x").await;
    assert_eq!(refused.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
    let _ = release.send(());
    let response = slow.await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::ACCEPTED);
    assert_eq!(
        crate::registry::header(&response, "range"),
        format!("0-{}", data.len() - 1)
    );
    let response = http
        .put(a.url(&format!("{location}?digest={digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    for node in [&a, &b] {
        assert_eq!(
            crate::support::sha256(&get_blob(node, &http, "library/app", &digest).await),
            digest
        );
    }

    // The same blob through both nodes at once: both succeed, and the bucket keeps one copy.
    let twin = crate::support::pseudo_random(9 * MIB, 12);
    let twin_digest = crate::support::sha256(&twin);
    let (one, other) = tokio::join!(
        crate::registry::upload_blob(&a, &http, "library/twin", &twin),
        crate::registry::upload_blob(&b, &http, "library/twin", &twin),
    );
    assert_eq!(
        (one.as_str(), other.as_str()),
        (twin_digest.as_str(), twin_digest.as_str())
    );
    let stored = crate::support::stored(&a).await;
    assert_eq!(stored.blobs.len(), 2, "{stored:?}");
    assert!(stored.staged.is_empty(), "{stored:?}");

    // A manifest pushed through B over a config pushed through B and the alternating blob pulls back through A.
    let config = br#"{"architecture":"amd64","os":"linux"}"#;
    let config_digest = crate::registry::upload_blob(&b, &http, "library/app", config).await;
    let manifest = crate::registry::image_manifest(
        (&config_digest, config.len()),
        &[(&digest, data.len())],
        serde_json::json!({}),
    );
    let manifest_digest = crate::registry::put_manifest(
        &b,
        &http,
        "library/app",
        "v1",
        crate::registry::OCI_MANIFEST,
        &manifest,
    )
    .await;
    assert_eq!(
        tagged_digest(&a, &http, "library/app", "v1").await,
        manifest_digest
    );
    a.assert_quota_ledger_agrees().await;
    b.stop().await;
    a.stop().await;
}

/// A node killed with SIGKILL while a chunk streams into it leaves the upload at its last saved offset; the
/// other node takes it over once the dead node's lease runs out and finishes it, and the blob is whole.
#[tokio::test]
async fn an_upload_whose_node_is_killed_mid_chunk_is_finished_on_the_other() {
    if !pair_possible("cluster::an_upload_whose_node_is_killed_mid_chunk_is_finished_on_the_other")
    {
        return;
    }
    let survivor = first_node().await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("victim");
    std::fs::create_dir_all(&data_dir).unwrap();
    let database_url = survivor.state.config.database_url.clone().unwrap();
    let mut env: Vec<(String, String)> = crate::support::s3_env(&data_dir).unwrap();
    env.retain(|(key, _)| key != "BERTH_STORAGE__S3__PREFIX");
    env.push((
        "BERTH_STORAGE__S3__PREFIX".to_owned(),
        survivor.state.config.storage.s3.prefix.clone(),
    ));
    env.push(("BERTH_DATABASE_URL".to_owned(), database_url));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut victim = crate::support::BinaryServer::start_with_env(&data_dir, &env);

    let http = client();
    let data = crate::support::pseudo_random(20 * MIB + 3, 21);
    let digest = crate::support::sha256(&data);
    let response = http
        .post(victim.url("/v2/library/app/blobs/uploads/"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::ACCEPTED);
    let location = crate::registry::header(&response, "location");
    let response = http
        .patch(victim.url(&location))
        .admin()
        .header("content-range", format!("0-{}", 9 * MIB - 1))
        .body(data[..9 * MIB].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::ACCEPTED);
    // The next chunk sends 9 MiB (another whole part goes to S3, unsaved) and then stalls; the node dies.
    let (stalled, _never) = crate::support::held_body(&data[9 * MIB..18 * MIB], &[]);
    let request = tokio::spawn({
        let (http, url) = (http.clone(), victim.url(&location));
        async move { http.patch(url).admin().body(stalled).send().await }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    victim.signal_and_wait("KILL");
    assert!(
        request.await.unwrap().is_err(),
        "the connection died with the node"
    );

    let response = http
        .get(survivor.url(&location))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::NO_CONTENT);
    assert_eq!(
        crate::registry::header(&response, "range"),
        format!("0-{}", 9 * MIB - 1),
        "the last saved offset"
    );
    // Refused while the dead node's lease runs, then taken over.
    let deadline = Instant::now() + berth::storage::UPLOAD_LEASE + Duration::from_secs(10);
    let rest = &data[9 * MIB..];
    let mut refusals = 0;
    loop {
        let response = patch_at(&survivor, &http, &location, 9 * MIB, rest).await;
        if response.status() == reqwest::StatusCode::ACCEPTED {
            break;
        }
        assert_eq!(response.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
        refusals += 1;
        assert!(Instant::now() < deadline, "the upload was never taken over");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(
        refusals > 0,
        "the dead node's lease held the upload for a while"
    );
    let response = http
        .put(survivor.url(&format!("{location}?digest={digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    assert_eq!(
        crate::support::sha256(&get_blob(&survivor, &http, "library/app", &digest).await),
        digest
    );
    survivor.assert_quota_ledger_agrees().await;
    survivor.stop().await;
}

/// Password failures spread over two nodes count together: ten wrong passwords for one name from one address,
/// alternating between the nodes, lock that name there on both (each node alone saw five, half its lock).
#[tokio::test]
async fn sign_in_failures_spread_over_two_nodes_lock_the_name_on_both() {
    let quick = |config: &mut Config| {
        config.signin_throttle.delay_ms = 10;
        config.signin_throttle.max_delay_ms = 10;
    };
    let first = TestServer::start_with(quick).await;
    if first.state.db.backend() != Backend::Postgres {
        eprintln!(
            "cluster: skipped, nodes share sign-in counts only on PostgreSQL (BERTH_TEST_DATABASE=postgres)"
        );
        return;
    }
    let url = first.state.config.database_url.clone();
    let second = TestServer::start_with(|config| {
        quick(config);
        config.database_url = url;
    })
    .await;
    first.create_user("alice", "Alice12345", false).await;
    first.create_user("bob", "Bob123456", false).await;
    let http = client();
    let sign_in = |node: &TestServer, user: &str, password: &str| {
        http.get(node.url("/v2/"))
            .basic_auth(user, Some(password))
            .send()
    };
    assert_eq!(
        sign_in(&second, "alice", "Alice12345")
            .await
            .unwrap()
            .status(),
        reqwest::StatusCode::OK
    );
    for i in 0..10 {
        let node = if i % 2 == 0 { &first } else { &second };
        let response = sign_in(node, "alice", "wrong password").await.unwrap();
        assert_eq!(
            response.status(),
            reqwest::StatusCode::UNAUTHORIZED,
            "attempt {i}"
        );
    }
    for node in [&first, &second] {
        let response = sign_in(node, "alice", "Alice12345").await.unwrap();
        assert_eq!(
            response.status(),
            reqwest::StatusCode::UNAUTHORIZED,
            "locked on every node: even the right password"
        );
    }
    // Another name from the same address is not locked.
    assert_eq!(
        sign_in(&first, "bob", "Bob123456").await.unwrap().status(),
        reqwest::StatusCode::OK
    );
    second.stop().await;
    first.stop().await;
}

/// Schedules have no leader: every node may fire a due one, and a compare-and-set on its next run lets one
/// firing through. With a schedule firing every second on two nodes, killing one (SIGKILL) leaves the other
/// firing it and running the jobs, and no firing ran twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_keeps_firing_once_per_tick_after_a_node_is_killed() {
    let survivor = TestServer::start_with(|c| c.jobs.poll_ms = 100).await;
    if survivor.state.db.backend() != Backend::Postgres {
        eprintln!(
            "cluster: skipped, nodes share schedules only on PostgreSQL (BERTH_TEST_DATABASE=postgres)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("victim");
    std::fs::create_dir_all(&data).unwrap();
    let url = survivor.state.config.database_url.clone().unwrap();
    let mut victim = crate::support::BinaryServer::start_with_env(
        &data,
        &[
            ("BERTH_DATABASE_URL", url.as_str()),
            ("BERTH_JOBS__POLL_MS", "100"),
        ],
    );
    let http = client();
    let runs = || async {
        let response = http
            .get(survivor.url("/api/v2.0/system/purgeaudit?page_size=100"))
            .admin()
            .send()
            .await
            .unwrap();
        response.json::<Vec<serde_json::Value>>().await.unwrap()
    };
    // Set through the node that is killed next: the schedule is a row, not that node's.
    let response = http
        .put(victim.url("/api/v2.0/system/purgeaudit/schedule"))
        .admin()
        .json(&serde_json::json!({
            "schedule": {"type": "Custom", "cron": "* * * * * *"},
            "parameters": {"audit_retention_hour": 1, "include_operations": "pull", "dry_run": true}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let scheduled = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(30);
    while runs().await.len() < 3 {
        assert!(Instant::now() < deadline, "the schedule never fired");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    victim.signal_and_wait("KILL");
    let at_kill = runs().await.len();
    let deadline = Instant::now() + Duration::from_secs(30);
    while runs().await.len() < at_kill + 3 {
        assert!(
            Instant::now() < deadline,
            "the schedule stopped firing with the node"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let newest = runs().await[0].clone();
    let id = newest["id"].as_i64().unwrap();
    let run = crate::jobs::wait_for(&http, &survivor.url(""), id, &["Success", "Error"]).await;
    assert_eq!(run["job_status"], "Success", "{run}");
    let log = crate::jobs::job_log(&http, &survivor.url(""), id).await;
    assert!(log.contains(&survivor.state.jobs.node), "{log}");
    // One firing per tick, though two nodes were watching the schedule: at most one run per second.
    let fired = runs().await.len() as u64;
    let ticks = scheduled.elapsed().as_secs() + 2;
    assert!(
        fired <= ticks,
        "{fired} runs in {ticks} ticks: a tick fired twice"
    );
    survivor.stop().await;
}

/// The registry's workflows through a load balancer that sends each request to the next of two nodes, as one
/// without sticky sessions does (PostgreSQL + S3). Push: skopeo pushes an image (with a layer of more than a
/// part) and a multi-arch index; pull: it pulls them back whole. Content discovery: tags list, and a referrer
/// pushed through the pair is listed. Content management: a cross-repository mount, and a deleted manifest
/// and tag are gone from both nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_workflows_through_a_round_robin_pair() {
    use crate::clients::{ClientEnv, admin_creds, assert_layout_has_image, skopeo_copy};
    use crate::images::{Image, Layout, MultiArch};
    use crate::registry::{OCI_MANIFEST, header, image_manifest, put_manifest, upload_blob};
    use crate::support::sha256;

    if !pair_possible("cluster::registry_workflows_through_a_round_robin_pair") {
        return;
    }
    let mut a = first_node().await;
    let b = second_node(&a).await;
    let front = crate::support::RoundRobin::start(vec![a.addr, b.addr]).await;
    a.front = Some(front.addr);
    let http = client();

    // Push and pull with a real client.
    let tmp = tempfile::tempdir().unwrap();
    let image = Image::build(51, "amd64", &[300_000, 9 * MIB + 17, 20_000]);
    let multi = MultiArch::build(52, &[200_000, 50_000]);
    let mut src = Layout::create(&tmp.path().join("src"));
    src.add_image("v1", &image);
    src.add_multi_arch("multi", &multi);
    let (host, out) = (a.host(), tmp.path().join("out"));
    let pulled = image.clone();
    let index_digest = multi.index.digest.clone();
    tokio::task::spawn_blocking(move || {
        let (env, creds) = (ClientEnv::new(), admin_creds());
        let remote = |tag: &str| format!("docker://{host}/library/app:{tag}");
        skopeo_copy(
            &env,
            &src.reference("v1"),
            &remote("v1"),
            Some(&creds),
            false,
        );
        skopeo_copy(
            &env,
            &src.reference("multi"),
            &remote("multi"),
            Some(&creds),
            true,
        );
        skopeo_copy(
            &env,
            &remote("v1"),
            &format!("oci:{}:v1", out.display()),
            Some(&creds),
            false,
        );
        assert_layout_has_image(&out, "v1", &pulled);
    })
    .await
    .unwrap();
    assert_eq!(
        tagged_digest(&b, &http, "library/app", "multi").await,
        index_digest
    );
    assert_eq!(
        tagged_digest(&a, &http, "library/app", "v1").await,
        image.manifest.digest
    );

    // Tags list, and a referrer of v1 pushed through the pair and listed through it.
    let response = http
        .get(a.url("/v2/library/app/tags/list"))
        .admin()
        .send()
        .await
        .unwrap();
    let tags: serde_json::Value = response.json().await.unwrap();
    assert_eq!(tags["tags"], serde_json::json!(["multi", "v1"]));
    let empty = upload_blob(&a, &http, "library/app", b"{}").await;
    let subject = serde_json::json!({"mediaType": OCI_MANIFEST, "digest": image.manifest.digest,
                                     "size": image.manifest.bytes.len()});
    let signature = image_manifest(
        (&empty, 2),
        &[],
        serde_json::json!({"artifactType": "application/vnd.example.sig", "subject": subject}),
    );
    let signature_digest = put_manifest(
        &a,
        &http,
        "library/app",
        &sha256(&signature),
        OCI_MANIFEST,
        &signature,
    )
    .await;
    for _ in 0..2 {
        let response = http
            .get(a.url(&format!(
                "/v2/library/app/referrers/{}",
                image.manifest.digest
            )))
            .admin()
            .send()
            .await
            .unwrap();
        let index: serde_json::Value = response.json().await.unwrap();
        assert_eq!(index["manifests"][0]["digest"], signature_digest.as_str());
    }

    // A blob of v1 mounted into another repository, then the manifest and tag deleted: gone on both nodes.
    let layer = &image.referenced_blobs()[1].digest;
    let response = http
        .post(a.url(&format!(
            "/v2/library/copy/blobs/uploads/?mount={layer}&from=library/app"
        )))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    assert_eq!(header(&response, "docker-content-digest"), *layer);
    let response = http
        .delete(a.url(&format!("/v2/library/app/manifests/{index_digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::ACCEPTED);
    for node in [&b, &a] {
        let url = format!("http://{}/v2/library/app/manifests/multi", node.addr);
        let response = http.head(url).admin().send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::NOT_FOUND);
    }
    let counts = front.counts();
    assert!(
        counts.iter().all(|n| *n > 10),
        "both nodes served: {counts:?}"
    );
    a.assert_quota_ledger_agrees().await;
    b.stop().await;
    a.stop().await;
}
