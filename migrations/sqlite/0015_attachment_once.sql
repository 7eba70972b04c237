-- An attachment is stored once: inside the raw message it came in. Its download is decoded
-- again from there, and `verify` checks that decoding against the name, size and sha256 the
-- register keeps. The decoded copy beside the raw message doubled what a letter with files
-- costs to store. (DROP COLUMN rewrites the table; the freed pages are reused, or returned to
-- the file system by VACUUM.)
ALTER TABLE attachments DROP COLUMN content;

-- A letter is written under a placeholder number (a negative sequence) before the year's
-- counter is locked, and numbered just before its transaction commits, so that registrars wait
-- for each other only for the numbering. A number is thus given once, to a placeholder; a
-- numbered entry keeps its number as before.
DROP TRIGGER documents_core_is_immutable;
CREATE TRIGGER documents_core_is_immutable
BEFORE UPDATE OF direction, year, subject, from_json, to_json, cc_json, from_address, message_id,
    replies_to_json, sent_at, received_at, registered_at, sha256, size, body_text, source ON documents
BEGIN
    SELECT RAISE(ABORT, 'the core of a registration entry cannot be edited');
END;
CREATE TRIGGER documents_are_numbered_once
BEFORE UPDATE OF number, sequence ON documents
WHEN OLD.sequence > 0 OR NEW.sequence <= 0
BEGIN
    SELECT RAISE(ABORT, 'the core of a registration entry cannot be edited');
END;
