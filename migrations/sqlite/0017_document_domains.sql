-- The domains each letter is filed under, for finding a partner's letters by an indexed, exact
-- match instead of a LIKE over every letter: the domain of the first sender of an incoming
-- letter and of every recipient of an outgoing one, lower case, with each parent domain down
-- to two labels (`mail.ut.ee` is filed under `mail.ut.ee` and `ut.ee`), so that a partner's
-- domain finds its subdomains' letters by equality. Registration writes them
-- (`core::partner::filing_domains`); this fills them for the letters registered before.
-- Written so that running it again adds only what is missing.
CREATE TABLE IF NOT EXISTS document_domains (
    domain      TEXT NOT NULL,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    PRIMARY KEY (domain, document_id)
) WITHOUT ROWID;

WITH RECURSIVE
addresses (document_id, address) AS (
    SELECT id, rtrim(trim(from_address), '>') FROM documents WHERE direction = 'incoming'
    UNION ALL
    SELECT d.id, rtrim(trim(json_extract(t.value, '$.address')), '>')
    FROM documents d, json_each(d.to_json) t WHERE d.direction = 'outgoing'
),
-- The domain is what follows the last '@': rtrim strips every character but '@' from the end.
domains (document_id, domain) AS (
    SELECT document_id, lower(substr(address, length(rtrim(address, replace(address, '@', ''))) + 1))
    FROM addresses WHERE instr(address, '@') > 0
),
parents (document_id, domain) AS (
    SELECT document_id, domain FROM domains WHERE instr(domain, '.') > 0
    UNION ALL
    SELECT document_id, substr(domain, instr(domain, '.') + 1) FROM parents
    WHERE instr(substr(domain, instr(domain, '.') + 1), '.') > 0
)
INSERT OR IGNORE INTO document_domains (domain, document_id)
SELECT domain, document_id FROM parents ORDER BY domain, document_id;
