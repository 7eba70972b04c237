-- Taking back what was planned (SQLite): a meeting called off, an agreement ended before its
-- term, a visa case cancelled, each with who did it and when. The reminders they had end in the
-- same transaction (`reminders.closed_by`).

-- A cancelled meeting stays, for the record; its agenda pack is never sent.
ALTER TABLE meetings ADD COLUMN cancelled_at TEXT;
ALTER TABLE meetings ADD COLUMN cancelled_by TEXT;
ALTER TABLE meetings ADD COLUMN cancel_reason TEXT;

-- An agreement ended early: status 'ended', `ends_on` the day it ends, `planned_end` the end it
-- had, and who ended it, when and why.
ALTER TABLE agreements ADD COLUMN planned_end TEXT;
ALTER TABLE agreements ADD COLUMN ended_by TEXT;
ALTER TABLE agreements ADD COLUMN ended_at TEXT;
ALTER TABLE agreements ADD COLUMN end_reason TEXT;

-- A visa case may be cancelled as well as done; `done_at` and `done_by` say when and by whom it
-- was closed either way. SQLite changes a CHECK only by rebuilding the table.
CREATE TABLE visa_cases_rebuilt (
    id                INTEGER PRIMARY KEY,
    traveller         TEXT NOT NULL,
    traveller_mxid    TEXT,
    country           TEXT NOT NULL,
    kind              TEXT NOT NULL,
    travel_from       TEXT NOT NULL,
    travel_to         TEXT NOT NULL,
    apply_by          TEXT,
    visa_expires      TEXT,
    passport_expires  TEXT,
    status            TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    done_at           TEXT,
    done_by           TEXT
);
INSERT INTO visa_cases_rebuilt (id, traveller, traveller_mxid, country, kind, travel_from, travel_to, apply_by, visa_expires,
                                passport_expires, status, created_by, created_at, done_at, done_by)
SELECT id, traveller, traveller_mxid, country, kind, travel_from, travel_to, apply_by, visa_expires,
       passport_expires, status, created_by, created_at, done_at, done_by FROM visa_cases;
DROP TABLE visa_cases;
ALTER TABLE visa_cases_rebuilt RENAME TO visa_cases;
CREATE INDEX visa_cases_open_apply_by ON visa_cases (apply_by) WHERE status = 'open' AND apply_by IS NOT NULL;
CREATE INDEX visa_cases_open_visa_expires ON visa_cases (visa_expires) WHERE status = 'open' AND visa_expires IS NOT NULL;
CREATE INDEX visa_cases_open_travel ON visa_cases (travel_from) WHERE status = 'open';
CREATE INDEX visa_cases_created_by ON visa_cases (created_by);
CREATE INDEX visa_cases_traveller_mxid ON visa_cases (traveller_mxid) WHERE traveller_mxid IS NOT NULL;
