-- A municipality's provider settings (its Telegram bot token and webhook secret, its SMS
-- gateway and the gateway's credentials), named as the settings they stand for
-- (TELEGRAM_BOT_TOKEN...). Every value is sealed (storage/sealing.py, AES-GCM under a key
-- derived from the SECRETS_KEY setting, bound to its municipality and name): a dump of the
-- database shows none of them in clear.
CREATE TABLE municipality_secrets (
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (municipality_id, name)
);
