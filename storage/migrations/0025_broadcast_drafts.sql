-- A staff member's BROADCAST waits here until they confirm it (the Confirm button, or a
-- YES by SMS within ten minutes); only then is it queued. ``closed_at``: confirmed,
-- cancelled or replaced by a later message; a closed draft is never queued again.
CREATE TABLE broadcast_drafts (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    author_id INTEGER NOT NULL REFERENCES residents (id),
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX broadcast_drafts_open ON broadcast_drafts (author_id) WHERE closed_at IS NULL;
