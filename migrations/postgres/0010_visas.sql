-- Visa and travel cases of staff and visiting collaborators (PostgreSQL).
-- Dates are YYYY-MM-DD in the office's zone, so text order is date order.
CREATE TABLE visa_cases (
    id                BIGSERIAL PRIMARY KEY,
    traveller         TEXT NOT NULL,
    traveller_mxid    TEXT,               -- when the traveller is in the staff directory
    country           TEXT NOT NULL,      -- ISO 3166-1 alpha-2, upper case
    kind              TEXT NOT NULL,      -- schengen | national | e-visa | other (configurable)
    travel_from       TEXT NOT NULL,
    travel_to         TEXT NOT NULL,
    apply_by          TEXT,
    visa_expires      TEXT,
    passport_expires  TEXT,
    status            TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    done_at           TEXT,
    done_by           TEXT
);
-- "Due" is an open case whose apply-by date or visa expiry is near: one index per deadline.
CREATE INDEX visa_cases_open_apply_by ON visa_cases (apply_by) WHERE status = 'open' AND apply_by IS NOT NULL;
CREATE INDEX visa_cases_open_visa_expires ON visa_cases (visa_expires) WHERE status = 'open' AND visa_expires IS NOT NULL;
CREATE INDEX visa_cases_open_travel ON visa_cases (travel_from) WHERE status = 'open';
CREATE INDEX visa_cases_created_by ON visa_cases (created_by);
CREATE INDEX visa_cases_traveller_mxid ON visa_cases (traveller_mxid) WHERE traveller_mxid IS NOT NULL;
