-- The full-text index is kept up from a queue that every registration adds to in its own
-- transaction (the trigger below), and that an indexer drains; a search only reads the index.
-- The queue replaces the watermark of 0002: on PostgreSQL ids are taken before their
-- transactions commit, so a letter whose transaction committed after a later one had been
-- indexed fell below the watermark and was never indexed.
CREATE TABLE search_pending (
    document_id INTEGER PRIMARY KEY REFERENCES documents(id)
);
-- One writer at a time on SQLite: ids commit in order, and the watermark was right here.
INSERT INTO search_pending (document_id)
SELECT id FROM documents WHERE id > COALESCE((SELECT last_document_id FROM search_progress WHERE id = 1), 0);
DROP TABLE search_progress;

CREATE TRIGGER documents_wait_for_search AFTER INSERT ON documents
BEGIN
    INSERT INTO search_pending (document_id) VALUES (NEW.id);
END;
