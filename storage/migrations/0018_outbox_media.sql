-- Photos an outbox row carries (Telegram only), as JSON: a handler's photo reply that
-- Telegram refused for the moment waits here and is sent by the worker, as text replies do
-- (handlers/telegram/replies.py). The body is then the caption.
ALTER TABLE outbox ADD COLUMN media TEXT;
