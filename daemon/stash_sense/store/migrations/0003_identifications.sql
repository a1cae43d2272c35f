-- Face identifications of scenes and the face crops kept as evidence.
CREATE TABLE identifications (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    scene_id         INTEGER NOT NULL,
    file_key         TEXT    NOT NULL,
    pipeline_version TEXT    NOT NULL,
    forced           INTEGER NOT NULL DEFAULT 0,
    persons          INTEGER NOT NULL,
    identified       INTEGER NOT NULL,
    result           TEXT    NOT NULL,
    created_at       REAL    NOT NULL
);
CREATE INDEX identifications_scene ON identifications (scene_id, id);

CREATE TABLE face_crops (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    identification_id INTEGER NOT NULL REFERENCES identifications (id) ON DELETE CASCADE,
    scene_id          INTEGER NOT NULL,
    person_index      INTEGER NOT NULL,
    timestamp         REAL    NOT NULL,
    size_bytes        INTEGER NOT NULL,
    created_at        REAL    NOT NULL
);
CREATE INDEX face_crops_identification ON face_crops (identification_id);
