-- The register: municipalities, their villages, households and residents.
-- IDENTITY_PK is replaced by the engine's auto-numbered primary key (storage/db.py).
CREATE TABLE municipalities (
    id IDENTITY_PK,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    default_language TEXT NOT NULL DEFAULT 'ky' CHECK (default_language IN ('ky', 'ru', 'en')),
    created_at TEXT NOT NULL
);

CREATE TABLE villages (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    name TEXT NOT NULL,
    UNIQUE (municipality_id, name)
);

CREATE TABLE households (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    code TEXT NOT NULL,
    village_id INTEGER NOT NULL REFERENCES villages (id),
    address TEXT NOT NULL DEFAULT '',
    UNIQUE (municipality_id, code)
);

CREATE TABLE residents (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    phone TEXT NOT NULL,
    name TEXT NOT NULL,
    gender TEXT NOT NULL CHECK (gender IN ('f', 'm')),
    birth_year INTEGER,
    village_id INTEGER NOT NULL REFERENCES villages (id),
    household_id INTEGER NOT NULL REFERENCES households (id),
    language TEXT NOT NULL DEFAULT 'ky' CHECK (language IN ('ky', 'ru', 'en')),
    opted_out BOOLEAN NOT NULL DEFAULT FALSE,
    telegram_user_id BIGINT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (municipality_id, phone),
    UNIQUE (municipality_id, telegram_user_id)
);

CREATE INDEX residents_household ON residents (household_id);

CREATE INDEX residents_village ON residents (village_id);
