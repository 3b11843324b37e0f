-- Channels and delivery: the durable outbox, inbound records (deduplication and the
-- replies sent), broadcasts, and Telegram reachability of residents.
ALTER TABLE residents ADD COLUMN telegram_blocked BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE broadcasts (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    author_id INTEGER REFERENCES residents (id),
    village_id INTEGER REFERENCES villages (id),
    body TEXT NOT NULL,
    recipients INTEGER NOT NULL DEFAULT 0,
    -- where the author watches progress (a Telegram message edited in place)
    progress_chat_id BIGINT,
    progress_message_id BIGINT,
    created_at TEXT NOT NULL
);

-- One row per outbound message. status: queued -> sending -> sent -> delivered,
-- or failed / undelivered. A row left in 'sending' by a crash is sent again.
CREATE TABLE outbox (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    dedupe_key TEXT NOT NULL UNIQUE,
    resident_id INTEGER REFERENCES residents (id),
    broadcast_id INTEGER REFERENCES broadcasts (id),
    channel TEXT NOT NULL CHECK (channel IN ('telegram', 'sms', 'console')),
    address TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    provider_id TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE INDEX outbox_broadcast ON outbox (broadcast_id, status);

CREATE INDEX outbox_provider ON outbox (channel, provider_id);

-- Every inbound message once: (channel, provider_id) is Twilio's MessageSid or
-- Telegram's update_id, so a duplicate delivery is recognised and not handled twice.
CREATE TABLE inbound (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    channel TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    resident_id INTEGER REFERENCES residents (id),
    command TEXT,
    reply TEXT,
    received_at TEXT NOT NULL,
    UNIQUE (channel, provider_id)
);
