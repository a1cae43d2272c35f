-- The audit log covers every write the daemon makes, not only scene tagging: `target`
-- names what a write changed ("scene:12", "performer:7", "studio:3", "tag:9").
-- Rows from before this migration are scene writes: their target is their scene.
ALTER TABLE audit_log ADD COLUMN target TEXT;
UPDATE audit_log SET target = 'scene:' || scene_id WHERE target IS NULL AND scene_id > 0;

-- Each upstream write points at its audit log entry.
ALTER TABLE upstream_writes ADD COLUMN audit_id INTEGER;
