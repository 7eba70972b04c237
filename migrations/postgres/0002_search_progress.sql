-- The full-text index is derived and filled after registration; this row says how far it got.
-- Documents registered before this migration were indexed at registration.
CREATE TABLE search_progress (
    id               BIGINT PRIMARY KEY,
    last_document_id BIGINT NOT NULL
);
INSERT INTO search_progress (id, last_document_id) SELECT 1, COALESCE(MAX(id), 0) FROM documents;
