-- The audit trail of staff actions: append-only (APPEND_ONLY makes triggers that refuse
-- UPDATE, DELETE and, on PostgreSQL, TRUNCATE). Who: actor_id, the staff member's resident
-- id, or NULL for the operator of the command line ("cli"); via: cli, telegram, sms, web.
-- No resident personal data beyond ids: no phones, no names.
CREATE TABLE audit_log (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    at TEXT NOT NULL,
    actor_id INTEGER REFERENCES residents (id),
    via TEXT NOT NULL,
    action TEXT NOT NULL,
    object_kind TEXT NOT NULL DEFAULT '',
    object_id INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_municipality_at ON audit_log (municipality_id, at);

APPEND_ONLY audit_log;

-- A walk-in (no resident) from an imported attendance sheet carries a key that names its
-- row, so importing the same sheet again counts nobody twice. NULL: counted at the door.
ALTER TABLE attendance ADD COLUMN walk_in_key TEXT;

CREATE UNIQUE INDEX attendance_walk_in_key ON attendance (hearing_id, walk_in_key);
