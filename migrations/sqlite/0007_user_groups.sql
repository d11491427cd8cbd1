-- Users: Harbor's profile comment, and deletion as Harbor does it: the row stays (projects it owns and the audit
-- log still name it) but is marked deleted and renamed `name#id`, so the name and email can be used again.
ALTER TABLE users ADD COLUMN comment TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;

-- Harbor's user groups: 1 LDAP, 2 HTTP, 3 OIDC. Names are unique per type, DNs among LDAP groups.
CREATE TABLE user_groups (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    group_name    TEXT    NOT NULL,
    group_type    INTEGER NOT NULL CHECK (group_type IN (1, 2, 3)),
    ldap_group_dn TEXT    NOT NULL DEFAULT '',
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    UNIQUE (group_type, group_name)
);
CREATE UNIQUE INDEX user_groups_ldap_dn ON user_groups (ldap_group_dn) WHERE group_type = 1;

-- Which users belong to which groups (filled at sign-in by LDAP or OIDC).
CREATE TABLE user_group_members (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_group_members_group ON user_group_members (group_id);
