-- Quota ledger: each blob (layer, config or manifest) counts once per project, whatever repositories share it.
-- Invariant, checked by `berth quota reconcile`: a project's rows here are exactly the digests linked into its
-- repositories plus its manifests, and projects.storage_used is the sum of their sizes.

CREATE TABLE project_blobs (
    project_id BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    digest     TEXT COLLATE "C" NOT NULL,
    size       BIGINT  NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (project_id, digest)
);

ALTER TABLE projects ADD COLUMN storage_used BIGINT NOT NULL DEFAULT 0;

-- SQLite's INSERT OR IGNORE: a digest already counted for the project is skipped (also one the same
-- statement inserted a row earlier, for a blob linked into two repositories of one project).
INSERT INTO project_blobs (project_id, digest, size, created_at)
    SELECT r.project_id, rb.digest, b.size, rb.created_at
    FROM repository_blobs rb
    JOIN repositories r ON r.id = rb.repository_id
    JOIN blobs b ON b.digest = rb.digest
    ON CONFLICT DO NOTHING;
INSERT INTO project_blobs (project_id, digest, size, created_at)
    SELECT r.project_id, a.digest, a.size, a.push_time
    FROM artifacts a
    JOIN repositories r ON r.id = a.repository_id
    ON CONFLICT DO NOTHING;
UPDATE projects SET storage_used =
    (SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM project_blobs WHERE project_id = projects.id);
