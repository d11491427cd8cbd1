//! A job's log is capped: a chatty job cannot fill the database.

use berth::db::jobs::NewJob;
use berth::db::timestamp;
use berth::jobs::JobLog;
use berth::jobs::context::{LOG_MAX_BYTES, LOG_MAX_LINE, LOG_MAX_LINES};

use super::job_log;
use crate::support::{TestServer, client};

async fn new_job(server: &TestServer) -> i64 {
    let now = timestamp(chrono::Utc::now());
    let job = NewJob {
        kind: "PURGE_AUDIT_LOG",
        parameters: "{}",
        max_attempts: 1,
        triggered_by: "MANUAL",
        operator: "admin",
        schedule_id: None,
        run_after: &now,
    };
    server
        .state
        .db
        .enqueue_job(&job, 16)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_jobs_log_keeps_at_most_its_lines_and_bytes_and_says_so() {
    // No workers: the jobs stay pending while the test writes their logs.
    let server = TestServer::start_with(|c| c.jobs.workers = 0).await;
    let http = client();

    let by_lines = new_job(&server).await;
    let log = JobLog::new(server.state.db.clone(), by_lines);
    for i in 0..LOG_MAX_LINES + 50 {
        log.info(format!("line {i}")).await;
    }
    let text = job_log(&http, &server.url(""), by_lines).await;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() as i64, LOG_MAX_LINES);
    assert!(lines[lines.len() - 2].ends_with(&format!("line {}", LOG_MAX_LINES - 2)));
    assert!(
        lines[lines.len() - 1].contains("[WARNING] log truncated"),
        "{}",
        lines[lines.len() - 1]
    );

    // Long lines are cut, and the byte cap holds.
    let by_bytes = new_job(&server).await;
    let log = JobLog::new(server.state.db.clone(), by_bytes);
    let long = "é".repeat(LOG_MAX_LINE);
    let needed = LOG_MAX_BYTES / LOG_MAX_LINE as i64 + 10;
    for _ in 0..needed {
        log.warn(&long).await;
    }
    let text = job_log(&http, &server.url(""), by_bytes).await;
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.iter().all(|l| l.len() < LOG_MAX_LINE + 64));
    let stored: usize = lines.iter().map(|l| l.len()).sum();
    assert!(
        stored as i64 <= LOG_MAX_BYTES + lines.len() as i64 * 64,
        "{stored}"
    );
    assert!((lines.len() as i64) < needed);
    assert!(lines.last().unwrap().contains("log truncated"));
    server.stop().await;
}
