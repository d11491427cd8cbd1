//! Replication against real registries: Debian's `docker-registry` (open, and with Basic auth) as a push
//! destination and a pull source, and a second Berth (as a Harbor endpoint) with an event-based policy.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{As, api, create_project, get_json};
use crate::images::{Blob, Image, MultiArch};
use crate::proxy::upstreams::Distribution;
use crate::proxy::{RegistryClient, create_endpoint, header, push_manifest, start_berth};
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, BinaryServer, TestServer, client};

const ADMIN: Option<(&str, &str)> = Some((ADMIN_USER, ADMIN_PASSWORD));

const SIGNATURE_TYPE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// A cosign-style signature of `subject`: an OCI manifest with `subject` and one layer.
fn signature(subject: &Blob, seed: u8) -> (Blob, Blob, Blob) {
    let config = Blob::new("application/vnd.oci.empty.v1+json", b"{}".to_vec());
    let layer = Blob::new(
        "application/vnd.dev.cosign.simplesigning.v1+json",
        vec![seed; 64],
    );
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": SIGNATURE_TYPE,
        "config": config.descriptor(),
        "layers": [layer.descriptor()],
        "subject": subject.descriptor(),
    });
    (
        Blob::new(OCI_MANIFEST, serde_json::to_vec(&manifest).unwrap()),
        config,
        layer,
    )
}

/// A Berth under test, in process or as a child process.
pub trait Base {
    fn api(&self, path: &str) -> String;
}

impl Base for TestServer {
    fn api(&self, path: &str) -> String {
        api(self, path)
    }
}

impl Base for BinaryServer {
    fn api(&self, path: &str) -> String {
        self.url(&format!("/api/v2.0{path}"))
    }
}

/// `POST /replication/policies` as admin; the new policy's id.
pub async fn create_policy(server: &impl Base, body: Value) -> i64 {
    let response = client()
        .post(server.api("/replication/policies"))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = header(&response, "location");
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{body}: {}",
        response.text().await.unwrap_or_default()
    );
    location.rsplit('/').next().unwrap().parse().unwrap()
}

/// Starts policy `id` and waits for its execution to end; the execution.
pub async fn run_policy(server: &impl Base, id: i64) -> Value {
    let execution = start_policy(server, id).await;
    finished(server, execution).await
}

/// Starts policy `id`; the execution's id.
async fn start_policy(server: &impl Base, id: i64) -> i64 {
    let response = client()
        .post(server.api("/replication/executions"))
        .admin()
        .json(&json!({"policy_id": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = header(&response, "location");
    location.rsplit('/').next().unwrap().parse().unwrap()
}

/// Waits for execution `id` to end.
async fn finished(server: &impl Base, id: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let execution = get_json(
            &client(),
            server.api(&format!("/replication/executions/{id}")),
        )
        .await;
        if execution["status"] != "InProgress" {
            return execution;
        }
        assert!(
            Instant::now() < deadline,
            "execution {id} did not finish: {execution}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn tasks(server: &impl Base, execution: i64) -> Vec<Value> {
    get_json(
        &client(),
        server.api(&format!("/replication/executions/{execution}/tasks")),
    )
    .await
    .as_array()
    .unwrap()
    .clone()
}

async fn task_log(server: &TestServer, execution: i64, task: i64) -> String {
    let response = client()
        .get(api(
            server,
            &format!("/replication/executions/{execution}/tasks/{task}/log"),
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// The digest `repo:reference` has at a registry, or `None` (404).
async fn digest_at(registry: &RegistryClient, repo: &str, reference: &str) -> Option<String> {
    let response = registry.manifest(Method::HEAD, repo, reference).await;
    match response.status() {
        StatusCode::OK => Some(header(&response, "docker-content-digest")),
        StatusCode::NOT_FOUND => None,
        other => panic!("HEAD {repo}:{reference}: {other}"),
    }
}

#[tokio::test]
async fn push_to_and_pull_from_a_registry_with_basic_auth_keep_every_digest() {
    let registry = Distribution::start(Some(("mirror", "s3cret"))).await;
    let server = start_berth().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "app"})).await;
    let berth = RegistryClient::admin(&server);
    let v1 = Image::build(9101, "amd64", &[3000, 5000]);
    let rc = Image::build(9102, "amd64", &[1000]);
    let multi = MultiArch::build(9103, &[2000]);
    let other = Image::build(9104, "amd64", &[1000]);
    crate::proxy::push_image(berth.base(), ADMIN, "app/web", "v1", &v1).await;
    crate::proxy::push_image(berth.base(), ADMIN, "app/web", "v1-rc", &rc).await;
    crate::proxy::push_multi_arch(berth.base(), ADMIN, "app/web", "multi", &multi).await;
    crate::proxy::push_image(berth.base(), ADMIN, "app/other", "v1", &other).await;
    let (sig, sig_config, sig_layer) = signature(&v1.manifest, 7);
    crate::proxy::push_blob(&berth, "app/web", &sig_config).await;
    crate::proxy::push_blob(&berth, "app/web", &sig_layer).await;
    push_manifest(&berth, "app/web", &sig.digest, &sig).await;

    let endpoint = create_endpoint(
        &server,
        "mirror",
        "docker-registry",
        &registry.base(),
        Some(("mirror", "s3cret")),
    )
    .await;
    // Push-based: app/web only, without release candidates, flattened into the namespace `mirror`.
    let push = create_policy(
        &server,
        json!({
            "name": "to-mirror",
            "dest_registry": {"id": endpoint},
            "dest_namespace": "mirror",
            "dest_namespace_replace_count": -1,
            "trigger": {"type": "manual"},
            "filters": [
                {"type": "name", "value": "app/web"},
                {"type": "tag", "value": "*-rc", "decoration": "excludes"}
            ],
            "override": true,
            "enabled": true,
            "copy_by_chunk": true
        }),
    )
    .await;
    let policy = get_json(
        &http,
        api(&server, &format!("/replication/policies/{push}")),
    )
    .await;
    assert_eq!(policy["src_registry"]["id"], 0, "{policy}");
    assert_eq!(policy["src_registry"]["name"], "Local");
    assert_eq!(policy["dest_registry"]["id"], endpoint);
    assert_eq!(policy["filters"][1]["decoration"], "excludes");

    let execution = run_policy(&server, push).await;
    assert_eq!(execution["status"], "Succeed", "{execution}");
    assert_eq!(execution["trigger"], "manual");
    assert_eq!(
        (execution["total"].as_i64(), execution["succeed"].as_i64()),
        (Some(1), Some(1))
    );
    let id = execution["id"].as_i64().unwrap();
    let task = &tasks(&server, id).await[0];
    assert_eq!(task["status"], "Succeed");
    assert_eq!(task["src_resource"], "app/web:[v1,multi]", "{task}");
    assert_eq!(task["dst_resource"], "mirror/web:[v1,multi]");
    let log = task_log(&server, id, task["id"].as_i64().unwrap()).await;
    assert!(log.contains("blob(s) sent"), "{log}");

    let remote = registry.client();
    assert_eq!(
        digest_at(&remote, "mirror/web", "v1").await,
        Some(v1.manifest.digest.clone())
    );
    assert_eq!(
        digest_at(&remote, "mirror/web", "multi").await,
        Some(multi.index.digest.clone())
    );
    for child in &multi.children {
        assert_eq!(
            digest_at(&remote, "mirror/web", &child.manifest.digest).await,
            Some(child.manifest.digest.clone())
        );
    }
    assert_eq!(
        digest_at(&remote, "mirror/web", "v1-rc").await,
        None,
        "excluded by the tag filter"
    );
    assert_eq!(
        digest_at(&remote, "mirror/other", "v1").await,
        None,
        "not selected by the name filter"
    );
    // The signature went with its subject; the registry has no referrers API, so it is in the tag schema.
    assert_eq!(
        digest_at(&remote, "mirror/web", &sig.digest).await,
        Some(sig.digest.clone())
    );
    let schema_tag = format!(
        "sha256-{}",
        v1.manifest.digest.trim_start_matches("sha256:")
    );
    let (status, index) = remote.get_manifest("mirror/web", &schema_tag).await;
    assert_eq!(status, StatusCode::OK);
    let index: Value = serde_json::from_slice(&index).unwrap();
    assert_eq!(
        index["manifests"][0]["digest"],
        sig.digest.as_str(),
        "{index}"
    );
    for blob in v1.referenced_blobs() {
        remote.assert_blob("mirror/web", blob).await;
    }

    // Again: the destination has every blob, so none is sent.
    let again = run_policy(&server, push).await;
    assert_eq!(again["status"], "Succeed");
    let id = again["id"].as_i64().unwrap();
    let task = &tasks(&server, id).await[0];
    let log = task_log(&server, id, task["id"].as_i64().unwrap()).await;
    assert!(log.contains("0 blob(s) sent"), "{log}");

    // Pull-based: everything under mirror/ comes back into Berth under `back/` (no flattening).
    let pull = create_policy(
        &server,
        json!({
            "name": "from-mirror",
            "src_registry": {"id": endpoint},
            "dest_namespace": "back",
            "dest_namespace_replace_count": 0,
            "trigger": {"type": "manual"},
            "filters": [{"type": "name", "value": "mirror/**"}],
            "enabled": true
        }),
    )
    .await;
    let execution = run_policy(&server, pull).await;
    assert_eq!(execution["status"], "Succeed", "{execution}");
    let local = RegistryClient::admin(&server);
    assert_eq!(
        digest_at(&local, "back/mirror/web", "v1").await,
        Some(v1.manifest.digest.clone())
    );
    assert_eq!(
        digest_at(&local, "back/mirror/web", "multi").await,
        Some(multi.index.digest.clone())
    );
    local.pull("back/mirror/web", "v1", &v1).await;
    // The signature came back through the tag schema; Berth lists it as a referrer of v1.
    let response = local
        .send(
            Method::GET,
            &format!("/v2/back/mirror/web/referrers/{}", v1.manifest.digest),
            &[],
        )
        .await;
    let referrers: Value = response.json().await.unwrap();
    assert!(
        referrers["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["digest"] == sig.digest.as_str()),
        "{referrers}"
    );
    // The project was created for the pulled repositories.
    let projects = get_json(&http, api(&server, "/projects?name=back")).await;
    assert_eq!(projects[0]["name"], "back", "{projects}");

    // A registry a policy uses cannot be deleted.
    let response = http
        .delete(api(&server, &format!("/registries/{endpoint}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
}

#[tokio::test]
async fn an_open_registry_is_pushed_to_and_pulled_from_and_wrong_credentials_fail_the_execution() {
    let open = Distribution::start(None).await;
    let closed = Distribution::start(Some(("mirror", "s3cret"))).await;
    let server = start_berth().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "app"})).await;
    let berth = RegistryClient::admin(&server);
    let v1 = Image::build(9201, "amd64", &[2000]);
    let v2 = Image::build(9202, "amd64", &[1000]);
    crate::proxy::push_image(berth.base(), ADMIN, "app/api", "v1", &v1).await;
    crate::proxy::push_image(berth.base(), ADMIN, "app/api", "v2", &v2).await;

    // Push-based to the open registry, no credentials: only v1, under `open/` with the project kept.
    let endpoint = create_endpoint(&server, "open", "docker-registry", &open.base(), None).await;
    let push = create_policy(
        &server,
        json!({
            "name": "to-open",
            "dest_registry": {"id": endpoint},
            "dest_namespace": "open",
            "dest_namespace_replace_count": 0,
            "trigger": {"type": "manual"},
            "filters": [{"type": "name", "value": "app/**"}, {"type": "tag", "value": "v1"}],
            "enabled": true
        }),
    )
    .await;
    let execution = run_policy(&server, push).await;
    assert_eq!(execution["status"], "Succeed", "{execution}");
    let remote = open.client();
    assert_eq!(
        digest_at(&remote, "open/app/api", "v1").await,
        Some(v1.manifest.digest.clone())
    );
    assert_eq!(digest_at(&remote, "open/app/api", "v2").await, None);
    for blob in v1.referenced_blobs() {
        remote.assert_blob("open/app/api", blob).await;
    }

    // Pull-based from it through its `_catalog`, into Berth with the path flattened to the last component.
    let pull = create_policy(
        &server,
        json!({
            "name": "from-open",
            "src_registry": {"id": endpoint},
            "dest_namespace": "copies",
            "dest_namespace_replace_count": -1,
            "trigger": {"type": "manual"},
            "filters": [{"type": "name", "value": "open/**"}],
            "enabled": true
        }),
    )
    .await;
    let execution = run_policy(&server, pull).await;
    assert_eq!(execution["status"], "Succeed", "{execution}");
    berth.pull("copies/api", "v1", &v1).await;

    // Wrong credentials at a registry that wants them: the execution fails, and the task's log says why.
    let wrong = create_endpoint(
        &server,
        "closed",
        "docker-registry",
        &closed.base(),
        Some(("mirror", "not-the-password")),
    )
    .await;
    let refused = create_policy(
        &server,
        json!({
            "name": "to-closed",
            "dest_registry": {"id": wrong},
            "trigger": {"type": "manual"},
            "filters": [{"type": "name", "value": "app/api"}],
            "enabled": true
        }),
    )
    .await;
    let execution = run_policy(&server, refused).await;
    assert_eq!(execution["status"], "Failed", "{execution}");
    let id = execution["id"].as_i64().unwrap();
    let task = &tasks(&server, id).await[0];
    assert_eq!(task["status"], "Failed", "{task}");
    let log = task_log(&server, id, task["id"].as_i64().unwrap()).await;
    assert!(
        log.contains("authentication failed: the upstream refused the endpoint's credential"),
        "{log}"
    );
    assert!(!log.contains("not-the-password"), "{log}");
    assert_eq!(
        digest_at(&closed.client(), "app/api", "v1").await,
        None,
        "nothing was written"
    );
}

#[tokio::test]
async fn berth_to_berth_on_push_and_on_delete_and_on_schedule() {
    let target = TestServer::start().await;
    let server = TestServer::start_with(|config| config.jobs.poll_ms = 200).await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    let endpoint = create_endpoint(&server, "dr-site", "harbor", &target.url(""), ADMIN).await;
    let policy = create_policy(
        &server,
        json!({
            "name": "on-push",
            "dest_registry": {"id": endpoint},
            "trigger": {"type": "event_based"},
            "filters": [{"type": "name", "value": "team/**"}],
            "replicate_deletion": true,
            "enabled": true
        }),
    )
    .await;
    let berth = RegistryClient::admin(&server);
    let image = Image::build(9201, "amd64", &[4000]);
    crate::proxy::push_image(berth.base(), ADMIN, "team/api", "2.0", &image).await;
    let remote = RegistryClient::admin(&target);
    let deadline = Instant::now() + Duration::from_secs(60);
    while digest_at(&remote, "team/api", "2.0").await.is_none() {
        assert!(Instant::now() < deadline, "the push was not replicated");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    remote.pull("team/api", "2.0", &image).await;
    let executions = get_json(
        &http,
        api(
            &server,
            &format!("/replication/executions?policy_id={policy}"),
        ),
    )
    .await;
    assert_eq!(executions[0]["trigger"], "event_based", "{executions}");
    // The project was created on the target through its Harbor API.
    let projects = get_json(&http, api(&target, "/projects?name=team")).await;
    assert_eq!(projects[0]["name"], "team");

    // Deleting the artifact here deletes it there.
    let response = http
        .delete(api(
            &server,
            &format!(
                "/projects/team/repositories/api/artifacts/{}",
                image.manifest.digest
            ),
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(60);
    while digest_at(&remote, "team/api", &image.manifest.digest)
        .await
        .is_some()
    {
        assert!(Instant::now() < deadline, "the deletion was not replicated");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A scheduled policy (every second) runs on its own.
    let scheduled = create_policy(
        &server,
        json!({
            "name": "nightly",
            "dest_registry": {"id": endpoint},
            "dest_namespace": "copy",
            "trigger": {"type": "scheduled", "trigger_settings": {"cron": "* * * * * *"}},
            "filters": [{"type": "name", "value": "team/**"}],
            "enabled": true
        }),
    )
    .await;
    crate::proxy::push_image(berth.base(), ADMIN, "team/api", "2.1", &image).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while digest_at(&remote, "copy/api", "2.1").await.is_none() {
        assert!(Instant::now() < deadline, "the schedule did not replicate");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let executions = get_json(
        &http,
        api(
            &server,
            &format!("/replication/executions?policy_id={scheduled}"),
        ),
    )
    .await;
    assert_eq!(executions[0]["trigger"], "scheduled", "{executions}");

    // Bad policies are refused with the reason.
    for (body, why) in [
        (
            json!({"name": "x", "dest_registry": {"id": endpoint}, "src_registry": {"id": endpoint}}),
            "both remote",
        ),
        (json!({"name": "x"}), "both local"),
        (
            json!({"name": "x", "src_registry": {"id": endpoint}, "trigger": {"type": "event_based"}}),
            "event pull",
        ),
        (
            json!({"name": "x", "dest_registry": {"id": 999}}),
            "unknown registry",
        ),
        (
            json!({"name": "on-push", "dest_registry": {"id": endpoint}}),
            "name taken",
        ),
    ] {
        let response = http
            .post(api(&server, "/replication/policies"))
            .admin()
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_client_error(),
            "{why}: {}",
            response.status()
        );
    }
    // Only system administrators manage replication.
    server.create_user("dev", "Dev12345", false).await;
    let response = http
        .get(api(&server, "/replication/policies"))
        .user("dev", "Dev12345")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_execution_resumes_where_it_stopped() {
    const ENV: [(&str, &str); 3] = [
        ("BERTH_JOBS__LEASE_SECS", "2"),
        ("BERTH_JOBS__POLL_MS", "100"),
        ("BERTH_JOBS__RETRY_DELAY_SECS", "1"),
    ];
    let registry = Distribution::start(None).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut first = BinaryServer::start_with_env(&data, &ENV);
    let http = client();
    let response = http
        .post(first.api("/projects"))
        .admin()
        .json(&json!({"project_name": "slow"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let images: Vec<Image> = (0..3)
        .map(|i| Image::build(9300 + i, "amd64", &[96 * 1024]))
        .collect();
    for (name, image) in ["a", "b", "c"].iter().zip(&images) {
        crate::proxy::push_image(&first.url(""), ADMIN, &format!("slow/{name}"), "1", image).await;
    }
    let response = http
        .post(first.api("/registries"))
        .admin()
        .json(&json!({"name": "plain", "type": "docker-registry", "url": registry.base()}))
        .send()
        .await
        .unwrap();
    let endpoint: i64 = header(&response, "location")
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // 64 KiB/s: each repository takes a second and a half.
    let policy = create_policy(
        &first,
        json!({"name": "slow", "dest_registry": {"id": endpoint}, "enabled": true, "speed": 64,
               "filters": [{"type": "name", "value": "slow/**"}]}),
    )
    .await;
    let execution = start_policy(&first, policy).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let done_before = loop {
        let all = tasks(&first, execution).await;
        if all.first().is_some_and(|t| t["status"] == "Succeed") {
            break all[0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "the first task did not finish: {all:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    first.signal_and_wait("KILL");

    let second = BinaryServer::start_with_env(&data, &ENV);
    let ended = finished(&second, execution).await;
    assert_eq!(ended["status"], "Succeed", "{ended}");
    assert_eq!(ended["succeed"], 3);
    let after = tasks(&second, execution).await;
    assert_eq!(
        after[0]["start_time"], done_before["start_time"],
        "the finished task was not run again"
    );
    assert!(after.iter().all(|t| t["status"] == "Succeed"), "{after:?}");
    let log = crate::jobs::job_log(&http, &second.url(""), execution).await;
    assert!(log.contains("lease expired"), "{log}");
    assert!(log.contains("done in an earlier attempt"), "{log}");
    let remote = registry.client();
    for (name, image) in ["a", "b", "c"].iter().zip(&images) {
        assert_eq!(
            digest_at(&remote, &format!("slow/{name}"), "1").await,
            Some(image.manifest.digest.clone())
        );
    }
}
