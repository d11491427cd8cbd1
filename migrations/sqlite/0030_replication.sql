-- Replication (`server/src/replication/`, queries in `server/src/db/replication.rs`).
--
-- A policy copies artifacts between Berth and one registry endpoint (`registries`): push-based when the source
-- is Berth (src_registry_id NULL), pull-based when the destination is (dest_registry_id NULL). Its filters,
-- trigger and copy settings are Harbor's JSON in `settings`. A scheduled policy has a `job_schedules` row
-- (vendor_type 'REPLICATION', vendor_id = the policy's id). A run is an execution (its id is the REPLICATION
-- job's, which holds the state, times and log), with one task per source repository.

CREATE TABLE replication_policies (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL UNIQUE,
    description      TEXT    NOT NULL DEFAULT '',
    -- No foreign keys: a registry in use is refused deletion by the API; a run finding it gone fails clearly.
    src_registry_id  INTEGER,
    dest_registry_id INTEGER,
    -- Harbor's ReplicationPolicy JSON without id, name, description, registries and times.
    settings         TEXT    NOT NULL,
    -- manual, scheduled or event_based (also in settings; here for the event lookup).
    trigger_type     TEXT    NOT NULL,
    enabled          INTEGER NOT NULL,
    creator          TEXT    NOT NULL,
    creation_time    TEXT    NOT NULL,
    update_time      TEXT    NOT NULL
);
CREATE INDEX replication_policies_trigger ON replication_policies (trigger_type, enabled);

CREATE TABLE replication_executions (
    -- The REPLICATION job's id.
    id           INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    policy_id    INTEGER NOT NULL REFERENCES replication_policies (id) ON DELETE CASCADE,
    -- manual, scheduled or event_based
    trigger_type TEXT    NOT NULL,
    created_at   TEXT    NOT NULL
);
CREATE INDEX replication_executions_policy ON replication_executions (policy_id, id);

CREATE TABLE replication_tasks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id  INTEGER NOT NULL REFERENCES replication_executions (id) ON DELETE CASCADE,
    -- copy or deletion
    operation     TEXT    NOT NULL,
    resource_type TEXT    NOT NULL,
    -- The source repository; a task's references are in src_resource.
    repository    TEXT    NOT NULL,
    src_resource  TEXT    NOT NULL,
    dst_resource  TEXT    NOT NULL,
    -- Pending, InProgress, Succeed, Failed, Stopped
    status        TEXT    NOT NULL,
    start_time    TEXT,
    end_time      TEXT,
    -- The task's own log lines (bounded).
    log           TEXT    NOT NULL DEFAULT '',
    UNIQUE (execution_id, operation, repository)
);
