-- Webhooks (`server/src/webhooks/`, queries in `server/src/db/webhooks.rs`).
--
-- A policy belongs to a project and names the event types it sends and its targets (a receiver's URL, its
-- notify type and payload format, and an optional Authorization header, sealed by the server's SecretBox and
-- never kept in clear). Each event sent to one target is a WEBHOOK job (its state, attempts and log) with a
-- row here: Harbor's execution, which has one task, the delivery itself.

CREATE TABLE webhook_policies (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id    INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    -- JSON array of Harbor event types, e.g. ["PUSH_ARTIFACT","PULL_ARTIFACT"].
    event_types   TEXT    NOT NULL,
    enabled       INTEGER NOT NULL,
    creator       TEXT    NOT NULL,
    creation_time TEXT    NOT NULL,
    update_time   TEXT    NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE webhook_targets (
    policy_id        INTEGER NOT NULL REFERENCES webhook_policies (id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    -- http or slack
    notify_type      TEXT    NOT NULL,
    address          TEXT    NOT NULL,
    auth_header      BLOB,
    skip_cert_verify INTEGER NOT NULL,
    -- Default or CloudEvents for http; empty for slack
    payload_format   TEXT    NOT NULL,
    PRIMARY KEY (policy_id, position)
);

CREATE TABLE webhook_executions (
    -- The WEBHOOK job's id: the job holds the state, attempts, times and log.
    id          INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    policy_id   INTEGER NOT NULL REFERENCES webhook_policies (id) ON DELETE CASCADE,
    event_type  TEXT    NOT NULL,
    notify_type TEXT    NOT NULL,
    address     TEXT    NOT NULL,
    -- The receiver's HTTP status of the last attempt; NULL before one answered.
    status_code INTEGER,
    created_at  TEXT    NOT NULL
);
CREATE INDEX webhook_executions_policy ON webhook_executions (policy_id, id);
CREATE INDEX webhook_executions_event ON webhook_executions (policy_id, event_type, id);
