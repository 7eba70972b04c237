-- Meetings, who takes part, and their agendas (SQLite). Times as in 0001: fixed-width UTC text.
-- A meeting's agenda pack is a reminder (kind 'agenda-pack', subject_id the meeting) written in
-- the same transaction as the meeting.
CREATE TABLE meetings (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    starts_at   TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX meetings_starts_at ON meetings (starts_at);

-- Participants are staff members (Matrix IDs); each once per meeting.
CREATE TABLE meeting_participants (
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id),
    mxid        TEXT NOT NULL,
    PRIMARY KEY (meeting_id, mxid)
);
CREATE INDEX meeting_participants_mxid ON meeting_participants (mxid);

-- The agenda: registered documents in order (position 1, 2, ...), each with the item's title.
CREATE TABLE agenda_items (
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id),
    position    INTEGER NOT NULL,
    document_id INTEGER NOT NULL REFERENCES documents (id),
    text        TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    added_at    TEXT NOT NULL,
    PRIMARY KEY (meeting_id, position)
);
CREATE UNIQUE INDEX agenda_items_document ON agenda_items (meeting_id, document_id);
