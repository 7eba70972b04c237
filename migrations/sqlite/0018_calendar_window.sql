-- A calendar feed holds the days around today (`[http] feed_past_days`, `feed_future_days`):
-- each kind of deadline is found by an indexed range of its date, so a feed costs what its
-- window holds. Visa dates, agreement ends and meeting starts had their indexes already.
CREATE INDEX documents_due_on ON documents (due_on) WHERE due_on IS NOT NULL;
CREATE INDEX agreements_active_notice_by ON agreements (notice_by) WHERE status = 'active' AND notice_by IS NOT NULL;
