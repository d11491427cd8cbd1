-- Registry endpoints (Harbor's `/registries`) and proxy-cache projects.

CREATE TABLE registries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL UNIQUE,
    -- docker-hub, docker-registry, harbor, github-ghcr, quay
    type            TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    insecure        INTEGER NOT NULL DEFAULT 0,
    -- NULL: anonymous; 'basic': access_key and the encrypted access_secret.
    credential_type TEXT,
    access_key      TEXT,
    -- Sealed with the configuration key (see server/src/crypto.rs); never returned by the API.
    access_secret   BLOB,
    -- 'healthy' or 'unhealthy' from the last check, with the upstream's rate-limit header if it sent one.
    status          TEXT    NOT NULL DEFAULT 'unknown',
    ratelimit       TEXT,
    checked_at      TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);

-- A project with a registry endpoint is a proxy cache of it. Deleting an endpoint in use is refused by the API.
ALTER TABLE projects ADD COLUMN registry_id INTEGER REFERENCES registries (id);

-- Tag retention policies (Harbor's `/retentions`). The job that applies them arrives later; a proxy project gets
-- one at creation that keeps what was pulled in the last 7 days.
CREATE TABLE retention_policies (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL UNIQUE REFERENCES projects (id) ON DELETE CASCADE,
    -- Harbor's RetentionPolicy JSON (algorithm, rules, trigger, scope).
    policy     TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
