-- Self-evaluation on the user's tagged scenes: runs, their scenes and per-person scores, and
-- the calibrated auto-apply thresholds recorded from them (history, newest wins).
CREATE TABLE evaluations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    state       TEXT    NOT NULL,
    settings    TEXT    NOT NULL,
    report      TEXT,
    error       TEXT,
    created_at  REAL    NOT NULL,
    finished_at REAL
);

CREATE TABLE evaluation_scenes (
    evaluation_id INTEGER NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    scene_id      INTEGER NOT NULL,
    state         TEXT    NOT NULL,
    reason        TEXT,
    truth         TEXT    NOT NULL,
    seen          TEXT,
    cost_ms       REAL,
    PRIMARY KEY (evaluation_id, scene_id)
);

CREATE TABLE evaluation_scores (
    evaluation_id INTEGER NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    scene_id      INTEGER NOT NULL,
    variant       TEXT    NOT NULL,
    person        INTEGER NOT NULL,
    universal_id  TEXT    NOT NULL,
    confidence    REAL    NOT NULL,
    frames        INTEGER NOT NULL
);
CREATE INDEX evaluation_scores_run ON evaluation_scores (evaluation_id, variant);

CREATE TABLE calibrations (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    evaluation_id    INTEGER,
    matcher          TEXT    NOT NULL,
    threshold        REAL    NOT NULL,
    target_precision REAL    NOT NULL,
    precision        REAL    NOT NULL,
    recall           REAL    NOT NULL,
    report           TEXT    NOT NULL,
    created_at       REAL    NOT NULL
);
