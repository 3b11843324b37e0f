-- A send whose outcome is unknown (a crash or a lost answer after the request went out)
-- may have reached the provider: verify_since is when it was claimed, and the next attempt
-- first asks the provider whether a message went out since (Twilio: the Messages list),
-- rather than sending a duplicate.
ALTER TABLE outbox ADD COLUMN verify_since TEXT;

-- The worker that reserved a send in the shared rate limits: when that worker dies, its
-- reservations in flight are completed at once instead of blocking the chat.
ALTER TABLE rate_sends ADD COLUMN worker_id BIGINT;

-- A `civic-bot run` process sends the messages of its own municipality (its bot, its
-- number), so the claim walks one municipality's due rows.
DROP INDEX outbox_claim;
CREATE INDEX outbox_claim ON outbox (status, municipality_id, channel, next_attempt_at, id);
