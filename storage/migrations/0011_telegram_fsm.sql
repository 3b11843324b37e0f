-- Telegram conversations in progress (aiogram's FSM storage, bot/fsm_storage.py): the step
-- a user is at in a multi-step form and the answers so far (ballot drafts, the hearing and
-- act forms). In the database, so that they survive a restart and every `civic-bot run`
-- process sees them.
--
-- The key is aiogram's StorageKey within the municipality the bot serves: the drafts name
-- that municipality's polls, villages and projects. A key part Telegram leaves out is 0
-- (thread) or '' (business connection), so the primary key (the one lookup of every
-- update) has no NULLs. data: a JSON object. Rows untouched for TELEGRAM_DRAFT_DAYS are
-- deleted (updated_at: ISO 8601 UTC, as every timestamp).
CREATE TABLE telegram_fsm (
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    bot_id BIGINT NOT NULL,
    chat_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    thread_id BIGINT NOT NULL DEFAULT 0,
    business_connection_id TEXT NOT NULL DEFAULT '',
    destiny TEXT NOT NULL DEFAULT 'default',
    state TEXT,
    data TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (
        municipality_id, bot_id, chat_id, user_id, thread_id, business_connection_id, destiny
    )
);
