-- Every console list under 50 ms at 100,000 artifacts and under 100 ms at 1,000,000 (bench/lists.py).
--
-- What a list shows that used to be computed per request, over every artifact, is now kept with the data:
--
-- * artifacts.listed: whether the artifact is listed on its own (neither a child of an index nor an accessory
--   of an artifact of its repository), and artifacts.total_size: its size with its blobs and children, as the
--   REST API shows it. Both are set by `db::artifact_rows::refresh_listing` in the transactions that store
--   and delete manifests, and total_size again by a trigger below when a blob an artifact references
--   arrives later (a proxy cache stores a manifest before its blobs).
-- * repositories.artifact_count, audit_log_counts and storage_totals: counters kept by triggers, so totals
--   are read, not counted.
-- * An index for each order the console sorts artifacts by, in both directions of the tie-breaker.
-- * tags_fts: the tag names by trigrams (FTS5), so a tag search reads the index. PostgreSQL will use a
--   pg_trgm GIN index on tags.name instead (see `db::text_search`).
--
-- The triggers here are SQLite's; the PostgreSQL migrations will keep the same counters with triggers of
-- their own.

ALTER TABLE artifacts ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE artifacts ADD COLUMN total_size INTEGER NOT NULL DEFAULT 0;

-- The definitions `refresh_listing` applies (`LISTED_ON_ITS_OWN` and `TOTAL_SIZE` in db/artifact_rows.rs).
UPDATE artifacts AS a SET
    listed = CASE WHEN
        NOT EXISTS (SELECT 1 FROM artifact_children ch JOIN artifacts p ON p.id = ch.parent_id
                    WHERE ch.child_digest = a.digest AND p.repository_id = a.repository_id)
        AND NOT (a.subject_digest IS NOT NULL AND EXISTS (SELECT 1 FROM artifacts s
                    WHERE s.repository_id = a.repository_id AND s.digest = a.subject_digest))
        THEN 1 ELSE 0 END,
    total_size = a.size
        + COALESCE((SELECT SUM(b.size) FROM artifact_blobs ab JOIN blobs b ON b.digest = ab.digest
                    WHERE ab.artifact_id = a.id), 0)
        + COALESCE((SELECT SUM(c.size + COALESCE((SELECT SUM(b.size) FROM artifact_blobs ab
                                                  JOIN blobs b ON b.digest = ab.digest
                                                  WHERE ab.artifact_id = c.id), 0))
                    FROM artifact_children ch
                    JOIN artifacts c ON c.repository_id = a.repository_id AND c.digest = ch.child_digest
                    WHERE ch.parent_id = a.id), 0);

-- Orders of the artifact list: each key with the id ascending and descending, so that `key ASC, id DESC`
-- (the tie-breaker is always the newest id first) and its reverse (far pages are read from the end) are
-- both read from an index. The list's own condition (its repository, listed) leads.
DROP INDEX artifacts_repository_push;
DROP INDEX artifacts_repository_pulls;
CREATE INDEX artifacts_list_push_time ON artifacts (repository_id, listed, push_time, id);
CREATE INDEX artifacts_list_push_time_id_desc ON artifacts (repository_id, listed, push_time, id DESC);
CREATE INDEX artifacts_list_pull_time ON artifacts (repository_id, listed, pull_time, id);
CREATE INDEX artifacts_list_pull_time_id_desc ON artifacts (repository_id, listed, pull_time, id DESC);
CREATE INDEX artifacts_list_pull_count ON artifacts (repository_id, listed, pull_count, id);
CREATE INDEX artifacts_list_pull_count_id_desc ON artifacts (repository_id, listed, pull_count, id DESC);
CREATE INDEX artifacts_list_size ON artifacts (repository_id, listed, total_size, id);
CREATE INDEX artifacts_list_size_id_desc ON artifacts (repository_id, listed, total_size, id DESC);

-- Which artifacts reference a blob: the size triggers below, and garbage collection later.
CREATE INDEX artifact_blobs_digest ON artifact_blobs (digest, artifact_id);

-- A blob that arrives after the artifacts referencing it changes their sizes and those of the indexes listing
-- them as children. (Blobs leave only once no artifact references them. SQLite allows no alias for a
-- trigger's UPDATE target.)
CREATE TRIGGER blobs_insert_sizes AFTER INSERT ON blobs BEGIN
    UPDATE artifacts SET total_size = artifacts.size
        + COALESCE((SELECT SUM(b.size) FROM artifact_blobs ab JOIN blobs b ON b.digest = ab.digest
                    WHERE ab.artifact_id = artifacts.id), 0)
        + COALESCE((SELECT SUM(c.size + COALESCE((SELECT SUM(b.size) FROM artifact_blobs ab
                                                  JOIN blobs b ON b.digest = ab.digest
                                                  WHERE ab.artifact_id = c.id), 0))
                    FROM artifact_children ch
                    JOIN artifacts c ON c.repository_id = artifacts.repository_id
                                    AND c.digest = ch.child_digest
                    WHERE ch.parent_id = artifacts.id), 0)
    WHERE artifacts.id IN (SELECT ab.artifact_id FROM artifact_blobs ab WHERE ab.digest = NEW.digest
                           UNION
                           SELECT ch.parent_id FROM artifact_blobs ab JOIN artifacts c ON c.id = ab.artifact_id
                           JOIN artifact_children ch ON ch.child_digest = c.digest
                           WHERE ab.digest = NEW.digest);
END;

-- Each repository's listed artifacts, counted as `listed` changes.
ALTER TABLE repositories ADD COLUMN artifact_count INTEGER NOT NULL DEFAULT 0;
UPDATE repositories SET artifact_count =
    (SELECT COUNT(*) FROM artifacts a WHERE a.repository_id = repositories.id AND a.listed = 1);
CREATE TRIGGER artifacts_insert_count AFTER INSERT ON artifacts WHEN NEW.listed = 1 BEGIN
    UPDATE repositories SET artifact_count = artifact_count + 1 WHERE id = NEW.repository_id;
END;
CREATE TRIGGER artifacts_delete_count AFTER DELETE ON artifacts WHEN OLD.listed = 1 BEGIN
    UPDATE repositories SET artifact_count = artifact_count - 1 WHERE id = OLD.repository_id;
END;
CREATE TRIGGER artifacts_update_count AFTER UPDATE OF listed ON artifacts WHEN OLD.listed <> NEW.listed BEGIN
    UPDATE repositories SET artifact_count = artifact_count + NEW.listed - OLD.listed
    WHERE id = NEW.repository_id;
END;

-- Bytes stored (`GET /statistics`): every distinct (digest, size) of blobs and manifests once, whatever
-- shares it. One row.
CREATE TABLE storage_totals (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    bytes INTEGER NOT NULL
);
INSERT INTO storage_totals (id, bytes) VALUES (1, (SELECT COALESCE(SUM(size), 0) FROM
    (SELECT digest, size FROM blobs UNION SELECT digest, size FROM artifacts)));
CREATE TRIGGER blobs_insert_storage AFTER INSERT ON blobs
WHEN NOT EXISTS (SELECT 1 FROM artifacts WHERE digest = NEW.digest AND size = NEW.size) BEGIN
    UPDATE storage_totals SET bytes = bytes + NEW.size WHERE id = 1;
END;
CREATE TRIGGER blobs_delete_storage AFTER DELETE ON blobs
WHEN NOT EXISTS (SELECT 1 FROM artifacts WHERE digest = OLD.digest AND size = OLD.size) BEGIN
    UPDATE storage_totals SET bytes = bytes - OLD.size WHERE id = 1;
END;
CREATE TRIGGER artifacts_insert_storage AFTER INSERT ON artifacts
WHEN NOT EXISTS (SELECT 1 FROM artifacts WHERE digest = NEW.digest AND size = NEW.size AND id <> NEW.id)
 AND NOT EXISTS (SELECT 1 FROM blobs WHERE digest = NEW.digest AND size = NEW.size) BEGIN
    UPDATE storage_totals SET bytes = bytes + NEW.size WHERE id = 1;
END;
CREATE TRIGGER artifacts_delete_storage AFTER DELETE ON artifacts
WHEN NOT EXISTS (SELECT 1 FROM artifacts WHERE digest = OLD.digest AND size = OLD.size)
 AND NOT EXISTS (SELECT 1 FROM blobs WHERE digest = OLD.digest AND size = OLD.size) BEGIN
    UPDATE storage_totals SET bytes = bytes - OLD.size WHERE id = 1;
END;

-- Audit log entries per project, and of all projects under project_id 0 (ids start at 1).
CREATE TABLE audit_log_counts (
    project_id INTEGER PRIMARY KEY,
    entries    INTEGER NOT NULL
);
INSERT INTO audit_log_counts (project_id, entries) SELECT 0, COUNT(*) FROM audit_log;
INSERT INTO audit_log_counts (project_id, entries)
    SELECT project_id, COUNT(*) FROM audit_log WHERE project_id IS NOT NULL GROUP BY project_id;
CREATE TRIGGER audit_log_insert_count AFTER INSERT ON audit_log BEGIN
    UPDATE audit_log_counts SET entries = entries + 1 WHERE project_id IN (0, NEW.project_id);
    INSERT INTO audit_log_counts (project_id, entries) SELECT NEW.project_id, 1
    WHERE NEW.project_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM audit_log_counts WHERE project_id = NEW.project_id);
END;
CREATE TRIGGER audit_log_delete_count AFTER DELETE ON audit_log BEGIN
    UPDATE audit_log_counts SET entries = entries - 1 WHERE project_id IN (0, OLD.project_id);
END;

-- Tag names by trigrams, case-sensitive as the `~` filter is: an external-content FTS5 table over tags,
-- kept in step by triggers (which also fire for the tags deleted with their artifact or repository). It names
-- tags by rowid, which Berth never changes; a manual VACUUM may, and should be followed by
-- `INSERT INTO tags_fts (tags_fts) VALUES ('rebuild')` (search results stay exact either way: each match is
-- checked against the tag's name).
CREATE VIRTUAL TABLE tags_fts USING fts5 (
    name, content = 'tags', content_rowid = 'rowid', tokenize = 'trigram case_sensitive 1'
);
INSERT INTO tags_fts (tags_fts) VALUES ('rebuild');
CREATE TRIGGER tags_insert_fts AFTER INSERT ON tags BEGIN
    INSERT INTO tags_fts (rowid, name) VALUES (NEW.rowid, NEW.name);
END;
CREATE TRIGGER tags_delete_fts AFTER DELETE ON tags BEGIN
    INSERT INTO tags_fts (tags_fts, rowid, name) VALUES ('delete', OLD.rowid, OLD.name);
END;
CREATE TRIGGER tags_update_fts AFTER UPDATE OF name ON tags BEGIN
    INSERT INTO tags_fts (tags_fts, rowid, name) VALUES ('delete', OLD.rowid, OLD.name);
    INSERT INTO tags_fts (rowid, name) VALUES (NEW.rowid, NEW.name);
END;
