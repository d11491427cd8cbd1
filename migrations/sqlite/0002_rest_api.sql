-- REST API: members get Harbor's integer ids ("mid"), projects get Harbor's metadata key/value pairs.

CREATE TABLE project_members_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    entity_type TEXT    NOT NULL CHECK (entity_type IN ('u', 'g')),
    entity_id   INTEGER NOT NULL,
    role        INTEGER NOT NULL CHECK (role BETWEEN 1 AND 5),
    created_at  TEXT    NOT NULL DEFAULT '',
    updated_at  TEXT    NOT NULL DEFAULT '',
    UNIQUE (project_id, entity_type, entity_id)
);
INSERT INTO project_members_new (project_id, entity_type, entity_id, role)
    SELECT project_id, entity_type, entity_id, role FROM project_members;
DROP TABLE project_members;
ALTER TABLE project_members_new RENAME TO project_members;
CREATE INDEX project_members_entity ON project_members (entity_type, entity_id);

-- Harbor's project metadata (public, auto_scan, severity, ...), as strings like Harbor stores them.
-- `public` stays a column of projects; it is mirrored here only in API responses.
CREATE TABLE project_metadata (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    PRIMARY KEY (project_id, name)
);

-- The project's storage quota in bytes (-1: unlimited). Enforcement arrives with quota accounting.
ALTER TABLE projects ADD COLUMN storage_limit INTEGER NOT NULL DEFAULT -1;

-- Harbor's emails are unique; users created from the command line may have none.
CREATE UNIQUE INDEX users_email ON users (email) WHERE email IS NOT NULL AND email <> '';
