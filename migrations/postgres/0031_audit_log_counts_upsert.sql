-- The audit log's totals (0013) cost less to keep. Every pull writes an audit entry, and the pull writer
-- inserts up to 32 entries per statement (`db::audit`). 0013's triggers ran once per row; these run once per
-- statement over its transition table: one update of the total of all projects, and one upsert per project
-- in project order (so two writers lock the counter rows in the same order). The totals they keep are the
-- same.

DROP TRIGGER audit_log_insert_count ON audit_log;
DROP FUNCTION audit_log_insert_count();
CREATE FUNCTION audit_log_insert_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_log_counts SET entries = entries + (SELECT COUNT(*) FROM new_rows) WHERE project_id = 0;
    INSERT INTO audit_log_counts (project_id, entries)
        SELECT project_id, COUNT(*) FROM new_rows
        WHERE project_id IS NOT NULL AND project_id <> 0
        GROUP BY project_id ORDER BY project_id
        ON CONFLICT (project_id) DO UPDATE SET entries = audit_log_counts.entries + excluded.entries;
    RETURN NULL;
END;
$$;
CREATE TRIGGER audit_log_insert_count AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_log_insert_count();

DROP TRIGGER audit_log_delete_count ON audit_log;
DROP FUNCTION audit_log_delete_count();
CREATE FUNCTION audit_log_delete_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_log_counts c SET entries = c.entries - d.entries
    FROM (SELECT 0::BIGINT AS project_id, COUNT(*) AS entries FROM old_rows
          UNION ALL
          SELECT project_id, COUNT(*) FROM old_rows
          WHERE project_id IS NOT NULL AND project_id <> 0 GROUP BY project_id) d
    WHERE c.project_id = d.project_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER audit_log_delete_count AFTER DELETE ON audit_log
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_log_delete_count();
