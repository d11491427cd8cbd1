//! Webhooks against a real receiver: a small HTTP server started by each test records what Berth posts.
//! Each event type Berth sends in Harbor's payload shape, CloudEvents and Slack formats, retries of a failing
//! receiver with each attempt recorded, the policy API's checks and permissions.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use reqwest::Client;
use serde_json::{Value, json};

use crate::api::repositories::{PASSWORD, member};
use crate::api::{As, api, create_project, get_json};
use crate::registry::push_image;
use crate::support::{TestServer, client};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub content_type: String,
    pub authorization: Option<String>,
    pub body: Value,
}

/// What the receiver answers: the statuses to give, in order, then 200.
#[derive(Default)]
pub struct Receiver {
    pub got: Mutex<Vec<Received>>,
    answers: Mutex<Vec<StatusCode>>,
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    receiver.got.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        content_type: header("content-type").unwrap_or_default(),
        authorization: header("authorization"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let mut answers = receiver.answers.lock().unwrap();
    if answers.is_empty() {
        StatusCode::OK
    } else {
        answers.remove(0)
    }
}

/// Starts a receiver on a free loopback port; returns it and its base URL.
pub async fn start_receiver(answers: Vec<StatusCode>) -> (Arc<Receiver>, String) {
    let receiver = Arc::new(Receiver {
        got: Mutex::default(),
        answers: Mutex::new(answers),
    });
    let app = Router::new()
        .route("/{*path}", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (receiver, format!("http://{addr}"))
}

impl Receiver {
    /// Waits (up to 15 s) for a request whose payload (or CloudEvents `type`) says `event`, at `path`.
    pub async fn wait_for(&self, path: &str, event: &str) -> Received {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let found = self
                .got
                .lock()
                .unwrap()
                .iter()
                .find(|r| {
                    r.path == path
                        && (r.body["type"] == event
                            || r.body["text"].as_str().is_some_and(|t| t.contains(event)))
                })
                .cloned();
            if let Some(found) = found {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no {event} at {path}; got {:#?}",
                self.got.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn count(&self, path: &str) -> usize {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .count()
    }
}

/// A Berth (its external URL its own address; webhooks may target the loopback, where the receivers are) whose
/// jobs are polled every 50 ms, whose pulls are written (and notified) within 50 ms, and whose
/// failed jobs are retried after 1 s, then 2 s, …
async fn start() -> TestServer {
    TestServer::start_bound(|c, addr| {
        c.external_url = Some(format!("http://{addr}"));
        c.webhooks.allow_local_targets = true;
        c.jobs.poll_ms = 50;
        c.jobs.retry_delay_secs = 1;
        c.pull_stats_interval_ms = 50;
    })
    .await
}

pub fn http_target(address: &str, format: &str, auth: Option<&str>) -> Value {
    let mut target = json!({"type": "http", "address": address, "skip_cert_verify": false});
    if !format.is_empty() {
        target["payload_format"] = json!(format);
    }
    if let Some(auth) = auth {
        target["auth_header"] = json!(auth);
    }
    target
}

/// `POST …/webhook/policies` as admin, asserting 201; returns the new policy's id.
pub async fn create_policy(server: &TestServer, http: &Client, project: &str, body: Value) -> i64 {
    let response = http
        .post(api(
            server,
            &format!("/projects/{project}/webhook/policies"),
        ))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED.as_u16());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("/api/v2.0/projects/{project}/webhook/policies/")),
        "{location}"
    );
    location.rsplit('/').next().unwrap().parse().unwrap()
}

/// Waits until every execution of policy `id` has ended; returns them (newest first).
async fn ended_executions(
    server: &TestServer,
    http: &Client,
    project: &str,
    id: i64,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let executions = get_json(
            http,
            api(
                server,
                &format!("/projects/{project}/webhook/policies/{id}/executions"),
            ),
        )
        .await;
        let list = executions.as_array().cloned().unwrap_or_default();
        if !list.is_empty()
            && list
                .iter()
                .all(|e| matches!(e["status"].as_str(), Some("Success" | "Error" | "Stopped")))
        {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "executions still running: {executions:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn task_of(
    server: &TestServer,
    http: &Client,
    project: &str,
    id: i64,
    eid: i64,
) -> (Value, String) {
    let tasks = get_json(
        http,
        api(
            server,
            &format!("/projects/{project}/webhook/policies/{id}/executions/{eid}/tasks"),
        ),
    )
    .await;
    let task = tasks[0].clone();
    let tid = task["id"].as_i64().unwrap();
    let log = http
        .get(api(
            server,
            &format!("/projects/{project}/webhook/policies/{id}/executions/{eid}/tasks/{tid}/log"),
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(log.status(), StatusCode::OK.as_u16());
    (task, log.text().await.unwrap())
}

/// A push, a pull and a delete each reach the receiver in Harbor's payload shape, with the policy's
/// Authorization header; each delivery is an execution with its task, status code and log.
#[tokio::test]
async fn push_pull_and_delete_reach_the_receiver_in_harbors_shape() {
    let server = start().await;
    let http = client();
    let (receiver, base) = start_receiver(Vec::new()).await;
    server.create_project("team", false).await;
    let id = create_policy(
        &server,
        &http,
        "team",
        json!({"name": "ci", "enabled": true,
               "event_types": ["PUSH_ARTIFACT", "PULL_ARTIFACT", "DELETE_ARTIFACT"],
               "targets": [http_target(&format!("{base}/hook"), "", Some("Bearer s3cret"))]}),
    )
    .await;

    let (_, digest) = push_image(&server, &http, "team/app", "v1", "webhooks").await;
    let push = receiver.wait_for("/hook", "PUSH_ARTIFACT").await;
    assert_eq!(push.content_type, "application/json");
    assert_eq!(push.authorization.as_deref(), Some("Bearer s3cret"));
    let body = &push.body;
    assert_eq!(body["operator"], "admin");
    assert!(body["occur_at"].as_i64().unwrap() > 1_700_000_000);
    let resource = &body["event_data"]["resources"][0];
    assert_eq!(resource["digest"], digest);
    assert_eq!(resource["tag"], "v1");
    assert_eq!(
        resource["resource_url"],
        format!("{}/team/app:v1", server.host())
    );
    assert_eq!(
        body["event_data"]["repository"],
        json!({"name": "app", "namespace": "team", "repo_full_name": "team/app", "repo_type": "private"})
    );

    // A pull of a project without a policy first, so the pull writer's batch most likely holds both: the
    // policies are asked once per project in a batch, and the other project's answer must not stand for this.
    server.create_project("other", false).await;
    push_image(&server, &http, "other/app", "v1", "webhooks").await;
    for repository in ["other/app", "team/app"] {
        let pulled = http
            .get(server.url(&format!("/v2/{repository}/manifests/v1")))
            .admin()
            .header("accept", "application/vnd.oci.image.manifest.v1+json")
            .send()
            .await
            .unwrap();
        assert_eq!(pulled.status(), StatusCode::OK.as_u16());
    }
    let pull = receiver.wait_for("/hook", "PULL_ARTIFACT").await;
    assert_eq!(
        pull.body["event_data"]["repository"]["repo_full_name"],
        "team/app"
    );
    assert_eq!(pull.body["event_data"]["resources"][0]["tag"], "v1");
    assert_eq!(pull.body["operator"], "admin");

    let deleted = http
        .delete(api(
            &server,
            &format!("/projects/team/repositories/app/artifacts/{digest}"),
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK.as_u16());
    let delete = receiver.wait_for("/hook", "DELETE_ARTIFACT").await;
    assert_eq!(delete.body["event_data"]["resources"][0]["digest"], digest);

    let executions = ended_executions(&server, &http, "team", id).await;
    assert_eq!(executions.len(), 3, "{executions:#?}");
    let mut events: Vec<&str> = executions
        .iter()
        .map(|e| e["extra_attrs"]["event_type"].as_str().unwrap())
        .collect();
    events.sort_unstable();
    assert_eq!(
        events,
        ["DELETE_ARTIFACT", "PULL_ARTIFACT", "PUSH_ARTIFACT"]
    );
    for execution in &executions {
        assert_eq!(execution["status"], "Success");
        assert_eq!(execution["vendor_type"], "WEBHOOK");
        assert_eq!(execution["vendor_id"], id);
        assert_eq!(execution["metrics"]["success_task_count"], 1);
        let eid = execution["id"].as_i64().unwrap();
        let (task, log) = task_of(&server, &http, "team", id, eid).await;
        assert_eq!(task["status"], "Success");
        assert_eq!(task["run_count"], 1);
        assert_eq!(task["extra_attrs"]["status_code"], 200);
        assert!(
            log.contains("attempt 1:") && log.contains("answered 200 OK"),
            "{log}"
        );
    }

    // The policy reads back without its secret; the last trigger of each event type is known.
    let policy = get_json(
        &http,
        api(&server, &format!("/projects/team/webhook/policies/{id}")),
    )
    .await;
    assert_eq!(policy["targets"][0]["address"], format!("{base}/hook"));
    assert!(
        policy["targets"][0].get("auth_header").is_none(),
        "{policy}"
    );
    assert!(!policy.to_string().contains("s3cret"));
    assert_eq!(policy["creator"], "admin");
    let triggers = get_json(&http, api(&server, "/projects/team/webhook/lasttrigger")).await;
    let triggers = triggers.as_array().unwrap();
    assert_eq!(triggers.len(), 3);
    assert!(triggers.iter().all(|t| {
        t["policy_name"] == "ci"
            && t["last_trigger_time"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
    }));
    server.stop().await;
}

/// A receiver that answers 500 twice gets the event a third time; each attempt is in the task's log with its
/// status code, and the task counts three runs. One that always fails ends in Error after four attempts.
#[tokio::test]
async fn a_failing_receiver_is_retried_and_every_attempt_recorded() {
    let server = start().await;
    let http = client();
    let failures = vec![StatusCode::INTERNAL_SERVER_ERROR; 2];
    let (receiver, base) = start_receiver(failures).await;
    server.create_project("flaky", true).await;
    let id = create_policy(
        &server,
        &http,
        "flaky",
        json!({"name": "retry", "enabled": true, "event_types": ["PUSH_ARTIFACT"],
               "targets": [http_target(&format!("{base}/flaky"), "Default", None)]}),
    )
    .await;
    push_image(&server, &http, "flaky/app", "v1", "retries").await;
    let executions = ended_executions(&server, &http, "flaky", id).await;
    assert_eq!(executions.len(), 1);
    assert_eq!(executions[0]["status"], "Success", "{executions:#?}");
    assert_eq!(receiver.count("/flaky"), 3);
    let eid = executions[0]["id"].as_i64().unwrap();
    let (task, log) = task_of(&server, &http, "flaky", id, eid).await;
    assert_eq!(task["run_count"], 3);
    assert_eq!(task["extra_attrs"]["status_code"], 200);
    assert_eq!(
        log.matches("(Default): answered 500 Internal Server Error")
            .count(),
        2,
        "{log}"
    );
    assert!(
        log.contains("attempt 3:") && log.contains("answered 200 OK"),
        "{log}"
    );

    // A receiver that never answers well: four attempts, then the execution ends in Error.
    let (dead, dead_base) = start_receiver(vec![StatusCode::SERVICE_UNAVAILABLE; 10]).await;
    let body = json!({"name": "retry", "enabled": true, "event_types": ["PUSH_ARTIFACT"],
                      "targets": [http_target(&format!("{dead_base}/dead"), "", None)]});
    let response = http
        .put(api(
            &server,
            &format!("/projects/flaky/webhook/policies/{id}"),
        ))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK.as_u16());
    push_image(&server, &http, "flaky/app", "v2", "retries-2").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let last = loop {
        let executions = ended_executions(&server, &http, "flaky", id).await;
        if executions.len() == 2 {
            break executions[0].clone();
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(last["status"], "Error", "{last:#}");
    assert_eq!(dead.count("/dead"), 4);
    let (task, log) = task_of(&server, &http, "flaky", id, last["id"].as_i64().unwrap()).await;
    assert_eq!(task["run_count"], 4);
    assert_eq!(task["extra_attrs"]["status_code"], 503);
    assert_eq!(
        log.matches("(Default): answered 503 Service Unavailable")
            .count(),
        4,
        "{log}"
    );
    server.stop().await;
}

/// CloudEvents go out in structured mode with Harbor's type and source; Slack gets an incoming-webhook
/// message: a `text` and `mrkdwn` section blocks within Slack's 3,000-character limit.
#[tokio::test]
async fn cloudevents_and_slack_targets_get_their_formats() {
    let server = start().await;
    let http = client();
    let (receiver, base) = start_receiver(Vec::new()).await;
    server.create_project("fmt", true).await;
    let id = create_policy(
        &server,
        &http,
        "fmt",
        json!({"name": "formats", "enabled": true, "event_types": ["PUSH_ARTIFACT"],
               "targets": [http_target(&format!("{base}/ce"), "CloudEvents", None),
                           {"type": "slack", "address": format!("{base}/slack")}]}),
    )
    .await;
    let (_, digest) = push_image(&server, &http, "fmt/app", "v1", "formats").await;
    let project_id = server
        .state
        .db
        .find_project("fmt")
        .await
        .unwrap()
        .unwrap()
        .id;

    let ce = receiver.wait_for("/ce", "harbor.artifact.pushed").await;
    assert_eq!(ce.content_type, "application/cloudevents+json");
    assert_eq!(ce.body["specversion"], "1.0");
    assert_eq!(
        ce.body["source"],
        format!("/projects/{project_id}/webhook/policies/{id}")
    );
    assert_eq!(ce.body["datacontenttype"], "application/json");
    assert_eq!(ce.body["operator"], "admin");
    assert_eq!(ce.body["data"]["resources"][0]["digest"], digest);
    assert!(ce.body["time"].as_str().unwrap().ends_with('Z'));
    assert!(ce.body["id"].as_str().is_some_and(|s| s.len() == 36));

    let slack = receiver.wait_for("/slack", "PUSH_ARTIFACT").await;
    assert_eq!(slack.content_type, "application/json");
    assert!(
        slack.body["text"]
            .as_str()
            .unwrap()
            .contains("PUSH_ARTIFACT")
    );
    let blocks = slack.body["blocks"].as_array().unwrap();
    assert!(!blocks.is_empty());
    for block in blocks {
        assert_eq!(block["type"], "section");
        assert_eq!(block["text"]["type"], "mrkdwn");
        assert!(block["text"]["text"].as_str().unwrap().chars().count() <= 3000);
    }
    assert!(
        blocks
            .iter()
            .any(|b| b["text"]["text"].as_str().unwrap().contains(&digest))
    );
    let executions = ended_executions(&server, &http, "fmt", id).await;
    let mut vendors: Vec<&str> = executions
        .iter()
        .map(|e| e["vendor_type"].as_str().unwrap())
        .collect();
    vendors.sort_unstable();
    assert_eq!(vendors, ["SLACK", "WEBHOOK"]);
    server.stop().await;
}

/// The policy API refuses bad policies with a reason, a second policy of the same name with 409; maintainers
/// read but do not write; developers see nothing; an outsider's private project does not exist. A disabled
/// policy sends nothing, and a PUT without `auth_header` keeps the stored one.
#[tokio::test]
async fn the_policy_api_checks_input_and_roles() {
    let server = start().await;
    let http = client();
    let (receiver, base) = start_receiver(Vec::new()).await;
    server.create_project("secret", false).await;
    let url = api(&server, "/projects/secret/webhook/policies");
    let hook = format!("{base}/hook");
    let bad = [
        json!({"name": "x", "event_types": ["PUSH_ARTIFACT"], "targets": []}),
        json!({"name": "x", "event_types": ["NOPE"], "targets": [http_target(&hook, "", None)]}),
        json!({"name": "x", "event_types": ["PUSH_ARTIFACT"], "targets": [http_target("file:///etc/passwd", "", None)]}),
        json!({"name": "x", "event_types": ["PUSH_ARTIFACT"], "targets": [http_target(&hook, "Xml", None)]}),
        json!({"name": "x", "event_types": ["PUSH_ARTIFACT"], "targets": [http_target(&hook, "", Some("a\nb: c"))]}),
        json!({"name": "", "event_types": ["PUSH_ARTIFACT"], "targets": [http_target(&hook, "", None)]}),
    ];
    for body in bad {
        let response = http.post(&url).admin().json(&body).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST.as_u16(),
            "{body}"
        );
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["errors"][0]["code"], "BAD_REQUEST");
    }
    let policy = json!({"name": "ci", "enabled": true, "event_types": ["PUSH_ARTIFACT"],
                        "targets": [http_target(&hook, "", Some("Basic abc"))]});
    let id = create_policy(&server, &http, "secret", policy.clone()).await;
    let again = http.post(&url).admin().json(&policy).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT.as_u16());

    member(&server, &http, "secret", "maint", 4).await;
    member(&server, &http, "secret", "dev", 2).await;
    server.create_user("outsider", PASSWORD, false).await;
    let one = format!("{url}/{id}");
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(
        status(http.get(&one).user("maint", PASSWORD).send().await.unwrap()),
        200
    );
    assert_eq!(
        status(http.get(&url).user("maint", PASSWORD).send().await.unwrap()),
        200
    );
    assert_eq!(
        status(
            http.put(&one)
                .user("maint", PASSWORD)
                .json(&policy)
                .send()
                .await
                .unwrap()
        ),
        403
    );
    assert_eq!(
        status(http.get(&url).user("dev", PASSWORD).send().await.unwrap()),
        403
    );
    assert_eq!(
        status(
            http.post(&url)
                .user("dev", PASSWORD)
                .json(&policy)
                .send()
                .await
                .unwrap()
        ),
        403
    );
    assert_eq!(
        status(
            http.get(&url)
                .user("outsider", PASSWORD)
                .send()
                .await
                .unwrap()
        ),
        404
    );
    assert_eq!(status(http.get(&url).send().await.unwrap()), 401);
    server.create_project("other", false).await;
    assert_eq!(
        status(
            http.get(api(
                &server,
                &format!("/projects/other/webhook/policies/{id}")
            ))
            .admin()
            .send()
            .await
            .unwrap()
        ),
        404,
        "a policy read through another project"
    );

    let events = get_json(&http, api(&server, "/projects/secret/webhook/events")).await;
    assert!(
        events["event_type"]
            .as_array()
            .unwrap()
            .contains(&json!("PULL_ARTIFACT"))
    );
    assert_eq!(events["notify_type"], json!(["http", "slack"]));
    assert_eq!(
        events["payload_formats"][0]["formats"],
        json!(["Default", "CloudEvents"])
    );

    // Disabled: nothing is sent.
    let mut disabled = policy.clone();
    disabled["enabled"] = json!(false);
    disabled["targets"][0]
        .as_object_mut()
        .unwrap()
        .remove("auth_header");
    let response = http.put(&one).admin().json(&disabled).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK.as_u16());
    push_image(&server, &http, "secret/app", "v1", "disabled").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        receiver.count("/hook"),
        0,
        "a disabled policy sent an event"
    );

    // Enabled again without sending the header: the stored one is used.
    disabled["enabled"] = json!(true);
    let response = http.put(&one).admin().json(&disabled).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK.as_u16());
    push_image(&server, &http, "secret/app", "v2", "enabled").await;
    let push = receiver.wait_for("/hook", "PUSH_ARTIFACT").await;
    assert_eq!(push.authorization.as_deref(), Some("Basic abc"));

    let response = http.delete(&one).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK.as_u16());
    assert_eq!(status(http.get(&one).admin().send().await.unwrap()), 404);
    server.stop().await;
}

/// By default a project's webhooks may not target this machine: loopback and link-local addresses (the cloud
/// metadata service) and `localhost` are refused when the policy is saved, and a name that resolves to the
/// loopback is refused when the delivery connects, so nothing reaches a local receiver.
#[tokio::test]
async fn local_targets_are_refused_unless_the_operator_allows_them() {
    let server = TestServer::start_with(|c| {
        c.jobs.poll_ms = 50;
        c.jobs.retry_delay_secs = 1;
    })
    .await;
    let http = client();
    let (receiver, base) = start_receiver(Vec::new()).await;
    server.create_project("guarded", true).await;
    let url = api(&server, "/projects/guarded/webhook/policies");
    let port = base.rsplit(':').next().unwrap().to_owned();
    for address in [
        format!("{base}/hook"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://localhost:{port}/hook"),
        format!("http://[::1]:{port}/hook"),
    ] {
        let body = json!({"name": "local", "enabled": true, "event_types": ["PUSH_ARTIFACT"],
                          "targets": [http_target(&address, "", None)]});
        let response = http.post(&url).admin().json(&body).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST.as_u16(),
            "{address}"
        );
        let error: Value = response.json().await.unwrap();
        let message = error["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("webhooks.allow_local_targets"),
            "{message}"
        );
    }
    // `vm` is this machine's own name in /etc/hosts (127.0.0.1): saved, but refused when connecting.
    let id = create_policy(
        &server,
        &http,
        "guarded",
        json!({"name": "by-name", "enabled": true, "event_types": ["PUSH_ARTIFACT"],
               "targets": [http_target(&format!("http://vm:{port}/hook"), "", None)]}),
    )
    .await;
    push_image(&server, &http, "guarded/app", "v1", "guarded").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let executions = ended_executions(&server, &http, "guarded", id).await;
        if executions[0]["status"] == "Error" {
            let eid = executions[0]["id"].as_i64().unwrap();
            let (task, log) = task_of(&server, &http, "guarded", id, eid).await;
            assert!(task["extra_attrs"].get("status_code").is_none(), "{task}");
            assert!(log.contains("could not be reached"), "{log}");
            break;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        receiver.count("/hook"),
        0,
        "a delivery reached a local receiver"
    );
    server.stop().await;
}

/// An upload refused because the project's quota is full sends `QUOTA_EXCEED` with the repository and
/// Harbor's `custom_attributes.Details`.
#[tokio::test]
async fn a_refused_upload_sends_quota_exceed_and_a_push_near_the_limit_quota_warning() {
    let server = start().await;
    let http = client();
    let (receiver, base) = start_receiver(Vec::new()).await;
    create_project(
        &server,
        &http,
        json!({"project_name": "small", "metadata": {"public": "false"}, "storage_limit": 1000}),
    )
    .await;
    create_policy(
        &server,
        &http,
        "small",
        json!({"name": "quota", "enabled": true, "event_types": ["QUOTA_EXCEED"],
               "targets": [http_target(&format!("{base}/quota"), "", None)]}),
    )
    .await;
    let blob = vec![7u8; 5000];
    let digest = crate::support::sha256(&blob);
    let refused = http
        .post(server.url(&format!("/v2/small/app/blobs/uploads/?digest={digest}")))
        .admin()
        .header("content-type", "application/octet-stream")
        .body(blob)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN.as_u16());
    // Refused while staging (before its digest was checked): the event names the repository.
    let event = receiver.wait_for("/quota", "QUOTA_EXCEED").await;
    assert_eq!(event.body["operator"], "");
    assert_eq!(
        event.body["event_data"]["repository"]["repo_full_name"],
        "small/app"
    );
    let details = event.body["event_data"]["custom_attributes"]["Details"]
        .as_str()
        .unwrap();
    assert!(details.contains("upper limit of 1000 bytes"), "{details}");

    // A push that leaves a project at 85 % of its limit or more sends QUOTA_WARNING; one below it does not.
    const LIMIT: i64 = 6000;
    create_project(
        &server,
        &http,
        json!({"project_name": "near", "metadata": {"public": "false"}, "storage_limit": LIMIT}),
    )
    .await;
    create_policy(
        &server,
        &http,
        "near",
        json!({"name": "warn", "enabled": true, "event_types": ["QUOTA_WARNING"],
               "targets": [http_target(&format!("{base}/warn"), "CloudEvents", None)]}),
    )
    .await;
    let used = |summary: Value| summary["quota"]["used"]["storage"].as_i64().unwrap();
    push_image(&server, &http, "near/app", "v1", "first").await;
    let first = used(get_json(&http, api(&server, "/projects/near/summary")).await);
    assert!(first * 100 < LIMIT * 85, "{first} is below the threshold");
    let (_, second) = push_image(&server, &http, "near/app", "v2", "second").await;
    let now = used(get_json(&http, api(&server, "/projects/near/summary")).await);
    assert!(
        now * 100 >= LIMIT * 85 && now <= LIMIT,
        "{now} is past the threshold"
    );
    let event = receiver.wait_for("/warn", "harbor.quota.warned").await;
    assert_eq!(
        event.body["data"]["resources"][0]["digest"],
        second.as_str()
    );
    assert_eq!(
        event.body["data"]["repository"]["repo_full_name"],
        "near/app"
    );
    let details = event.body["data"]["custom_attributes"]["Details"]
        .as_str()
        .unwrap();
    assert!(
        details.starts_with("quota usage reach 85%: resource storage used "),
        "{details}"
    );
    assert!(details.ends_with(" of 5.9 KiB"), "{details}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.count("/warn"), 1, "only the second push warned");
    server.stop().await;
}

#[tokio::test]
async fn a_replication_sends_its_outcome() {
    let server = start().await;
    let http = client();
    let (receiver, base) = start_receiver(Vec::new()).await;
    let registry = crate::proxy::upstreams::Distribution::start(None).await;
    create_project(&server, &http, json!({"project_name": "rep"})).await;
    let image = crate::images::Image::build(9401, "amd64", &[1000]);
    crate::proxy::push_image(
        &server.url(""),
        Some((crate::support::ADMIN_USER, crate::support::ADMIN_PASSWORD)),
        "rep/app",
        "v1",
        &image,
    )
    .await;
    create_policy(
        &server,
        &http,
        "rep",
        json!({"name": "repl", "enabled": true, "event_types": ["REPLICATION"],
               "targets": [http_target(&format!("{base}/repl"), "", None)]}),
    )
    .await;
    let endpoint =
        crate::proxy::create_endpoint(&server, "plain", "docker-registry", &registry.base(), None)
            .await;
    let policy = crate::replication::create_policy(
        &server,
        json!({"name": "out", "enabled": true, "dest_registry": {"id": endpoint},
               "filters": [{"type": "name", "value": "rep/**"}]}),
    )
    .await;
    let execution = crate::replication::run_policy(&server, policy).await;
    assert_eq!(execution["status"], "Succeed", "{execution}");
    let event = receiver.wait_for("/repl", "REPLICATION").await;
    let data = &event.body["event_data"]["replication"];
    assert_eq!(data["job_status"], "Success", "{data}");
    assert_eq!(data["trigger_type"], "MANUAL");
    assert_eq!(data["policy_creator"], "admin");
    assert_eq!(data["src_resource"]["namespace"], "rep");
    assert_eq!(data["dest_resource"]["registry_type"], "docker-registry");
    assert_eq!(data["dest_resource"]["endpoint"], registry.base());
    assert_eq!(data["successful_artifact"][0]["name_tag"], "rep/app:[v1]");
    server.stop().await;
}
