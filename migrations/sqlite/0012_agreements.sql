-- International agreements with partner institutions, and the registered letters that carry
-- them (SQLite). Dates are YYYY-MM-DD in the office's zone, so text order is date order.
CREATE TABLE agreements (
    id              INTEGER PRIMARY KEY,
    partner_id      INTEGER NOT NULL REFERENCES partners(id),
    kind            TEXT NOT NULL,      -- erasmus-iia | mou | bilateral | other
    starts_on       TEXT NOT NULL,
    ends_on         TEXT NOT NULL,
    notice          TEXT,               -- the notice period as typed canonically (90d, 3m, 1y); NULL: none
    notice_by       TEXT,               -- the last day to give notice: ends_on less the notice period
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    renewed_by      TEXT,               -- the last renewal: who, when, and the end it replaced
    renewed_at      TEXT,
    previous_end    TEXT
);
-- "Expiring" is an active agreement whose end is near.
CREATE INDEX agreements_active_ends_on ON agreements (ends_on) WHERE status = 'active';
CREATE INDEX agreements_partner ON agreements (partner_id);

CREATE TABLE agreement_letters (
    agreement_id    INTEGER NOT NULL REFERENCES agreements(id),
    document_id     INTEGER NOT NULL REFERENCES documents(id),
    PRIMARY KEY (agreement_id, document_id)
);
-- Which agreements a letter carries.
CREATE INDEX agreement_letters_document ON agreement_letters (document_id);
