-- Harbor's Security Hub (`/security/summary`, `/security/vul`) and CVE export (`/export/cve`) over the scan
-- reports of 0022 (issue 15). Queries in server/src/db/security_hub.rs and server/src/db/cve_exports.rs.
--
-- Portable SQL (SQLite now, PostgreSQL later): ADD COLUMN with constant defaults only; timestamps are fixed-width
-- RFC 3339 UTC text (`db::timestamp`), so they compare as strings.

-- A finding's CVSS v3 score and vector and its CWE ids (comma-separated), for the Security Hub's search by
-- score and its most dangerous CVEs, and the export's columns. NULL/'' for reports written before this.
ALTER TABLE report_cves ADD COLUMN cvss_v3_score REAL;
ALTER TABLE report_cves ADD COLUMN cvss_v3_vector TEXT;
ALTER TABLE report_cves ADD COLUMN cwe_ids TEXT NOT NULL DEFAULT '';

-- A vulnerability's description and links, once per id rather than once per finding row (a description is
-- hundreds of bytes; a finding row is repeated for every artifact that has it). The last report written wins.
CREATE TABLE cve_details (
    cve_id      TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    -- JSON array of URLs.
    links       TEXT NOT NULL DEFAULT '[]',
    updated_at  TEXT NOT NULL
);

-- The Security Hub's search orders by score (highest first) and filters by severity.
CREATE INDEX report_cves_score ON report_cves (cvss_v3_score);
CREATE INDEX report_cves_severity ON report_cves (severity);

-- One CVE export (Harbor's scan data export execution): who asked, for what, its state and its CSV. The CSV is
-- kept compressed in the row (bounded by the writer), so any node serves the download, and it is deleted with
-- the row when it expires (a day after the request, as Harbor keeps its export artifacts).
CREATE TABLE cve_exports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    username    TEXT    NOT NULL,
    job_name    TEXT    NOT NULL DEFAULT '',
    -- JSON array of the project ids asked for.
    project_ids TEXT    NOT NULL,
    -- The request's criteria as JSON (Harbor's ScanDataExportRequest).
    criteria    TEXT    NOT NULL,
    -- The CVE_EXPORT job that writes it (no foreign key: the row outlives the job's).
    job_id      INTEGER,
    -- Pending, Running, Success, Error, Stopped
    status      TEXT    NOT NULL,
    status_text TEXT    NOT NULL DEFAULT '',
    start_time  TEXT    NOT NULL,
    end_time    TEXT,
    -- zstd-compressed CSV; NULL until the export succeeds.
    csv         BLOB,
    csv_rows    INTEGER,
    csv_bytes   INTEGER,
    expires_at  TEXT    NOT NULL
);
CREATE INDEX cve_exports_user ON cve_exports (user_id, id);
CREATE INDEX cve_exports_expires ON cve_exports (expires_at);
