-- CVE allowlists (Harbor's `CVEAllowlist`): CVEs that scans ignore for a project (`cve_allowlist` of
-- `PUT /projects/{id}`, used unless the project's `reuse_sys_cve_allowlist` says to use the system's). A row
-- with no project is the system's allowlist. `expires_at` is in unix seconds; NULL never expires.
CREATE TABLE cve_allowlists (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  INTEGER UNIQUE REFERENCES projects (id) ON DELETE CASCADE,
    expires_at  INTEGER,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

-- One row per allowed CVE id, so a scan can match them by index.
CREATE TABLE cve_allowlist_items (
    allowlist_id INTEGER NOT NULL REFERENCES cve_allowlists (id) ON DELETE CASCADE,
    cve_id       TEXT    NOT NULL,
    PRIMARY KEY (allowlist_id, cve_id)
);
