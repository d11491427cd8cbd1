-- Vulnerability scanning (issue 15; design in docs/scanning.md): scanner registrations, each project's chosen
-- scanner, scan reports and their CVE rows, the stored package inventories, and the system CVE allowlist.
-- Queries in server/src/db/scanners.rs, server/src/db/scan_reports.rs and server/src/db/cve_allowlists.rs.
--
-- PostgreSQL twin of migrations/sqlite/0022_scanning.sql: flags are BOOLEAN here (0/1 integers in SQLite);
-- timestamps are fixed-width RFC 3339 UTC text (`db::timestamp`), so they compare as strings.

-- Harbor's scanner registrations (`/scanners`). Built-in "Berth" (url `berth://built-in`, immutable, default
-- on a fresh installation) is inserted at start-up by `Db::open`, idempotently (`ON CONFLICT DO NOTHING` on
-- its fixed uuid), so several nodes starting at once insert it once.
CREATE TABLE scanner_registrations (
    uuid              TEXT COLLATE "C" PRIMARY KEY,
    name              TEXT COLLATE "C" NOT NULL UNIQUE,
    description       TEXT COLLATE "C" NOT NULL DEFAULT '',
    -- The adapter's base URL (http or https); the built-in one's is berth://built-in.
    url               TEXT COLLATE "C" NOT NULL UNIQUE,
    disabled          BOOLEAN NOT NULL DEFAULT FALSE,
    is_default        BOOLEAN NOT NULL DEFAULT FALSE,
    -- The built-in registration: not deletable, not editable.
    immutable         BOOLEAN NOT NULL DEFAULT FALSE,
    -- '', 'Basic', 'Bearer' or 'X-ScannerAdapter-API-Key'
    auth              TEXT COLLATE "C" NOT NULL DEFAULT '',
    -- Sealed with the configuration key (server/src/crypto.rs); never returned by the API. NULL without auth.
    access_credential BYTEA,
    skip_cert_verify  BOOLEAN NOT NULL DEFAULT FALSE,
    use_internal_addr BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        TEXT COLLATE "C" NOT NULL,
    updated_at        TEXT COLLATE "C" NOT NULL
);
-- At most one default: switching clears the old one first, in the same transaction.
CREATE UNIQUE INDEX scanner_registrations_one_default ON scanner_registrations (is_default) WHERE is_default;

-- A project's own scanner (Harbor keeps it as the project metadata `projectScanner`). Without a row the
-- project uses the default registration. Deleting the registration drops the choice.
CREATE TABLE project_scanners (
    project_id        BIGINT  PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    registration_uuid TEXT COLLATE "C" NOT NULL REFERENCES scanner_registrations (uuid) ON DELETE CASCADE
);
CREATE INDEX project_scanners_registration ON project_scanners (registration_uuid);

-- Scan reports, keyed as Harbor keys them: by artifact digest, registration and report MIME type (one current
-- report per triple). Not by repository: the same digest in two repositories or projects has the same content,
-- so one scan serves both (Harbor's `scan_report.digest`); who may read it is decided by the artifact's
-- project when it is asked for. Deleting the registration deletes its reports.
CREATE TABLE scan_reports (
    uuid              TEXT COLLATE "C" PRIMARY KEY,
    artifact_digest   TEXT COLLATE "C" NOT NULL,
    registration_uuid TEXT COLLATE "C" NOT NULL REFERENCES scanner_registrations (uuid) ON DELETE CASCADE,
    -- e.g. application/vnd.security.vulnerability.report; version=1.1
    mime_type         TEXT COLLATE "C" NOT NULL,
    -- Pending, Running, Success, Error, Stopped
    status            TEXT COLLATE "C" NOT NULL,
    start_time        TEXT COLLATE "C",
    end_time          TEXT COLLATE "C",
    -- The vulnerability database generation the findings were matched against (NULL for external scanners).
    vulndb_generation BIGINT,
    -- The worst severity found (Harbor's names: Critical, High, Medium, Low, Negligible, Unknown, None).
    severity          TEXT COLLATE "C",
    -- Harbor's VulnerabilitySummary as JSON: {"total","fixable","summary":{"Critical":n,...}}.
    summary           TEXT COLLATE "C",
    -- The full report, compressed (see `compression`); NULL until the scan ends well.
    report            BYTEA,
    -- 'zstd' or 'gzip': the codec of `report`.
    compression       TEXT COLLATE "C",
    -- The scan's log (bounded by the writer).
    log               TEXT COLLATE "C" NOT NULL DEFAULT '',
    -- The job that ran it (no foreign key: the report outlives the job's row).
    job_id            BIGINT,
    created_at        TEXT COLLATE "C" NOT NULL,
    updated_at        TEXT COLLATE "C" NOT NULL,
    UNIQUE (artifact_digest, registration_uuid, mime_type)
);
CREATE INDEX scan_reports_registration ON scan_reports (registration_uuid);
CREATE INDEX scan_reports_status ON scan_reports (status);

-- One row per finding of a report, for search by CVE and package and Security Hub; deleted with the report.
CREATE TABLE report_cves (
    report_uuid TEXT COLLATE "C" NOT NULL REFERENCES scan_reports (uuid) ON DELETE CASCADE,
    cve_id      TEXT COLLATE "C" NOT NULL,
    package     TEXT COLLATE "C" NOT NULL,
    version     TEXT COLLATE "C" NOT NULL,
    fix_version TEXT COLLATE "C" NOT NULL DEFAULT '',
    severity    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (report_uuid, cve_id, package, version)
);
CREATE INDEX report_cves_cve ON report_cves (cve_id);
CREATE INDEX report_cves_package ON report_cves (package);

-- What one layer installs, read once per layer digest by one analyzer version (a newer analyzer reads it again).
CREATE TABLE layer_inventories (
    layer_digest     TEXT COLLATE "C" NOT NULL,
    analyzer_version BIGINT  NOT NULL,
    -- The layer's inventory, serialised and compressed (the writer names the format in its module).
    inventory        BYTEA   NOT NULL,
    created_at       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (layer_digest, analyzer_version)
);

-- An artifact's inventory: its layers in order (a JSON array of digests) and the OS they make up, so a re-match
-- reads only stored layer inventories, never a blob.
CREATE TABLE artifact_inventories (
    artifact_digest  TEXT COLLATE "C" NOT NULL,
    analyzer_version BIGINT  NOT NULL,
    layer_digests    TEXT COLLATE "C" NOT NULL,
    -- The OS identity as JSON (family, version), NULL if none was found.
    os               TEXT COLLATE "C",
    created_at       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (artifact_digest, analyzer_version)
);

-- Which artifacts hold a package, for targeted re-matches when a new vulnerability database generation changes
-- the records of (ecosystem, package).
CREATE TABLE inventory_packages (
    ecosystem       TEXT COLLATE "C" NOT NULL,
    package         TEXT COLLATE "C" NOT NULL,
    artifact_digest TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (ecosystem, package, artifact_digest)
);
CREATE INDEX inventory_packages_artifact ON inventory_packages (artifact_digest);

-- The system CVE allowlist is the row of cve_allowlists (0014) whose project_id is NULL: the same items table
-- and the same checks as a project's. At most one such row.
CREATE UNIQUE INDEX cve_allowlists_one_system ON cve_allowlists ((project_id IS NULL)) WHERE project_id IS NULL;
