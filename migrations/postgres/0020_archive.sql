-- The archive (PostgreSQL): case files, holds, and disposal decisions. The file plan itself is
-- `mail-rules/file-plan.toml`, kept by registry staff; a case keeps its class's code.

-- A case file. Every document belongs to one: by default its class's yearly case
-- ('03-02/2026', created on first use), or a named case ('03-02/2026-4').
CREATE TABLE cases (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    code         TEXT NOT NULL,           -- its class in the file plan
    year         BIGINT NOT NULL,
    sequence     BIGINT,                 -- a named case's number in its class and year; NULL for the yearly case
    title        TEXT,                    -- NULL for a yearly case: its class's title
    unit         TEXT,                    -- whose managers may change it; NULL: registrars and admins only
    opened_at    TEXT NOT NULL,
    opened_by    TEXT NOT NULL,
    closed_on    TEXT,                    -- the day it closed, in the office's zone: the retention clock starts
    closed_at    TEXT,
    closed_by    TEXT,
    close_reason TEXT,
    kept_for     TEXT,                    -- a review's new retention ('5y'), counted from reviewed_on
    reviewed_on  TEXT,
    disposed_by  TEXT                     -- the decision that carried it out ('D-2031-0004')
);
CREATE UNIQUE INDEX cases_numbered ON cases (code, year, sequence);
CREATE INDEX cases_open ON cases (year) WHERE closed_at IS NULL;

-- What happened to a case (opened, closed, reviewed, held, disposed), append-only.
CREATE TABLE case_events (
    id       BIGSERIAL PRIMARY KEY,
    case_id  BIGINT NOT NULL REFERENCES cases(id),
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    detail   TEXT,
    reason   TEXT
);
CREATE INDEX case_events_case ON case_events (case_id);
CREATE TRIGGER case_events_are_append_only BEFORE UPDATE OR DELETE ON case_events
FOR EACH ROW EXECUTE FUNCTION refuse_change('history is append-only');

ALTER TABLE documents ADD COLUMN case_id BIGINT REFERENCES cases(id);
-- The decision that erased the document's content ('D-2031-0004'), how ('destroyed' or
-- 'transferred') and on which day; the entry itself stays.
ALTER TABLE documents ADD COLUMN disposed_by TEXT;
ALTER TABLE documents ADD COLUMN disposal TEXT;
ALTER TABLE documents ADD COLUMN disposed_on TEXT;
CREATE INDEX documents_case ON documents (case_id);
CREATE INDEX documents_unfiled ON documents (id) WHERE case_id IS NULL;

-- A hold stops disposal and transfer of what it covers, whatever the retention says: one
-- case, one document, or a whole class.
CREATE TABLE holds (
    id             BIGSERIAL PRIMARY KEY,
    case_id        BIGINT REFERENCES cases(id),
    document_id    BIGINT REFERENCES documents(id),
    class_code     TEXT,
    reason         TEXT NOT NULL,
    placed_by      TEXT NOT NULL,
    placed_at      TEXT NOT NULL,
    released_by    TEXT,
    released_at    TEXT,
    release_reason TEXT,
    CHECK (num_nonnulls(case_id, document_id, class_code) = 1)
);
CREATE INDEX holds_active ON holds (id) WHERE released_at IS NULL;

-- A disposal decision 'D-2026-0001' (numbered by register_counters, register 'D'): proposed by
-- one person, approved and carried out by another.
CREATE TABLE disposals (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    year          BIGINT NOT NULL,
    sequence      BIGINT NOT NULL,
    action        TEXT NOT NULL CHECK (action IN ('destroy', 'transfer')),
    reason        TEXT,
    proposed_by   TEXT NOT NULL,
    proposed_at   TEXT NOT NULL,
    approved_by   TEXT,
    approved_at   TEXT,
    UNIQUE (year, sequence)
);
CREATE TABLE disposal_cases (
    disposal_id BIGINT NOT NULL REFERENCES disposals(id),
    case_id     BIGINT NOT NULL REFERENCES cases(id),
    PRIMARY KEY (disposal_id, case_id)
);
CREATE INDEX disposal_cases_case ON disposal_cases (case_id);
-- The certificate's lines, written as each document is erased; a confidential document's
-- subject is never kept here.
CREATE TABLE disposed_documents (
    disposal_id   BIGINT NOT NULL REFERENCES disposals(id),
    document_id   BIGINT NOT NULL REFERENCES documents(id),
    number        TEXT NOT NULL,
    class_code    TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size          BIGINT NOT NULL,
    subject       TEXT,
    PRIMARY KEY (disposal_id, document_id)
);

-- What a letter said and who wrote it may change once: in the update that records its
-- disposal, which erases them. Its number, dates and fingerprint never change.
DROP TRIGGER documents_core_is_immutable ON documents;
CREATE TRIGGER documents_core_is_immutable
BEFORE UPDATE OF direction, year, message_id, replies_to_json, sent_at, received_at, registered_at, sha256, size, source
ON documents
FOR EACH ROW EXECUTE FUNCTION refuse_change('the core of a registration entry cannot be edited');
CREATE TRIGGER documents_content_leaves_only_by_disposal
BEFORE UPDATE OF subject, from_json, to_json, cc_json, from_address, body_text ON documents
FOR EACH ROW WHEN (OLD.disposed_by IS NOT NULL OR NEW.disposed_by IS NULL)
EXECUTE FUNCTION refuse_change('the core of a registration entry cannot be edited');
CREATE TRIGGER documents_are_disposed_once
BEFORE UPDATE OF disposed_by, disposal, disposed_on ON documents
FOR EACH ROW WHEN (OLD.disposed_by IS NOT NULL)
EXECUTE FUNCTION refuse_change('a disposed entry stays as it was disposed');

-- Stored bytes leave only with their entry's disposal (recorded first, in the same transaction).
CREATE FUNCTION refuse_unless_disposed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM documents WHERE id = OLD.document_id AND disposed_by IS NOT NULL) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '%', TG_ARGV[0];
END;
$$;
DROP TRIGGER raw_messages_are_immutable ON raw_messages;
CREATE TRIGGER raw_messages_are_immutable BEFORE UPDATE OR DELETE ON raw_messages
FOR EACH ROW EXECUTE FUNCTION refuse_unless_disposed('stored messages cannot be edited, and leave the register only by an approved disposal');
DROP TRIGGER attachments_are_immutable ON attachments;
CREATE TRIGGER attachments_are_immutable BEFORE UPDATE OR DELETE ON attachments
FOR EACH ROW EXECUTE FUNCTION refuse_unless_disposed('stored attachments cannot be edited, and leave the register only by an approved disposal');
