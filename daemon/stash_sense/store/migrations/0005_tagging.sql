-- Every write the daemon makes to a scene in Stash, so it can be shown and undone.
CREATE TABLE audit_log (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    scene_id         INTEGER NOT NULL,
    action           TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'writing'
                     CHECK (status IN ('writing', 'applied', 'failed', 'unknown')),
    performer_ids    TEXT    NOT NULL DEFAULT '[]',
    universal_ids    TEXT    NOT NULL DEFAULT '[]',
    tag_ids          TEXT    NOT NULL DEFAULT '[]',
    before_ids       TEXT    NOT NULL DEFAULT '[]',
    reason           TEXT    NOT NULL,
    mutation_id      TEXT    NOT NULL,
    error            TEXT,
    created_at       REAL    NOT NULL,
    undone_at        REAL,
    undo_mutation_id TEXT
);
CREATE INDEX audit_scene ON audit_log (scene_id, id);
