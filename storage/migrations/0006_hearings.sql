-- Public budget hearings: invitations, answers (RSVP), attendance at the door.
CREATE TABLE hearings (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    kind TEXT NOT NULL CHECK (kind IN ('formation', 'execution')),
    starts_at TEXT NOT NULL,
    place TEXT NOT NULL,
    village_id INTEGER REFERENCES villages (id),
    agenda TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'published', 'cancelled')),
    -- bumped when the time or place changes: everyone invited is told again
    revision INTEGER NOT NULL DEFAULT 1,
    outcome TEXT,
    -- FALSE for old hearings where nobody counted the deputies (the report's "-")
    deputies_counted BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL
);

CREATE TABLE invitations (
    hearing_id INTEGER NOT NULL REFERENCES hearings (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    invited_at TEXT NOT NULL,
    PRIMARY KEY (hearing_id, resident_id)
);

CREATE TABLE rsvps (
    hearing_id INTEGER NOT NULL REFERENCES hearings (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    answer TEXT NOT NULL CHECK (answer IN ('yes', 'no', 'maybe')),
    -- the personal check-in code the confirmation shows (unique within the hearing)
    code TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (hearing_id, resident_id),
    UNIQUE (hearing_id, code)
);

-- One row per person at the door: a registered resident (counted once however often
-- checked in) or a walk-in outside the register, counted with gender and role.
CREATE TABLE attendance (
    id IDENTITY_PK,
    hearing_id INTEGER NOT NULL REFERENCES hearings (id),
    resident_id INTEGER REFERENCES residents (id),
    gender TEXT CHECK (gender IN ('f', 'm')),
    role TEXT NOT NULL DEFAULT 'resident' CHECK (role IN ('resident', 'deputy', 'staff', 'guest')),
    village_id INTEGER REFERENCES villages (id),
    birth_year INTEGER,
    checked_in_at TEXT NOT NULL,
    UNIQUE (hearing_id, resident_id)
);

-- Telegram buttons that go with an outbound message (JSON InlineKeyboardMarkup),
-- e.g. yes / no / maybe under a hearing invitation.
ALTER TABLE outbox ADD COLUMN reply_markup TEXT;
