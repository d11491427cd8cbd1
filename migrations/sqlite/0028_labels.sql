-- Labels (Harbor's `/labels` and `…/artifacts/{reference}/labels`): a global label (scope 'g', no project) is
-- managed by system administrators and may be put on any artifact; a project label (scope 'p') belongs to one
-- project, is managed by its admins and maintainers, and may be put on that project's artifacts only (checked
-- where it is attached). A name is unique among the global labels, and among each project's labels.
CREATE TABLE labels (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    color       TEXT    NOT NULL DEFAULT '',
    scope       TEXT    NOT NULL CHECK (scope IN ('g', 'p')),
    project_id  INTEGER REFERENCES projects (id) ON DELETE CASCADE,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    CHECK ((scope = 'g' AND project_id IS NULL) OR (scope = 'p' AND project_id IS NOT NULL))
);
CREATE UNIQUE INDEX labels_global_name ON labels (name) WHERE scope = 'g';
CREATE UNIQUE INDEX labels_project_name ON labels (project_id, name) WHERE scope = 'p';

-- Which labels each artifact carries. Deleting the artifact or the label detaches it.
CREATE TABLE artifact_labels (
    artifact_id INTEGER NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    label_id    INTEGER NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (artifact_id, label_id)
);
-- The `labels=` filter of artifact lists and the deletion of a label read by label.
CREATE INDEX artifact_labels_label ON artifact_labels (label_id, artifact_id);
