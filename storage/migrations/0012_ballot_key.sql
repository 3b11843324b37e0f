-- The key that makes a ballot's voter hash (bot/services/voting.py) is made with the schema,
-- outside any vote's transaction, so that it is committed before any vote uses it and a
-- process may keep it once read. A database that had one keeps it.
INSERT INTO secrets (name, value) VALUES ('ballot-key', RANDOM_HEX) ON CONFLICT (name) DO NOTHING;
