-- The index now holds words folded as the routing rules fold them (case, the Turkic i, ё).
-- The index is derived: it is rebuilt from the register by the next search or catch-up.
DELETE FROM document_search;
UPDATE search_progress SET last_document_id = 0;
