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
-- * tags_name_trgm: the tag names by trigrams (a pg_trgm GIN index; SQLite's migration has the FTS5 table
--   tags_fts instead), so a tag search reads the index (see `db::text_search`).
--
-- PostgreSQL twin of migrations/sqlite/0013_lists_at_scale.sql. Each SQLite trigger is a PL/pgSQL function and
-- a trigger here, with the same effect; where SQLite's row triggers rely on running after each row (they see
-- the rows the same statement changed before, not those after), the trigger here is a statement trigger over
-- the statement's changed rows, since PostgreSQL runs row triggers after the whole statement.

ALTER TABLE artifacts ADD COLUMN listed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE artifacts ADD COLUMN total_size BIGINT NOT NULL DEFAULT 0;

-- The definitions `refresh_listing` applies (`LISTED_ON_ITS_OWN` and `TOTAL_SIZE` in db/artifact_rows.rs).
UPDATE artifacts AS a SET
    listed =
        NOT EXISTS (SELECT 1 FROM artifact_children ch JOIN artifacts p ON p.id = ch.parent_id
                    WHERE ch.child_digest = a.digest AND p.repository_id = a.repository_id)
        AND NOT (a.subject_digest IS NOT NULL AND EXISTS (SELECT 1 FROM artifacts s
                    WHERE s.repository_id = a.repository_id AND s.digest = a.subject_digest)),
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
-- both read from an index. The list's own condition (its repository, listed) leads. pull_time is NULL until
-- the first pull: SQLite sorts NULLs first in ascending order, PostgreSQL last unless told, so its indexes
-- hold them first (serving `ASC NULLS FIRST` and, backwards, `DESC NULLS LAST`, SQLite's orders).
DROP INDEX artifacts_repository_push;
DROP INDEX artifacts_repository_pulls;
CREATE INDEX artifacts_list_push_time ON artifacts (repository_id, listed, push_time, id);
CREATE INDEX artifacts_list_push_time_id_desc ON artifacts (repository_id, listed, push_time, id DESC);
CREATE INDEX artifacts_list_pull_time ON artifacts (repository_id, listed, pull_time NULLS FIRST, id);
CREATE INDEX artifacts_list_pull_time_id_desc ON artifacts (repository_id, listed, pull_time NULLS FIRST, id DESC);
CREATE INDEX artifacts_list_pull_count ON artifacts (repository_id, listed, pull_count, id);
CREATE INDEX artifacts_list_pull_count_id_desc ON artifacts (repository_id, listed, pull_count, id DESC);
CREATE INDEX artifacts_list_size ON artifacts (repository_id, listed, total_size, id);
CREATE INDEX artifacts_list_size_id_desc ON artifacts (repository_id, listed, total_size, id DESC);

-- Which artifacts reference a blob: the size triggers below, and garbage collection later.
CREATE INDEX artifact_blobs_digest ON artifact_blobs (digest, artifact_id);

-- A blob that arrives after the artifacts referencing it changes their sizes and those of the indexes listing
-- them as children. (Blobs leave only once no artifact references them.) The sizes are recomputed from the
-- tables, so running after the whole statement, as PostgreSQL's row triggers do, gives SQLite's result.
CREATE FUNCTION blobs_insert_sizes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
    RETURN NULL;
END;
$$;
CREATE TRIGGER blobs_insert_sizes AFTER INSERT ON blobs
    FOR EACH ROW EXECUTE FUNCTION blobs_insert_sizes();

-- Each repository's listed artifacts, counted as `listed` changes.
ALTER TABLE repositories ADD COLUMN artifact_count BIGINT NOT NULL DEFAULT 0;
UPDATE repositories SET artifact_count =
    (SELECT COUNT(*) FROM artifacts a WHERE a.repository_id = repositories.id AND a.listed);
CREATE FUNCTION artifacts_insert_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE repositories SET artifact_count = artifact_count + 1 WHERE id = NEW.repository_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER artifacts_insert_count AFTER INSERT ON artifacts
    FOR EACH ROW WHEN (NEW.listed) EXECUTE FUNCTION artifacts_insert_count();
CREATE FUNCTION artifacts_delete_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE repositories SET artifact_count = artifact_count - 1 WHERE id = OLD.repository_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER artifacts_delete_count AFTER DELETE ON artifacts
    FOR EACH ROW WHEN (OLD.listed) EXECUTE FUNCTION artifacts_delete_count();
CREATE FUNCTION artifacts_update_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE repositories SET artifact_count = artifact_count + CASE WHEN NEW.listed THEN 1 ELSE -1 END
    WHERE id = NEW.repository_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER artifacts_update_count AFTER UPDATE OF listed ON artifacts
    FOR EACH ROW WHEN (OLD.listed <> NEW.listed) EXECUTE FUNCTION artifacts_update_count();

-- Bytes stored (`GET /statistics`): every distinct (digest, size) of blobs and manifests once, whatever
-- shares it. One row.
--
-- SQLite runs each row trigger right after its row, so of several rows of one statement with the same
-- (digest, size), the first inserted (or the last deleted) is the one that counts. These statement triggers
-- count each (digest, size) of the statement's rows once, against the other rows. Two transactions of other
-- nodes may store or delete the same digest at once (SQLite has one writer; PostgreSQL does not): each
-- trigger first takes a transaction advisory lock per digest, in the two-key space (1111838292, the letters
-- 'BERT', and hashtext(digest)), then checks the other rows in a new snapshot, which then holds what the
-- other transaction committed. The lock is released at commit.
CREATE TABLE storage_totals (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    bytes BIGINT NOT NULL
);
INSERT INTO storage_totals (id, bytes) VALUES (1, (SELECT COALESCE(SUM(size), 0) FROM
    (SELECT digest, size FROM blobs UNION SELECT digest, size FROM artifacts) AS stored));

CREATE FUNCTION blobs_insert_storage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1111838292, k)
    FROM (SELECT DISTINCT hashtext(digest) AS k FROM new_rows ORDER BY 1) AS keys;
    UPDATE storage_totals SET bytes = storage_totals.bytes + added.total
    FROM (SELECT SUM(n.size) AS total FROM new_rows n
          WHERE NOT EXISTS (SELECT 1 FROM artifacts WHERE digest = n.digest AND size = n.size)) AS added
    WHERE id = 1 AND added.total IS NOT NULL;
    RETURN NULL;
END;
$$;
CREATE TRIGGER blobs_insert_storage AFTER INSERT ON blobs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION blobs_insert_storage();

CREATE FUNCTION blobs_delete_storage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1111838292, k)
    FROM (SELECT DISTINCT hashtext(digest) AS k FROM old_rows ORDER BY 1) AS keys;
    UPDATE storage_totals SET bytes = storage_totals.bytes - removed.total
    FROM (SELECT SUM(o.size) AS total FROM old_rows o
          WHERE NOT EXISTS (SELECT 1 FROM artifacts WHERE digest = o.digest AND size = o.size)) AS removed
    WHERE id = 1 AND removed.total IS NOT NULL;
    RETURN NULL;
END;
$$;
CREATE TRIGGER blobs_delete_storage AFTER DELETE ON blobs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION blobs_delete_storage();

CREATE FUNCTION artifacts_insert_storage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1111838292, k)
    FROM (SELECT DISTINCT hashtext(digest) AS k FROM new_rows ORDER BY 1) AS keys;
    UPDATE storage_totals SET bytes = storage_totals.bytes + added.total
    FROM (SELECT SUM(n.size) AS total FROM (SELECT DISTINCT digest, size FROM new_rows) AS n
          WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.digest = n.digest AND a.size = n.size
                                                       AND a.id NOT IN (SELECT id FROM new_rows))
            AND NOT EXISTS (SELECT 1 FROM blobs WHERE digest = n.digest AND size = n.size)) AS added
    WHERE id = 1 AND added.total IS NOT NULL;
    RETURN NULL;
END;
$$;
CREATE TRIGGER artifacts_insert_storage AFTER INSERT ON artifacts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION artifacts_insert_storage();

CREATE FUNCTION artifacts_delete_storage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1111838292, k)
    FROM (SELECT DISTINCT hashtext(digest) AS k FROM old_rows ORDER BY 1) AS keys;
    UPDATE storage_totals SET bytes = storage_totals.bytes - removed.total
    FROM (SELECT SUM(o.size) AS total FROM (SELECT DISTINCT digest, size FROM old_rows) AS o
          WHERE NOT EXISTS (SELECT 1 FROM artifacts WHERE digest = o.digest AND size = o.size)
            AND NOT EXISTS (SELECT 1 FROM blobs WHERE digest = o.digest AND size = o.size)) AS removed
    WHERE id = 1 AND removed.total IS NOT NULL;
    RETURN NULL;
END;
$$;
CREATE TRIGGER artifacts_delete_storage AFTER DELETE ON artifacts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION artifacts_delete_storage();

-- Audit log entries per project, and of all projects under project_id 0 (ids start at 1). A project's first
-- entry inserts its row; ON CONFLICT makes that safe when two transactions write that first entry at once.
CREATE TABLE audit_log_counts (
    project_id BIGINT PRIMARY KEY,
    entries    BIGINT NOT NULL
);
INSERT INTO audit_log_counts (project_id, entries) SELECT 0, COUNT(*) FROM audit_log;
INSERT INTO audit_log_counts (project_id, entries)
    SELECT project_id, COUNT(*) FROM audit_log WHERE project_id IS NOT NULL GROUP BY project_id;
CREATE FUNCTION audit_log_insert_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_log_counts SET entries = entries + 1 WHERE project_id = 0;
    IF NEW.project_id IS NOT NULL AND NEW.project_id <> 0 THEN
        INSERT INTO audit_log_counts (project_id, entries) VALUES (NEW.project_id, 1)
        ON CONFLICT (project_id) DO UPDATE SET entries = audit_log_counts.entries + 1;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER audit_log_insert_count AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_insert_count();
CREATE FUNCTION audit_log_delete_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_log_counts SET entries = entries - 1 WHERE project_id IN (0, OLD.project_id);
    RETURN NULL;
END;
$$;
CREATE TRIGGER audit_log_delete_count AFTER DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_delete_count();

-- Tag names by trigrams, for the `~` filter: a pg_trgm GIN index on tags.name answers
-- `t.name LIKE '%' || $1 || '%' ESCAPE '\'` (PostgreSQL's LIKE is case-sensitive, as the filter is), for parts
-- of any length, and needs no triggers. pg_trgm ships with PostgreSQL (contrib) and is a trusted extension,
-- so the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX tags_name_trgm ON tags USING gin (name gin_trgm_ops);
