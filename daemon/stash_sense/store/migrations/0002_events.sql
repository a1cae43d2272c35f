-- Events received from Stash, the scenes we know about, user feedback, watermarks.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL    NOT NULL,
    type        TEXT    NOT NULL,
    object_id   INTEGER,
    payload     TEXT    NOT NULL,
    outcome     TEXT    NOT NULL DEFAULT 'received',
    detail      TEXT,
    job_id      INTEGER
);
CREATE INDEX events_received ON events (received_at);
CREATE INDEX events_pending ON events (id) WHERE outcome = 'received';

-- One row per Stash scene the daemon has been asked to handle.
CREATE TABLE scenes (
    scene_id      INTEGER PRIMARY KEY,
    first_seen_at REAL NOT NULL,
    requested_at  REAL,
    identified_at REAL,
    file_key      TEXT,
    deleted_at    REAL
);

-- Performer edits made by people, for the tagging policy ("never add it back").
CREATE TABLE feedback (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    scene_id      INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    performer_ids TEXT    NOT NULL,
    event_id      INTEGER REFERENCES events (id) ON DELETE SET NULL,
    created_at    REAL    NOT NULL
);
CREATE INDEX feedback_scene ON feedback (scene_id);

-- Progress markers of incremental passes over Stash (reconciler, analyzers).
CREATE TABLE watermarks (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at REAL NOT NULL
);
