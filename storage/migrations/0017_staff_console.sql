-- The staff console on the web (bot/webui, bot/services/console.py).
--
-- console_codes: every sign-in request that was not refused for its rate: by phone (E.164)
-- and client address, so that the limits per phone and per address count them all, also
-- those for a phone that is not staff (code_hash NULL: no code, no message). code_hash:
-- the one-time code, salted and hashed (never in clear); single use (used_at), a few
-- attempts, expires_at. Timestamps ISO 8601 UTC, as every timestamp.
CREATE TABLE console_codes (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    phone TEXT NOT NULL,
    client TEXT NOT NULL,
    resident_id INTEGER REFERENCES residents (id),
    code_hash TEXT,
    requested_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used_at TEXT
);
CREATE INDEX console_codes_by_phone ON console_codes (municipality_id, phone, requested_at);
CREATE INDEX console_codes_by_client ON console_codes (client, requested_at);

-- A signed-in staff member: the cookie's random token, hashed; the CSRF token of its forms;
-- last_seen_at for the idle expiry.
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX console_sessions_by_resident ON console_sessions (resident_id);
