-- Mail the university sends, written in the same transaction as the change that causes it and
-- sent by the SMTP dispatcher (PostgreSQL). Times as in 0001: fixed-width UTC text.
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    document_id     BIGINT REFERENCES documents(id),
    kind            TEXT NOT NULL,   -- acknowledgement | forward | correspondence
    recipients_json TEXT NOT NULL,
    -- The recipient of an acknowledgement, lower case, for the daily limit per sender.
    ack_recipient   TEXT,
    message_id      TEXT NOT NULL,   -- without angle brackets; bounces are tied back by it
    mail_json       TEXT NOT NULL,   -- the OutgoingMail
    status          TEXT NOT NULL,   -- pending | sending | sent | failed
    attempts        BIGINT NOT NULL,
    -- pending: when to try (again); sending: when the claim lapses and another dispatcher
    -- may take the row (its sender died mid-send).
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_acknowledgements ON outbox (ack_recipient, created_at) WHERE ack_recipient IS NOT NULL;
CREATE INDEX outbox_message_id ON outbox (message_id);
CREATE INDEX outbox_document ON outbox (document_id);
