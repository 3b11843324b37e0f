-- Roles beyond "resident": municipal staff, administrators, council deputies and
-- members of the joint monitoring group. Checked on every staff call.
CREATE TABLE roles (
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('staff', 'admin', 'deputy', 'monitor')),
    granted_at TEXT NOT NULL,
    PRIMARY KEY (resident_id, role)
);

CREATE INDEX roles_municipality ON roles (municipality_id, role);
