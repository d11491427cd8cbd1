-- Robot accounts: robot$<project>+<name> (project level) or robot$<name> (system level), with an explicit
-- permission list (JSON array of Harbor's RobotPermission), a hashed secret, an expiry and a disable flag.
CREATE TABLE robots (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL UNIQUE,
    description  TEXT    NOT NULL DEFAULT '',
    level        TEXT    NOT NULL CHECK (level IN ('system', 'project')),
    project_id   INTEGER REFERENCES projects (id) ON DELETE CASCADE,
    secret_hash  TEXT    NOT NULL,
    disabled     INTEGER NOT NULL DEFAULT 0,
    duration     INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    permissions  TEXT    NOT NULL,
    creator_ref  INTEGER NOT NULL,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);
CREATE INDEX robots_project ON robots (project_id);
