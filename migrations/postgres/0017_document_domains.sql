-- The domains each letter is filed under, for finding a partner's letters by an indexed, exact
-- match instead of a LIKE over every letter: the domain of the first sender of an incoming
-- letter and of every recipient of an outgoing one, lower case, with each parent domain down
-- to two labels (`mail.ut.ee` is filed under `mail.ut.ee` and `ut.ee`), so that a partner's
-- domain finds its subdomains' letters by equality. Registration writes them
-- (`core::partner::filing_domains`); this fills them for the letters registered before.
-- Written so that running it again adds only what is missing.
CREATE TABLE IF NOT EXISTS document_domains (
    domain      TEXT NOT NULL,
    document_id BIGINT NOT NULL REFERENCES documents(id),
    PRIMARY KEY (domain, document_id)
);

WITH RECURSIVE
addresses (document_id, address) AS (
    SELECT id, rtrim(btrim(from_address), '>') FROM documents WHERE direction = 'incoming'
    UNION ALL
    SELECT d.id, rtrim(btrim(t.value ->> 'address'), '>')
    FROM documents d CROSS JOIN LATERAL json_array_elements(d.to_json::json) AS t(value) WHERE d.direction = 'outgoing'
),
domains (document_id, domain) AS (
    SELECT document_id, lower(substring(address FROM '@([^@]*)$')) FROM addresses WHERE strpos(address, '@') > 0
),
parents (document_id, domain) AS (
    SELECT document_id, domain FROM domains WHERE strpos(domain, '.') > 0
    UNION ALL
    SELECT document_id, substr(domain, strpos(domain, '.') + 1) FROM parents
    WHERE strpos(substr(domain, strpos(domain, '.') + 1), '.') > 0
)
INSERT INTO document_domains (domain, document_id)
SELECT domain, document_id FROM parents ON CONFLICT DO NOTHING;
