-- Messages Chancery posts in Matrix rooms on its own: a unit's card for a new letter (written in
-- the same transaction as the registration) and rule-file errors for the admin room. Posted by
-- the Matrix adapter with the outbox's claim, lease and retry; a table of its own, so the mail
-- dispatcher never claims one (SQLite). Times as in 0001: fixed-width UTC text.
CREATE TABLE room_outbox (
    id              INTEGER PRIMARY KEY,
    -- The letter a card announces; NULL for messages about no document.
    document_id     INTEGER REFERENCES documents(id),
    target          TEXT NOT NULL,   -- a unit id, or 'admin' for the configured admin room
    body_markdown   TEXT NOT NULL,
    status          TEXT NOT NULL,   -- pending | sending | sent | failed
    attempts        INTEGER NOT NULL,
    -- pending: when to try (again); sending: when the claim lapses and another sender may take
    -- the row (its sender died mid-post).
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    finished_at     TEXT             -- when it was posted, or given up
);
CREATE INDEX room_outbox_due ON room_outbox (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX room_outbox_document ON room_outbox (document_id);
