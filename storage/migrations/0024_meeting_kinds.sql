-- Every kind of meeting the seed report counts, not only budget hearings: PRA sessions
-- (participatory rural appraisal, one age group each), focus groups of community leaders,
-- village assemblies, trainings and working meetings. They live in the hearings table so
-- that invitations, answers, check-in at the door and the participation figures apply to
-- all of them alike. ``kind`` stays the budget stage a meeting serves (formation or
-- execution); only a hearing shows it. Existing rows are hearings.
ALTER TABLE hearings ADD COLUMN meeting TEXT NOT NULL DEFAULT 'hearing'
    CHECK (meeting IN ('hearing', 'pra', 'focus', 'assembly', 'training', 'working'));
-- the age group a PRA session was held for (bot.core.services.voting.AGE_GROUPS); NULL: all
ALTER TABLE hearings ADD COLUMN age_group TEXT
    CHECK (age_group IS NULL OR age_group IN ('18-35', '36-55', '55+'));
