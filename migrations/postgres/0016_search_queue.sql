-- The full-text index is kept up from a queue that every registration adds to in its own
-- transaction (the trigger below), and that an indexer drains; a search only reads the index.
-- The queue replaces the watermark of 0002: ids are taken before their transactions commit,
-- so a letter whose transaction committed after a later one had been indexed fell below the
-- watermark and was never indexed. Every letter the index lacks is queued, those included.
CREATE TABLE search_pending (
    document_id BIGINT PRIMARY KEY REFERENCES documents(id)
);
INSERT INTO search_pending (document_id)
SELECT d.id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM document_search s WHERE s.document_id = d.id);
DROP TABLE search_progress;

-- Once per statement: a multi-row INSERT queues its letters in one statement too.
CREATE FUNCTION queue_for_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_pending (document_id) SELECT id FROM registered;
    RETURN NULL;
END;
$$;
CREATE TRIGGER documents_wait_for_search AFTER INSERT ON documents
REFERENCING NEW TABLE AS registered
FOR EACH STATEMENT EXECUTE FUNCTION queue_for_search();
