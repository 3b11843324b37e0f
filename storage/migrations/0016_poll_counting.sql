-- How a budget poll counts (bot.counting): the MES completion and satisfaction, and the
-- least score a funded option needs (0: none). Existing polls keep what they had: Add1 with
-- cost satisfaction, no threshold.
ALTER TABLE polls ADD COLUMN completion TEXT NOT NULL DEFAULT 'add1'
    CHECK (completion IN ('add1', 'add1-budget', 'add1u', 'greedy', 'none'));
ALTER TABLE polls ADD COLUMN satisfaction TEXT NOT NULL DEFAULT 'cost'
    CHECK (satisfaction IN ('cost', 'cardinality'));
ALTER TABLE polls ADD COLUMN threshold INTEGER NOT NULL DEFAULT 0 CHECK (threshold >= 0);
