-- The audit log's totals (0013) cost less to keep. Every pull writes an audit entry, so this trigger runs once
-- per pull. 0013's version updated `WHERE project_id IN (0, NEW.project_id)` and then inserted a project's
-- first row after a NOT EXISTS probe; under a manifest GET load that was 1.2 µs of SQLite's CPU per pull
-- (docs/benchmarks.md). Row 0 is now updated by its key and the project's row upserted, as on PostgreSQL.
-- The totals it keeps are the same.

DROP TRIGGER audit_log_insert_count;
CREATE TRIGGER audit_log_insert_count AFTER INSERT ON audit_log BEGIN
    UPDATE audit_log_counts SET entries = entries + 1 WHERE project_id = 0;
    INSERT INTO audit_log_counts (project_id, entries) SELECT NEW.project_id, 1
    WHERE NEW.project_id IS NOT NULL
    ON CONFLICT (project_id) DO UPDATE SET entries = entries + 1;
END;

DROP TRIGGER audit_log_delete_count;
CREATE TRIGGER audit_log_delete_count AFTER DELETE ON audit_log BEGIN
    UPDATE audit_log_counts SET entries = entries - 1 WHERE project_id = 0;
    UPDATE audit_log_counts SET entries = entries - 1 WHERE project_id = OLD.project_id;
END;
