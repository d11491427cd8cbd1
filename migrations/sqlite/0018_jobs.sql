-- The durable job system (`server/src/jobs/`, queries in `server/src/db/jobs.rs`).
--
-- A job is a row. Any node claims a pending one with a single conditional UPDATE (state 'pending' → 'running',
-- naming itself in `node` and taking a lease until `lease_until`), renews the lease while the job runs, and
-- writes the outcome. A running row whose lease ran out belongs to a node that died: any node takes it back.
-- Timestamps are fixed-width RFC 3339 UTC text (`db::timestamp`), so they compare as strings.

CREATE TABLE jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Harbor's job type names: PURGE_AUDIT_LOG, GARBAGE_COLLECTION, RETENTION, ...
    kind           TEXT    NOT NULL,
    -- The kind's parameters, JSON text.
    parameters     TEXT    NOT NULL,
    -- pending, running, success, error, stopped
    state          TEXT    NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    max_attempts   INTEGER NOT NULL,
    -- MANUAL, SCHEDULE, EVENT
    triggered_by   TEXT    NOT NULL,
    -- The user who asked for it, or "schedule".
    operator       TEXT    NOT NULL,
    -- The schedule that fired it, if any (no foreign key: history outlives a deleted schedule).
    schedule_id    INTEGER,
    -- Not claimed before this time (retries back off through it).
    run_after      TEXT    NOT NULL,
    -- The node running it and the worker slot there, while running.
    node           TEXT,
    worker         TEXT,
    lease_until    TEXT,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT    NOT NULL,
    started_at     TEXT,
    finished_at    TEXT,
    updated_at     TEXT    NOT NULL,
    -- What the job's log holds, so the cap is checked without counting (see job_log).
    log_lines      INTEGER NOT NULL DEFAULT 0,
    log_bytes      INTEGER NOT NULL DEFAULT 0,
    log_truncated  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_claim ON jobs (state, run_after);
CREATE INDEX jobs_kind ON jobs (kind, id);

-- Each job's log, one row per line, capped per job (lines and bytes, with a final "log truncated" line).
CREATE TABLE job_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    at     TEXT    NOT NULL,
    level  TEXT    NOT NULL,
    line   TEXT    NOT NULL
);
CREATE INDEX job_log_job ON job_log (job_id, id);

-- A row per paused (or once paused) queue: a paused kind's pending jobs are not claimed.
CREATE TABLE job_queues (
    kind       TEXT    PRIMARY KEY,
    paused     INTEGER NOT NULL,
    updated_at TEXT    NOT NULL
);

-- Schedules (Harbor's `ScheduleTask`): what to enqueue (kind = vendor_type, for the vendor's id) and when.
-- `next_run` is compare-and-set by the node that fires it, so several nodes never fire one firing twice.
CREATE TABLE job_schedules (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    vendor_type   TEXT    NOT NULL,
    vendor_id     INTEGER NOT NULL DEFAULT 0,
    -- Hourly, Daily, Weekly, Custom
    schedule_type TEXT    NOT NULL,
    -- Six fields with seconds, as Harbor's: "0 0 * * * *".
    cron          TEXT    NOT NULL,
    parameters    TEXT    NOT NULL,
    operator      TEXT    NOT NULL,
    next_run      TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    UNIQUE (vendor_type, vendor_id)
);

-- The worker pool of each node (Harbor's `WorkerPool`), kept fresh by its heartbeat.
CREATE TABLE job_nodes (
    id           TEXT    PRIMARY KEY,
    pid          INTEGER NOT NULL,
    host         TEXT    NOT NULL,
    concurrency  INTEGER NOT NULL,
    started_at   TEXT    NOT NULL,
    heartbeat_at TEXT    NOT NULL
);

-- The audit-log purge deletes old entries of chosen operations in batches, oldest first.
CREATE INDEX audit_log_operation ON audit_log (operation, op_time);
