-- Registry core: users, projects, repositories, blobs, artifacts (manifests), tags, upload sessions, signing keys.
-- Timestamps are RFC 3339 text (UTC). Names follow Harbor's where Harbor has the concept.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    email         TEXT,
    realname      TEXT    NOT NULL DEFAULT '',
    password_hash TEXT,
    sysadmin      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);

CREATE TABLE projects (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    owner_id   INTEGER NOT NULL REFERENCES users (id),
    public     INTEGER NOT NULL DEFAULT 0,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);

-- entity_type: 'u' user, 'g' group (Harbor's convention). role: Harbor's role ids
-- (1 projectAdmin, 2 developer, 3 guest, 4 maintainer, 5 limitedGuest).
CREATE TABLE project_members (
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    entity_type TEXT    NOT NULL CHECK (entity_type IN ('u', 'g')),
    entity_id   INTEGER NOT NULL,
    role        INTEGER NOT NULL,
    PRIMARY KEY (project_id, entity_type, entity_id)
);

-- A repository row exists once it holds content (a committed blob or a manifest).
CREATE TABLE repositories (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL UNIQUE,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
CREATE INDEX repositories_project ON repositories (project_id);

-- Every verified blob in the content store, once.
CREATE TABLE blobs (
    digest     TEXT    PRIMARY KEY,
    size       INTEGER NOT NULL,
    created_at TEXT    NOT NULL
);

-- Which repositories may serve which blobs: uploaded or mounted there.
CREATE TABLE repository_blobs (
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest        TEXT    NOT NULL REFERENCES blobs (digest),
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (repository_id, digest)
);

-- An artifact is a manifest (image manifest or index) stored in a repository.
CREATE TABLE artifacts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id  INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest         TEXT    NOT NULL,
    media_type     TEXT    NOT NULL,
    artifact_type  TEXT,
    subject_digest TEXT,
    annotations    TEXT,
    size           INTEGER NOT NULL,
    content        BLOB    NOT NULL,
    push_time      TEXT    NOT NULL,
    UNIQUE (repository_id, digest)
);
CREATE INDEX artifacts_subject ON artifacts (repository_id, subject_digest);

-- Blobs (config and layers) an artifact references; feeds quotas and garbage collection.
CREATE TABLE artifact_blobs (
    artifact_id INTEGER NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    digest      TEXT    NOT NULL,
    PRIMARY KEY (artifact_id, digest)
);

-- Manifests an index references.
CREATE TABLE artifact_children (
    parent_id    INTEGER NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    child_digest TEXT    NOT NULL,
    PRIMARY KEY (parent_id, child_digest)
);

CREATE TABLE tags (
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    artifact_id   INTEGER NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    push_time     TEXT    NOT NULL,
    PRIMARY KEY (repository_id, name)
);
CREATE INDEX tags_artifact ON tags (artifact_id);

-- An open blob upload. Its bytes are staged in <data>/uploads/<id>; the file length is the offset.
CREATE TABLE upload_sessions (
    id         TEXT    PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    repository TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
CREATE INDEX upload_sessions_updated ON upload_sessions (updated_at);

-- Keys that sign registry bearer tokens. Generated once and kept.
CREATE TABLE signing_keys (
    id          TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_pem TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
