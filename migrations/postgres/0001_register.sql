-- The register of incoming and outgoing documents (PostgreSQL).
-- Times are UTC, RFC 3339 with microseconds ("2026-11-28T05:30:00.000000Z"), so text order is time order.

CREATE TABLE register_counters (
    register TEXT NOT NULL,
    year     BIGINT NOT NULL,
    last     BIGINT NOT NULL,
    PRIMARY KEY (register, year)
);

CREATE TABLE documents (
    id              BIGSERIAL PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    direction       TEXT NOT NULL,
    year            BIGINT NOT NULL,
    sequence        BIGINT NOT NULL,
    subject         TEXT NOT NULL,
    from_json       TEXT NOT NULL,
    to_json         TEXT NOT NULL,
    cc_json         TEXT NOT NULL,
    from_address    TEXT NOT NULL,
    message_id      TEXT,
    replies_to_json TEXT NOT NULL,
    sent_at         TEXT,
    received_at     TEXT NOT NULL,
    registered_at   TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    size            BIGINT NOT NULL,
    body_text       TEXT NOT NULL,
    source          TEXT NOT NULL,
    thread_id       BIGINT REFERENCES documents(id),
    flags_json      TEXT NOT NULL,
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
    document_id BIGINT PRIMARY KEY REFERENCES documents(id),
    bytes       BYTEA NOT NULL
);

CREATE TABLE attachments (
    id          BIGSERIAL PRIMARY KEY,
    document_id BIGINT NOT NULL REFERENCES documents(id),
    position    BIGINT NOT NULL,
    name        TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    content     BYTEA NOT NULL,
    UNIQUE (document_id, position)
);

CREATE TABLE history (
    id          BIGSERIAL PRIMARY KEY,
    document_id BIGINT NOT NULL REFERENCES documents(id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    field       TEXT,
    old_value   TEXT,
    new_value   TEXT,
    reason      TEXT
);
CREATE INDEX history_document ON history (document_id);

CREATE TABLE imap_messages (
    mailbox      TEXT NOT NULL,
    uid_validity BIGINT NOT NULL,
    uid          BIGINT NOT NULL,
    document_id  BIGINT NOT NULL REFERENCES documents(id),
    PRIMARY KEY (mailbox, uid_validity, uid)
);

-- Full text over subject, body and attachment names; 'simple' keeps every language's words.
CREATE TABLE document_search (
    document_id BIGINT PRIMARY KEY REFERENCES documents(id),
    vector      TSVECTOR NOT NULL
);
CREATE INDEX document_search_vector ON document_search USING GIN (vector);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END;
$$;

CREATE TRIGGER documents_core_is_immutable
BEFORE UPDATE OF number, direction, year, sequence, subject, from_json, to_json, cc_json,
    from_address, message_id, replies_to_json, sent_at, received_at, registered_at, sha256, size,
    body_text, source ON documents
FOR EACH ROW EXECUTE FUNCTION refuse_change('the core of a registration entry cannot be edited');
CREATE TRIGGER documents_are_never_deleted BEFORE DELETE ON documents
FOR EACH ROW EXECUTE FUNCTION refuse_change('registration entries are annulled, never deleted');
CREATE TRIGGER raw_messages_are_immutable BEFORE UPDATE OR DELETE ON raw_messages
FOR EACH ROW EXECUTE FUNCTION refuse_change('stored messages cannot be edited');
CREATE TRIGGER attachments_are_immutable BEFORE UPDATE OR DELETE ON attachments
FOR EACH ROW EXECUTE FUNCTION refuse_change('stored attachments cannot be edited');
CREATE TRIGGER history_is_append_only BEFORE UPDATE OR DELETE ON history
FOR EACH ROW EXECUTE FUNCTION refuse_change('history is append-only');
