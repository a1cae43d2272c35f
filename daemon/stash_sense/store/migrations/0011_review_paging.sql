-- Paging the review queue: each list order reads its page of ids straight from an
-- index (no sort of every pending row), so a page among 10,000 items stays fast.
-- The expression columns match the ORDER BY terms of ReviewStore exactly: unknown
-- confidences sort last in both directions.
CREATE INDEX review_items_state_date ON review_items (state, created_at);
CREATE INDEX review_items_state_confidence
    ON review_items (state, confidence IS NULL, confidence);
CREATE INDEX review_items_state_confidence_desc
    ON review_items (state, confidence IS NOT NULL, confidence);
