-- Reminders and what the scheduler needs (SQLite). Times as in 0001: fixed-width UTC text;
-- deadlines are YYYY-MM-DD in the office's zone.
--
-- One row per thing to be reminded of (a visa's apply-by date, an agreement's end, a letter's due
-- date, a personal note), with the time it next fires. The scheduler claims due rows and, in the
-- same transaction, writes their messages to the outboxes and moves `due_at` on (or closes the
-- row): a reminder fires once per step, also when several instances share one database.
CREATE TABLE reminders (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,     -- visa-apply-by | visa-expiry | agreement-end | agreement-notice | letter-due | letter-overdue | follow-up | personal | digest | agenda-pack
    subject_id    INTEGER,           -- the visa case, agreement, document, contact or meeting
    subject_key   TEXT,              -- a digest's unit
    deadline      TEXT,              -- the office date the lead times count back from
    step          INTEGER NOT NULL,  -- how many times it has fired
    due_at        TEXT NOT NULL,     -- when it fires next
    status        TEXT NOT NULL CHECK (status IN ('active', 'done', 'cancelled')),
    owner         TEXT NOT NULL,     -- who set it, or who is in charge of its subject
    target        TEXT,              -- personal: a Matrix ID (direct message) or a room ID or alias
    body          TEXT,              -- personal: the text
    created_at    TEXT NOT NULL,
    last_fired_at TEXT,
    closed_at     TEXT,
    closed_by     TEXT
);
CREATE INDEX reminders_due ON reminders (due_at) WHERE status = 'active';
CREATE INDEX reminders_subject ON reminders (kind, subject_id);
CREATE INDEX reminders_owner ON reminders (owner) WHERE status = 'active';
-- One weekly digest per unit, however many instances start at once.
CREATE UNIQUE INDEX reminders_one_digest ON reminders (subject_key) WHERE kind = 'digest' AND status = 'active';

-- Chat messages one instance has taken to answer: with several instances on one database, each
-- message is answered by the one that inserts its event ID first.
CREATE TABLE answered_events (
    event_id     TEXT PRIMARY KEY,
    instance     TEXT NOT NULL,
    answered_at  TEXT NOT NULL
);
CREATE INDEX answered_events_at ON answered_events (answered_at);

-- How to reach a person outside the chat: their own zone for personal reminders, an address for
-- e-mail reminders, and the secret of their calendar feed.
ALTER TABLE staff ADD COLUMN timezone TEXT;
ALTER TABLE staff ADD COLUMN email TEXT;
ALTER TABLE staff ADD COLUMN calendar_secret TEXT;
CREATE UNIQUE INDEX staff_calendar_secret ON staff (calendar_secret) WHERE calendar_secret IS NOT NULL;
