-- Taking back what was planned (PostgreSQL): a meeting called off, an agreement ended before its
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
-- was closed either way.
ALTER TABLE visa_cases DROP CONSTRAINT visa_cases_status_check;
ALTER TABLE visa_cases ADD CONSTRAINT visa_cases_status_check CHECK (status IN ('open', 'done', 'cancelled'));
