-- Several `chancery serve` on one register (SQLite: the same code, with one instance).
-- Times as in 0001: fixed-width UTC text, so they compare as text.

-- Each running instance, by name (`HOST:PID` unless `[instance] name` is set). It renews
-- `heartbeat_at` every few seconds and, with it, `alive_until` (heartbeat + its lease length):
-- past that, others treat it as gone and take over what it held or had claimed. A clean stop
-- deletes the row; a killed instance's row stays, shown as gone by `chancery status`.
CREATE TABLE instances (
    name         TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    started_at   TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    alive_until  TEXT NOT NULL
);

-- A lease on a shared resource (`mailbox:INBOX`): only its holder works on it, until
-- `expires_at`; the holder renews it well before, and stops working on it if it cannot.
-- `backlog` is what the holder last saw waiting (letters not yet registered), for `status`.
CREATE TABLE leases (
    resource    TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    backlog     INTEGER NOT NULL DEFAULT 0,
    backlog_at  TEXT
);

-- Who claimed a row being sent: another sender takes it once that instance's heartbeat lapses,
-- without waiting for the claim's own (long) lease.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE room_outbox ADD COLUMN claimed_by TEXT;
