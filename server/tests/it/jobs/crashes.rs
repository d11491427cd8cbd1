//! Jobs outlive their node: a pending job runs after a restart, a job whose node was killed mid-run is taken
//! back after its lease and finished by another node, and a job that cannot run again ends `error` with the
//! reason. Nothing is left `running`.

use berth::db::Db;
use berth::db::jobs::NewJob;
use berth::db::timestamp;
use serde_json::json;

use super::{audit_count, job_log, purge_now, seed_audit, wait_for};
use crate::support::{BinaryServer, TestServer, client, database_url};

#[tokio::test]
async fn a_pending_job_runs_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let http = client();
    // A node with no workers takes the job but cannot run it.
    let idle = TestServer::start_with(|c| {
        c.data_dir = data.clone();
        c.jobs.workers = 0;
    })
    .await;
    seed_audit(&idle.state.db, 30, "pull", 48).await;
    let base = idle.url("");
    let id = purge_now(
        &http,
        &base,
        json!({"audit_retention_hour": 24, "include_operations": "pull", "dry_run": false}),
    )
    .await;
    assert_eq!(
        super::purge_run(&http, &base, id).await["job_status"],
        "Pending"
    );
    idle.stop().await;

    let node = TestServer::start_with(|c| {
        c.data_dir = data.clone();
        c.jobs.poll_ms = 100;
    })
    .await;
    let base = node.url("");
    let run = wait_for(&http, &base, id, &["Success", "Error"]).await;
    assert_eq!(run["job_status"], "Success", "{run}");
    assert_eq!(audit_count(&node.state.db, "pull").await, 0);
    node.stop().await;
}

const ENV: [(&str, &str); 4] = [
    ("BERTH_JOBS__PURGE_BATCH", "2"),
    ("BERTH_JOBS__LEASE_SECS", "2"),
    ("BERTH_JOBS__POLL_MS", "100"),
    ("BERTH_JOBS__RETRY_DELAY_SECS", "1"),
];
const SEEDED: i64 = 40_000;

/// A `berth` process in the middle of a long purge (many old entries, deleted two at a time): the server,
/// the job's id, and a handle on its database.
async fn long_purge(data: &std::path::Path) -> (BinaryServer, i64, Db) {
    std::fs::create_dir_all(data).unwrap();
    let url = database_url(data);
    let db = Db::open(&url).await.unwrap();
    seed_audit(&db, usize::try_from(SEEDED).unwrap(), "pull", 48).await;
    let server = BinaryServer::start_with_env(data, &ENV);
    let http = client();
    let id = purge_now(
        &http,
        &server.url(""),
        json!({"audit_retention_hour": 24, "include_operations": "pull"}),
    )
    .await;
    wait_for(&http, &server.url(""), id, &["Running"]).await;
    while audit_count(&db, "pull").await == SEEDED {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    (server, id, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_of_a_killed_node_is_taken_back_and_finished_by_another() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut first, id, db) = long_purge(&data).await;
    first.signal_and_wait("KILL");
    let left = audit_count(&db, "pull").await;
    assert!(left > 0, "the purge finished before it could be killed");
    let row = db.job(id).await.unwrap().unwrap();
    assert_eq!(row.state, "running", "the killed node could not let go");
    assert_eq!(row.attempts, 1);

    let http = client();
    let second = BinaryServer::start_with_env(&data, &ENV);
    let run = wait_for(&http, &second.url(""), id, &["Success", "Error"]).await;
    assert_eq!(run["job_status"], "Success", "{run}");
    assert_eq!(
        audit_count(&db, "pull").await,
        0,
        "the retry deleted the rest"
    );
    let row = db.job(id).await.unwrap().unwrap();
    assert_eq!(row.attempts, 2);
    let log = job_log(&http, &second.url(""), id).await;
    assert!(log.contains("lease expired"), "{log}");
    assert!(log.contains("attempt 2 of 3"), "{log}");
    assert_eq!(log.matches("started on node").count(), 2, "{log}");
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_puts_a_running_job_back_in_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut first, id, db) = long_purge(&data).await;
    let status = first.signal_and_wait("TERM");
    assert!(status.success(), "{status:?}");
    let row = db.job(id).await.unwrap().unwrap();
    assert_eq!(row.state, "pending", "released, not left running");
    assert_eq!(row.node, None);
    assert_eq!(row.attempts, 0, "a shutdown is not a failed attempt");
    assert!(audit_count(&db, "pull").await > 0);

    let http = client();
    let second = BinaryServer::start_with_env(&data, &ENV);
    let run = wait_for(&http, &second.url(""), id, &["Success", "Error"]).await;
    assert_eq!(run["job_status"], "Success", "{run}");
    assert_eq!(audit_count(&db, "pull").await, 0);
    let log = job_log(&http, &second.url(""), id).await;
    assert!(
        log.contains("its node shut down; the job goes back to the queue"),
        "{log}"
    );
    db.close().await;
}

#[tokio::test]
async fn a_job_that_cannot_run_again_ends_in_error_with_the_reason() {
    let server = TestServer::start_with(|c| {
        c.jobs.poll_ms = 100;
        c.jobs.workers = 0;
    })
    .await;
    let db = &server.state.db;
    let now = timestamp(chrono::Utc::now());
    let job = NewJob {
        kind: "PURGE_AUDIT_LOG",
        parameters: r#"{"audit_retention_hour":1,"include_operations":"pull"}"#,
        max_attempts: 1,
        triggered_by: "MANUAL",
        operator: "admin",
        schedule_id: None,
        run_after: &now,
    };
    let id = db.enqueue_job(&job, 16).await.unwrap().unwrap();
    // A node that claims it and dies at once: its lease is already over.
    let past = timestamp(chrono::Utc::now() - chrono::Duration::seconds(1));
    let claimed = db
        .claim_job("dead-node", "dead-node-0", &now, &past)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, id);
    let http = client();
    let run = wait_for(&http, &server.url(""), id, &["Error", "Success"]).await;
    assert_eq!(run["job_status"], "Error");
    let log = job_log(&http, &server.url(""), id).await;
    assert!(
        log.contains(
            "its node dead-node stopped while running it (lease expired), and it cannot run again"
        ),
        "{log}"
    );
    server.stop().await;
}
