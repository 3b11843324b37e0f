-- Priority problems and participatory-budget polls.
-- Secret ballot: `turnout` says who voted (to stop double voting, and for turnout);
-- `ballots` carry the choices under a keyed hash of (poll, resident) plus coarse
-- demographics for breakdowns, so nothing in the staff's views links a person to a choice.
CREATE TABLE problems (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    village_id INTEGER REFERENCES villages (id),
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected', 'merged')),
    reason TEXT,
    merged_into INTEGER REFERENCES problems (id),
    created_at TEXT NOT NULL,
    decided_at TEXT
);

CREATE INDEX problems_status ON problems (municipality_id, status);

CREATE TABLE problem_proposers (
    problem_id INTEGER NOT NULL REFERENCES problems (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    PRIMARY KEY (problem_id, resident_id)
);

CREATE TABLE polls (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    title TEXT NOT NULL,
    ballot_type TEXT NOT NULL CHECK (ballot_type IN ('choose1', 'approval', 'ranked', 'cumulative')),
    -- approval: at most this many; ranked: top-k; cumulative: points to spend
    max_choices INTEGER NOT NULL,
    village_id INTEGER REFERENCES villages (id),
    min_age INTEGER NOT NULL DEFAULT 18,
    opens_at TEXT NOT NULL,
    closes_at TEXT NOT NULL,
    budget BIGINT,
    rule TEXT NOT NULL CHECK (rule IN ('totals', 'borda', 'greedy', 'mes')),
    changeable BOOLEAN NOT NULL DEFAULT TRUE,
    results_published BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL
);

CREATE TABLE poll_options (
    id IDENTITY_PK,
    poll_id INTEGER NOT NULL REFERENCES polls (id),
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    problem_id INTEGER REFERENCES problems (id),
    cost BIGINT,
    UNIQUE (poll_id, position)
);

CREATE TABLE turnout (
    poll_id INTEGER NOT NULL REFERENCES polls (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'telegram', 'console', 'paper')),
    cast_at TEXT NOT NULL,
    PRIMARY KEY (poll_id, resident_id)
);

CREATE TABLE ballots (
    id IDENTITY_PK,
    poll_id INTEGER NOT NULL REFERENCES polls (id),
    voter_key TEXT NOT NULL,
    village_id INTEGER REFERENCES villages (id),
    gender TEXT,
    age_group TEXT,
    UNIQUE (poll_id, voter_key)
);

CREATE TABLE ballot_choices (
    ballot_id INTEGER NOT NULL REFERENCES ballots (id) ON DELETE CASCADE,
    option_id INTEGER NOT NULL REFERENCES poll_options (id),
    -- approval/choose-1: 1; ranked: the rank (1 = first); cumulative: the points
    weight INTEGER NOT NULL,
    PRIMARY KEY (ballot_id, option_id)
);

-- Deployment secrets (the ballot key: made by migration 0012).
CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
