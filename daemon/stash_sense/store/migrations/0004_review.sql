-- The review queue: everything a person decides on, one row per suggestion.
CREATE TABLE review_items (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    -- NULL for kinds that are not about one scene.
    scene_id    INTEGER,
    -- What is proposed, e.g. a performer's universal id; the kind chooses the key.
    subject     TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'accepting', 'accepted', 'rejected',
                                 'superseded', 'expired')),
    confidence  REAL,
    -- JSON validated by the kind; NULL only for rejections recorded without one.
    payload     TEXT,
    -- What the kind's re-suggestion policy compares (by default the payload's hash).
    fingerprint TEXT,
    source      TEXT,
    created_at  REAL    NOT NULL,
    updated_at  REAL    NOT NULL,
    decided_at  REAL,
    decided_by  TEXT CHECK (decided_by IN ('user', 'auto', 'user-edit')),
    -- JSON returned by the kind's accept handler.
    outcome     TEXT,
    -- Why the last accept failed (the item stays pending).
    last_error  TEXT
);

-- One live suggestion per (kind, scene, subject): a new analysis updates it. SQLite
-- treats NULLs as distinct in unique indexes, so scene-less kinds key on 0.
CREATE UNIQUE INDEX review_items_live
    ON review_items (kind, coalesce(scene_id, 0), subject)
    WHERE state IN ('pending', 'accepting');
-- Earlier decisions on the same subject (the re-suggestion check).
CREATE INDEX review_items_subject ON review_items (kind, subject, scene_id);
CREATE INDEX review_items_scene ON review_items (scene_id, state);
CREATE INDEX review_items_state ON review_items (state, kind, created_at);
