-- Inbound deduplication per municipality: each municipality has its own bot (Telegram
-- update ids count from 1 per bot) and its own numbers, so the same provider id may come
-- to two of them. The table is made anew (SQLite cannot drop a table's UNIQUE), its rows
-- copied in their order.
CREATE TABLE inbound_new (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    channel TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    resident_id INTEGER REFERENCES residents (id),
    command TEXT,
    reply TEXT,
    received_at TEXT NOT NULL,
    UNIQUE (municipality_id, channel, provider_id)
);

INSERT INTO inbound_new (municipality_id, channel, provider_id, resident_id, command, reply,
    received_at)
SELECT municipality_id, channel, provider_id, resident_id, command, reply, received_at
FROM inbound ORDER BY id;

DROP TABLE inbound;

ALTER TABLE inbound_new RENAME TO inbound;
