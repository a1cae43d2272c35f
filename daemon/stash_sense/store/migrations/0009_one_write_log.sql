-- One write log: `upstream_writes` is folded into `audit_log`.
-- `details` keeps what a field update replaced and sent (JSON), `write_key` marks a
-- write that must never be sent twice (a retried review accept finds it applied).
ALTER TABLE audit_log ADD COLUMN details TEXT;
ALTER TABLE audit_log ADD COLUMN write_key TEXT;
CREATE INDEX audit_write_key ON audit_log (write_key) WHERE write_key IS NOT NULL;
CREATE INDEX audit_status ON audit_log (status) WHERE status IN ('writing', 'unknown');

-- Upstream writes since 0008 point at their audit entry: it takes their values.
UPDATE audit_log SET details = (
    SELECT json_object(
        'entity_type', w.entity_type, 'local_id', w.local_id, 'endpoint', w.endpoint,
        'stash_box_id', w.stash_box_id, 'review_item_id', w.review_item_id,
        'fields', json(w.fields), 'before', json(w.before), 'sent', json(w.sent))
    FROM upstream_writes AS w WHERE w.audit_id = audit_log.id ORDER BY w.id DESC LIMIT 1
)
WHERE id IN (SELECT audit_id FROM upstream_writes WHERE audit_id IS NOT NULL);

-- Older upstream writes had no audit entry: each becomes one, keeping its history.
INSERT INTO audit_log (scene_id, action, status, reason, mutation_id, error, created_at,
                       target, details)
SELECT
    CASE WHEN w.entity_type = 'scene' THEN CAST(w.local_id AS INTEGER) ELSE 0 END,
    'upstream_' || w.entity_type,
    CASE w.status WHEN 'writing' THEN 'unknown' ELSE w.status END,
    'review:' || COALESCE(w.review_item_id, '?') || ': upstream '
        || (SELECT group_concat(f.value, ', ') FROM json_each(w.fields) AS f)
        || ' from ' || w.endpoint,
    '',
    w.error,
    w.created_at,
    w.entity_type || ':' || w.local_id,
    json_object(
        'entity_type', w.entity_type, 'local_id', w.local_id, 'endpoint', w.endpoint,
        'stash_box_id', w.stash_box_id, 'review_item_id', w.review_item_id,
        'fields', json(w.fields), 'before', json(w.before), 'sent', json(w.sent))
FROM upstream_writes AS w
WHERE w.audit_id IS NULL OR w.audit_id NOT IN (SELECT id FROM audit_log)
ORDER BY w.id;

DROP TABLE upstream_writes;
