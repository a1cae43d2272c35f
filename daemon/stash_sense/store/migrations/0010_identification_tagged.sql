-- Tagging is a job of its own (`tag_identification`): an identification records when
-- its tagging finished, so a retry or a restart can tell what is left to do.
-- Identifications from before this migration were tagged inline when they were made.
ALTER TABLE identifications ADD COLUMN tagged_at REAL;
UPDATE identifications SET tagged_at = created_at;
