-- The rule that keeps a queued debtor from being called now (a call
-- window, a cap, a promise's pause...), so the board counts them by rule.
ALTER TABLE verdicts ADD COLUMN blocked_rule TEXT;
