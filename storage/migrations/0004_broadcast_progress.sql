-- Live progress of a broadcast in its author's Telegram chat (progress_chat_id,
-- progress_message_id): the text last shown there, so the message is edited only
-- when it would change, and up to when the outbox rows behind it were read.
ALTER TABLE broadcasts ADD COLUMN progress_text TEXT;

ALTER TABLE broadcasts ADD COLUMN progress_checked_at TEXT;

-- "has any row of this broadcast changed since?" without reading them all
CREATE INDEX outbox_broadcast_updated ON outbox (broadcast_id, updated_at);
