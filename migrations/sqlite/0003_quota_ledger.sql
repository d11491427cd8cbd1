-- Quota ledger: each blob (layer, config or manifest) counts once per project, whatever repositories share it.
-- Invariant, checked by `berth quota reconcile`: a project's rows here are exactly the digests linked into its
-- repositories plus its manifests, and projects.storage_used is the sum of their sizes.

CREATE TABLE project_blobs (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    digest     TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (project_id, digest)
);

ALTER TABLE projects ADD COLUMN storage_used INTEGER NOT NULL DEFAULT 0;

INSERT OR IGNORE INTO project_blobs (project_id, digest, size, created_at)
    SELECT r.project_id, rb.digest, b.size, rb.created_at
    FROM repository_blobs rb
    JOIN repositories r ON r.id = rb.repository_id
    JOIN blobs b ON b.digest = rb.digest;
INSERT OR IGNORE INTO project_blobs (project_id, digest, size, created_at)
    SELECT r.project_id, a.digest, a.size, a.push_time
    FROM artifacts a
    JOIN repositories r ON r.id = a.repository_id;
UPDATE projects SET storage_used = (SELECT COALESCE(SUM(size), 0) FROM project_blobs WHERE project_id = projects.id);
