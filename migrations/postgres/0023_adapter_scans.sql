-- Scans requested through Berth's own scanner adapter API (Harbor's Pluggable Scanner API v1.2,
-- `POST /api/v1/scan`; issue 15, design scanning.md §5.6). Queries in server/src/db/adapter_scans.rs.
--
-- Each row is one scan request of an artifact in another registry: its status while the ADAPTER_SCAN job runs,
-- and its result (the image's inventory and findings, so the report and both SBOM formats are written from it
-- on request). Rows expire (`expires_at`, 24 hours after the request) and are deleted by the job. Nothing here
-- holds the caller's registry credential: it travels sealed in the job's parameters only.
--
-- PostgreSQL twin of migrations/sqlite/0023_adapter_scans.sql; timestamps are fixed-width RFC 3339 UTC text.
CREATE TABLE adapter_scans (
    id         TEXT COLLATE "C" PRIMARY KEY,
    -- Pending, Running, Success, Error
    status     TEXT COLLATE "C" NOT NULL,
    -- The request's artifact as JSON: {"repository","digest","tag","mime_type"}.
    artifact   TEXT COLLATE "C" NOT NULL,
    -- zstd-compressed JSON {"inventory","findings"}; NULL until the scan succeeds.
    result     BYTEA,
    -- Why the scan failed (shown to the caller: never an internal detail).
    error      TEXT COLLATE "C",
    job_id     BIGINT,
    expires_at TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX adapter_scans_expires ON adapter_scans (expires_at);
