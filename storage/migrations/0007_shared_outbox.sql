-- Several `civic-bot run` processes may share one outbox (PostgreSQL). A worker claims rows
-- for itself (claimed_by: its id, alive while its connection holds the lock of that id), so
-- that rows caught mid-send by a worker that died go back to the queue and nobody else's do.
ALTER TABLE outbox ADD COLUMN claimed_by BIGINT;

-- Rate limits shared by those processes, one row per channel: a provider's "retry after"
-- pauses every process (paused_until); the row is also what a reservation locks.
CREATE TABLE rate_channels (
    channel TEXT PRIMARY KEY,
    paused_until DOUBLE PRECISION NOT NULL DEFAULT 0
);

-- One row per send of the last second or so (times in seconds since the epoch): reserved
-- to start at starts_at, in flight until completed_at is set.
CREATE TABLE rate_sends (
    id IDENTITY_PK,
    channel TEXT NOT NULL,
    chat TEXT NOT NULL,
    starts_at DOUBLE PRECISION NOT NULL,
    completed_at DOUBLE PRECISION
);

CREATE INDEX rate_sends_channel ON rate_sends (channel, starts_at);
