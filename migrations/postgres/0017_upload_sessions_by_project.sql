-- Open upload sessions are counted per project when one is opened (the per-project session cap).
CREATE INDEX upload_sessions_project ON upload_sessions (project_id);
