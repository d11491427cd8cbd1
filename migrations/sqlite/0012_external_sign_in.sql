-- Sign-in through LDAP or OIDC.
--
-- `admin_in_auth` is Harbor's `admin_role_in_auth`: system admin granted by the directory (the LDAP admin group
-- DN, the OIDC admin group), set again at each sign-in, apart from the `sysadmin` flag an admin sets by hand.
ALTER TABLE users ADD COLUMN admin_in_auth INTEGER NOT NULL DEFAULT 0;

-- Harbor's OIDC user info: which provider identity (`sub` and `iss`) a user is, and their CLI secret (what
-- `docker login` takes instead of a password), sealed by the server's SecretBox, never kept in clear.
CREATE TABLE oidc_users (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id              INTEGER NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    subiss               TEXT    NOT NULL UNIQUE,
    secret_sealed        BLOB    NOT NULL,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
);
