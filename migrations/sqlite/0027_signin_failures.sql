-- Sign-in failures counted across nodes (auth/throttle.rs). On PostgreSQL every node reserves each password
-- attempt here as well as in its own memory, so a guesser who spreads attempts over the nodes is counted
-- once. One node on SQLite counts in memory only and leaves this table empty.
CREATE TABLE signin_failures (
    -- `name-at <name> <address>`, `name <name>` or `address <address>` (names normalised, at most 255 bytes).
    key          TEXT    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    last_failure TEXT    NOT NULL,
    locked_until TEXT
);
CREATE INDEX signin_failures_last ON signin_failures (last_failure);
