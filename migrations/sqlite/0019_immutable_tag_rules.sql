-- Immutable tag rules (Harbor's `/projects/{p}/immutabletagrules`): a tag whose repository and name an enabled
-- rule selects may not be moved to another digest or removed. One repository selector and one tag selector per
-- rule, each a doublestar pattern. `revision` grows on every change, so compiled patterns cached by
-- (id, revision) are never stale. A project has at most 15 rules (checked where they are inserted).
CREATE TABLE immutable_rules (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    disabled        INTEGER NOT NULL DEFAULT 0,
    priority        INTEGER NOT NULL DEFAULT 0,
    template        TEXT    NOT NULL,
    -- Harbor's `params`, a JSON object kept as given.
    params          TEXT    NOT NULL DEFAULT '{}',
    -- 'repoMatches' or 'repoExcludes'
    repo_decoration TEXT    NOT NULL,
    repo_pattern    TEXT    NOT NULL,
    repo_extras     TEXT    NOT NULL DEFAULT '',
    -- 'matches' or 'excludes'
    tag_decoration  TEXT    NOT NULL,
    tag_pattern     TEXT    NOT NULL,
    tag_extras      TEXT    NOT NULL DEFAULT '',
    revision        INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);
-- The same selectors twice in one project is a conflict, as in Harbor.
CREATE UNIQUE INDEX immutable_rules_selectors
    ON immutable_rules (project_id, repo_decoration, repo_pattern, tag_decoration, tag_pattern);
