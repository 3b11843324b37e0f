-- The joint action plan's progress, set by staff on the console's project page: a
-- project's progress in per cent (NULL: as its status says, bot/core/services/public_site.py
-- PROGRESS) and its milestones (what is to be done by when, and when it was done).
ALTER TABLE projects ADD COLUMN progress INTEGER CHECK (progress BETWEEN 0 AND 100);

CREATE TABLE project_milestones (
    id IDENTITY_PK,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    title TEXT NOT NULL,
    -- local dates, YYYY-MM-DD
    due_on TEXT,
    done_on TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX project_milestones_by_project ON project_milestones (project_id, id);
