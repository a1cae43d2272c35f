-- One row per analyzer: its progress marker, last outcome and schedule override.
CREATE TABLE analyzer_state (
    name             TEXT    PRIMARY KEY,
    -- The logic version of the last successful run; a different one forces a full run.
    logic_version    INTEGER,
    watermark        TEXT,
    state            TEXT    NOT NULL DEFAULT '{}',
    last_job_id      INTEGER,
    last_run_at      REAL,
    last_success_at  REAL,
    last_error       TEXT,
    last_counts      TEXT,
    -- Set through the API; NULL means "as configured".
    schedule         TEXT,
    enabled          INTEGER CHECK (enabled IN (0, 1)),
    updated_at       REAL    NOT NULL
);
