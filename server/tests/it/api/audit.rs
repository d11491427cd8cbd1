//! The audit log: every audited action leaves an entry (who, what, resource, from where), pulls once the
//! pull queue is flushed, and `/audit-logs` and `/projects/{project_name}/logs` are for admins only.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::repositories::{PASSWORD, member, pull, push};
use super::{As, api, create_project};
use crate::images::Image;
use crate::registry::upload_blob;
use crate::support::{ADMIN_PASSWORD, ADMIN_USER, TestServer, client};

/// Every entry of the system log matching `q`, as admin, newest first.
async fn logs(server: &TestServer, http: &Client, q: &str) -> Vec<Value> {
    let response = http
        .get(api(server, "/audit-logs"))
        .query(&[("q", q), ("page_size", "100")])
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "audit-logs q={q}");
    response.json().await.unwrap()
}

/// The audit log's stored totals (kept by triggers, `audit_log_counts`) equal the entries counted row by row:
/// of all projects (kept under 0) and of each project. One statement reads both, so both come from one
/// snapshot even while the server writes entries.
pub async fn assert_audit_totals_are_exact(server: &TestServer) {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT 'counted', CAST(0 AS BIGINT), COUNT(*) FROM audit_log
         UNION ALL
         SELECT 'counted', project_id, COUNT(*) FROM audit_log WHERE project_id IS NOT NULL GROUP BY project_id
         UNION ALL
         SELECT 'stored', project_id, entries FROM audit_log_counts WHERE project_id = 0 OR entries <> 0
         ORDER BY 1, 2",
    )
    .fetch_all(&server.state.db.raw_write_pool())
    .await
    .unwrap();
    let of = |kind: &str| -> Vec<(i64, i64)> {
        rows.iter()
            .filter(|(k, _, _)| k == kind)
            .map(|&(_, project, entries)| (project, entries))
            .collect()
    };
    assert_eq!(
        of("stored"),
        of("counted"),
        "(project id, entries): stored against counted"
    );
}

/// The one entry of `operation` on `resource`; checks its type, who and the address.
async fn entry(
    server: &TestServer,
    http: &Client,
    operation: &str,
    resource_type: &str,
    resource: &str,
    username: &str,
) -> Value {
    let found = logs(
        server,
        http,
        &format!("operation={operation},resource={resource}"),
    )
    .await;
    assert_eq!(found.len(), 1, "{operation} {resource}: {found:?}");
    let entry = found[0].clone();
    assert_eq!(entry["resource_type"], resource_type, "{entry}");
    assert_eq!(entry["username"], username, "{entry}");
    assert_eq!(entry["client_ip"], "127.0.0.1", "{entry}");
    assert!(entry["op_time"].as_str().unwrap() > "2000", "{entry}");
    assert!(entry["id"].as_i64().unwrap() > 0, "{entry}");
    entry
}

#[tokio::test]
async fn registry_push_pull_and_deletes_are_audited() {
    let server = TestServer::start().await;
    let http = client();
    server.create_project("proj", false).await;
    let image = Image::build(7, "amd64", &[100]);
    let digest = push(&server, &http, "proj/app", "v1", &image).await;
    entry(
        &server,
        &http,
        "create",
        "artifact",
        "proj/app:v1",
        ADMIN_USER,
    )
    .await;

    for _ in 0..2 {
        assert_eq!(pull(&server, &http, "proj/app", "v1").await, StatusCode::OK);
    }
    assert_eq!(
        pull(&server, &http, "proj/app", &digest).await,
        StatusCode::OK
    );
    server.state.pulls.flush().await;
    let pulls = logs(&server, &http, "operation=pull,resource=proj/app:v1").await;
    assert_eq!(pulls.len(), 2, "{pulls:?}");
    assert!(pulls.iter().all(|p| p["username"] == ADMIN_USER
        && p["client_ip"] == "127.0.0.1"
        && p["resource_type"] == "artifact"));
    let by_digest = format!("proj/app@{digest}");
    entry(&server, &http, "pull", "artifact", &by_digest, ADMIN_USER).await;

    let response = http
        .delete(server.url("/v2/proj/app/manifests/v1"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    entry(&server, &http, "delete", "tag", "proj/app:v1", ADMIN_USER).await;

    let response = http
        .delete(server.url(&format!("/v2/proj/app/manifests/{digest}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    entry(&server, &http, "delete", "artifact", &by_digest, ADMIN_USER).await;

    let layer = &upload_blob(&server, &http, "proj/app", b"loose blob").await;
    let response = http
        .delete(server.url(&format!("/v2/proj/app/blobs/{layer}")))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let blob = format!("proj/app@{layer}");
    entry(&server, &http, "delete", "blob", &blob, ADMIN_USER).await;
    server.stop().await;
}

/// The pulls of one batch (written in multi-row statements of 32, 16, … 1 rows) each get their own entry,
/// in the right project, and the per-project totals kept by the database count every one.
#[tokio::test]
async fn a_batch_of_pulls_is_audited_one_entry_per_pull() {
    let server = TestServer::start().await;
    let http = client();
    server.create_project("alpha", false).await;
    server.create_project("beta", false).await;
    let image = Image::build(71, "amd64", &[100]);
    push(&server, &http, "alpha/app", "v1", &image).await;
    let digest = push(&server, &http, "beta/app", "v2", &image).await;
    server.state.pulls.flush().await;
    let total = |project: &'static str| {
        let (server, http) = (&server, &http);
        async move {
            let response = http
                .get(api(
                    server,
                    &format!("/projects/{project}/logs?page_size=1"),
                ))
                .admin()
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.headers()["x-total-count"]
                .to_str()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        }
    };
    let (alpha_before, beta_before) = (total("alpha").await, total("beta").await);
    // 71 pulls, alternating projects: one batch of 32 + 32 + 4 + 2 + 1 rows.
    for i in 0..71 {
        let (repo, reference) = if i % 2 == 0 {
            ("alpha/app", "v1")
        } else {
            ("beta/app", digest.as_str())
        };
        assert_eq!(pull(&server, &http, repo, reference).await, StatusCode::OK);
    }
    server.state.pulls.flush().await;
    let alpha = logs(&server, &http, "operation=pull,resource=alpha/app:v1").await;
    let beta = logs(
        &server,
        &http,
        &format!("operation=pull,resource=beta/app@{digest}"),
    )
    .await;
    assert_eq!((alpha.len(), beta.len()), (36, 35));
    assert!(
        alpha
            .iter()
            .chain(&beta)
            .all(|p| p["username"] == ADMIN_USER
                && p["client_ip"] == "127.0.0.1"
                && p["resource_type"] == "artifact"),
        "{alpha:?} {beta:?}"
    );
    assert_eq!(total("alpha").await, alpha_before + 36);
    assert_eq!(total("beta").await, beta_before + 35);
    assert_audit_totals_are_exact(&server).await;
    server.stop().await;
}

#[tokio::test]
async fn project_create_update_and_delete_are_audited() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    entry(&server, &http, "create", "project", "team", ADMIN_USER).await;
    let response = http
        .put(api(&server, "/projects/team"))
        .admin()
        .json(&json!({"metadata": {"public": "true"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    entry(&server, &http, "update", "project", "team", ADMIN_USER).await;
    let response = http
        .delete(api(&server, "/projects/team"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    entry(&server, &http, "delete", "project", "team", ADMIN_USER).await;
    server.stop().await;
}

#[tokio::test]
async fn member_create_update_and_delete_are_audited() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    member(&server, &http, "team", "alice", 2).await;
    entry(&server, &http, "create", "member", "alice", ADMIN_USER).await;
    let mid = server
        .state
        .db
        .find_user("alice")
        .await
        .unwrap()
        .unwrap()
        .id;
    let members: Vec<Value> = http
        .get(api(&server, "/projects/team/members"))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mid = members
        .iter()
        .find(|m| m["entity_id"] == mid)
        .and_then(|m| m["id"].as_i64())
        .unwrap();
    let url = api(&server, &format!("/projects/team/members/{mid}"));
    let response = http
        .put(&url)
        .admin()
        .json(&json!({"role_id": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let resource = format!("members/{mid}");
    entry(&server, &http, "update", "member", &resource, ADMIN_USER).await;
    let response = http.delete(&url).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    entry(&server, &http, "delete", "member", &resource, ADMIN_USER).await;
    server.stop().await;
}

#[tokio::test]
async fn robot_create_update_refresh_and_delete_are_audited() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    let body = json!({
        "name": "ci",
        "level": "project",
        "duration": 30,
        "permissions": [{"kind": "project", "namespace": "team",
                         "access": [{"resource": "repository", "action": "pull"}]}],
    });
    let response = http
        .post(api(&server, "/robots"))
        .admin()
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let (id, name) = (
        created["id"].as_i64().unwrap(),
        created["name"].as_str().unwrap().to_owned(),
    );
    entry(&server, &http, "create", "robot", &name, ADMIN_USER).await;
    let url = api(&server, &format!("/robots/{id}"));
    let mut update = body.clone();
    update["name"] = json!(name);
    update["description"] = json!("builds");
    let response = http.put(&url).admin().json(&update).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .patch(&url)
        .admin()
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let updates = logs(&server, &http, &format!("operation=update,resource={name}")).await;
    assert_eq!(updates.len(), 2, "{updates:?}");
    let response = http.delete(&url).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    entry(&server, &http, "delete", "robot", &name, ADMIN_USER).await;
    // The robot's entries are in its project's log.
    let project: Vec<Value> = http
        .get(api(&server, "/projects/team/logs"))
        .query(&[("q", format!("resource={name}"))])
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(project.len(), 4, "{project:?}");
    server.stop().await;
}

#[tokio::test]
async fn rest_tag_create_and_artifact_tag_repository_deletes_are_audited() {
    let server = TestServer::start().await;
    let http = client();
    server.create_project("proj", false).await;
    let digest = push(
        &server,
        &http,
        "proj/app",
        "v1",
        &Image::build(3, "amd64", &[50]),
    )
    .await;
    let artifact = api(
        &server,
        &format!("/projects/proj/repositories/app/artifacts/{digest}"),
    );
    let response = http
        .post(format!("{artifact}/tags"))
        .admin()
        .json(&json!({"name": "v2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    entry(&server, &http, "create", "tag", "proj/app:v2", ADMIN_USER).await;
    let response = http
        .delete(format!("{artifact}/tags/v2"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    entry(&server, &http, "delete", "tag", "proj/app:v2", ADMIN_USER).await;
    let response = http.delete(&artifact).admin().send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let resource = format!("proj/app@{digest}");
    entry(&server, &http, "delete", "artifact", &resource, ADMIN_USER).await;

    push(
        &server,
        &http,
        "proj/other",
        "v1",
        &Image::build(4, "amd64", &[50]),
    )
    .await;
    let response = http
        .delete(api(&server, "/projects/proj/repositories/other"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    entry(
        &server,
        &http,
        "delete",
        "repository",
        "proj/other",
        ADMIN_USER,
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn sign_ins_are_audited_at_the_token_service_and_v2() {
    let server = TestServer::start().await;
    let http = client();
    server.create_user("alice", PASSWORD, false).await;
    let token = server.url("/service/token?service=berth");
    let response = http
        .get(&token)
        .user("alice", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http
        .get(&token)
        .user("alice", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = http
        .get(server.url("/v2/"))
        .user("bob", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = http
        .get(server.url("/v2/"))
        .user("alice", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let logins = logs(&server, &http, "operation=login,username=alice").await;
    assert_eq!(logins.len(), 2, "{logins:?}");
    assert!(logins.iter().all(|l| l["resource"] == "alice"
        && l["resource_type"] == "user"
        && l["client_ip"] == "127.0.0.1"));
    entry(&server, &http, "login_failed", "user", "alice", "alice").await;
    entry(&server, &http, "login_failed", "user", "bob", "bob").await;
    server.stop().await;
}

/// Creates project `name` as admin with `X-Forwarded-For: forwarded`; returns the audited `client_ip`.
async fn forwarded_create(
    server: &TestServer,
    http: &Client,
    name: &str,
    forwarded: &str,
) -> Value {
    let response = http
        .post(api(server, "/projects"))
        .admin()
        .header("x-forwarded-for", forwarded)
        .json(&json!({"project_name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let found = logs(server, http, &format!("operation=create,resource={name}")).await;
    found[0]["client_ip"].clone()
}

#[tokio::test]
async fn a_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let server = TestServer::start().await;
    let http = client();
    assert_eq!(
        forwarded_create(&server, &http, "team", "203.0.113.9, 10.0.0.1").await,
        "127.0.0.1"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client() {
    let server = TestServer::start_with(|config| {
        config.trusted_proxies =
            berth::config::TrustedProxies::parse(["127.0.0.1", "10.0.0.0/8"]).unwrap();
    })
    .await;
    let http = client();
    // Both hops are trusted proxies, so the client is the address the first one received the request from.
    assert_eq!(
        forwarded_create(&server, &http, "team", "203.0.113.9, 10.0.0.1").await,
        "203.0.113.9"
    );
    // What the client wrote to the left of the address its proxy saw proves nothing.
    assert_eq!(
        forwarded_create(&server, &http, "other", "192.0.2.1, 198.51.100.4").await,
        "198.51.100.4"
    );
    server.stop().await;
}

#[tokio::test]
async fn audit_logs_page_and_filter() {
    let server = TestServer::start().await;
    let http = client();
    for name in ["one", "two", "three"] {
        create_project(&server, &http, json!({"project_name": name})).await;
    }
    let response = http
        .get(api(
            &server,
            "/audit-logs?q=operation=create,resource=~o&page=1&page_size=1",
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "2");
    assert!(
        response.headers()["link"]
            .to_str()
            .unwrap()
            .contains("rel=\"next\"")
    );
    let page: Vec<Value> = response.json().await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["resource"], "two", "newest first");
    let response = http
        .get(api(&server, "/audit-logs?q=nope=1"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn only_admins_read_the_logs() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    create_project(&server, &http, json!({"project_name": "other"})).await;
    member(&server, &http, "team", "boss", 1).await;
    member(&server, &http, "team", "dev", 2).await;
    server.create_user("outsider", PASSWORD, false).await;

    let get = |path: &str, user: &str| {
        http.get(api(&server, path))
            .basic_auth(user, Some(PASSWORD))
            .send()
    };
    assert_eq!(
        get("/audit-logs", "boss").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        http.get(api(&server, "/audit-logs"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let response = get("/projects/team/logs", "boss").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let entries: Vec<Value> = response.json().await.unwrap();
    assert!(!entries.is_empty());
    assert!(
        entries.iter().all(|e| e["resource"] != "other"),
        "another project's entries leaked: {entries:?}"
    );
    assert_eq!(
        get("/projects/team/logs", "dev").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get("/projects/team/logs", "outsider")
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let response = http
        .get(api(&server, "/projects/team/logs"))
        .basic_auth(ADMIN_USER, Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    server.stop().await;
}

/// The bytes of every file under `dir` (the database and its write-ahead log, the blob store).
fn bytes_under(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                bytes_under(&entry.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_usernames_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = crate::support::BinaryServer::start(&data);
    let http = client();
    let log = data.with_extension("log");
    let huge = "u".repeat(200 * 1024);
    // Settle the first start's writes, then measure.
    let response = http
        .get(server.url("/api/v2.0/audit-logs"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (db_before, log_before) = (bytes_under(&data), std::fs::metadata(&log).unwrap().len());
    let basic = |path: &str| http.get(server.url(path)).user(&huge, "pw").send();
    let mut answers = Vec::new();
    for _ in 0..25 {
        answers.push([
            basic("/service/token?service=berth-registry")
                .await
                .unwrap()
                .status(),
            basic("/v2/").await.unwrap().status(),
            basic("/api/v2.0/users/current").await.unwrap().status(),
            http.post(server.url("/c/login"))
                .form(&[("principal", huge.as_str()), ("password", "pw")])
                .send()
                .await
                .unwrap()
                .status(),
        ]);
    }
    let logged: Vec<Value> = http
        .get(server.url("/api/v2.0/audit-logs?q=operation%3Dlogin_failed"))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(logged, Vec::<Value>::new(), "no audit entry");
    let db_growth = bytes_under(&data).saturating_sub(db_before);
    let log_growth = std::fs::metadata(&log).unwrap().len() - log_before;
    assert!(
        db_growth < 512 * 1024,
        "100 huge sign-ins grew the data by {db_growth} bytes"
    );
    assert!(
        log_growth < 64 * 1024,
        "100 huge sign-ins grew the log by {log_growth} bytes"
    );
    let refused = [
        StatusCode::UNAUTHORIZED,
        StatusCode::UNAUTHORIZED,
        StatusCode::UNAUTHORIZED,
        StatusCode::BAD_REQUEST,
    ];
    assert!(answers.iter().all(|a| *a == refused), "{answers:?}");
}

#[tokio::test]
async fn both_logs_take_harbors_time_range_and_operation_list() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    let response = http
        .put(api(&server, "/projects/team"))
        .admin()
        .json(&json!({"metadata": {"auto_scan": "true"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let today = chrono::Utc::now().date_naive();
    let (yesterday, tomorrow) = (today - chrono::Days::new(1), today + chrono::Days::new(1));
    // What Harbor's portal sends: `op_time=[start~end]` and `operation={a b}`, with the other filters.
    for base in ["/audit-logs", "/projects/team/logs"] {
        let count = |q: String| {
            let http = http.clone();
            let url = api(&server, base);
            async move {
                let response = http
                    .get(url)
                    .query(&[("q", q.as_str()), ("page_size", "100")])
                    .admin()
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::OK, "{base} q={q}");
                let entries: Vec<Value> = response.json().await.unwrap();
                entries
                    .iter()
                    .filter(|e| e["resource"] == "team")
                    .map(|e| e["operation"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        let both = vec!["update".to_owned(), "create".to_owned()];
        assert_eq!(
            count(format!(
                "op_time=[{yesterday} 00:00:00~{tomorrow} 23:59:59]"
            ))
            .await,
            both
        );
        assert_eq!(
            count(format!("op_time=[{today}~{today}],resource=team")).await,
            both,
            "a date is its whole day"
        );
        assert_eq!(
            count(format!("op_time=[{yesterday}T00:00:00Z~]")).await,
            both,
            "open end"
        );
        assert!(
            count(format!("op_time=[~{yesterday}]")).await.is_empty(),
            "open start"
        );
        assert!(
            count("op_time=[2000-01-01 00:00:00~2000-01-02 00:00:00]".to_owned())
                .await
                .is_empty()
        );
        assert_eq!(
            count("operation={create delete}".to_owned()).await,
            ["create"]
        );
        assert_eq!(
            count(format!(
                "operation={{create update}},op_time=[{today}~],username=~adm"
            ))
            .await,
            both
        );
        let response = http
            .get(api(&server, base))
            .query(&[("q", "op_time=[yesterday~]")])
            .admin()
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{base}: a bad time is refused"
        );
    }
    server.stop().await;
}

/// Harbor 2.13's extended audit log: the same entries as `AuditLogExt` (with a description and the result),
/// the whole log for system admins and a project's for its admins, and the event types.
#[tokio::test]
async fn the_extended_audit_log_describes_each_entry_and_its_result() {
    let server = TestServer::start().await;
    let http = client();
    create_project(&server, &http, json!({"project_name": "team"})).await;
    create_project(&server, &http, json!({"project_name": "other"})).await;
    member(&server, &http, "team", "boss", 1).await;
    let response = http
        .get(server.url("/v2/"))
        .user("boss", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let response = http
        .get(api(
            &server,
            "/auditlog-exts?q=resource_type%3Dproject&sort=op_time",
        ))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "2");
    let projects: Vec<Value> = response.json().await.unwrap();
    assert_eq!(projects[0]["resource"], "team");
    assert_eq!(projects[0]["operation"], "create");
    assert_eq!(projects[0]["operation_description"], "create project: team");
    assert_eq!(projects[0]["operation_result"], true);
    assert_eq!(projects[0]["username"], ADMIN_USER);
    assert!(projects[0]["op_time"].as_str().unwrap() > "2000");
    assert!(projects[0].get("client_ip").is_none(), "not in AuditLogExt");
    assert_eq!(projects[1]["resource"], "other");
    let failed: Vec<Value> = http
        .get(api(&server, "/auditlog-exts?q=operation%3Dlogin_failed"))
        .admin()
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["operation_result"], false);
    assert_eq!(failed[0]["resource"], "boss");

    // A project's log: its entries only, for its admins.
    let url = api(&server, "/projects/team/auditlog-exts");
    let response = http.get(&url).user("boss", PASSWORD).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let own: Vec<Value> = response.json().await.unwrap();
    assert!(!own.is_empty());
    assert!(own.iter().all(|e| e["resource"] != "other"), "{own:?}");
    assert!(
        own.iter()
            .any(|e| e["operation_description"] == "create project: team")
    );
    let response = http
        .get(api(&server, "/projects/other/auditlog-exts"))
        .user("boss", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http
        .get(api(&server, "/auditlog-exts"))
        .user("boss", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = http
        .get(api(&server, "/auditlog-exts?q=bogus%3D1"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // The event types.
    let response = http
        .get(api(&server, "/auditlog-exts/events"))
        .admin()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let events: Vec<Value> = response.json().await.unwrap();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    for expected in [
        "create_project",
        "delete_artifact",
        "pull_artifact",
        "login_failed_user",
    ] {
        assert!(names.contains(&expected), "{expected}: {names:?}");
    }
    let response = http
        .get(api(&server, "/auditlog-exts/events"))
        .user("boss", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    server.stop().await;
}
