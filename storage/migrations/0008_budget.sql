-- Budget transparency: budget versions per year, revenue and spending lines, projects
-- (and joint action plan activities) with their funding by source, initiative groups,
-- monitoring acts, and service rating rounds.
CREATE TABLE budgets (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    year INTEGER NOT NULL,
    version INTEGER NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (municipality_id, year, version)
);

CREATE TABLE budget_lines (
    id IDENTITY_PK,
    budget_id INTEGER NOT NULL REFERENCES budgets (id),
    kind TEXT NOT NULL CHECK (kind IN ('revenue', 'spending')),
    name TEXT NOT NULL,
    village_id INTEGER REFERENCES villages (id),
    amount BIGINT NOT NULL
);

CREATE INDEX budget_lines_budget ON budget_lines (budget_id, kind);

-- the joint action plan (PSD) of a budget file: its totals
CREATE TABLE plans (
    id IDENTITY_PK,
    budget_id INTEGER NOT NULL REFERENCES budgets (id),
    name TEXT NOT NULL,
    activities INTEGER NOT NULL,
    total BIGINT NOT NULL,
    community BIGINT NOT NULL DEFAULT 0,
    investment BIGINT NOT NULL DEFAULT 0
);

-- projects keep their number (id) across budget versions: keyed by code
CREATE TABLE projects (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    village_id INTEGER REFERENCES villages (id),
    cost BIGINT NOT NULL,
    status TEXT NOT NULL,
    problem_id INTEGER REFERENCES problems (id),
    direct_beneficiaries INTEGER,
    indirect_beneficiaries INTEGER,
    note TEXT NOT NULL DEFAULT '',
    in_plan BOOLEAN NOT NULL DEFAULT FALSE,
    budget_id INTEGER NOT NULL REFERENCES budgets (id),
    UNIQUE (municipality_id, code)
);

CREATE TABLE project_funding (
    id IDENTITY_PK,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    budget_id INTEGER NOT NULL REFERENCES budgets (id),
    source_type TEXT NOT NULL CHECK (source_type IN ('local_budget', 'republican_budget',
        'grant', 'investor', 'community_money', 'community_labour')),
    source_name TEXT NOT NULL DEFAULT '',
    amount BIGINT NOT NULL
);

CREATE INDEX project_funding_project ON project_funding (project_id, budget_id);

-- residents who joined the initiative group of a priority problem
CREATE TABLE initiative_members (
    problem_id INTEGER NOT NULL REFERENCES problems (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    joined_at TEXT NOT NULL,
    PRIMARY KEY (problem_id, resident_id)
);

-- monitoring acts: written by members of the monitoring group, never edited
CREATE TABLE monitoring_acts (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    project_id INTEGER NOT NULL REFERENCES projects (id),
    author_id INTEGER NOT NULL REFERENCES residents (id),
    kind TEXT NOT NULL CHECK (kind IN ('tender', 'purchase', 'handover', 'use')),
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE act_photos (
    act_id INTEGER NOT NULL REFERENCES monitoring_acts (id),
    position INTEGER NOT NULL,
    telegram_file_id TEXT NOT NULL,
    PRIMARY KEY (act_id, position)
);

CREATE TABLE rating_rounds (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    name TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT
);

CREATE TABLE rating_services (
    id IDENTITY_PK,
    round_id INTEGER NOT NULL REFERENCES rating_rounds (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (round_id, position)
);

CREATE TABLE ratings (
    service_id INTEGER NOT NULL REFERENCES rating_services (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    village_id INTEGER REFERENCES villages (id),
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    rated_at TEXT NOT NULL,
    PRIMARY KEY (service_id, resident_id)
);
