-- System configuration (Harbor's `/configurations`): one row per key set through the API or the CLI; a key
-- without a row has its default. A plain value is JSON text in `value`; a secret (the LDAP search password, the
-- OIDC client secret) is sealed by the server's SecretBox and kept only in `sealed`, never in clear.
CREATE TABLE configurations (
    key        TEXT COLLATE "C" PRIMARY KEY,
    value      TEXT COLLATE "C",
    sealed     BYTEA,
    updated_at TEXT COLLATE "C" NOT NULL,
    CHECK ((value IS NULL) <> (sealed IS NULL))
);
