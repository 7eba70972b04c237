-- An attachment is stored once: inside the raw message it came in. Its download is decoded
-- again from there, and `verify` checks that decoding against the name, size and sha256 the
-- register keeps. The decoded copy beside the raw message doubled what a letter with files
-- costs to store. (PostgreSQL frees the column's space as rows are rewritten, or at once with
-- VACUUM FULL attachments.)
ALTER TABLE attachments DROP COLUMN content;

-- A letter is written under a placeholder number (a negative sequence) before the year's
-- counter is locked, and numbered just before its transaction commits, so that two instances
-- registering at once wait for each other only for the numbering. A number is thus given once,
-- to a placeholder; a numbered entry keeps its number as before.
DROP TRIGGER documents_core_is_immutable ON documents;
CREATE TRIGGER documents_core_is_immutable
BEFORE UPDATE OF direction, year, subject, from_json, to_json, cc_json, from_address, message_id,
    replies_to_json, sent_at, received_at, registered_at, sha256, size, body_text, source ON documents
FOR EACH ROW EXECUTE FUNCTION refuse_change('the core of a registration entry cannot be edited');
CREATE TRIGGER documents_are_numbered_once
BEFORE UPDATE OF number, sequence ON documents
FOR EACH ROW WHEN (OLD.sequence > 0 OR NEW.sequence <= 0)
EXECUTE FUNCTION refuse_change('the core of a registration entry cannot be edited');
