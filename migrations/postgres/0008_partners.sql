-- Partner institutions, the people there, and the log of contacts with them (PostgreSQL).
-- Letters are not copied into the log: they join it by their correspondents' domains.
CREATE TABLE partners (
    id          BIGSERIAL PRIMARY KEY,
    handle      TEXT NOT NULL UNIQUE,   -- lower case, what people type: metu
    name        TEXT NOT NULL,
    country     TEXT NOT NULL,          -- ISO 3166-1 alpha-2, upper case
    kind        TEXT NOT NULL,          -- university | embassy | organization | media | company
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX partners_country ON partners (country);
CREATE INDEX partners_kind ON partners (kind);

-- Mail domains of a partner, lower case; their subdomains are the partner's too.
CREATE TABLE partner_domains (
    partner_id  BIGINT NOT NULL REFERENCES partners(id),
    domain      TEXT NOT NULL UNIQUE
);
CREATE INDEX partner_domains_partner ON partner_domains (partner_id);

CREATE TABLE partner_people (
    partner_id  BIGINT NOT NULL REFERENCES partners(id),
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    UNIQUE (partner_id, email)
);

CREATE TABLE contacts (
    id              BIGSERIAL PRIMARY KEY,
    partner_id      BIGINT NOT NULL REFERENCES partners(id),
    at              TEXT NOT NULL,
    via             TEXT NOT NULL,      -- email | call | meeting | visit | event
    summary         TEXT NOT NULL,
    follow_up       TEXT,               -- YYYY-MM-DD in the office's zone
    follow_up_done  BIGINT NOT NULL DEFAULT 0,
    logged_by       TEXT NOT NULL
);
CREATE INDEX contacts_partner_at ON contacts (partner_id, at);
CREATE INDEX contacts_at ON contacts (at);
CREATE INDEX contacts_open_follow_ups ON contacts (follow_up) WHERE follow_up_done = 0 AND follow_up IS NOT NULL;
