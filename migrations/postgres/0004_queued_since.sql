-- When the debtor entered the queue their verdict puts them in: set when a
-- verdict moves them into a queue, kept while they stay in it.
ALTER TABLE verdicts ADD COLUMN queued_ms BIGINT;
