-- The register of incoming and outgoing documents (SQLite).
-- Times are UTC, RFC 3339 with microseconds ("2026-11-28T05:30:00.000000Z"), so text order is time order.

CREATE TABLE register_counters (
    register TEXT NOT NULL,          -- 'IN' or 'OUT'
    year     INTEGER NOT NULL,
    last     INTEGER NOT NULL,
    PRIMARY KEY (register, year)
);

CREATE TABLE documents (
    id              INTEGER PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    direction       TEXT NOT NULL,
    year            INTEGER NOT NULL,
    sequence        INTEGER NOT NULL,
    subject         TEXT NOT NULL,
    from_json       TEXT NOT NULL,
    to_json         TEXT NOT NULL,
    cc_json         TEXT NOT NULL,
    from_address    TEXT NOT NULL,   -- first sender address, lower case, for lookups
    message_id      TEXT,
    replies_to_json TEXT NOT NULL,
    sent_at         TEXT,
    received_at     TEXT NOT NULL,
    registered_at   TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    size            INTEGER NOT NULL,
    body_text       TEXT NOT NULL,
    source          TEXT NOT NULL,
    thread_id       INTEGER REFERENCES documents(id),
    flags_json      TEXT NOT NULL,
    -- What may change after registration, each change recorded in history:
    status          TEXT NOT NULL,
    unit            TEXT NOT NULL,
    classification  TEXT,
    confidentiality TEXT NOT NULL,
    annul_reason    TEXT,
    UNIQUE (direction, year, sequence)
);
CREATE INDEX documents_sha256 ON documents (sha256);
CREATE INDEX documents_message_id ON documents (message_id);
CREATE INDEX documents_registered_at ON documents (registered_at);
CREATE INDEX documents_thread ON documents (thread_id);

CREATE TABLE raw_messages (
    document_id INTEGER PRIMARY KEY REFERENCES documents(id),
    bytes       BLOB NOT NULL
);

CREATE TABLE attachments (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    content     BLOB NOT NULL,
    UNIQUE (document_id, position)
);

CREATE TABLE history (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    field       TEXT,
    old_value   TEXT,
    new_value   TEXT,
    reason      TEXT
);
CREATE INDEX history_document ON history (document_id);

-- Which server message became which document: progress of the IMAP listener.
CREATE TABLE imap_messages (
    mailbox      TEXT NOT NULL,
    uid_validity INTEGER NOT NULL,
    uid          INTEGER NOT NULL,
    document_id  INTEGER NOT NULL REFERENCES documents(id),
    PRIMARY KEY (mailbox, uid_validity, uid)
);

CREATE VIRTUAL TABLE documents_fts USING fts5 (
    subject, body, attachment_names,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);

-- The core of an entry is never edited; history is append-only.
CREATE TRIGGER documents_core_is_immutable
BEFORE UPDATE OF number, direction, year, sequence, subject, from_json, to_json, cc_json,
    from_address, message_id, replies_to_json, sent_at, received_at, registered_at, sha256, size,
    body_text, source ON documents
BEGIN
    SELECT RAISE(ABORT, 'the core of a registration entry cannot be edited');
END;
CREATE TRIGGER documents_are_never_deleted BEFORE DELETE ON documents
BEGIN
    SELECT RAISE(ABORT, 'registration entries are annulled, never deleted');
END;
CREATE TRIGGER raw_messages_are_immutable BEFORE UPDATE ON raw_messages
BEGIN
    SELECT RAISE(ABORT, 'stored messages cannot be edited');
END;
CREATE TRIGGER attachments_are_immutable BEFORE UPDATE ON attachments
BEGIN
    SELECT RAISE(ABORT, 'stored attachments cannot be edited');
END;
CREATE TRIGGER history_is_append_only_update BEFORE UPDATE ON history
BEGIN
    SELECT RAISE(ABORT, 'history is append-only');
END;
CREATE TRIGGER history_is_append_only_delete BEFORE DELETE ON history
BEGIN
    SELECT RAISE(ABORT, 'history is append-only');
END;
