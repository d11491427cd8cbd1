-- Pull statistics, written in batches by the pull recorder (`server/src/stats.rs`), never on the request path.
-- pull_time is NULL until the first pull; the REST API shows Harbor's zero time for it then.

ALTER TABLE artifacts ADD COLUMN pull_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE artifacts ADD COLUMN pull_time TEXT COLLATE "C";
ALTER TABLE repositories ADD COLUMN pull_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tags ADD COLUMN pull_time TEXT COLLATE "C";

-- Manifest pulls per repository and UTC day ('YYYY-MM-DD'), for usage graphs.
CREATE TABLE pull_stats (
    project_id    BIGINT  NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    repository_id BIGINT  NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    day           TEXT COLLATE "C" NOT NULL,
    count         BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (repository_id, day)
);
CREATE INDEX pull_stats_project_day ON pull_stats (project_id, day);

-- The REST API lists an index's children only under the index; finding "is this digest a child" needs this.
CREATE INDEX artifact_children_child ON artifact_children (child_digest);
