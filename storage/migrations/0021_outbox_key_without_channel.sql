-- A message to a resident is keyed by what it is and whom it tells, not by the channel
-- that carries it (bot/core/services/outbound.py): a resident told by SMS who linked
-- Telegram afterwards was told again in Telegram each time the job ran again.
-- Older keys lose their channel: <key>:resident:<id>:sms[:n] and ...:telegram.
UPDATE outbox SET dedupe_key = substr(dedupe_key, 1, length(dedupe_key) - 4)
 WHERE dedupe_key LIKE '%:resident:%:sms';
UPDATE outbox SET dedupe_key = REPLACE(dedupe_key, ':sms:', ':')
 WHERE dedupe_key LIKE '%:resident:%:sms:%';
-- a Telegram row whose SMS twin holds the key already stays as it was: it is history
UPDATE outbox SET dedupe_key = substr(dedupe_key, 1, length(dedupe_key) - 9)
 WHERE dedupe_key LIKE '%:resident:%:telegram'
   AND NOT EXISTS (
       SELECT 1 FROM outbox AS twin
        WHERE twin.dedupe_key = substr(outbox.dedupe_key, 1, length(outbox.dedupe_key) - 9)
   );
