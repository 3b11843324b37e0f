-- Budget polls may count as pabulib's greedy-no-skip (stop at the first option that does not
-- fit) and greedy-custom (Poznań: that option too if what is left covers 80 % of its cost),
-- and break ties by a chain of keys (bot.core.counting.TIE_KEYS, comma-separated; the lower
-- option number always ends it). Existing polls keep what they had: cost, then number.
--
-- The rule's CHECK is rebuilt with its column: added anew, filled, the old one dropped, the
-- new one renamed. Rebuilding the whole table (as 0015 did for inbound) cannot be done here:
-- poll_options, turnout, ballots and box_ballots refer to polls, and neither PostgreSQL nor
-- SQLite (foreign keys on, inside the migration's transaction) drops a table others refer to.
-- The column keeps the DEFAULT both engines need to add a NOT NULL column; every insert
-- names its rule.
ALTER TABLE polls ADD COLUMN rule_checked TEXT NOT NULL DEFAULT 'totals'
    CHECK (rule_checked IN ('totals', 'borda', 'greedy', 'greedy-no-skip', 'greedy-custom', 'mes'));
UPDATE polls SET rule_checked = rule;
ALTER TABLE polls DROP COLUMN rule;
ALTER TABLE polls RENAME COLUMN rule_checked TO rule;
ALTER TABLE polls ADD COLUMN ties TEXT NOT NULL DEFAULT 'cost,id';
