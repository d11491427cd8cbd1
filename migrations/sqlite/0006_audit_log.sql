-- The audit log: who did what to which resource, when, and from which address (`server/src/events/audit.rs`).
-- project_id is NULL for events outside a project (sign-ins, robots of the system); entries outlive their
-- project so that a deletion stays visible, hence no foreign key.

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id    INTEGER,
    operation     TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource      TEXT NOT NULL,
    username      TEXT NOT NULL DEFAULT '',
    client_ip     TEXT NOT NULL DEFAULT '',
    op_time       TEXT NOT NULL
);
CREATE INDEX audit_log_op_time ON audit_log (op_time);
CREATE INDEX audit_log_project ON audit_log (project_id, op_time);
