-- What routing decided for each document, and why (rule, conditions, matched text).
ALTER TABLE documents ADD COLUMN routing_json TEXT;
ALTER TABLE documents ADD COLUMN tags_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE documents ADD COLUMN due_on TEXT;
