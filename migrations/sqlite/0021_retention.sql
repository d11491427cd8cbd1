-- Tag retention (`server/src/retention/`, queries in `server/src/db/retention.rs`).
--
-- A policy is a row of `retention_policies` (0010): Harbor's RetentionPolicy JSON, one per project, named by the
-- project's `retention_id` metadata. Its schedule is a `job_schedules` row (vendor_type 'RETENTION', vendor_id =
-- the policy's id) that enqueues a RETENTION job. A run is an execution (its id is the job's), with one task per
-- repository in scope, and one reason per tag and untagged artifact the task looked at: kept or removed, and why.

CREATE TABLE retention_executions (
    -- The RETENTION job's id: the job holds the state, times and log.
    id           INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    policy_id    INTEGER NOT NULL REFERENCES retention_policies (id) ON DELETE CASCADE,
    dry_run      INTEGER NOT NULL,
    -- MANUAL or SCHEDULE
    triggered_by TEXT    NOT NULL,
    created_at   TEXT    NOT NULL
);
CREATE INDEX retention_executions_policy ON retention_executions (policy_id, id);

CREATE TABLE retention_tasks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id INTEGER NOT NULL REFERENCES retention_executions (id) ON DELETE CASCADE,
    -- The repository's full name (project/name).
    repository   TEXT    NOT NULL,
    -- Pending, Running, Success, Error, Stopped
    status       TEXT    NOT NULL,
    start_time   TEXT,
    end_time     TEXT,
    -- Tags and untagged artifacts looked at, and how many of them were kept.
    total        INTEGER NOT NULL DEFAULT 0,
    retained     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (execution_id, repository)
);

-- Each tag (or untagged artifact: tag NULL) of a task, in the order it was evaluated (newest push first).
CREATE TABLE retention_reasons (
    task_id          INTEGER NOT NULL REFERENCES retention_tasks (id) ON DELETE CASCADE,
    seq              INTEGER NOT NULL,
    tag              TEXT,
    -- No foreign key: the reasons outlive the artifacts they removed.
    artifact_id      INTEGER NOT NULL,
    digest           TEXT    NOT NULL,
    retained         INTEGER NOT NULL,
    -- The retention rule (its 1-based position in the policy) that kept it, if one did.
    rule             INTEGER,
    reason           TEXT    NOT NULL,
    -- Removed, and its artifact deleted too (no kept tag, and no index, needed it); else only the tag went.
    artifact_deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, seq)
);
CREATE INDEX retention_reasons_artifact ON retention_reasons (task_id, artifact_id, retained);

-- Proxy projects made before this migration hold Harbor's default policy (keep what was pulled in the last 7
-- days, daily at midnight UTC) but nothing ran it: give each such policy its schedule, first firing at the next
-- midnight UTC (the scheduler computes every later firing from the cron).
INSERT INTO job_schedules (vendor_type, vendor_id, schedule_type, cron, parameters, operator, next_run,
                           created_at, updated_at)
SELECT 'RETENTION', p.id, 'Custom', json_extract(p.policy, '$.trigger.settings.cron'),
       '{"policy_id":' || p.id || ',"dry_run":false}', 'schedule',
       strftime('%Y-%m-%dT00:00:00.000000Z', 'now', '+1 day'),
       strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'), strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')
FROM retention_policies p
WHERE json_extract(p.policy, '$.trigger.kind') = 'Schedule'
  AND COALESCE(json_extract(p.policy, '$.trigger.settings.cron'), '') <> ''
  AND NOT EXISTS (SELECT 1 FROM job_schedules s WHERE s.vendor_type = 'RETENTION' AND s.vendor_id = p.id);
