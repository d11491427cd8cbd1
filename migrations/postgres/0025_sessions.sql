-- Console sessions in Berth's own table, the same on SQLite and PostgreSQL (db/sessions.rs). The table that
-- tower-sessions-sqlx-store kept is dropped: signed-in users sign in again once after this upgrade.
DROP TABLE IF EXISTS tower_sessions;

CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    -- The session record (tower-sessions' `Record`) as JSON.
    data TEXT NOT NULL,
    -- Unix seconds after which the session is gone.
    expires_unix BIGINT NOT NULL
);

CREATE INDEX sessions_by_expiry ON sessions (expires_unix);
