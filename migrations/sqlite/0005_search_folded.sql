-- The index now holds words folded as the routing rules fold them (case, the Turkic i, ё),
-- and the tokenizer keeps their letters as they are, so that SQLite and PostgreSQL find the
-- same documents (remove_diacritics would make `ş` an `s` here and not there).
-- The index is derived: it is rebuilt from the register by the next search or catch-up.
DROP TABLE documents_fts;
CREATE VIRTUAL TABLE documents_fts USING fts5 (
    subject, body, attachment_names,
    content = '',
    tokenize = 'unicode61 remove_diacritics 0'
);
UPDATE search_progress SET last_document_id = 0;
