-- Upstream sync: what each stash-box entity looked like when the user last saw it.
CREATE TABLE upstream_snapshots (
    entity_type   TEXT NOT NULL,          -- performer (studio, tag, scene later)
    endpoint      TEXT NOT NULL,          -- normalised stash-box endpoint URL
    stash_box_id  TEXT NOT NULL,
    local_id      TEXT NOT NULL,
    -- Normalised upstream fields (JSON object) as last seen: a field advances when the
    -- user decides on a change of it, or when local and upstream agree.
    data          TEXT NOT NULL,
    -- stash-box's `updated` of the entity when this row was last compared.
    upstream_updated TEXT,
    -- When a decision last advanced this row (review items decided later apply on top).
    seen_at       REAL NOT NULL,
    checked_at    REAL NOT NULL,
    PRIMARY KEY (entity_type, endpoint, stash_box_id)
);

-- Every write an accepted upstream change made to a (non-scene) Stash entity.
CREATE TABLE upstream_writes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_type    TEXT    NOT NULL,
    local_id       TEXT    NOT NULL,
    endpoint       TEXT    NOT NULL,
    stash_box_id   TEXT    NOT NULL,
    review_item_id INTEGER,
    fields         TEXT    NOT NULL,      -- JSON list of the normalised fields applied
    before         TEXT    NOT NULL,      -- JSON: the Stash values the write replaced
    sent           TEXT    NOT NULL,      -- JSON: the update input sent
    status         TEXT    NOT NULL DEFAULT 'writing'
                   CHECK (status IN ('writing', 'applied', 'failed')),
    error          TEXT,
    created_at     REAL    NOT NULL
);
CREATE INDEX upstream_writes_entity ON upstream_writes (entity_type, local_id, id);
