-- The secret ballot, sealed (storage/sealing.py, bot/services/voting.py): a ballot cast by
-- phone is kept sealed (AES-GCM under a key derived from the BALLOT_KEY setting) in its
-- voter's own turnout row, so that no plaintext ballot row exists whose order, time or
-- transaction id could be matched with turnout. Paper ballots from the box and ballots of
-- an imported election are linked to nobody: sealed, in `box_ballots`.
ALTER TABLE turnout ADD COLUMN ballot TEXT;

CREATE TABLE box_ballots (
    poll_id INTEGER NOT NULL REFERENCES polls (id),
    ballot TEXT NOT NULL
);

CREATE INDEX box_ballots_poll ON box_ballots (poll_id);

-- The key migration 0012 stored is no longer used. Where ballots were made under it,
-- `civic-bot init` (or start-up) seals them under BALLOT_KEY and then deletes it
-- (bot/services/ballot_upgrade.py); otherwise it goes now.
DELETE FROM secrets WHERE name = 'ballot-key' AND NOT EXISTS (SELECT 1 FROM ballots);
