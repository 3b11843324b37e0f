-- Names staff enter, in Kyrgyz, Russian and English (storage.models.Texts): beside each
-- name column its three versions, any of which may be missing (NULL). A reader sees their
-- language, else the base column: what staff typed as the plain name, else the version in
-- the municipality's default language, else any (bot.core.languages.in_language).
ALTER TABLE villages ADD COLUMN name_ky TEXT;
ALTER TABLE villages ADD COLUMN name_ru TEXT;
ALTER TABLE villages ADD COLUMN name_en TEXT;
ALTER TABLE problems ADD COLUMN body_ky TEXT;
ALTER TABLE problems ADD COLUMN body_ru TEXT;
ALTER TABLE problems ADD COLUMN body_en TEXT;
ALTER TABLE polls ADD COLUMN title_ky TEXT;
ALTER TABLE polls ADD COLUMN title_ru TEXT;
ALTER TABLE polls ADD COLUMN title_en TEXT;
ALTER TABLE poll_options ADD COLUMN label_ky TEXT;
ALTER TABLE poll_options ADD COLUMN label_ru TEXT;
ALTER TABLE poll_options ADD COLUMN label_en TEXT;
ALTER TABLE projects ADD COLUMN name_ky TEXT;
ALTER TABLE projects ADD COLUMN name_ru TEXT;
ALTER TABLE projects ADD COLUMN name_en TEXT;
ALTER TABLE projects ADD COLUMN note_ky TEXT;
ALTER TABLE projects ADD COLUMN note_ru TEXT;
ALTER TABLE projects ADD COLUMN note_en TEXT;
ALTER TABLE project_funding ADD COLUMN source_name_ky TEXT;
ALTER TABLE project_funding ADD COLUMN source_name_ru TEXT;
ALTER TABLE project_funding ADD COLUMN source_name_en TEXT;
ALTER TABLE budget_lines ADD COLUMN name_ky TEXT;
ALTER TABLE budget_lines ADD COLUMN name_ru TEXT;
ALTER TABLE budget_lines ADD COLUMN name_en TEXT;
ALTER TABLE plans ADD COLUMN name_ky TEXT;
ALTER TABLE plans ADD COLUMN name_ru TEXT;
ALTER TABLE plans ADD COLUMN name_en TEXT;
ALTER TABLE rating_rounds ADD COLUMN name_ky TEXT;
ALTER TABLE rating_rounds ADD COLUMN name_ru TEXT;
ALTER TABLE rating_rounds ADD COLUMN name_en TEXT;
ALTER TABLE rating_services ADD COLUMN name_ky TEXT;
ALTER TABLE rating_services ADD COLUMN name_ru TEXT;
ALTER TABLE rating_services ADD COLUMN name_en TEXT;
ALTER TABLE hearings ADD COLUMN place_ky TEXT;
ALTER TABLE hearings ADD COLUMN place_ru TEXT;
ALTER TABLE hearings ADD COLUMN place_en TEXT;
ALTER TABLE hearings ADD COLUMN agenda_ky TEXT;
ALTER TABLE hearings ADD COLUMN agenda_ru TEXT;
ALTER TABLE hearings ADD COLUMN agenda_en TEXT;

-- Initiative groups of residents (the seed's Kelechek, Umut, Aikyn), each taking one or
-- more priority problems; residents join a problem's group (initiative_members).
CREATE TABLE initiative_groups (
    id IDENTITY_PK,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    name TEXT NOT NULL,
    name_ky TEXT,
    name_ru TEXT,
    name_en TEXT,
    UNIQUE (municipality_id, name)
);

CREATE TABLE initiative_group_problems (
    group_id INTEGER NOT NULL REFERENCES initiative_groups (id),
    problem_id INTEGER NOT NULL REFERENCES problems (id),
    PRIMARY KEY (group_id, problem_id)
);
