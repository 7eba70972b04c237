-- Press releases of the International Relations Office and every version of their text (SQLite).
-- A release is approved at one version; an edit makes a new version, which needs its own approval.
CREATE TABLE press_releases (
    id                INTEGER PRIMARY KEY,
    title             TEXT NOT NULL,
    lang              TEXT NOT NULL,      -- en | az | ru
    status            TEXT NOT NULL,      -- draft | approved | sent
    version           INTEGER NOT NULL,   -- the current version in press_versions
    approved_version  INTEGER,            -- the last version approved (older than `version` after an edit)
    approved_by       TEXT,
    approved_at       TEXT,
    sent_at           TEXT,
    out_number        TEXT,               -- the outgoing registration number it was sent under
    embargo           TEXT,               -- not sent to the media before this instant
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL
);
CREATE INDEX press_releases_status ON press_releases (status);

-- Every version is kept: the text as it stood after each edit, and who made it.
CREATE TABLE press_versions (
    release_id     INTEGER NOT NULL REFERENCES press_releases(id),
    version        INTEGER NOT NULL,
    headline       TEXT NOT NULL,
    dateline       TEXT NOT NULL,
    lead           TEXT NOT NULL,
    body           TEXT NOT NULL,
    quote          TEXT NOT NULL,
    boilerplate    TEXT NOT NULL,
    media_contact  TEXT NOT NULL,
    edited_by      TEXT NOT NULL,
    edited_at      TEXT NOT NULL,
    PRIMARY KEY (release_id, version)
);
