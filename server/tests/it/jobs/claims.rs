//! Several nodes share one job table: each job is claimed by exactly one of them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use berth::db::Db;
use berth::db::jobs::NewJob;
use berth::db::timestamp;

use super::job_log;
use crate::support::{BinaryServer, client, database_url};

fn database(dir: &std::path::Path) -> String {
    database_url(dir)
}

fn job<'a>(kind: &'a str, parameters: &'a str, now: &'a str) -> NewJob<'a> {
    NewJob {
        kind,
        parameters,
        max_attempts: 1,
        triggered_by: "MANUAL",
        operator: "admin",
        schedule_id: None,
        run_after: now,
    }
}

/// The claim itself, raced by 16 claimers over two connection pools (as two processes would hold) on one
/// database: every job is claimed once, none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_take_each_job_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = database(dir.path());
    let a = Db::open(&url).await.unwrap();
    let b = Db::open(&url).await.unwrap();
    let now = timestamp(chrono::Utc::now());
    for _ in 0..200 {
        a.enqueue_job(&job("CLAIM_TEST", "{}", &now), 1000)
            .await
            .unwrap()
            .unwrap();
    }
    let lease = timestamp(chrono::Utc::now() + chrono::Duration::hours(1));
    let mut claimers = Vec::new();
    for i in 0..16 {
        let db = if i % 2 == 0 { a.clone() } else { b.clone() };
        let (now, lease) = (now.clone(), lease.clone());
        claimers.push(tokio::spawn(async move {
            let node = format!("node-{i}");
            let mut mine = Vec::new();
            while let Some(row) = db
                .claim_job(&node, &format!("{node}-0"), &now, &lease)
                .await
                .unwrap()
            {
                assert_eq!(row.node.as_deref(), Some(node.as_str()));
                mine.push(row.id);
            }
            mine
        }));
    }
    let mut claimed: HashMap<i64, usize> = HashMap::new();
    for claimer in claimers {
        for id in claimer.await.unwrap() {
            *claimed.entry(id).or_default() += 1;
        }
    }
    assert_eq!(claimed.len(), 200, "every job claimed");
    assert!(claimed.values().all(|n| *n == 1), "no job claimed twice");
    a.close().await;
    b.close().await;
}

/// Two `berth` processes on one data directory run a batch of jobs: each runs once, by one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_berth_processes_run_each_job_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let env = [("BERTH_JOBS__POLL_MS", "50"), ("BERTH_JOBS__WORKERS", "2")];
    let one = BinaryServer::start_with_env(&data, &env);
    let two = BinaryServer::start_with_env(&data, &env);
    let db = Db::open(&database(&data)).await.unwrap();
    let now = timestamp(chrono::Utc::now());
    let parameters = r#"{"audit_retention_hour":1,"include_operations":"pull","dry_run":true}"#;
    let mut ids = Vec::new();
    for _ in 0..40 {
        let id = db
            .enqueue_job(&job("PURGE_AUDIT_LOG", parameters, &now), 1000)
            .await
            .unwrap()
            .unwrap();
        ids.push(id);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut done = 0;
        for id in &ids {
            let row = db.job(*id).await.unwrap().unwrap();
            if row.state != "pending" && row.state != "running" {
                assert_eq!(row.state, "success", "job {id}");
                done += 1;
            }
        }
        if done == ids.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{done} of {} jobs ran",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let http = client();
    let mut nodes = HashMap::new();
    for id in &ids {
        let row = db.job(*id).await.unwrap().unwrap();
        assert_eq!(row.attempts, 1, "job {id} was claimed once");
        let log = job_log(&http, &one.url(""), *id).await;
        assert_eq!(log.matches("started on node").count(), 1, "{log}");
        let node = log
            .split("started on node ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .to_owned();
        *nodes.entry(node).or_insert(0) += 1;
    }
    // Both pools are listed while they run.
    let pools: serde_json::Value = http
        .get(two.url("/api/v2.0/jobservice/pools"))
        .basic_auth(
            crate::support::ADMIN_USER,
            Some(crate::support::ADMIN_PASSWORD),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pools.as_array().map(Vec::len), Some(2), "{pools}");
    for node in nodes.keys() {
        assert!(
            pools
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["worker_pool_id"] == node.as_str()),
            "{node} ran jobs but is not a listed pool: {pools}"
        );
    }
    db.close().await;
    drop((one, two));
}
