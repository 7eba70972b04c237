-- The staff directory (who may ask the assistant, and what they may see) and the rooms units
-- are told in (SQLite).
CREATE TABLE staff (
    mxid       TEXT PRIMARY KEY,   -- @name:server
    name       TEXT NOT NULL,
    unit       TEXT NOT NULL,
    role       TEXT NOT NULL,      -- staff | manager | registrar | admin
    clearance  TEXT NOT NULL,      -- public | internal | confidential | secret
    added_at   TEXT NOT NULL,
    added_by   TEXT NOT NULL
);

-- A unit's room, bound with `!room bind UNIT` (it overrides units.toml's `room`).
CREATE TABLE unit_rooms (
    unit      TEXT PRIMARY KEY,
    room_id   TEXT NOT NULL,
    bound_by  TEXT NOT NULL,
    bound_at  TEXT NOT NULL
);

-- Work on a document after registration: who has it, and when its unit confirmed it.
ALTER TABLE documents ADD COLUMN assignee TEXT;
ALTER TABLE documents ADD COLUMN acknowledged_at TEXT;
ALTER TABLE documents ADD COLUMN acknowledged_by TEXT;
CREATE INDEX documents_assignee ON documents (assignee) WHERE assignee IS NOT NULL;
CREATE INDEX documents_unit_status ON documents (unit, status);
